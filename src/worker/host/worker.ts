// Entry of the app's module Web Worker. The worker owns models, graphs, sessions and GPU buffers; this file only
// connects the message loop to the worker scope and reports errors that escape every request.
import type { FromWorker } from '../protocol';
import { errorInfo, serve, type PortLike } from './serve';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

function fatal(err: unknown): void {
  const message: FromWorker = { kind: 'fatal', error: errorInfo(err, false) };
  scope.postMessage(message);
}

scope.addEventListener('error', (ev) => fatal(ev.error ?? ev.message));
scope.addEventListener('unhandledrejection', (ev) => fatal(ev.reason));
serve(scope as unknown as PortLike);
