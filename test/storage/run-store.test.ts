// The IndexedDB run store on fake-indexeddb: round trips, latest/best pointers and pruning, atomic writes under a
// simulated quota failure at every point of a checkpoint write, the early quota check, and freeing space.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointBytes } from '../../src/storage/migrations.ts';
import { RunStore, checkpointId } from '../../src/storage/run-store.ts';
import { StorageQuotaError, formatBytes, isQuotaError } from '../../src/storage/quota.ts';
import type { CheckpointState } from '../../src/storage/types.ts';
import { runInputs, stateAt } from './fixtures.ts';

let dbCount = 0;
const opened: RunStore[] = [];
async function freshStore(storage?: Parameters<typeof RunStore.open>[0] extends infer O ? O extends { storage?: infer S } ? S : never : never): Promise<RunStore> {
  const store = await RunStore.open({ name: `run-store-test-${++dbCount}`, storage });
  opened.push(store);
  return store;
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function expectSameState(actual: CheckpointState | undefined, expected: CheckpointState): void {
  expect(actual).toBeDefined();
  expect(actual!.step).toBe(expected.step);
  expect(actual!.adapter.map((t) => [t.name, t.shape, [...t.data]])).toEqual(expected.adapter.map((t) => [t.name, t.shape, [...t.data]]));
  expect(actual!.adapter[0]!.data).toBeInstanceOf(Float32Array);
  expect(actual!.optimizer.m.map((t) => [...t.data])).toEqual(expected.optimizer.m.map((t) => [...t.data]));
  expect(actual!.optimizer.v.map((t) => [...t.data])).toEqual(expected.optimizer.v.map((t) => [...t.data]));
  expect(actual!.rng).toEqual(expected.rng);
  expect(actual!.cursor).toEqual(expected.cursor);
  expect(actual!.metrics).toEqual(expected.metrics);
  expect(actual!.samples).toEqual(expected.samples);
}

describe('runs and checkpoints', () => {
  it('round-trips a run and every part of a checkpoint', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest, { name: 'demo' });
    expect(await store.getRun(run.id)).toMatchObject({ name: 'demo', status: 'running', config, manifest });
    const state = stateAt(20);
    const meta = await store.saveCheckpoint(run.id, state, { reason: 'interval', evalLoss: 1.5 });
    expect(meta.id).toBe(checkpointId(run.id, 20));
    expect(meta.bytes).toBeGreaterThan(3 * 2 * 64 * 4);
    expectSameState((await store.loadLatest(run.id))?.state, state);
    expectSameState((await store.loadBest(run.id))?.state, state);
    expect(await store.resumable()).toMatchObject({ id: run.id });
    await store.setStatus(run.id, 'finished');
    expect(await store.resumable()).toBeUndefined();
  });

  it('keeps the latest two plus the best by eval loss, and drops the rest in the same write', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    const evals: Record<number, number | undefined> = { 10: 2.0, 20: 1.2, 30: 1.6, 40: undefined, 50: 1.9 };
    for (const step of [10, 20, 30, 40, 50]) await store.saveCheckpoint(run.id, stateAt(step), { reason: 'interval', evalLoss: evals[step] });
    expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([20, 40, 50]);
    const after = await store.getRun(run.id);
    expect(after?.latestCheckpointId).toBe(checkpointId(run.id, 50));
    expect(after?.bestCheckpointId).toBe(checkpointId(run.id, 20));
    expect(after?.bestEvalLoss).toBe(1.2);
    expectSameState((await store.loadBest(run.id))?.state, stateAt(20));
    await store.saveCheckpoint(run.id, stateAt(60), { reason: 'pause', evalLoss: 0.9 });
    expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([50, 60]);
    expect((await store.getRun(run.id))?.bestCheckpointId).toBe(checkpointId(run.id, 60));
  });

  it('autosaves replace each other and never push out the checkpoints the run asked for', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    for (const step of [10, 20]) await store.saveCheckpoint(run.id, stateAt(step), { reason: 'interval' });
    for (const step of [21, 22, 23]) await store.saveCheckpoint(run.id, stateAt(step), { reason: 'autosave' });
    // The two interval checkpoints stay; of the autosaves only the newest, which is what a reload resumes from.
    expect((await store.listCheckpoints(run.id)).map((m) => [m.step, m.reason])).toEqual([[10, 'interval'], [20, 'interval'], [23, 'autosave']]);
    expect((await store.getRun(run.id))?.latestCheckpointId).toBe(checkpointId(run.id, 23));
    expectSameState((await store.loadLatest(run.id))?.state, stateAt(23));
    // The next interval checkpoint past it retires the autosave.
    await store.saveCheckpoint(run.id, stateAt(30), { reason: 'interval' });
    expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([20, 30]);
  });

  it('saving an earlier step (resumed from an older checkpoint) drops the abandoned later ones', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    for (const step of [10, 20, 30]) await store.saveCheckpoint(run.id, stateAt(step), { reason: 'interval', evalLoss: 3 - step / 10 });
    await store.saveCheckpoint(run.id, stateAt(25), { reason: 'interval' });
    expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([20, 25]);
    const after = await store.getRun(run.id);
    expect(after?.latestCheckpointId).toBe(checkpointId(run.id, 25));
    expect(after?.bestCheckpointId).toBe(checkpointId(run.id, 20));
  });

  it('says clearly when there is no IndexedDB at all', async () => {
    const g = globalThis as { indexedDB?: unknown };
    const saved = g.indexedDB;
    delete g.indexedDB;
    try {
      await expect(RunStore.open({ name: 'nowhere' })).rejects.toThrow(/IndexedDB is not available.*private browsing/);
    } finally {
      g.indexedDB = saved;
    }
  });

  it('refuses a checkpoint for a run that does not exist, writing nothing', async () => {
    const store = await freshStore();
    await expect(store.saveCheckpoint('nope', stateAt(1), { reason: 'manual' })).rejects.toThrow(/No saved run with id nope/);
    expect(await store.loadCheckpoint(checkpointId('nope', 1))).toBeUndefined();
  });
});

describe('quota exhaustion', () => {
  it('a quota failure at any point of a checkpoint write leaves the previous checkpoints intact', async () => {
    const proto = IDBObjectStore.prototype as unknown as { put: (...a: unknown[]) => unknown };
    const realPut = proto.put;
    for (let failAt = 1; failAt <= 3; failAt++) {
      const store = await freshStore();
      const { config, manifest } = runInputs();
      const run = await store.createRun(config, manifest);
      await store.saveCheckpoint(run.id, stateAt(10), { reason: 'interval', evalLoss: 2 });
      await store.saveCheckpoint(run.id, stateAt(20), { reason: 'interval', evalLoss: 1 });
      const before = await store.getRun(run.id);
      let puts = 0;
      // The write of step 30 puts payload, then metadata, then the run record; the browser may refuse any of them.
      proto.put = function (this: unknown, ...args: unknown[]) {
        if (++puts === failAt) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return realPut.apply(this, args);
      };
      let error: unknown;
      try {
        await store.saveCheckpoint(run.id, stateAt(30), { reason: 'interval', evalLoss: 0.5 });
      } catch (e) {
        error = e;
      } finally {
        proto.put = realPut;
      }
      expect(error, `failure at put #${failAt}`).toBeInstanceOf(StorageQuotaError);
      expect((error as Error).message).toMatch(/storage is full.*step 30.*earlier checkpoints are intact.*delet/s);
      expect((error as StorageQuotaError).step).toBe(30);
      expect(await store.getRun(run.id)).toEqual(before);
      expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([10, 20]);
      expect(await store.loadCheckpoint(checkpointId(run.id, 30))).toBeUndefined();
      expectSameState((await store.loadLatest(run.id))?.state, stateAt(20));
      expectSameState((await store.loadCheckpoint(checkpointId(run.id, 10)))?.state, stateAt(10));
      // After freeing space the same write goes through.
      await store.deleteCheckpoint(checkpointId(run.id, 10));
      await store.saveCheckpoint(run.id, stateAt(30), { reason: 'interval', evalLoss: 0.5 });
      expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([20, 30]);
    }
  });

  it('the simulated quota (e2e hook) fails inside the write like a full disk and reports the budget', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    await store.saveCheckpoint(run.id, stateAt(10), { reason: 'interval' });
    const used = checkpointBytes(stateAt(10));
    store.simulateQuota(used + 10);
    const before = await store.getRun(run.id);
    const error = await store.saveCheckpoint(run.id, stateAt(20), { reason: 'interval' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect(isQuotaError((error as Error).cause)).toBe(true);
    expect((error as Error).message).toContain(`(10 B free of ${formatBytes(used + 10)})`);
    expect(await store.getRun(run.id)).toEqual(before);
    expect(await store.loadCheckpoint(checkpointId(run.id, 20))).toBeUndefined();
    expect((await store.usage()).space).toEqual({ usage: used, quota: used + 10, free: 10 });
    // Rewriting the same step in place fits (its old bytes are freed by the write); turning the hook off lifts it.
    await store.saveCheckpoint(run.id, stateAt(10), { reason: 'pause' });
    store.simulateQuota(null);
    await store.saveCheckpoint(run.id, stateAt(20), { reason: 'interval', trainLoss: 1.5 });
    expect((await store.listCheckpoints(run.id)).map((m) => [m.step, m.trainLoss])).toEqual([[10, undefined], [20, 1.5]]);
  });

  it('refuses up front when the browser estimate says it will not fit', async () => {
    let usage = 0;
    const quota = 10_000;
    const store = await freshStore({ estimate: async () => ({ usage, quota }) });
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    await store.saveCheckpoint(run.id, stateAt(5, 16), { reason: 'interval' });
    usage = 9_900;
    const size = formatBytes(checkpointBytes(stateAt(6, 16)));
    await expect(store.saveCheckpoint(run.id, stateAt(6, 16), { reason: 'interval' })).rejects.toThrow(`step 6 (${size}) was not saved (100 B free of 9.8 KiB)`);
    expect((await store.listCheckpoints(run.id)).map((m) => m.step)).toEqual([5]);
    const u = await store.usage();
    expect(u.space).toEqual({ usage: 9_900, quota, free: 100 });
    expect(u.runs[0]).toMatchObject({ runId: run.id, checkpoints: 1 });
    expect(u.totalBytes).toBe(u.runs[0]!.bytes);
  });

  it('a run that cannot be created says so and leaves nothing behind', async () => {
    const store = await freshStore();
    const proto = IDBObjectStore.prototype as unknown as { add: (...a: unknown[]) => unknown };
    const realAdd = proto.add;
    proto.add = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const { config, manifest } = runInputs();
      const err = await store.createRun(config, manifest, { name: 'big' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageQuotaError);
      expect((err as Error).message).toMatch(/^Browser storage is full: the new run "big" \(.+\) was not saved\./);
      expect((err as StorageQuotaError).step).toBeUndefined();
    } finally {
      proto.add = realAdd;
    }
    expect(await store.listRuns()).toEqual([]);
  });

  it('recognises quota errors by name and legacy code, and formats sizes', () => {
    expect(isQuotaError(new DOMException('x', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError(new Error('QuotaExceededError'))).toBe(false);
    expect([formatBytes(512), formatBytes(1536), formatBytes(50 * 1024 * 1024)]).toEqual(['512 B', '1.5 KiB', '50 MiB']);
  });
});

describe('freeing space', () => {
  it('deleting the latest or best repoints to what remains; deleting a run removes everything', async () => {
    const store = await freshStore();
    const { config, manifest } = runInputs();
    const run = await store.createRun(config, manifest);
    const other = await store.createRun(config, manifest);
    await store.saveCheckpoint(run.id, stateAt(10), { reason: 'interval', evalLoss: 1 });
    await store.saveCheckpoint(run.id, stateAt(20), { reason: 'interval', evalLoss: 2 });
    await store.saveCheckpoint(other.id, stateAt(5), { reason: 'interval' });
    await store.deleteCheckpoint(checkpointId(run.id, 20));
    expect(await store.getRun(run.id)).toMatchObject({ latestCheckpointId: checkpointId(run.id, 10), bestCheckpointId: checkpointId(run.id, 10) });
    await store.deleteCheckpoint(checkpointId(run.id, 10));
    const empty = await store.getRun(run.id);
    expect(empty?.latestCheckpointId).toBeUndefined();
    expect(empty?.bestCheckpointId).toBeUndefined();
    await store.deleteRun(other.id);
    expect(await store.getRun(other.id)).toBeUndefined();
    expect(await store.loadCheckpoint(checkpointId(other.id, 5))).toBeUndefined();
    expect((await store.listRuns()).map((r) => r.id)).toEqual([run.id]);
  });
});
