// The run store: runs and their checkpoints in IndexedDB (through idb). A checkpoint write is one transaction over
// runs, checkpoints and checkpointData — the payload, its metadata, the latest/best pointers and the pruning of old
// checkpoints commit together or not at all — so a full disk or a closed tab never leaves half a checkpoint.
import { openDB, type IDBPDatabase } from 'idb';
import type { ReproManifest } from '../share/manifest.ts';
import type { RunConfig } from '../share/run-config.ts';
import { checkpointBytes, DB_VERSION, pickBest, RUN_INDEX, STORES, upgradeSchema } from './migrations.ts';
import { defaultStorageManager, isQuotaError, StorageQuotaError, storageSpace, type StorageManagerLike, type StorageSpace } from './quota.ts';
import type { CheckpointData, CheckpointMeta, CheckpointReason, CheckpointState, LoadedCheckpoint, RunRecord, RunStatus } from './types.ts';

const DEFAULT_DB_NAME = 'tabtune';
/** Latest checkpoints kept per run besides the best one: the newest, and one before it in case the newest is bad. */
const DEFAULT_KEEP_LATEST = 2;

export interface OpenOptions {
  name?: string;
  /** Open at an older schema version; tests use it to build databases that later upgrades must migrate. */
  version?: number;
  /** navigator.storage, or undefined where there is none (Node). */
  storage?: StorageManagerLike;
}

export interface SaveOptions {
  reason: CheckpointReason;
  evalLoss?: number;
  trainLoss?: number;
  keepLatest?: number;
  now?: Date;
  /** Write only when the run's latest checkpoint is older than this step, and only while the run exists: a copy of the
   * state written on the tab's behalf (src/worker/host/handoff.ts) may land after a newer checkpoint, or after the run
   * was deleted, and must then change nothing. saveCheckpoint returns null when it skipped the write. */
  onlyNewer?: boolean;
}

export interface RunUsage {
  runId: string;
  name: string;
  checkpoints: number;
  bytes: number;
}

export function checkpointId(runId: string, step: number): string {
  return `${runId}/${String(step).padStart(9, '0')}`;
}

export class RunStore {
  /** Test-only byte budget (see simulateQuota); null = the browser's real quota only. */
  private budget: number | null = null;

  private constructor(
    private readonly db: IDBPDatabase<unknown>,
    private readonly storage: StorageManagerLike | undefined,
  ) {}

  /** Test hook (e2e quota spec): checkpoint writes that would take the stored checkpoints past `bytes` fail inside
   * their transaction with a real `QuotaExceededError` DOMException, as a full disk does, so everything from the
   * failed put to the message the user sees runs as in production. null turns it off. */
  simulateQuota(bytes: number | null): void {
    this.budget = bytes === null ? null : Math.max(0, Math.floor(bytes));
  }

  private async storedBytes(): Promise<number> {
    return ((await this.db.getAll(STORES.checkpoints)) as CheckpointMeta[]).reduce((s, m) => s + m.bytes, 0);
  }

  /** The browser's estimate, or the simulated budget when a test set one. */
  private async space(): Promise<StorageSpace | undefined> {
    if (this.budget === null) return storageSpace(this.storage);
    const usage = await this.storedBytes();
    return { usage, quota: this.budget, free: Math.max(0, this.budget - usage) };
  }

  static async open(opts: OpenOptions = {}): Promise<RunStore> {
    const version = opts.version ?? DB_VERSION;
    if (typeof indexedDB === 'undefined') {
      throw new Error('IndexedDB is not available in this environment, so runs cannot be saved here. In the browser, leave private browsing or allow site data; the Node CLI writes checkpoints as files instead.');
    }
    let failure: unknown;
    let db: IDBPDatabase<unknown>;
    try {
      db = await openDB(opts.name ?? DEFAULT_DB_NAME, version, {
        upgrade(database, oldVersion, newVersion, tx) {
          // The open request reports an aborted upgrade; the transaction's own rejection would go unobserved.
          tx.done.catch(() => undefined);
          upgradeSchema(database, oldVersion, newVersion ?? version, tx).catch((e: unknown) => {
            failure = e;
            tx.abort();
          });
        },
        blocked() {
          // Another tab holds the old version open; it is asked to close in `versionchange` below.
        },
      });
    } catch (e) {
      const why = failure instanceof Error ? failure.message : (e as Error).message;
      throw new Error(`Could not open TabTune's saved runs (upgrading to schema v${version} failed: ${why}). Your data was left as it was; reload to try again, or clear site data to start fresh.`, { cause: e });
    }
    // A newer tab upgrading the schema must not wait on this one forever.
    db.addEventListener('versionchange', () => db.close());
    return new RunStore(db, 'storage' in opts ? opts.storage : defaultStorageManager());
  }

  get version(): number {
    return this.db.version;
  }

  close(): void {
    this.db.close();
  }

  async createRun(config: RunConfig, manifest: ReproManifest, opts: { name?: string; now?: Date; id?: string; restore?: unknown } = {}): Promise<RunRecord> {
    const now = (opts.now ?? new Date()).toISOString();
    const run: RunRecord = {
      id: opts.id ?? crypto.randomUUID(),
      name: opts.name ?? `${config.model.repo} · ${now.slice(0, 16).replace('T', ' ')}`,
      createdAt: now,
      updatedAt: now,
      status: 'running',
      config,
      manifest,
      ...(opts.restore !== undefined ? { restore: opts.restore } : {}),
    };
    await this.guard(() => this.db.add(STORES.runs, run), { label: `the new run "${run.name}"` }, JSON.stringify(run).length * 2);
    return run;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.db.get(STORES.runs, runId)) as RunRecord | undefined;
  }

  /** Newest first. */
  async listRuns(): Promise<RunRecord[]> {
    const runs = (await this.db.getAll(STORES.runs)) as RunRecord[];
    return runs.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  async setStatus(runId: string, status: RunStatus, now = new Date()): Promise<void> {
    const tx = this.db.transaction(STORES.runs, 'readwrite');
    const run = (await tx.store.get(runId)) as RunRecord | undefined;
    if (!run) throw new Error(`No saved run with id ${runId}.`);
    await tx.store.put({ ...run, status, updatedAt: now.toISOString() });
    await tx.done;
  }

  /** The run a reloaded tab should offer to resume: the newest one still running or paused, with a checkpoint. */
  async resumable(): Promise<RunRecord | undefined> {
    return (await this.listRuns()).find((r) => (r.status === 'running' || r.status === 'paused') && r.latestCheckpointId);
  }

  /** Writes a checkpoint atomically, moves the latest (and maybe best) pointer, and prunes older checkpoints
   * beyond `keepLatest` (never the best; autosaves are not counted, and only the newest checkpoint may be one). On a full disk throws StorageQuotaError and changes nothing. */
  async saveCheckpoint(runId: string, state: CheckpointState, opts: SaveOptions & { onlyNewer: true }): Promise<CheckpointMeta | null>;
  async saveCheckpoint(runId: string, state: CheckpointState, opts: SaveOptions): Promise<CheckpointMeta>;
  async saveCheckpoint(runId: string, state: CheckpointState, opts: SaveOptions): Promise<CheckpointMeta | null> {
    const id = checkpointId(runId, state.step);
    const bytes = checkpointBytes(state);
    const meta: CheckpointMeta = {
      id, runId, step: state.step, createdAt: (opts.now ?? new Date()).toISOString(), reason: opts.reason, bytes,
      ...(opts.evalLoss !== undefined && Number.isFinite(opts.evalLoss) ? { evalLoss: opts.evalLoss } : {}),
      ...(opts.trainLoss !== undefined && Number.isFinite(opts.trainLoss) ? { trainLoss: opts.trainLoss } : {}),
    };
    const keep = Math.max(1, opts.keepLatest ?? DEFAULT_KEEP_LATEST);
    // Refuse early when the browser already says it will not fit: cheaper than a failed transaction.
    const space = this.budget === null ? await storageSpace(this.storage) : undefined;
    if (space && bytes > space.free) throw new StorageQuotaError({ step: state.step }, bytes, space);

    const written = await this.guard(async () => {
      const tx = this.db.transaction([STORES.runs, STORES.checkpoints, STORES.checkpointData], 'readwrite');
      try {
        const runs = tx.objectStore(STORES.runs);
        const run = (await runs.get(runId)) as RunRecord | undefined;
        if (opts.onlyNewer) {
          // Checked inside the transaction, so a checkpoint the worker writes meanwhile is ordered before or after it.
          const latest = run?.latestCheckpointId ? ((await tx.objectStore(STORES.checkpoints).get(run.latestCheckpointId)) as CheckpointMeta | undefined) : undefined;
          if (!run || (latest && latest.step >= state.step)) {
            await tx.done;
            return false;
          }
        }
        if (!run) throw new Error(`No saved run with id ${runId}; create the run before checkpointing it.`);
        const data: CheckpointData = { id, ...state };
        await tx.objectStore(STORES.checkpointData).put(data);
        const metas = tx.objectStore(STORES.checkpoints);
        if (this.budget !== null) {
          // After the payload put on purpose: the simulated failure must roll back a write already under way.
          const used = ((await metas.getAll()) as CheckpointMeta[]).reduce((s, m) => s + (m.id === id ? 0 : m.bytes), 0);
          if (used + bytes > this.budget) throw new DOMException(`Simulated quota of ${this.budget} bytes exceeded.`, 'QuotaExceededError');
        }
        await metas.put(meta);

        // Checkpoints past this step belong to a timeline abandoned by resuming from an earlier one: drop them.
        const all = ((await metas.index(RUN_INDEX).getAll(runId)) as CheckpointMeta[]).sort((a, b) => b.step - a.step);
        const current = all.filter((m) => m.step <= state.step);
        const best = pickBest(current);
        // The newest `keep` checkpoints the run asked for, the best, and the newest of all (an autosave past them).
        const kept = new Set(current.filter((m) => m.reason !== 'autosave').slice(0, keep).map((m) => m.id));
        if (current[0]) kept.add(current[0].id);
        if (best) kept.add(best.id);
        for (const m of all) {
          if (kept.has(m.id)) continue;
          await metas.delete(m.id);
          await tx.objectStore(STORES.checkpointData).delete(m.id);
        }
        const next: RunRecord = { ...run, latestCheckpointId: id, updatedAt: meta.createdAt };
        delete next.bestCheckpointId;
        delete next.bestEvalLoss;
        if (best) Object.assign(next, { bestCheckpointId: best.id, bestEvalLoss: best.evalLoss });
        await runs.put(next);
        await tx.done;
        return true;
      } catch (e) {
        abortQuietly(tx);
        await tx.done.catch(() => undefined);
        throw e;
      }
    }, { step: state.step }, bytes);
    return written ? meta : null;
  }

  async listCheckpoints(runId: string): Promise<CheckpointMeta[]> {
    const metas = (await this.db.getAllFromIndex(STORES.checkpoints, RUN_INDEX, runId)) as CheckpointMeta[];
    return metas.sort((a, b) => a.step - b.step);
  }

  async loadCheckpoint(id: string): Promise<LoadedCheckpoint | undefined> {
    const tx = this.db.transaction([STORES.checkpoints, STORES.checkpointData], 'readonly');
    const meta = (await tx.objectStore(STORES.checkpoints).get(id)) as CheckpointMeta | undefined;
    const data = (await tx.objectStore(STORES.checkpointData).get(id)) as CheckpointData | undefined;
    await tx.done;
    if (!meta || !data) return undefined;
    const { id: _id, ...state } = data;
    return { meta, state };
  }

  async loadLatest(runId: string): Promise<LoadedCheckpoint | undefined> {
    const run = await this.getRun(runId);
    return run?.latestCheckpointId ? this.loadCheckpoint(run.latestCheckpointId) : undefined;
  }

  async loadBest(runId: string): Promise<LoadedCheckpoint | undefined> {
    const run = await this.getRun(runId);
    return run?.bestCheckpointId ? this.loadCheckpoint(run.bestCheckpointId) : undefined;
  }

  /** Frees space: removes one checkpoint and repoints latest/best to what remains. */
  async deleteCheckpoint(id: string): Promise<void> {
    const tx = this.db.transaction([STORES.runs, STORES.checkpoints, STORES.checkpointData], 'readwrite');
    const metas = tx.objectStore(STORES.checkpoints);
    const meta = (await metas.get(id)) as CheckpointMeta | undefined;
    if (!meta) {
      await tx.done;
      return;
    }
    await metas.delete(id);
    await tx.objectStore(STORES.checkpointData).delete(id);
    const rest = ((await metas.index(RUN_INDEX).getAll(meta.runId)) as CheckpointMeta[]).sort((a, b) => b.step - a.step);
    const run = (await tx.objectStore(STORES.runs).get(meta.runId)) as RunRecord | undefined;
    if (run) {
      const next: RunRecord = { ...run };
      delete next.latestCheckpointId;
      delete next.bestCheckpointId;
      delete next.bestEvalLoss;
      if (rest[0]) next.latestCheckpointId = rest[0].id;
      const best = pickBest(rest);
      if (best) Object.assign(next, { bestCheckpointId: best.id, bestEvalLoss: best.evalLoss });
      await tx.objectStore(STORES.runs).put(next);
    }
    await tx.done;
  }

  /** Frees space: removes a run and all of its checkpoints. */
  async deleteRun(runId: string): Promise<void> {
    const tx = this.db.transaction([STORES.runs, STORES.checkpoints, STORES.checkpointData], 'readwrite');
    const ids = (await tx.objectStore(STORES.checkpoints).index(RUN_INDEX).getAllKeys(runId)) as string[];
    for (const id of ids) {
      await tx.objectStore(STORES.checkpoints).delete(id);
      await tx.objectStore(STORES.checkpointData).delete(id);
    }
    await tx.objectStore(STORES.runs).delete(runId);
    await tx.done;
  }

  /** What each run occupies (largest first) and the browser's estimate, for the storage panel. */
  async usage(): Promise<{ runs: RunUsage[]; totalBytes: number; space: StorageSpace | undefined }> {
    const runs = await this.listRuns();
    const metas = (await this.db.getAll(STORES.checkpoints)) as CheckpointMeta[];
    const usage = runs.map((r) => {
      const mine = metas.filter((m) => m.runId === r.id);
      return { runId: r.id, name: r.name, checkpoints: mine.length, bytes: mine.reduce((s, m) => s + m.bytes, 0) };
    });
    usage.sort((a, b) => b.bytes - a.bytes);
    return { runs: usage, totalBytes: usage.reduce((s, u) => s + u.bytes, 0), space: await this.space() };
  }

  /** Turns quota failures (thrown, or surfacing as the transaction's abort reason) into StorageQuotaError. */
  private async guard<T>(write: () => Promise<T>, what: { step: number } | { label: string }, bytes: number): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (isQuotaError(e) || isQuotaError((e as { cause?: unknown } | null)?.cause)) {
        throw new StorageQuotaError(what, bytes, await this.space(), { cause: e });
      }
      throw e;
    }
  }
}

function abortQuietly(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // Already finished or aborted by the browser (a quota failure aborts the transaction itself).
  }
}
