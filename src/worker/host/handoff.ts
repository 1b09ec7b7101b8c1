// Handing each completed step's state to the checkpoint service worker, so a closed tab loses no step it showed.
// A dedicated worker dies with its page, and with it any IndexedDB write still under way; a service worker does not:
// while an event it is handling is extended (ExtendableMessageEvent.waitUntil) it runs on after the tab is gone. So
// the training worker posts completed steps' states over a MessagePort to the service worker (`CheckpointHandoff`;
// the page hears of a step only once a state at or past it was posted, src/worker/host/training.ts), and the service
// worker writes them (`HandoffWriter`),
// coalescing to the newest state when writes fall behind. The page (src/worker/checkpoint-handoff.ts) set up the port
// and, when it goes away, asks the service worker to hold on until the last step it showed is written.
import { RunStore, type CheckpointState } from '../../storage/index.ts';

/** Training worker → service worker, over the port. `save`: a step's state (a structured-clone copy; the worker keeps
 * its own); `saved`: the worker wrote a checkpoint at `step` itself (the run's own checkpoints), so a hold for it is
 * already answered; `quota`: the test hook of RunStore.simulateQuota, applied to the service worker's writes too. */
export type ToWriter =
  | { type: 'save'; runId: string; state: CheckpointState; trainLoss?: number; evalLoss?: number }
  | { type: 'saved'; step: number }
  | { type: 'quota'; bytes: number | null };

/** Service worker → training worker: writing `step` failed (storage full, or failing); the worker goes back to
 * writing recovery points itself, within its time budget. */
export type FromWriter = { type: 'failed'; step: number; message: string };

interface PortLike<In, Out> {
  postMessage(message: Out): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<In>) => void): void;
  start?(): void;
}

/** The training worker's end: posts step states to the service worker. Usable until the service worker reports a
 * failed write; `reset` (a new training loop) tries it again. */
export class CheckpointHandoff {
  private failed = false;
  /** Bytes of tensor data and milliseconds spent in the last `send` (copying the state onto the port). */
  lastCost = { bytes: 0, ms: 0 };

  constructor(private readonly port: PortLike<FromWriter, ToWriter>) {
    port.addEventListener('message', (ev) => {
      if (ev.data.type === 'failed') this.failed = true;
    });
    port.start?.();
  }

  get usable(): boolean {
    return !this.failed;
  }

  reset(): void {
    this.failed = false;
  }

  send(runId: string, state: CheckpointState, losses: { trainLoss?: number; evalLoss?: number }): void {
    const started = performance.now();
    this.port.postMessage({ type: 'save', runId, state, ...losses });
    const tensors = [...state.adapter, ...state.optimizer.m, ...state.optimizer.v];
    this.lastCost = { bytes: tensors.reduce((n, t) => n + t.data.byteLength, 0), ms: performance.now() - started };
  }

  saved(step: number): void {
    this.port.postMessage({ type: 'saved', step });
  }

  simulateQuota(bytes: number | null): void {
    this.port.postMessage({ type: 'quota', bytes });
  }
}

/** The service worker's end of one connection: writes the newest state it was handed, one write at a time, and
 * answers holds. A state older than the run's latest checkpoint (the worker wrote a newer one meanwhile) or for a
 * deleted run is skipped, so a late write never moves a run backwards (RunStore.saveCheckpoint `onlyNewer`). */
export class HandoffWriter {
  private pending: Extract<ToWriter, { type: 'save' }> | null = null;
  private writing: Promise<void> | null = null;
  /** The highest step whose state is stored (written here, skipped as older, or written by the worker). */
  private durable = 0;
  private quota: number | null = null;
  private waiters: { step: number; resolve: () => void }[] = [];

  constructor(
    private readonly port: PortLike<ToWriter, FromWriter>,
    private readonly store: () => Promise<RunStore>,
  ) {
    port.addEventListener('message', (ev) => this.receive(ev.data));
    port.start?.();
  }

  private receive(m: ToWriter): void {
    if (m.type === 'quota') this.quota = m.bytes;
    else if (m.type === 'saved') this.advance(m.step);
    else {
      if (!this.pending || m.state.step > this.pending.state.step) this.pending = m;
      this.writing ??= this.drain().finally(() => (this.writing = null));
    }
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const m = this.pending;
      this.pending = null;
      try {
        const store = await this.store();
        store.simulateQuota(this.quota);
        await store.saveCheckpoint(m.runId, m.state, {
          reason: 'autosave', onlyNewer: true,
          ...(m.trainLoss !== undefined ? { trainLoss: m.trainLoss } : {}), ...(m.evalLoss !== undefined ? { evalLoss: m.evalLoss } : {}),
        });
        this.advance(m.state.step);
      } catch (e) {
        this.port.postMessage({ type: 'failed', step: m.state.step, message: (e as Error).message });
        // Nothing waits on a write that will not happen: a hold ends now (the worker's own checkpoints remain).
        for (const w of this.waiters.splice(0)) w.resolve();
      }
    }
  }

  private advance(step: number): void {
    this.durable = Math.max(this.durable, step);
    const ready = this.waiters.filter((w) => w.step <= this.durable);
    this.waiters = this.waiters.filter((w) => w.step > this.durable);
    for (const w of ready) w.resolve();
  }

  /** Settles once the state of `step` (or a later one) is stored, or after `limitMs`: what a hold waits for. */
  settled(step: number, limitMs: number): Promise<void> {
    if (step <= this.durable) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, limitMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push({ step, resolve: done });
    });
  }
}
