// Main-thread side of the worker protocol: starts the module worker, gives each request an id and a promise,
// forwards streamed events to the caller, cancels by id, and transfers ArrayBuffers instead of copying them.
// Imports only the protocol (and share); never the worker host or anything that owns models or sessions.
import {
  CANCELLED_MESSAGE,
  requestTransferables,
  type FromWorker,
  type RequestParams,
  type RequestResult,
  type RequestType,
  type ToWorker,
  type WorkerErrorInfo,
  type WorkerEvent,
  type WorkerRequest,
} from './protocol';

/** A request rejected by the worker (or cancelled); carries the worker-side error name and the cancelled flag. */
export class WorkerRequestError extends Error {
  readonly cancelled: boolean;
  readonly workerName: string;
  constructor(info: WorkerErrorInfo) {
    super(info.message);
    this.name = 'WorkerRequestError';
    this.cancelled = info.cancelled;
    this.workerName = info.name;
  }
}

export interface RequestOptions {
  /** Called for every event the worker streams for this request. */
  onEvent?: (event: WorkerEvent) => void;
  /** Aborting sends a cancel message; the promise rejects with `cancelled: true`. */
  signal?: AbortSignal;
}

/** What the client needs from a Worker; lets tests pass a MessageChannel port or an in-process fake thread. */
export interface WorkerLike {
  postMessage(message: ToWorker, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', listener: (ev: ErrorEvent) => void): void;
  terminate?(): void;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: WorkerRequestError) => void;
  onEvent: ((event: WorkerEvent) => void) | undefined;
  cleanup: () => void;
}

export class WorkerClient {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private readonly fatalListeners = new Set<(err: WorkerRequestError) => void>();
  private nextId = 1;
  readonly ready: Promise<void>;

  constructor(worker: WorkerLike) {
    this.worker = worker;
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => (markReady = resolve));
    worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data, markReady));
    worker.addEventListener('error', (ev: ErrorEvent) => {
      // A worker that fails to load or throws at top level: fail everything in flight with the reason.
      const info = { message: `The training worker failed: ${ev.message || 'script error'}`, cancelled: false, name: 'WorkerError' };
      this.failAll(info);
    });
  }

  /** Sends a request; resolves with its typed result, rejects with WorkerRequestError. */
  request<T extends RequestType>(type: T, params: RequestParams<T>, options: RequestOptions = {}): Promise<RequestResult<T>> {
    const id = this.nextId++;
    const request = { type, ...params } as WorkerRequest;
    const { signal, onEvent } = options;
    if (signal?.aborted) {
      return Promise.reject(new WorkerRequestError({ message: CANCELLED_MESSAGE, cancelled: true, name: 'AbortError' }));
    }
    return new Promise<RequestResult<T>>((resolve, reject) => {
      const onAbort = (): void => this.cancel(id);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (value: never) => void,
        reject,
        onEvent,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      try {
        this.post({ kind: 'request', id, request }, requestTransferables(request));
      } catch (err) {
        // postMessage throws synchronously for data it cannot clone or a buffer already transferred: the worker never
        // saw the request, so settle it here with the reason instead of leaving it pending.
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        const reason = err instanceof Error ? err.message : String(err);
        reject(new WorkerRequestError({ message: `Could not send "${type}" to the worker: ${reason}`, cancelled: false, name: 'DataCloneError' }));
      }
    });
  }

  /** Asks the worker to stop request `id`. The request's promise rejects with `cancelled: true` when it stops. */
  cancel(id: number): void {
    if (this.pending.has(id)) this.post({ kind: 'cancel', id }, []);
  }

  /** Errors the worker reports outside any request. Returns an unsubscribe function. */
  onFatal(listener: (err: WorkerRequestError) => void): () => void {
    this.fatalListeners.add(listener);
    return () => this.fatalListeners.delete(listener);
  }

  /** Number of requests still waiting for an answer (for tests and the status line). */
  get inFlight(): number {
    return this.pending.size;
  }

  terminate(): void {
    this.failAll({ message: 'The worker was terminated.', cancelled: true, name: 'AbortError' });
    this.worker.terminate?.();
  }

  private post(message: ToWorker, transfer: Transferable[]): void {
    this.worker.postMessage(message, transfer);
  }

  private onMessage(message: FromWorker, markReady: () => void): void {
    switch (message.kind) {
      case 'ready':
        markReady();
        return;
      case 'event':
        this.pending.get(message.id)?.onEvent?.(message.event);
        return;
      case 'result': {
        const entry = this.take(message.id);
        entry?.resolve(message.result as never);
        return;
      }
      case 'error': {
        const entry = this.take(message.id);
        entry?.reject(new WorkerRequestError(message.error));
        return;
      }
      case 'fatal': {
        const err = new WorkerRequestError(message.error);
        for (const listener of this.fatalListeners) listener(err);
        return;
      }
    }
  }

  private take(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    entry.cleanup();
    return entry;
  }

  private failAll(info: WorkerErrorInfo): void {
    const err = new WorkerRequestError(info);
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(err);
    for (const listener of this.fatalListeners) listener(err);
  }
}

/** Starts the app's module worker (Vite bundles `./host/worker.ts` as its own chunk). */
export function startWorker(): WorkerClient {
  const worker = new Worker(new URL('./host/worker.ts', import.meta.url), { type: 'module', name: 'tabtune-worker' });
  return new WorkerClient(worker as unknown as WorkerLike);
}
