// `tabtune train | generate | export` and `step` on the fixture checkpoints: 30 steps
// lower the loss on a memorisable set; same-seed runs write identical adapters; Ctrl-C + --resume ends exactly where
// an uninterrupted run does; an exported merged checkpoint generates what base + adapter generates; and a smoke run
// of every fixture family (inspect + step + a few train steps).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest, TABTUNE_VERSION } from '../../src/share/manifest.ts';
import { DATA, fixture, read, readJson, tabtune, tempDir } from './harness.ts';

const CHAT = join(DATA, 'chat.jsonl');
const TEXT = join(DATA, 'text.jsonl');
/** Small shapes keep each step well under a second on two cores. */
const STEP = ['--max-length', '24', '--batch-size', '2'];
const FAST = [...STEP, '--eval-fraction', '0', '--eval-every', '0', '--sample-every', '0', '--checkpoint-every', '0'];

interface LogRow { step: number; loss?: number; eval_loss?: number }
const losses = (dir: string): number[] => readJson<{ log_history: LogRow[] }>(join(dir, 'trainer_state.json')).log_history.filter((r) => r.loss !== undefined).map((r) => r.loss!);

describe('tabtune train', () => {
  it('lowers the training loss over 30 steps on a memorisable set', { timeout: 180_000 }, async () => {
    const out = tempDir();
    const r = await tabtune(['train', '--model', fixture('gpt2'), '--data', join(DATA, 'memorise.jsonl'), ...FAST, '--steps', '30', '--lr', '2e-2', '--schedule', 'constant', '--warmup', '0', '--lora-targets', 'c_attn,c_proj,c_fc', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\[#+\] step 30\/30 loss \d+\.\d{4} lr 2\.0e-2 \d+ tok\/s ETA/);
    const l = losses(out);
    expect(l).toHaveLength(30);
    const late = l.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(late).toBeLessThan(0.7 * l[0]!);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json', 'README.md', 'trainer_state.json', 'tokenizer.json', 'tokenizer_config.json', 'tabtune_manifest.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // The CLI writes the app's manifest (src/share/manifest.ts schema): a local folder is pinned by its content hash,
    // and there is no createdAt, so identical runs write identical files.
    const manifest = parseManifest(readJson(join(out, 'tabtune_manifest.json')));
    expect(manifest.model.sha).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.model.local).toBe(fixture('gpt2'));
    expect(manifest.dataset.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.createdAt).toBeUndefined();
    expect(manifest).toMatchObject({ format: 'tabtune-manifest', tabtuneVersion: TABTUNE_VERSION, config: { seed: 42, train: { steps: 30 } }, dataset: { name: join(DATA, 'memorise.jsonl') } });
  });

  // Accumulation, warmup + cosine, LoRA dropout, eval, samples and checkpoints all take part, so every piece of state
  // a resume must restore (moments, step, dropout RNG, data cursor, log history) is exercised.
  const RICH = ['--model', fixture('gpt2'), '--data', CHAT, '--template', 'alpaca', '--max-length', '48', '--batch-size', '2', '--grad-accum', '2', '--steps', '4',
    '--lr', '1e-2', '--warmup', '1', '--schedule', 'cosine', '--lora-dropout', '0.1', '--eval-fraction', '0.2', '--eval-every', '2', '--sample-every', '2', '--checkpoint-every', '2', '--seed', '7'];

  it('writes identical adapters for two runs with the same seed, and resumes exactly after Ctrl-C', { timeout: 300_000 }, async () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    const ra = await tabtune(['train', ...RICH, '--out', a]);
    expect(ra.code, ra.err).toBe(0);
    expect(ra.out).toMatch(/eval step 2: loss \d/);
    expect(ra.out).toMatch(/sample 0 at step 2: "/);
    expect((await tabtune(['train', ...RICH, '--out', b])).code).toBe(0);
    expect(read(join(b, 'adapter_model.safetensors')).equals(read(join(a, 'adapter_model.safetensors')))).toBe(true);

    const interrupted = await tabtune(['train', ...RICH, '--out', c], { onOut: (text, stop) => void (text.includes('step 2/4') && (stop.aborted = true)) });
    expect(interrupted.code, interrupted.err).toBe(0);
    expect(interrupted.out).toMatch(/Interrupted at step 2\/4; checkpoint saved. Continue with: tabtune train --resume/);
    expect(read(join(c, 'adapter_model.safetensors')).equals(read(join(a, 'adapter_model.safetensors')))).toBe(false);
    const resumed = await tabtune(['train', '--resume', c]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(read(join(c, 'adapter_model.safetensors')).equals(read(join(a, 'adapter_model.safetensors')))).toBe(true);
    expect(read(join(c, 'trainer_state.json')).equals(read(join(a, 'trainer_state.json')))).toBe(true);
    expect(losses(a)).toHaveLength(4);

    const bad = await tabtune(['train', '--resume', c, '--lr', '1']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--lr cannot change it/);

    // generate with the adapter == generate from the merged export (greedy): the merge is W + scale·(B·A)ᵀ for Conv1D.
    const merged = join(tempDir(), 'merged');
    const ex = await tabtune(['export', '--model', fixture('gpt2'), '--adapter', a, '--merged', merged]);
    expect(ex.code, ex.err).toBe(0);
    const prompt = ['--prompt', 'Below is an instruction', '--max-new-tokens', '6'];
    const withAdapter = await tabtune(['generate', '--model', fixture('gpt2'), '--adapter', a, ...prompt]);
    const fromMerged = await tabtune(['generate', '--model', merged, ...prompt]);
    const base = await tabtune(['generate', '--model', fixture('gpt2'), ...prompt]);
    expect(withAdapter.code, withAdapter.err).toBe(0);
    expect(fromMerged.out).toBe(withAdapter.out);
    expect(base.out.length).toBeGreaterThan(1);
  });
});

describe('smoke: every fixture family through the CLI', () => {
  // GPT-2 goes through the Hub endpoint (the local mirror) instead of a folder: same code, pinned to a commit sha.
  const cases = [['llama', CHAT], ['qwen2', CHAT], ['qwen3', CHAT], ['gpt2', TEXT]] as const;
  it.each(cases)('%s: inspect + step + 2 train steps', { timeout: 240_000 }, async (family, data) => {
    const viaHub = family === 'gpt2';
    const model = viaHub ? ['--model', `tabtune/tiny-${family}@main`, '--hub-endpoint', inject('hubMirrorUrl')] : ['--model', fixture(family)];
    const inspect = await tabtune(['inspect', ...model, '--data', data, '--limit', '1', '--max-length', '24']);
    expect(inspect.code, inspect.err).toBe(0);
    expect(inspect.out).toMatch(/Count of labels: [1-9]/);
    const step = await tabtune(['step', ...model, '--data', data, ...STEP]);
    expect(step.code, step.err).toBe(0);
    const loss = Number(/loss (\d+\.\d+)/.exec(step.out)![1]);
    expect(loss).toBeGreaterThan(0);
    const out = tempDir();
    const train = await tabtune(['train', ...model, '--data', data, ...FAST, '--steps', '2', '--out', out]);
    expect(train.code, train.err).toBe(0);
    const l = losses(out);
    expect(l).toHaveLength(2);
    expect(l.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    const manifest = parseManifest(readJson(join(out, 'tabtune_manifest.json')));
    expect(manifest.model.sha).toMatch(viaHub ? /^[0-9a-f]{40}$/ : /^[0-9a-f]{64}$/);
    expect(manifest.model.local === undefined).toBe(viaHub);
  });

  it('generate renders --messages with the chat template and samples reproducibly from --seed', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.json'), JSON.stringify([{ role: 'user', content: 'Sky?' }]));
    const args = ['generate', '--model', fixture('qwen3'), '--messages', join(dir, 'm.json'), '--max-new-tokens', '5', '--temperature', '0.9', '--seed', '3'];
    const a = await tabtune(args);
    expect(a.code, a.err).toBe(0);
    expect(a.out.trim().length).toBeGreaterThan(0);
    expect((await tabtune(args)).out).toBe(a.out);
    const bad = await tabtune(['generate', '--model', fixture('qwen3'), '--prompt', 'x', '--top-p', '2']);
    expect(bad.err).toMatch(/--top-p must be ≤ 1/);
  });
});
