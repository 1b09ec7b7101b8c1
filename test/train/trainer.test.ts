// Trainer on the WASM backend with a real fixture checkpoint: a non-finite loss stops the run and restores the last
// good checkpoint; a run paused through its stop flag and continued equals an uninterrupted one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizerFrom, loadModel, type FileSource, type LoadedModel, type TokenizerBundle } from '../../src/train/model-source.ts';
import { paddingId, prepareDataset } from '../../src/train/dataset.ts';
import { Trainer, type TrainerInit } from '../../src/train/trainer.ts';
import { resolveSubset } from '../../src/train/session.ts';
import { loadDataset } from '../../src/data/dataset.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import type { Backend } from '../../src/runtime/backend.ts';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config.ts';
import type { TrainerCheckpoint } from '../../src/train/state.ts';
import type { Example } from '../../src/data/example.ts';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'generated', 'hub', 'tabtune', 'tiny-gpt2');
const source: FileSource = { id: DIR, sha: null, list: async () => readdirSync(DIR), read: async (p) => new Uint8Array(readFileSync(join(DIR, p))) };

let backend: Backend;
let model: LoadedModel;
let tok: TokenizerBundle;
let examples: Example[];
beforeAll(async () => {
  backend = await createNodeBackend('wasm');
  model = await loadModel(source);
  tok = await loadTokenizerFrom(source);
  const { rows } = await loadDataset('t.jsonl', new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'cli', 'data', 'text.jsonl'))));
  examples = prepareDataset(rows, { tokenizer: tok.tokenizer, template: { kind: 'chat' }, mask: 'all', maxLength: 16 }).examples;
});
afterAll(async () => backend.release());

function config(train: Partial<RunConfig['train']>): RunConfig {
  const c = defaultRunConfig();
  return { ...c, maxLength: 16, lora: { ...c.lora, targets: ['c_attn'] }, train: { ...c.train, batchSize: 2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, ...train } };
}

const init = (c: RunConfig): TrainerInit => ({ backend, model, config: c, subset: resolveSubset(c, model.config), train: examples, eval: [], padId: paddingId(tok.tokenizer) });

describe('Trainer', () => {
  it('stops on a non-finite loss and keeps the last good state', { timeout: 120_000 }, async () => {
    // lr 1e30 is outside the schema's range on purpose: step 1 is finite, its update overflows step 2.
    const trainer = await Trainer.create(init(config({ lr: 1e30, schedule: 'constant', warmupSteps: 0, steps: 5, checkpointEvery: 1, maxGradNorm: 1 })));
    const saved: TrainerCheckpoint[] = [];
    const result = await trainer.run({ onCheckpoint: (c) => void saved.push(c) });
    expect(result).toEqual({ reason: 'non-finite', step: 1, badStep: 2 });
    const kept = await trainer.checkpoint();
    expect(kept.step).toBe(1);
    expect(saved.map((c) => c.step)).toEqual([1]);
    for (const [k, p] of Object.entries(saved[0]!.params)) expect(kept.params[k], k).toEqual(p);
    expect(trainer.logHistory).toHaveLength(1);
    await trainer.release();
  });

  it('asked for graph capture on WASM, trains as without it and says nothing (no dispatches to replay)', { timeout: 120_000 }, async () => {
    const c = config({ lr: 1e-2, steps: 2, warmupSteps: 1 });
    const asked = await Trainer.create({ ...init(c), graphCapture: true });
    expect(asked.graphCapture).toEqual({ on: false, note: null });
    expect(asked.backendLabel).toBe(backend.label);
    await asked.run();
    const plain = await Trainer.create(init(c));
    await plain.run();
    expect(asked.graphs.train.nodes.length).toBe(plain.graphs.train.nodes.length);
    expect(asked.logHistory).toEqual(plain.logHistory);
    await asked.release();
    await plain.release();
  });

  it('pauses on its stop flag and continues to the same state as an uninterrupted run', { timeout: 120_000 }, async () => {
    const c = config({ lr: 1e-2, steps: 4, warmupSteps: 1 });
    const straight = await Trainer.create(init(c));
    await straight.run();
    const expected = await straight.checkpoint();
    await straight.release();

    const paused = await Trainer.create(init(c));
    const flag = { aborted: false };
    const first = await paused.run({ signal: flag, onStep: (r) => void (r.step === 2 && (flag.aborted = true)) });
    expect(first).toEqual({ reason: 'stopped', step: 2 });
    expect(await paused.run()).toEqual({ reason: 'completed', step: 4 });
    const got = await paused.checkpoint();
    await paused.release();
    expect(got.cursor).toEqual(expected.cursor);
    for (const [k, p] of Object.entries(expected.params)) expect(got.params[k], k).toEqual(p);
    expect(got.logHistory).toEqual(expected.logHistory);
  });
});
