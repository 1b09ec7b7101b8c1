// The worker's message loop: one switch over the request union, an AbortController per request id, results and
// errors posted back as envelopes. Written against a port-like object so tests can run it over a MessageChannel.
import {
  CANCELLED_MESSAGE,
  type FromWorker,
  type RequestResult,
  type RequestType,
  type ToWorker,
  type WorkerErrorInfo,
  type WorkerRequest,
} from '../protocol';
import type { HandlerContext } from './context';
import { inspectModel } from './model';
import { listBundledDatasets, previewDataset } from './dataset';
import { probeCapability } from './probe';

export interface PortLike {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
}

function dispatch(request: WorkerRequest, ctx: HandlerContext): Promise<RequestResult<RequestType>> {
  switch (request.type) {
    case 'capability.probe':
      return probeCapability();
    case 'model.inspect':
      return inspectModel(request.location, ctx);
    case 'dataset.preview':
      return previewDataset(request.source, request.limit, ctx);
    case 'dataset.bundled':
      return listBundledDatasets();
  }
}

export function errorInfo(err: unknown, cancelled: boolean): WorkerErrorInfo {
  if (cancelled) return { message: CANCELLED_MESSAGE, cancelled: true, name: 'AbortError' };
  if (err instanceof Error) return { message: err.message, cancelled: false, name: err.name };
  return { message: String(err), cancelled: false, name: 'Error' };
}

/** Serves requests arriving on `port` until the worker ends. */
export function serve(port: PortLike): void {
  const inflight = new Map<number, AbortController>();

  async function run(id: number, request: WorkerRequest): Promise<void> {
    const controller = new AbortController();
    inflight.set(id, controller);
    const ctx: HandlerContext = {
      signal: controller.signal,
      emit: (event) => {
        if (!controller.signal.aborted) port.postMessage({ kind: 'event', id, event });
      },
    };
    try {
      const result = await dispatch(request, ctx);
      // A handler that finished despite a cancel still answers "cancelled": the caller has moved on.
      if (controller.signal.aborted) throw controller.signal.reason;
      port.postMessage({ kind: 'result', id, type: request.type, result });
    } catch (err) {
      port.postMessage({ kind: 'error', id, error: errorInfo(err, controller.signal.aborted) });
    } finally {
      inflight.delete(id);
    }
  }

  port.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
    const message = ev.data;
    switch (message.kind) {
      case 'request':
        void run(message.id, message.request);
        return;
      case 'cancel':
        inflight.get(message.id)?.abort();
        return;
    }
  });
  port.postMessage({ kind: 'ready' });
}
