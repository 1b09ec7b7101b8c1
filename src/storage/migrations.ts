// Schema versions of the TabTune IndexedDB database and the migrations between them. Each migration is a pure
// record transform (unit-tested on its own) plus a store-level step run inside IndexedDB's versionchange
// transaction, so an upgrade is all-or-nothing like any other transaction.
//   v1: `runs` (pointer `lastCheckpoint`), `checkpoints` holding metadata and tensors in one record.
//   v2: tensors and resumable state moved to `checkpointData` (listing no longer loads tensors), sizes recorded,
//       `lastCheckpoint` renamed `latestCheckpointId`, and the best-by-eval-loss pointer added.
import type { IDBPDatabase, IDBPTransaction } from 'idb';
import type { CheckpointData, CheckpointMeta, CheckpointState, RunRecord, StoredTensor } from './types.ts';

export const DB_VERSION = 2;
export const STORES = { runs: 'runs', checkpoints: 'checkpoints', checkpointData: 'checkpointData' } as const;
export const RUN_INDEX = 'runId';

/** The v1 run record, as the first release wrote it. */
export type RunV1 = Omit<RunRecord, 'latestCheckpointId' | 'bestCheckpointId' | 'bestEvalLoss'> & { lastCheckpoint?: string };
/** The v1 checkpoint record: metadata and state together, no size. */
export type CheckpointV1 = Omit<CheckpointMeta, 'bytes'> & CheckpointState;

function tensorBytes(list: readonly StoredTensor[]): number {
  return list.reduce((s, t) => s + t.data.byteLength + t.name.length * 2 + t.shape.length * 8, 0);
}

/** Approximate stored size: tensor bytes exactly, the small JSON-like parts by their serialised length. */
export function checkpointBytes(state: CheckpointState): number {
  const small = JSON.stringify({ rng: state.rng, cursor: state.cursor, metrics: state.metrics, samples: state.samples, log: state.log });
  return tensorBytes(state.adapter) + tensorBytes(state.optimizer.m) + tensorBytes(state.optimizer.v) + small.length * 2;
}

/** v1 → v2 for one checkpoint: metadata and payload become two records with the same id. */
export function splitCheckpointV1(c: CheckpointV1): { meta: CheckpointMeta; data: CheckpointData } {
  const { id, runId, step, createdAt, reason, evalLoss, adapter, optimizer, rng, cursor, metrics, samples } = c;
  const state: CheckpointState = { step, adapter, optimizer, rng, cursor, metrics, samples };
  const meta: CheckpointMeta = { id, runId, step, createdAt, reason, bytes: checkpointBytes(state), ...(evalLoss !== undefined ? { evalLoss } : {}) };
  return { meta, data: { id, ...state } };
}

/** The checkpoint with the lowest eval loss (earliest step on ties), if any checkpoint has one. */
export function pickBest(metas: readonly Pick<CheckpointMeta, 'id' | 'step' | 'evalLoss'>[]): { id: string; evalLoss: number } | undefined {
  let best: { id: string; evalLoss: number; step: number } | undefined;
  for (const m of metas) {
    if (m.evalLoss === undefined || !Number.isFinite(m.evalLoss)) continue;
    if (!best || m.evalLoss < best.evalLoss || (m.evalLoss === best.evalLoss && m.step < best.step)) {
      best = { id: m.id, evalLoss: m.evalLoss, step: m.step };
    }
  }
  return best && { id: best.id, evalLoss: best.evalLoss };
}

/** v1 → v2 for one run: rename the latest pointer and add the best pointer from its checkpoints. */
export function migrateRunV1(run: RunV1, checkpoints: readonly Pick<CheckpointMeta, 'id' | 'step' | 'evalLoss'>[]): RunRecord {
  const { lastCheckpoint, ...rest } = run;
  const best = pickBest(checkpoints);
  return {
    ...rest,
    ...(lastCheckpoint !== undefined ? { latestCheckpointId: lastCheckpoint } : {}),
    ...(best ? { bestCheckpointId: best.id, bestEvalLoss: best.evalLoss } : {}),
  };
}

type UpgradeDb = IDBPDatabase<unknown>;
type UpgradeTx = IDBPTransaction<unknown, string[], 'versionchange'>;

export interface Migration {
  /** The version this migration produces; it runs when upgrading from any version below it. */
  to: number;
  describe: string;
  apply(db: UpgradeDb, tx: UpgradeTx): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    describe: 'create runs and checkpoints',
    apply: async (db) => {
      db.createObjectStore(STORES.runs, { keyPath: 'id' });
      db.createObjectStore(STORES.checkpoints, { keyPath: 'id' }).createIndex(RUN_INDEX, 'runId');
    },
  },
  {
    to: 2,
    describe: 'split checkpoint payloads into checkpointData; rename lastCheckpoint; add best pointer',
    apply: async (db, tx) => {
      db.createObjectStore(STORES.checkpointData, { keyPath: 'id' });
      const checkpoints = tx.objectStore(STORES.checkpoints);
      const data = tx.objectStore(STORES.checkpointData);
      const metasByRun = new Map<string, CheckpointMeta[]>();
      for (const old of (await checkpoints.getAll()) as CheckpointV1[]) {
        const { meta, data: payload } = splitCheckpointV1(old);
        await data.put(payload);
        await checkpoints.put(meta);
        metasByRun.set(meta.runId, [...(metasByRun.get(meta.runId) ?? []), meta]);
      }
      const runs = tx.objectStore(STORES.runs);
      for (const run of (await runs.getAll()) as RunV1[]) {
        await runs.put(migrateRunV1(run, metasByRun.get(run.id) ?? []));
      }
    },
  },
];

/** Runs every migration between the two versions, in order; used as idb's `upgrade` callback. */
export async function upgradeSchema(db: UpgradeDb, oldVersion: number, newVersion: number, tx: UpgradeTx): Promise<void> {
  for (const m of MIGRATIONS) {
    if (m.to > oldVersion && m.to <= newVersion) await m.apply(db, tx);
  }
}
