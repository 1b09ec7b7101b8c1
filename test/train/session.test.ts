// One run, one session: the CLI and the worker drive the same RunSession, so for one run config they name the same
// first batch with the same loss, sample the same number of new tokens, and editing a hyperparameter in the app never
// sends a data-preparation request. Real code paths: `tabtune` in-process, the worker host over a MessageChannel, the
// Hub mirror's tiny Qwen3, onnxruntime-web WASM on both sides.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseModelConfig } from '../../src/models/config';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import { createDatasetLoader } from '../../src/store/actions';
import { createRunActions, PREPARE_DEBOUNCE_MS, reprepareOnDataChange } from '../../src/store/run';
import { createAppStore } from '../../src/store/store';
import { resolveLoraTargets, SAMPLE_NEW_TOKENS } from '../../src/train/session';
import type { HubLocation, WorkerEvent } from '../../src/worker/protocol';
import { ROOT, tabtune, tempDir } from '../cli/harness';
import { startHarness, type Harness } from '../worker/harness';

const DATA = 'tiny-codewords.jsonl';
const DATA_PATH = join('public/datasets', DATA);
const REPO = 'tabtune/tiny-qwen3';

let h: Harness;
let location: HubLocation;

/** The run both front ends get: a seed and eval fraction that make the seeded order differ from file order. */
function config(): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base, maxLength: 64, evalFraction: 0.25, seed: 7,
    train: { ...base.train, steps: 1, batchSize: 3, warmupSteps: 0, lr: 1e-2, evalEvery: 0, sampleEvery: 1, checkpointEvery: 0 },
  };
}

const cliFlags = (c: RunConfig): string[] => [
  '--model', REPO, '--hub-endpoint', location.endpoint, '--data', DATA_PATH, '--mask', c.mask, '--max-length', String(c.maxLength),
  '--seed', String(c.seed), '--batch-size', String(c.train.batchSize), '--eval-fraction', String(c.evalFraction), '--backend', 'wasm',
];

function bytes(): ArrayBuffer {
  const b = readFileSync(join(ROOT, DATA_PATH));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: REPO, revision: 'main' };
});
afterAll(() => h.close());

describe('one run session for the CLI and the app', () => {
  it('tabtune step --json and the batch inspector report the same first batch and loss', { timeout: 180_000 }, async () => {
    const c = config();
    const prepared = await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes: bytes() }, config: c });
    const inspected = await h.client.request('batch.inspect', { backend: 'wasm', config: c });
    const out = join(tempDir(), 'step.json');
    const run = await tabtune(['step', ...cliFlags(c), '--json', out]);
    expect(run.code, run.err).toBe(0);
    const step = JSON.parse(readFileSync(out, 'utf8')) as { loss: number; example_indices: number[]; example_ids: string[] };
    expect(step.example_indices).toEqual(inspected.exampleIndices);
    expect(step.example_ids).toEqual(inspected.exampleIds);
    // The seeded order over the training split, not the first rows of the file, and never a held-out row.
    expect(step.example_indices).not.toEqual([0, 1, 2]);
    const evalIds = new Set(prepared.examples.filter((e) => e.split === 'eval').map((e) => e.id));
    expect(step.example_ids.some((id) => evalIds.has(id))).toBe(false);
    expect(Math.abs(step.loss - inspected.loss) / inspected.loss).toBeLessThan(1e-6);
  });

  it('the CLI and the app sample the same new tokens after the same step', { timeout: 180_000 }, async () => {
    const c = config();
    await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes: bytes() }, config: c });
    const events: WorkerEvent[] = [];
    await h.client.request('train.start', { backend: 'wasm', config: c }, { onEvent: (e) => events.push(e) });
    const appSamples = events.flatMap((e) => (e.type === 'samples' && e.step === 1 ? e.samples : []));
    expect(appSamples.length).toBeGreaterThan(0);
    const dir = tempDir();
    const run = await tabtune(['train', ...cliFlags(c), '--steps', '1', '--lr', String(c.train.lr), '--warmup', '0', '--eval-every', '0',
      '--sample-every', '1', '--checkpoint-every', '0', '--out', dir]);
    expect(run.code).toBe(0);
    const cliSamples = [...run.out.matchAll(/^sample (\d+) at step 1: (.*)$/gm)].map((m) => JSON.parse(m[2]!) as string);
    expect(cliSamples).toEqual(appSamples.map((s) => s.completion));
    for (const s of appSamples) expect(s.tokens.length).toBeLessThanOrEqual(SAMPLE_NEW_TOKENS);
  });

  it('editing the LoRA rank, learning rate or steps sends no data-preparation request; a data setting does', { timeout: 120_000 }, async () => {
    const prepares: string[] = [];
    const client = {
      ...h.client,
      request: ((type: string, params: unknown, opts: unknown) => {
        if (type === 'run.prepare') prepares.push(type);
        return (h.client.request as (t: string, p: unknown, o: unknown) => Promise<unknown>)(type, params, opts);
      }) as typeof h.client.request,
    } as typeof h.client;
    const store = createAppStore({ origin: 'http://o' });
    await createDatasetLoader(store, client)({ name: DATA, bytes: bytes() });
    expect(store.getState().dataset?.rowCount).toBe(8);
    const run = createRunActions(store, client);
    const stop = reprepareOnDataChange(store, run);
    const settle = () => new Promise((r) => setTimeout(r, PREPARE_DEBOUNCE_MS * 3));
    const edit = (f: (c: RunConfig) => RunConfig) => store.getState().setRunConfig(f(store.getState().runConfig));
    edit((c) => ({ ...c, lora: { ...c.lora, r: 4 } }));
    edit((c) => ({ ...c, train: { ...c.train, lr: 5e-3, steps: 12 } }));
    await settle();
    expect(prepares).toEqual([]);
    edit((c) => ({ ...c, mask: 'all' }));
    await settle();
    expect(prepares).toEqual(['run.prepare']);
    stop();
  });
});

describe('LoRA targets resolved once', () => {
  it("gives GPT-2 PEFT's default only for the schema default, and keeps an adapter's c_proj", () => {
    const gpt2 = parseModelConfig(JSON.parse(readFileSync(join(ROOT, 'fixtures/generated/hub/tabtune/tiny-gpt2/config.json'), 'utf8')));
    const llama = parseModelConfig(JSON.parse(readFileSync(join(ROOT, 'fixtures/generated/hub/tabtune/tiny-llama/config.json'), 'utf8')));
    const lora = defaultRunConfig().lora;
    expect(resolveLoraTargets(lora, gpt2)).toEqual(['c_attn']);
    expect(resolveLoraTargets({ ...lora, targets: ['c_proj'] }, gpt2)).toEqual(['c_proj']);
    expect(resolveLoraTargets({ ...lora, targets: ['c_attn', 'c_proj'] }, gpt2)).toEqual(['c_attn', 'c_proj']);
    expect(resolveLoraTargets(lora, llama)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
  });
});
