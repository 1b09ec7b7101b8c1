// Saved runs in the worker: records a run in IndexedDB when it starts (config + reproduction manifest), writes the
// trainer's checkpoints into it (every `train.checkpointEvery` steps and on pause/stop/completion) together with the
// metrics and samples streamed so far, and serves the `storage.*` requests. The worker owns storage because the
// tensors already live here; the page only ever sees metadata. A write that does not fit is reported, never fatal.
import { detectDegeneration } from '../../share/degeneration.ts';
import type { MetricPoint, SampleRecord } from '../../share/manifest.ts';
import { buildManifest } from '../../share/manifest.ts';
import {
  RunStore, StorageQuotaError, type CheckpointMeta, type CheckpointReason, type CheckpointState, type RunRecord, type RunStatus, type StoredTensor,
} from '../../storage/index.ts';
import { CHECKPOINT_STATE, CHECKPOINT_TENSORS, checkpointFiles, type LogEntry, type TrainerCheckpoint } from '../../train/state.ts';
import type { RunSaveInfo, StoredCheckpoint, StoredCheckpointLoad, StoredRun, StoredRuns, WorkerEvent } from '../protocol';
import type { HandlerContext } from './context';
import type { Prepared } from './playground';
import type { RunSession } from '../../train/session.ts';
import { CheckpointHandoff } from './handoff';

function tensors(group: Readonly<Record<string, Float32Array>>): StoredTensor[] {
  return Object.keys(group).map((name) => ({ name, shape: [group[name]!.length], data: group[name]! }));
}

function record(list: readonly StoredTensor[]): Record<string, Float32Array> {
  return Object.fromEntries(list.map((t) => [t.name, t.data]));
}

function rngState(words: number[] | undefined, name: string): [number, number, number, number] {
  if (!words || words.length !== 4) throw new Error(`The saved checkpoint has no ${name} random stream; it cannot resume exactly. Start a new run.`);
  return [words[0]!, words[1]!, words[2]!, words[3]!];
}

/** The trainer's checkpoint in the store's shape (tensors by PEFT name, RNG streams by name, the run's history). */
function toStoredState(c: TrainerCheckpoint, metrics: readonly MetricPoint[], samples: readonly SampleRecord[]): CheckpointState {
  return {
    step: c.step,
    adapter: tensors(c.params),
    optimizer: { step: c.step, m: tensors(c.m), v: tensors(c.v) },
    rng: { dropout: [...c.rng.dropout], sample: [...c.rng.sample] },
    cursor: { epoch: c.cursor.epoch, index: c.cursor.index },
    metrics: metrics.filter((m) => m.step <= c.step),
    samples: samples.filter((s) => s.step <= c.step),
    log: c.logHistory.map((e) => ({ ...e })),
  };
}

/** The reverse: what `Trainer.create({ resume })` takes. */
function fromStoredState(s: CheckpointState): TrainerCheckpoint {
  return {
    version: 1,
    step: s.step,
    params: record(s.adapter),
    m: record(s.optimizer.m),
    v: record(s.optimizer.v),
    rng: { dropout: rngState(s.rng['dropout'], 'dropout'), sample: rngState(s.rng['sample'], 'sampling') },
    cursor: { epoch: s.cursor.epoch, index: s.cursor.index },
    logHistory: (s.log ?? []) as unknown as LogEntry[],
  };
}

function storedCheckpoint(m: CheckpointMeta, run: RunRecord): StoredCheckpoint {
  return {
    id: m.id, runId: m.runId, step: m.step, createdAt: m.createdAt, reason: m.reason, bytes: m.bytes,
    ...(m.trainLoss !== undefined ? { trainLoss: m.trainLoss } : {}),
    ...(m.evalLoss !== undefined ? { evalLoss: m.evalLoss } : {}),
    latest: run.latestCheckpointId === m.id,
    best: run.bestCheckpointId === m.id,
  };
}

function storedRun(run: RunRecord, metas: readonly CheckpointMeta[]): StoredRun {
  return {
    id: run.id, name: run.name, status: run.status, createdAt: run.createdAt, updatedAt: run.updatedAt,
    config: run.config, manifest: run.manifest, restore: run.restore ?? null,
    checkpoints: metas.map((m) => storedCheckpoint(m, run)),
    bytes: metas.reduce((s, m) => s + m.bytes, 0),
  };
}

/** The run being written: its id and the history streamed so far (what a checkpoint carries besides tensors). */
interface ActiveRun {
  id: string;
  metrics: MetricPoint[];
  samples: SampleRecord[];
  /** A storage failure already reported for this run; later ones in the same pause are not repeated. */
  failedAt: number | null;
}

export class RunPersistence {
  private opened: Promise<RunStore> | null = null;
  private active: ActiveRun | null = null;
  private quotaBytes: number | null = null;
  /** The port to the checkpoint service worker, once the page connected one (./handoff.ts). */
  private handoff: CheckpointHandoff | null = null;

  constructor(private readonly open: () => Promise<RunStore> = () => RunStore.open()) {}

  private store(): Promise<RunStore> {
    if (!this.opened) {
      this.opened = this.open().then((s) => {
        s.simulateQuota(this.quotaBytes);
        return s;
      });
      // A failed open is retried by the next request (the user may have allowed site data meanwhile).
      this.opened.catch(() => (this.opened = null));
    }
    return this.opened;
  }

  get activeRunId(): string | null {
    return this.active?.id ?? null;
  }

  /** Records a new run for the prepared examples; without `save` the run is not saved (tests, inspection). */
  async begin(p: Prepared, session: RunSession, save: RunSaveInfo | undefined, backend: string, ctx: HandlerContext): Promise<void> {
    this.active = null;
    if (!save) return;
    try {
      // The manifest names the data the session was prepared from, whatever the page sent.
      const hex = session.data.hash.replace(/^sha256:/, '');
      const manifest = buildManifest(session.config, {
        modelSha: p.summary.sha, datasetHash: hex, device: { backend }, datasetRows: session.data.rows.length, datasetName: session.data.name,
      });
      const store = await this.store();
      const run = await store.createRun(session.config, manifest, {
        ...(save.name ? { name: save.name } : {}), ...(save.restore !== undefined ? { restore: save.restore } : {}),
      });
      this.active = { id: run.id, metrics: [], samples: [], failedAt: null };
    } catch (e) {
      ctx.emit({ type: 'storage-error', paused: false, message: `This run is not being saved: ${(e as Error).message}` });
    }
  }

  /** Continues a saved run: loads its latest checkpoint (with history) and makes it the run written to. */
  async attach(runId: string): Promise<{ checkpoint: TrainerCheckpoint; metrics: MetricPoint[]; samples: SampleRecord[] }> {
    const store = await this.store();
    const loaded = await store.loadLatest(runId);
    if (!loaded) throw new Error(`Saved run ${runId} has no checkpoint left to resume from (it was deleted); start a new run.`);
    const { state } = loaded;
    this.active = { id: runId, metrics: [...state.metrics], samples: [...state.samples], failedAt: null };
    await store.setStatus(runId, 'running');
    return { checkpoint: fromStoredState(state), metrics: state.metrics, samples: state.samples };
  }

  /** Wraps a handler context so the metrics and samples it streams are also kept for the next checkpoint. */
  observe(ctx: HandlerContext): HandlerContext {
    return { signal: ctx.signal, emit: (e) => { this.note(e); ctx.emit(e); } };
  }

  private note(e: WorkerEvent): void {
    const run = this.active;
    if (!run) return;
    if (e.type === 'step') {
      // A run resumed from an earlier checkpoint (device loss) logs those steps again: the new ones replace them.
      if ((run.metrics.at(-1)?.step ?? -1) >= e.step) run.metrics = run.metrics.filter((m) => m.step < e.step);
      run.metrics.push({ step: e.step, trainLoss: e.loss, learningRate: e.lr, gradNorm: e.gradNorm, ...(e.ms > 0 ? { tokensPerSecond: (1000 * e.targetTokens) / e.ms } : {}) });
    } else if (e.type === 'eval') {
      const last = run.metrics.at(-1);
      if (last?.step === e.step) last.evalLoss = e.loss;
      else run.metrics.push({ step: e.step, evalLoss: e.loss });
    } else if (e.type === 'samples') {
      run.samples = run.samples.filter((s) => s.step !== e.step);
      // Flagged here as the page flags them, so a restored run shows the same degeneration flags.
      for (const s of e.samples) run.samples.push({ step: e.step, prompt: s.prompt, completion: s.completion, flags: detectDegeneration(s.tokens, s.completion) });
    }
  }

  /** Whether a run is being saved (a start that asked for it, or a resumed saved run). */
  get saving(): boolean {
    return this.active !== null;
  }

  /** Connects the checkpoint service worker (the page sends a new port after the service worker restarted). */
  connectHandoff(port: MessagePort): void {
    this.handoff = new CheckpointHandoff(port);
    if (this.quotaBytes !== null) this.handoff.simulateQuota(this.quotaBytes);
  }

  /** Whether completed steps of the active run are handed to the service worker (a saved run, a port, and no failed
   * write there since the last `retryHandoff`). */
  get handingOff(): boolean {
    return this.active !== null && this.handoff?.usable === true;
  }

  /** A new training loop tries the service worker again after a failed write there. */
  retryHandoff(): void {
    this.handoff?.reset();
  }

  /** What the last hand-off cost: bytes of tensors copied onto the port and milliseconds spent posting them. */
  get handoffCost(): { bytes: number; ms: number } | null {
    return this.handoff?.lastCost ?? null;
  }

  /** Hands the checkpoint of a completed step to the service worker, which writes it as the run's autosave even if
   * this tab closes right after (a copy: `c` stays the worker's). Synchronous: once it returns the step is safe. */
  handOff(c: TrainerCheckpoint): void {
    const run = this.active;
    if (!run || !this.handoff) return;
    const at = run.metrics.find((m) => m.step === c.step);
    this.handoff.send(run.id, toStoredState(c, run.metrics, run.samples), {
      ...(at?.evalLoss !== undefined ? { evalLoss: at.evalLoss } : {}),
      ...(at?.trainLoss !== undefined ? { trainLoss: at.trainLoss } : {}),
    });
  }

  /** Writes a checkpoint of the active run. Returns false when storage is full (the caller pauses training); other
   * failures are reported and training goes on, since they do not get better by waiting. An autosave is quiet: the
   * page is not told (it is a recovery point, not a checkpoint the user asked for) and its failure is only returned. */
  async save(c: TrainerCheckpoint, reason: CheckpointReason, ctx: HandlerContext, last = false): Promise<boolean> {
    const run = this.active;
    if (!run) return true;
    const at = run.metrics.find((m) => m.step === c.step);
    try {
      const store = await this.store();
      const meta = await store.saveCheckpoint(run.id, toStoredState(c, run.metrics, run.samples), {
        reason,
        ...(at?.evalLoss !== undefined ? { evalLoss: at.evalLoss } : {}),
        ...(at?.trainLoss !== undefined ? { trainLoss: at.trainLoss } : {}),
      });
      run.failedAt = null;
      this.handoff?.saved(c.step); // a hold for this step need not wait on the service worker
      if (reason === 'autosave') return true;
      const record = await store.getRun(run.id);
      if (record) ctx.emit({ type: 'checkpoint', checkpoint: storedCheckpoint(meta, record) });
      return true;
    } catch (e) {
      const full = e instanceof StorageQuotaError;
      if (reason === 'autosave') return false;
      if (run.failedAt !== c.step) {
        run.failedAt = c.step;
        const then = !full
          ? ' Training goes on; the next checkpoint will try again.'
          : last
            ? ` Training has finished, but its final state (step ${c.step}) is only in this tab: export the run now, or free space and reload to train the last steps again from the saved checkpoint.`
            : ` Training is paused at step ${c.step} so no further progress goes unsaved; press Resume once space is free.`;
        ctx.emit({ type: 'storage-error', paused: full && !last && reason === 'interval', message: `${(e as Error).message}${then}` });
      }
      return !full;
    }
  }

  async setStatus(status: RunStatus): Promise<void> {
    if (!this.active) return;
    try {
      await (await this.store()).setStatus(this.active.id, status);
    } catch {
      // The status only decides whether a reload offers to resume; a failed write must not end the run.
    }
  }

  /** Lessons (overfitting): the active run's best checkpoint by eval loss, as the store keeps it (the one the
   * Checkpoints panel badges "best"), and the latest checkpoint's metadata; null when the run is not being saved. */
  async bestAndLatest(): Promise<{ best: { checkpoint: TrainerCheckpoint; evalLoss: number | null } | null; latest: { step: number; evalLoss: number | null } | null } | null> {
    const run = this.active;
    if (!run) return null;
    const store = await this.store();
    const [best, latest] = [await store.loadBest(run.id), await store.loadLatest(run.id)];
    return {
      best: best ? { checkpoint: fromStoredState(best.state), evalLoss: best.meta.evalLoss ?? null } : null,
      latest: latest ? { step: latest.meta.step, evalLoss: latest.meta.evalLoss ?? null } : null,
    };
  }

  /** Stops writing to the active run (a new unsaved start). */
  detach(): void {
    this.active = null;
  }

  // ---- storage.* requests --------------------------------------------------------------------------------------

  async runs(): Promise<StoredRuns> {
    const store = await this.store();
    const [records, usage] = await Promise.all([store.listRuns(), store.usage()]);
    const runs = await Promise.all(records.map(async (r) => storedRun(r, await store.listCheckpoints(r.id))));
    const space = usage.space ?? null;
    return { runs, totalBytes: usage.totalBytes, space: space && { usage: space.usage, quota: space.quota, free: space.free } };
  }

  async resumable(): Promise<StoredRun | null> {
    const store = await this.store();
    const run = await store.resumable();
    // The run this worker is training right now is not "left over" from a closed tab.
    if (!run || run.id === this.active?.id) return null;
    return storedRun(run, await store.listCheckpoints(run.id));
  }

  async load(runId: string, which: string): Promise<StoredCheckpointLoad | null> {
    const store = await this.store();
    const loaded = which === 'latest' ? await store.loadLatest(runId) : which === 'best' ? await store.loadBest(runId) : await store.loadCheckpoint(which);
    const run = await store.getRun(runId);
    if (!loaded || !run || loaded.meta.runId !== runId) return null;
    const files = checkpointFiles(fromStoredState(loaded.state));
    return {
      run: storedRun(run, await store.listCheckpoints(runId)),
      checkpoint: storedCheckpoint(loaded.meta, run),
      files: { step: loaded.state.step, files: { [CHECKPOINT_TENSORS]: files.get(CHECKPOINT_TENSORS)!, [CHECKPOINT_STATE]: files.get(CHECKPOINT_STATE)! } },
      metrics: loaded.state.metrics,
      samples: loaded.state.samples,
    };
  }

  async remove(target: { runId: string } | { checkpointId: string }): Promise<StoredRuns> {
    const store = await this.store();
    if ('runId' in target) {
      await store.deleteRun(target.runId);
      if (this.active?.id === target.runId) this.active = null;
    } else {
      await store.deleteCheckpoint(target.checkpointId);
    }
    return this.runs();
  }

  async simulateQuota(bytes: number | null): Promise<{ bytes: number | null }> {
    this.quotaBytes = bytes;
    this.handoff?.simulateQuota(bytes);
    (await this.store()).simulateQuota(bytes);
    return { bytes };
  }
}
