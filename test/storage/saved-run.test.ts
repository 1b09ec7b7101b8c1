// Saved runs through the real worker host and client (MessageChannel harness) on fake-indexeddb, with the tiny Qwen3
// fixture and onnxruntime-web WASM: a run is recorded with its manifest and checkpointed every N steps and on pause;
// a "reloaded" worker (a new host over the same database) resumes it from IndexedDB with the exact losses of an
// uninterrupted run; a full disk (the simulated quota: a real QuotaExceededError inside the write) pauses training
// with a message naming sizes, writes nothing, and training goes on once space is free.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import { detectDegeneration } from '../../src/share/degeneration.ts';
import type { HubLocation, RunSaveInfo, WorkerEvent } from '../../src/worker/protocol';
import { startHarness, type Harness } from '../worker/harness';

const DATA = 'tiny-codewords.jsonl';
const file = readFileSync(join(process.cwd(), 'public/datasets', DATA));
const save: RunSaveInfo = { datasetHash: `sha256:${createHash('sha256').update(file).digest('hex')}`, restore: { backendChoice: 'wasm' } };
let location: HubLocation;
const harnesses: Harness[] = [];

function worker(): Harness {
  const h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  harnesses.push(h);
  return h;
}

function config(): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base, maxLength: 64, evalFraction: 0.2,
    train: { ...base.train, steps: 6, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 2, sampleEvery: 0, checkpointEvery: 2 },
  };
}

async function prepare(h: Harness): Promise<void> {
  const bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes }, config: config() });
}

const losses = (events: WorkerEvent[]) => events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss]] : []));

beforeAll(() => {
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
});
afterAll(() => harnesses.forEach((h) => h.close()));

describe('saved runs in the worker', () => {
  it('records, checkpoints, and resumes after a reload exactly like an uninterrupted run; a full disk pauses', { timeout: 300_000 }, async () => {
    const a = worker();
    await prepare(a);
    const whole: WorkerEvent[] = [];
    await expect(a.client.request('train.start', { backend: 'auto', config: config(), save }, { onEvent: (e) => whole.push(e) })).resolves.toMatchObject({ reason: 'completed', step: 6 });
    let runs = await a.client.request('storage.runs', {});
    expect(runs.runs).toHaveLength(1);
    const done = runs.runs[0]!;
    expect(done.status).toBe('finished');
    expect(done.manifest.dataset.hash).toBe(save.datasetHash.slice('sha256:'.length));
    expect(done.manifest.model.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(done.config.train.steps).toBe(6);
    expect(done.restore).toEqual(save.restore);
    // Latest two (4 and 6) plus the best by eval loss; every one carries its losses and size.
    const steps = done.checkpoints.map((c) => c.step);
    expect(steps.slice(-2)).toEqual([4, 6]);
    expect(done.checkpoints.filter((c) => c.best)).toHaveLength(1);
    expect(done.checkpoints.find((c) => c.latest)?.step).toBe(6);
    for (const c of done.checkpoints) {
      expect(c.trainLoss).toBe(losses(whole).find(([s]) => s === c.step)?.[1]);
      expect(c.evalLoss).toBeTypeOf('number');
      expect(c.bytes).toBeGreaterThan(1000);
    }
    // Autosaves between them are quiet (recovery points the page is not told about).
    expect(whole.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.checkpoint.step)).toEqual([2, 4, 6, 6]);
    await expect(a.client.request('storage.resumable', {})).resolves.toBeNull();

    // "Sample every 0" still samples before training and at the end; the saved samples keep the degeneration flags
    // the page computes from the generated tokens.
    const emitted = whole.flatMap((e) => (e.type === 'samples' ? e.samples.map((x) => ({ step: e.step, completion: x.completion, flags: detectDegeneration(x.tokens, x.completion) })) : []));
    expect([...new Set(emitted.map((x) => x.step))]).toEqual([0, 6]);
    const saved = await a.client.request('storage.load', { runId: done.id, which: 'latest' });
    expect(saved?.samples.map((x) => ({ step: x.step, completion: x.completion, flags: x.flags }))).toEqual(emitted);

    // Any checkpoint loads into a paused trainer — here the best one: it samples at its step at once, and Resume
    // trains on from it with the uninterrupted run's losses.
    const best = done.checkpoints.find((c) => c.best)!;
    const stored = await a.client.request('storage.load', { runId: done.id, which: best.id });
    expect(stored?.checkpoint.step).toBe(best.step);
    const opened: WorkerEvent[] = [];
    const info = await a.client.request('checkpoint.open', { checkpoint: stored!.files, backend: 'auto', config: config() }, { onEvent: (e) => opened.push(e) });
    expect(info.step).toBe(best.step);
    expect(opened.flatMap((e) => (e.type === 'samples' ? [e.step] : []))).toEqual([best.step]);
    const onward: WorkerEvent[] = [];
    await expect(a.client.request('train.resume', {}, { onEvent: (e) => onward.push(e) })).resolves.toMatchObject({ reason: 'completed', step: 6 });
    expect(losses(onward)).toEqual(losses(whole).slice(best.step));
    expect((await a.client.request('storage.runs', {})).runs.find((r) => r.id === done.id)?.checkpoints).toEqual(done.checkpoints);

    // A second run, paused after step 3 (interval checkpoint at 2, pause checkpoint at 3), then the tab "reloads".
    const first: WorkerEvent[] = [];
    await expect(a.client.request('train.start', { backend: 'auto', config: config(), save }, {
      onEvent: (e) => {
        first.push(e);
        if (e.type === 'step' && e.step === 3) void a.client.request('train.pause', {});
      },
    })).resolves.toMatchObject({ reason: 'paused', step: 3 });
    a.close();

    const b = worker();
    const offer = await b.client.request('storage.resumable', {});
    expect(offer?.status).toBe('paused');
    expect(offer?.checkpoints.map((c) => [c.step, c.reason])).toEqual([[2, 'interval'], [3, 'pause']]);
    const history = await b.client.request('storage.load', { runId: offer!.id, which: 'latest' });
    expect(history?.metrics.filter((m) => m.trainLoss !== undefined).map((m) => [m.step, m.trainLoss])).toEqual(losses(whole).slice(0, 3));
    expect(Object.keys(history!.files.files).sort()).toEqual(['tabtune_checkpoint.json', 'tabtune_optimizer.safetensors']);
    await prepare(b);
    const rest: WorkerEvent[] = [];
    await expect(b.client.request('train.resume', { runId: offer!.id, backend: 'auto', config: config() }, { onEvent: (e) => rest.push(e) }))
      .resolves.toMatchObject({ reason: 'completed', step: 6 });
    expect(losses(first)).toEqual(losses(whole).slice(0, 3));
    expect(losses(rest)).toEqual(losses(whole).slice(3));
    runs = await b.client.request('storage.runs', {});
    expect(runs.runs.find((r) => r.id === offer!.id)?.status).toBe('finished');

    // Full disk: no room for one more checkpoint. The run pauses at its first checkpoint and says why, in sizes.
    await b.client.request('storage.simulateQuota', { bytes: runs.totalBytes });
    const full: WorkerEvent[] = [];
    const paused = await b.client.request('train.start', { backend: 'auto', config: config(), save }, { onEvent: (e) => full.push(e) });
    expect(paused).toMatchObject({ reason: 'paused', step: 2 });
    expect(paused.message).toMatch(/storage is full.*Delete old runs or checkpoints/);
    const errors = full.flatMap((e) => (e.type === 'storage-error' ? [e] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.paused).toBe(true);
    expect(errors[0]!.message).toMatch(/checkpoint at step 2 \(\d+(\.\d)? KiB\) was not saved \(0 B free of \d+(\.\d)? KiB\).*earlier checkpoints are intact.*paused at step 2/s);
    const after = await b.client.request('storage.runs', {});
    expect(after.totalBytes).toBe(runs.totalBytes);
    expect(after.runs.filter((r) => r.checkpoints.length === 0)).toHaveLength(1);
    for (const r of runs.runs) expect(after.runs.find((x) => x.id === r.id)?.checkpoints).toEqual(r.checkpoints);

    // Space freed (an old run deleted): Resume goes on and saves again.
    await b.client.request('storage.delete', { runId: done.id });
    const resumed: WorkerEvent[] = [];
    await expect(b.client.request('train.resume', {}, { onEvent: (e) => resumed.push(e) })).resolves.toMatchObject({ reason: 'completed', step: 6 });
    expect(resumed.some((e) => e.type === 'checkpoint' && e.checkpoint.step === 4)).toBe(true);
    await b.client.request('storage.simulateQuota', { bytes: null });
  });
});
