// Schema migrations: each record transform on its own, then a real v1 database (written by opening at version 1)
// upgraded in place to the current version with every record carried over.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { DB_VERSION, MIGRATIONS, STORES, checkpointBytes, migrateRunV1, pickBest, splitCheckpointV1, type CheckpointV1, type RunV1 } from '../../src/storage/migrations.ts';
import { RunStore, checkpointId } from '../../src/storage/run-store.ts';
import { runInputs, stateAt } from './fixtures.ts';

function v1Run(id: string, lastCheckpoint?: string): RunV1 {
  const { config, manifest } = runInputs();
  return { id, name: `run ${id}`, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', status: 'paused', config, manifest, ...(lastCheckpoint ? { lastCheckpoint } : {}) };
}

function v1Checkpoint(runId: string, step: number, evalLoss?: number): CheckpointV1 {
  return { ...stateAt(step), id: checkpointId(runId, step), runId, createdAt: '2026-01-01T00:00:00.000Z', reason: 'interval', ...(evalLoss !== undefined ? { evalLoss } : {}) };
}

describe('migration steps', () => {
  it('the list is ordered and ends at the current version', () => {
    expect(MIGRATIONS.map((m) => m.to)).toEqual(Array.from({ length: DB_VERSION }, (_, i) => i + 1));
  });

  it('v1→v2 splits a checkpoint into metadata (with size) and payload', () => {
    const old = v1Checkpoint('r', 30, 1.25);
    const { meta, data } = splitCheckpointV1(old);
    expect(meta).toEqual({ id: old.id, runId: 'r', step: 30, createdAt: old.createdAt, reason: 'interval', evalLoss: 1.25, bytes: checkpointBytes(stateAt(30)) });
    expect(meta).not.toHaveProperty('adapter');
    expect(data.id).toBe(old.id);
    expect(data.adapter).toBe(old.adapter);
    expect(data.cursor).toEqual(stateAt(30).cursor);
    expect(splitCheckpointV1(v1Checkpoint('r', 1)).meta).not.toHaveProperty('evalLoss');
  });

  it('v1→v2 renames lastCheckpoint and derives the best pointer', () => {
    const run = migrateRunV1(v1Run('r', 'r/000000030'), [
      { id: 'a', step: 10, evalLoss: 2 }, { id: 'b', step: 20, evalLoss: 1 }, { id: 'c', step: 30 }, { id: 'd', step: 40, evalLoss: 1 },
    ]);
    expect(run).toMatchObject({ latestCheckpointId: 'r/000000030', bestCheckpointId: 'b', bestEvalLoss: 1 });
    expect(run).not.toHaveProperty('lastCheckpoint');
    const bare = migrateRunV1(v1Run('s'), []);
    expect(bare).not.toHaveProperty('latestCheckpointId');
    expect(bare).not.toHaveProperty('bestCheckpointId');
    expect(pickBest([{ id: 'x', step: 1, evalLoss: Number.NaN }])).toBeUndefined();
  });
});

describe('upgrading a real v1 database', () => {
  it('carries every run and checkpoint over to the current schema', async () => {
    const name = 'migration-v1';
    const v1 = await RunStore.open({ name, version: 1, storage: undefined });
    expect(v1.version).toBe(1);
    v1.close();
    const raw = await openDB(name, 1);
    expect([...raw.objectStoreNames].sort()).toEqual([STORES.checkpoints, STORES.runs]);
    await raw.put(STORES.runs, v1Run('r1', checkpointId('r1', 30)));
    await raw.put(STORES.runs, v1Run('r2'));
    for (const [step, loss] of [[10, 2.5], [20, 1.5], [30, undefined]] as const) await raw.put(STORES.checkpoints, v1Checkpoint('r1', step, loss));
    raw.close();

    const store = await RunStore.open({ name, storage: undefined });
    expect(store.version).toBe(DB_VERSION);
    const r1 = await store.getRun('r1');
    expect(r1).toMatchObject({ latestCheckpointId: checkpointId('r1', 30), bestCheckpointId: checkpointId('r1', 20), bestEvalLoss: 1.5, status: 'paused' });
    expect(r1).not.toHaveProperty('lastCheckpoint');
    expect(await store.getRun('r2')).not.toHaveProperty('latestCheckpointId');
    const metas = await store.listCheckpoints('r1');
    expect(metas.map((m) => [m.step, m.evalLoss, m.bytes > 0])).toEqual([[10, 2.5, true], [20, 1.5, true], [30, undefined, true]]);
    expect(metas[0]).not.toHaveProperty('adapter');
    const latest = await store.loadLatest('r1');
    expect(latest?.state.adapter.map((t) => [...t.data])).toEqual(stateAt(30).adapter.map((t) => [...t.data]));
    expect(latest?.state.rng).toEqual(stateAt(30).rng);
    expect((await store.resumable())?.id).toBe('r1');
    // The upgraded database takes new checkpoints like a fresh one.
    await store.saveCheckpoint('r1', stateAt(40), { reason: 'interval', evalLoss: 1 });
    expect((await store.listCheckpoints('r1')).map((m) => m.step)).toEqual([30, 40]);
    store.close();
  });

  it('a failing migration leaves the old database untouched and says so', async () => {
    const name = 'migration-broken';
    const v1 = await RunStore.open({ name, version: 1, storage: undefined });
    v1.close();
    const raw = await openDB(name, 1);
    // A v1 checkpoint without its state cannot be split; the upgrade must abort rather than half-migrate.
    await raw.put(STORES.runs, v1Run('r1'));
    await raw.put(STORES.checkpoints, { id: 'r1/1', runId: 'r1', step: 1, createdAt: 'x', reason: 'interval' });
    raw.close();
    await expect(RunStore.open({ name, storage: undefined })).rejects.toThrow(/upgrading to schema v2 failed.*left as it was/s);
    const after = await openDB(name);
    expect(after.version).toBe(1);
    expect(await after.get(STORES.runs, 'r1')).toMatchObject({ id: 'r1' });
    after.close();
  });
});
