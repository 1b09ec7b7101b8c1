// What a request handler in the worker gets: the request's abort signal (set by a cancel message) and a way to
// stream events back to the caller. Handlers own no global state.
import type { WorkerEvent } from '../protocol';

export interface HandlerContext {
  signal: AbortSignal;
  emit(event: WorkerEvent): void;
}
