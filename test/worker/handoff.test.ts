// Handing step states to the checkpoint service worker's writer (src/worker/host/handoff.ts) over a real
// MessageChannel, written to a real RunStore on fake-indexeddb: the newest state wins when states arrive faster than
// they are written, a late state never moves a run behind a newer checkpoint or resurrects a deleted run, a hold
// settles when its step is stored (or the worker stored it itself), and a failed write sends the worker back to its
// own autosaves.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointHandoff, HandoffWriter } from '../../src/worker/host/handoff.ts';
import { RunStore } from '../../src/storage/run-store.ts';
import { runInputs, stateAt } from '../storage/fixtures.ts';

let dbCount = 0;
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function connected(): Promise<{ store: RunStore; runId: string; handoff: CheckpointHandoff; writer: HandoffWriter }> {
  const store = await RunStore.open({ name: `handoff-test-${++dbCount}` });
  const { config, manifest } = runInputs();
  const run = await store.createRun(config, manifest);
  const channel = new MessageChannel();
  const handoff = new CheckpointHandoff(channel.port2);
  const writer = new HandoffWriter(channel.port1, () => Promise.resolve(store));
  closers.push(() => {
    channel.port1.close();
    channel.port2.close();
    store.close();
  });
  return { store, runId: run.id, handoff, writer };
}

describe('checkpoint hand-off', () => {
  it('writes the newest handed-off state as the run\'s only autosave', async () => {
    const { store, runId, handoff, writer } = await connected();
    for (let step = 1; step <= 6; step++) handoff.send(runId, stateAt(step), { trainLoss: 3 - step / 10 });
    expect(handoff.lastCost.bytes).toBe(3 * 2 * 64 * 4); // params, m and v of two 64-float tensors
    await writer.settled(6, 10_000);
    const latest = await store.loadLatest(runId);
    expect(latest?.meta).toMatchObject({ step: 6, reason: 'autosave', trainLoss: 2.4 });
    expect([...latest!.state.adapter[0]!.data]).toEqual([...stateAt(6).adapter[0]!.data]);
    expect(latest!.state.rng).toEqual(stateAt(6).rng);
    expect((await store.listCheckpoints(runId)).map((m) => m.step)).toEqual([6]);
    expect(handoff.usable).toBe(true);
  });

  it('skips a state older than a checkpoint the worker wrote meanwhile, and one of a deleted run', async () => {
    const { store, runId, handoff, writer } = await connected();
    await store.saveCheckpoint(runId, stateAt(7), { reason: 'pause' });
    handoff.send(runId, stateAt(5), {});
    handoff.send(runId, stateAt(7), {});
    await writer.settled(7, 10_000);
    const metas = await store.listCheckpoints(runId);
    expect(metas.map((m) => [m.step, m.reason])).toEqual([[7, 'pause']]);

    await store.deleteRun(runId);
    handoff.send(runId, stateAt(8), {});
    await writer.settled(8, 10_000);
    expect(await store.getRun(runId)).toBeUndefined();
    expect(await store.listCheckpoints(runId)).toEqual([]);
    expect(handoff.usable).toBe(true);
  });

  it('answers a hold for a step the worker saved itself, and lets a hold for a step never handed off time out', async () => {
    const { handoff, writer } = await connected();
    handoff.saved(10);
    await writer.settled(10, 10_000);
    const started = Date.now();
    await writer.settled(11, 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('reports a failed write to the worker, which then autosaves itself until the next loop', async () => {
    const { store, runId, handoff, writer } = await connected();
    handoff.simulateQuota(100);
    handoff.send(runId, stateAt(3), {});
    const held = writer.settled(3, 10_000);
    await expect.poll(() => handoff.usable).toBe(false);
    const waited = Date.now();
    await held; // a hold ends once the write failed rather than at its limit
    expect(Date.now() - waited).toBeLessThan(5_000);
    expect(await store.listCheckpoints(runId)).toEqual([]);
    handoff.reset();
    expect(handoff.usable).toBe(true);
  });
});
