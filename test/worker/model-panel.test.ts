// The Model panel's worker requests through the real host and client against the Hub mirror: the memory bill and
// architecture check from config.json before any download, weights downloaded with byte progress, a separate
// tokenizer checked against the model, and the grouping of cached resolve URLs by repo and commit.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseModelConfig } from '../../src/models/config';
import { memoryBill } from '../../src/models/memory';
import { planLora } from '../../src/models/lora';
import { defaultRunConfig } from '../../src/share/run-config';
import { groupCachedFiles } from '../../src/worker/host/model';
import type { WorkerEvent } from '../../src/worker/protocol';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';
import { startHarness, type Harness } from './harness';

const FIXTURES = 'fixtures/generated/hub/tabtune';
const shape = { batch: 4, seqLen: 256, lora: { r: 8, targets: ['q_proj', 'v_proj'] } };

let h: Harness;
let hub: string;
let root: string;
let odd: Mirror;
beforeAll(async () => {
  h = startHarness();
  hub = inject('hubMirrorUrl');
  // A checkpoint of an architecture TabTune has no forward pass for.
  root = mkdtempSync(join(tmpdir(), 'tabtune-model-panel-'));
  mkdirSync(join(root, 'acme', 'mamba-tiny'), { recursive: true });
  writeFileSync(join(root, 'acme', 'mamba-tiny', 'config.json'), JSON.stringify({ model_type: 'mamba', architectures: ['MambaForCausalLM'], vocab_size: 100 }));
  writeFileSync(join(root, 'acme', 'mamba-tiny', 'model.safetensors'), readFileSync(join(FIXTURES, 'tiny-gpt2', 'model.safetensors')));
  odd = await startMirror({ root });
});
afterAll(async () => {
  h.close();
  await odd.close();
  rmSync(root, { recursive: true, force: true });
});

describe('model panel requests', () => {
  it('bills memory from config.json before download, the same numbers src/models computes', async () => {
    const model = await h.client.request('model.inspect', { location: { endpoint: hub, repo: 'tabtune/tiny-llama', revision: 'main' }, shape });
    expect(model.support).toEqual({ supported: true, message: null, supportedTypes: ['llama', 'mistral', 'qwen2', 'qwen3', 'smollm3', 'gemma3_text', 'gemma2', 'olmo2', 'granite', 'gpt2'] });
    const cfg = parseModelConfig(JSON.parse(readFileSync(join(FIXTURES, 'tiny-llama', 'config.json'), 'utf8')));
    const bill = memoryBill(cfg, { batch: 4, seqLen: 256 }, planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }));
    const m = model.memory;
    if (!m) throw new Error('no memory bill');
    expect(m.weightBytes).toBe(bill.weightBytes);
    expect(m.activationBytes).toBe(bill.activationBytes);
    expect(m.trainableBytes + m.gradientBytes + m.optimizerBytes).toBe(bill.trainableBytes);
    expect(m.totalBytes).toBe(m.weightBytes + m.trainableBytes + m.gradientBytes + m.optimizerBytes + m.activationBytes);
    // Two layers × (q: 8·(32+32), v: 8·(32 + kv width)) — counted independently: r·(in + out) per target.
    if (cfg.family !== 'llama') throw new Error('tiny-llama parsed as another family');
    const kv = cfg.headDim * cfg.numKvHeads;
    expect(m.trainableParams).toBe(cfg.numLayers * (8 * (32 + 32) + 8 * (32 + kv)));

    // A longer sequence costs more activations and nothing else (the 128k-vocabulary logits are chunked at both
    // lengths, so their share does not grow).
    const longer = await h.client.request('model.memory', { location: { ...model.location, revision: model.sha }, shape: { ...shape, seqLen: 512 } });
    expect(longer.weightBytes).toBe(m.weightBytes);
    expect(longer.trainableParams).toBe(m.trainableParams);
    expect(longer.activationBytes).toBeGreaterThan(m.activationBytes);
  });

  it('still loads a model whose LoRA targets do not match, and says why there is no bill', async () => {
    const model = await h.client.request('model.inspect', {
      location: { endpoint: hub, repo: 'tabtune/tiny-gpt2', revision: 'main' }, shape: { ...shape, lora: { r: 8, targets: ['q_proj'] } },
    });
    expect(model.config.model_type).toBe('gpt2');
    expect(model.memory).toBeNull();
    expect(model.memoryError).toMatch(/q_proj.*gpt2/);
  });

  it('names the supported architectures for one it cannot train, and bills nothing', async () => {
    const model = await h.client.request('model.inspect', { location: { endpoint: odd.url, repo: 'acme/mamba-tiny', revision: 'main' }, shape });
    expect(model.support?.supported).toBe(false);
    expect(model.support?.message).toMatch(/model_type "mamba".*not supported/);
    expect(model.support?.message).toMatch(/llama/);
    expect(model.memory).toBeNull();
  });

  it('downloads the weights with progress in bytes up to the file size', async () => {
    const events: WorkerEvent[] = [];
    const result = await h.client.request('model.download', { location: { endpoint: hub, repo: 'tabtune/tiny-gpt2', revision: 'main' } }, { onEvent: (e) => events.push(e) });
    const size = statSync(join(FIXTURES, 'tiny-gpt2', 'model.safetensors')).size;
    expect(result).toEqual({ files: 1, bytes: size });
    const progress = events.flatMap((e) => (e.type === 'progress' && e.file === 'model.safetensors' ? [e] : []));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.total === size)).toBe(true);
    expect(progress.at(-1)?.loaded).toBe(size);
    expect(progress.map((e) => e.loaded)).toEqual([...progress.map((e) => e.loaded)].sort((a, b) => a - b));
  });

  it('warns about special tokens when GPT-2\'s tokenizer is put on Llama, and refuses a vocabulary past the embedding rows', async () => {
    const llama = { endpoint: hub, repo: 'tabtune/tiny-llama', revision: 'main' };
    const gpt2 = { endpoint: hub, repo: 'tabtune/tiny-gpt2', revision: 'main' };
    const onLlama = await h.client.request('tokenizer.check', { tokenizer: gpt2, model: llama });
    expect(onLlama.vocabSize).toBe(50257);
    expect(onLlama.embeddingRows).toBe(128256);
    expect(onLlama.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(onLlama.problems.filter((p) => p.level === 'error')).toEqual([]);
    expect(onLlama.problems.map((p) => p.message).join('\n')).toMatch(/eos_token differs: "<\|endoftext\|>" here/);
    expect(onLlama.problems.some((p) => /vocabularies differ in size/.test(p.message))).toBe(true);

    const onGpt2 = await h.client.request('tokenizer.check', { tokenizer: llama, model: gpt2 });
    const errors = onGpt2.problems.filter((p) => p.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/128,256 tokens but tabtune\/tiny-gpt2 has 50,257 embedding rows/);

    const same = await h.client.request('tokenizer.check', { tokenizer: llama, model: llama });
    expect(same.problems).toEqual([]);
  });

  it('run.prepare tokenizes with the separate tokenizer of the run config, and refuses one past the embedding rows', async () => {
    const bytes = new TextEncoder().encode(`${JSON.stringify({ text: 'hello world' })}\n`).buffer as ArrayBuffer;
    const preview = await h.client.request('dataset.preview', { source: { kind: 'bytes', name: 'hello.jsonl', bytes }, limit: 1 });
    const dataset = { kind: 'previewed' as const, hash: preview.hash, name: preview.name };
    const llama = { endpoint: hub, repo: 'tabtune/tiny-llama', revision: 'main' };
    const config = { ...defaultRunConfig(), mask: 'all' as const, evalFraction: 0 };
    await h.client.request('run.prepare', { location: llama, dataset, config: { ...config, tokenizer: { repo: 'tabtune/tiny-gpt2', revision: 'main' } } });
    const gpt2Ids = (await h.client.request('example.get', { index: 0 })).tokens.map((t) => t.id);
    expect(gpt2Ids).toEqual([31373, 995, 50256]); // GPT-2's "hello", " world", <|endoftext|>
    await h.client.request('run.prepare', { location: llama, dataset, config });
    const ownIds = (await h.client.request('example.get', { index: 0 })).tokens.map((t) => t.id);
    expect(ownIds[0]).toBe(128000); // Llama 3's <|begin_of_text|>

    const gpt2 = { endpoint: hub, repo: 'tabtune/tiny-gpt2', revision: 'main' };
    await expect(h.client.request('run.prepare', { location: gpt2, dataset, config: { ...config, tokenizer: { repo: 'tabtune/tiny-llama', revision: 'main' } } }))
      .rejects.toThrow(/128256 tokens but the model's embedding table has 50257 rows/);
  });

  it('says where the Cache API is missing instead of listing nothing', async () => {
    await expect(h.client.request('cache.list', {})).rejects.toThrow(/no Cache API/);
  });
});

describe('groupCachedFiles', () => {
  const sha = 'a'.repeat(40);
  const other = 'b'.repeat(40);
  it('groups resolve URLs by endpoint, kind, repo and commit, largest first, and skips other keys', () => {
    const groups = groupCachedFiles([
      { key: `http://127.0.0.1:4173/hub/tabtune/demo/resolve/${sha}/config.json`, bytes: 10 },
      { key: `http://127.0.0.1:4173/hub/tabtune/demo/resolve/${sha}/model.safetensors`, bytes: 1000 },
      { key: `https://huggingface.co/datasets/org/chat/resolve/${sha}/data/train-00000.parquet`, bytes: 50 },
      { key: `https://huggingface.co/org/My%20Model/resolve/${other}/model.safetensors`, bytes: 5000 },
      { key: 'https://huggingface.co/org/x/resolve/main/config.json', bytes: 1 },
      { key: 'https://example.com/unrelated', bytes: 1 },
    ]);
    expect(groups).toEqual([
      { endpoint: 'https://huggingface.co', kind: 'model', repo: 'org/My Model', sha: other, files: 1, bytes: 5000 },
      { endpoint: 'http://127.0.0.1:4173/hub', kind: 'model', repo: 'tabtune/demo', sha, files: 2, bytes: 1010 },
      { endpoint: 'https://huggingface.co', kind: 'dataset', repo: 'org/chat', sha, files: 1, bytes: 50 },
    ]);
  });
});
