// Run export and adapter import through the real worker host (MessageChannel harness, tiny Qwen3 from the Hub mirror,
// WASM): the zip holds every part and reads back; its checkpoint continues the run; its adapter imports into a fresh
// run and is the one the batch inspector uses; an adapter for another shape is refused with the mismatch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { sha256Hex } from '../../src/share/codec';
import { readRunZip } from '../../src/share/run-zip';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import type { HubLocation, RunExportParams } from '../../src/worker/protocol';
import { startHarness, type Harness } from '../worker/harness';
import { parseModelConfig } from '../../src/models/config';
import { initLoraWeights, planLora } from '../../src/models/lora';
import { adapterFiles } from '../../src/train/peft';

let h: Harness;
let location: HubLocation;
const DATA = 'tiny-codewords.jsonl';
const raw = readFileSync(join(process.cwd(), 'public/datasets', DATA));

function config(): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base, model: { repo: 'tabtune/tiny-qwen3', revision: 'main' }, data: { source: 'bundled', name: DATA }, maxLength: 64, evalFraction: 0.2, seed: 3,
    train: { ...base.train, steps: 2, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 2, sampleEvery: 0, checkpointEvery: 2 },
  };
}

function bytes(): ArrayBuffer {
  return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
}

async function prepare(c: RunConfig = config()): Promise<string> {
  const p = await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes: bytes() }, config: c });
  return p.sha;
}

async function exportParams(sha: string): Promise<RunExportParams> {
  const c = config();
  return {
    config: { ...c, model: { ...c.model, sha }, data: { source: 'bundled', name: DATA, hash: await sha256Hex(raw) } },
    datasetHash: await sha256Hex(raw), datasetName: DATA, datasetRows: 8,
    metrics: [{ step: 1, trainLoss: 2.5, learningRate: 0.01 }, { step: 2, trainLoss: 2.25, evalLoss: 2.75 }],
    samples: [{ step: 0, prompt: 'What is', completion: ' the', flags: [] }],
    device: { backend: 'wasm' },
  };
}

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
});
afterAll(() => h.close());

describe('run export and adapter import in the worker', () => {
  it('exports every part of a trained run; its checkpoint continues the run and its adapter imports', { timeout: 240_000 }, async () => {
    const sha = await prepare();
    await expect(h.client.request('run.export', await exportParams(sha))).rejects.toThrow(/nothing to export yet: train at least one step/);

    const done = await h.client.request('train.start', { backend: 'auto', config: config() });
    expect(done).toMatchObject({ reason: 'completed', step: 2 });
    const out = await h.client.request('run.export', await exportParams(sha));
    expect(out.fileName).toBe('tabtune-tabtune--tiny-qwen3-step2.zip');
    expect(out.step).toBe(2);
    for (const f of [
      'adapter/README.md', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'checkpoint/tabtune_checkpoint.json',
      'checkpoint/tabtune_optimizer.safetensors', 'generation_config.json', 'manifest.json', 'metrics.csv', 'samples.jsonl',
      'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json', 'trainer_state.json',
    ]) expect(out.files).toContain(f);

    const zip = readRunZip(out.bytes);
    if (zip.kind !== 'run') throw new Error('expected a run zip');
    expect(zip.ignored).toEqual([]);
    expect(zip.manifest.model).toEqual({ repo: 'tabtune/tiny-qwen3', revision: 'main', sha });
    expect(zip.manifest.config.seed).toBe(3);
    expect(zip.manifest.dataset).toEqual({ hash: await sha256Hex(raw), rows: 8, name: DATA });
    expect(zip.metrics).toEqual((await exportParams(sha)).metrics);
    expect(zip.samples).toEqual((await exportParams(sha)).samples);
    expect(zip.generationConfig).toMatchObject({ do_sample: false, max_new_tokens: 16 });
    const state = JSON.parse(new TextDecoder().decode(zip.trainerState)) as { global_step: number; log_history: { step: number; loss?: number; eval_loss?: number }[] };
    expect(state.global_step).toBe(2);
    expect(state.log_history.filter((e) => e.loss !== undefined).map((e) => e.step)).toEqual([1, 2]);
    const adapterConfig = JSON.parse(new TextDecoder().decode(zip.adapter.get('adapter_config.json'))) as Record<string, unknown>;
    expect(adapterConfig).toMatchObject({ base_model_name_or_path: 'tabtune/tiny-qwen3', revision: sha, r: 8, lora_alpha: 16, peft_type: 'LORA' });
    expect(new TextDecoder().decode(zip.adapter.get('README.md'))).toContain('base_model: "tabtune/tiny-qwen3"');

    // The zip's checkpoint continues the run (as "continue training" after an import does).
    const resumed = await h.client.request('train.resume', {
      checkpoint: { step: 2, files: Object.fromEntries(zip.checkpoint!) }, backend: 'auto', config: { ...config(), train: { ...config().train, steps: 3 } },
    });
    expect(resumed).toMatchObject({ reason: 'completed', step: 3 });

    // Its adapter imports into a fresh run: LoRA B is no longer zero, so A now gets a gradient in the batch inspector.
    await prepare();
    const fresh = await h.client.request('batch.inspect', { backend: 'auto', config: config() });
    expect(fresh.gradNorms.filter((g) => g.name.includes('lora_A')).every((g) => g.norm === 0)).toBe(true);
    const weights = zip.adapter.get('adapter_model.safetensors')!.slice(); // the request transfers the original
    const imported = await h.client.request('adapter.import', { files: { 'adapter_config.json': zip.adapter.get('adapter_config.json')!, 'adapter_model.safetensors': zip.adapter.get('adapter_model.safetensors')! } });
    expect(imported).toMatchObject({ baseModel: 'tabtune/tiny-qwen3', lora: { r: 8, alpha: 16, targets: ['k_proj', 'o_proj', 'q_proj', 'v_proj'] } });
    expect(imported.tensors).toBeGreaterThan(0);
    const withAdapter = await h.client.request('batch.inspect', { backend: 'auto', config: config() });
    expect(withAdapter.gradNorms.filter((g) => g.name.includes('lora_A')).some((g) => g.norm > 0)).toBe(true);
    expect(withAdapter.loss).not.toBe(fresh.loss);

    // Before any training the imported adapter is what export (and push, which writes the same folder) hands on: the
    // adapter-only zip holds exactly its tensors.
    const again = await h.client.request('run.export', { ...(await exportParams(sha)), adapterOnly: true });
    expect(again.fileName).toBe('tabtune-adapter-tabtune--tiny-qwen3-step0.zip');
    expect(again.files).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    const adapterZip = readRunZip(again.bytes);
    if (adapterZip.kind !== 'adapter') throw new Error('expected an adapter-only zip');
    expect(adapterZip.adapter.get('adapter_model.safetensors')).toEqual(weights);
  });

  it('writes the cluster job with the exact rows the tab trains on, split as in the tab', { timeout: 120_000 }, async () => {
    const sha = await prepare();
    const prepared = await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes: bytes() }, config: config() });
    const c = { ...config(), model: { repo: 'tabtune/tiny-qwen3', revision: 'main', sha } };
    const out = await h.client.request('cluster.export', { config: c });
    expect(out.fileName).toBe('tabtune-tabtune--tiny-qwen3-cluster.zip');
    expect(out.files).toEqual(['README.md', 'axolotl.yaml', 'data/tiny-codewords.eval.jsonl', 'data/tiny-codewords.train.jsonl', 'train_sft.py']);
    const files = unzipSync(out.zip);
    const lines = (name: string) => new TextDecoder().decode(files[name]).trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] });
    expect(lines('data/tiny-codewords.train.jsonl')).toHaveLength(prepared.trainCount);
    expect(lines('data/tiny-codewords.eval.jsonl')).toHaveLength(prepared.evalCount);
    expect(lines('data/tiny-codewords.train.jsonl')[0]!.messages.map((m) => m.role)).toContain('assistant');
    expect(out.axolotlYaml).toMatch(new RegExp(`^revision_of_model: "?${sha}"?$`, "m"));
    expect(out.axolotlYaml).toContain('seed: 3');
    expect(out.trlScript).toContain(`REVISION = "${sha}"`);
    expect(out.readme).toContain('accelerate launch');
    expect(new TextDecoder().decode(files['axolotl.yaml'])).toBe(out.axolotlYaml);
  });

  it('refuses an adapter whose tensors do not fit the model, saying which', { timeout: 120_000 }, async () => {
    await prepare();
    // Requests transfer their buffers, so each call gets its own copies.
    const cfg = () => new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], base_model_name_or_path: 'other/model' }));
    // A valid safetensors file with one tensor of the wrong rank for this model.
    const header = new TextEncoder().encode(JSON.stringify({ 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': { dtype: 'F32', shape: [4, 3], data_offsets: [0, 48] } }));
    const st = new Uint8Array(8 + header.length + 48);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    await expect(h.client.request('adapter.import', { files: { 'adapter_config.json': cfg(), 'adapter_model.safetensors': st } }))
      .rejects.toThrow(/does not fit tabtune\/tiny-qwen3: .*q_proj\.lora_A\.weight has shape \[4, 3\], the model needs \[4, \d+\]/);
    await expect(h.client.request('adapter.import', { files: { 'adapter_config.json': cfg() } })).rejects.toThrow(/needs adapter_config\.json and adapter_model\.safetensors/);
  });

  it("imports a GPT-2 adapter that targets c_proj with its targets intact, and the inspector trains those", { timeout: 120_000 }, async () => {
    const gpt2: HubLocation = { ...location, repo: 'tabtune/tiny-gpt2' };
    const c: RunConfig = { ...config(), model: { repo: 'tabtune/tiny-gpt2', revision: 'main' }, template: { kind: 'alpaca', kwargs: {} } };
    await h.client.request('run.prepare', { location: gpt2, dataset: { kind: 'bytes', name: DATA, bytes: bytes() }, config: c });
    const cfg = parseModelConfig(JSON.parse(readFileSync(join(process.cwd(), 'fixtures/generated/hub/tabtune/tiny-gpt2/config.json'), 'utf8')));
    const plan = planLora(cfg, { r: 2, alpha: 4, targets: ['c_proj'] });
    const params = Object.fromEntries(initLoraWeights(plan, 5));
    const files = adapterFiles(plan, cfg, params, { baseModel: 'tabtune/tiny-gpt2', revision: null });
    const imported = await h.client.request('adapter.import', {
      files: { 'adapter_config.json': files.get('adapter_config.json')!, 'adapter_model.safetensors': files.get('adapter_model.safetensors')! },
    });
    expect(imported.lora.targets).toEqual(['c_proj']);
    // The page puts the adapter's LoRA settings into its run config; the session keeps c_proj (no GPT-2 default swap).
    const inspected = await h.client.request('batch.inspect', { backend: 'auto', config: { ...c, lora: { ...c.lora, ...imported.lora } } });
    const names = inspected.gradNorms.map((g) => g.name);
    expect(names.some((n) => n.includes('c_proj.lora_A'))).toBe(true);
    expect(names.some((n) => n.includes('c_attn'))).toBe(false);
  });
});

