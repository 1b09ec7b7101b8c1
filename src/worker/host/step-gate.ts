// The training loop's events, held until the state they report is safe from a closing tab (worker/host/handoff.ts).
import type { HandlerContext } from './context';
import type { WorkerEvent } from '../protocol';

export /** The events of a training loop, held back while recovery points go to the checkpoint service worker, and let
 * through once a state at or past their step was handed over (or written): the page never shows a step as completed
 * that a closed tab could lose. What the run's persistence records from them is recorded at once (it is the state). */
class StepGate {
  private queue: WorkerEvent[] = [];
  private holding = false;
  readonly ctx: HandlerContext;

  constructor(inner: HandlerContext) {
    this.ctx = { signal: inner.signal, emit: (e) => (this.holding ? this.queue.push(e) : inner.emit(e)) };
    this.pass = (): void => {
      for (const e of this.queue.splice(0)) inner.emit(e);
    };
  }

  /** Lets the held events through. */
  readonly pass: () => void;

  hold(on: boolean): void {
    this.holding = on;
    if (!on) this.pass();
  }
}
