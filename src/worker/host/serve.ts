// The worker's message loop: one switch over the request union, an AbortController per request id, results and
// errors posted back as envelopes. Written against a port-like object so tests can run it over a MessageChannel.
// The run state (loaded tokenizer, weights, prepared examples, trainer) lives in one Playground per serve() call.
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
import { checkTokenizer, deleteCachedRepo, downloadWeights, inspectModel, listCachedRepos, modelMemory } from './model';
import { repoRefs, searchModels } from './hub-search'; // model panel search
import { DatasetSources, listBundledDatasets, previewDataset } from './dataset';
import { openWebBackend, Playground, type BackendOpener } from './playground';
import { probeCapability } from './probe';
import { TrainingHost } from './training';
import { exportRun, importAdapter, pushAdapter } from './export'; // run export, adapter import
import { exportCluster } from './cluster'; // cluster export
import { bestVsLatest, comparePrompt, lessonEffect, lintLesson } from './lesson'; // lessons

export interface PortLike {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
}

export interface ServeOptions {
  /** How the trainer's backend is opened; defaults to onnxruntime-web (WebGPU, WASM fallback). */
  openBackend?: BackendOpener;
}

interface Host {
  playground: Playground;
  training: TrainingHost;
  /** Source bytes of the datasets read last, for a field mapping by hand. */
  datasetSources: DatasetSources;
}

function dispatch(request: WorkerRequest, ctx: HandlerContext, host: Host): Promise<RequestResult<RequestType>> {
  switch (request.type) {
    case 'capability.probe':
      return probeCapability();
    case 'model.inspect':
      return inspectModel(request.location, ctx, request.shape);
    // Model panel
    case 'model.memory':
      return modelMemory(request.location, request.shape, ctx);
    case 'model.download':
      return downloadWeights(request.location, ctx);
    case 'tokenizer.check':
      return checkTokenizer(request.tokenizer, request.model, ctx);
    case 'hub.search':
      return searchModels(request.endpoint, request.query, request.limit, ctx);
    case 'hub.refs':
      return repoRefs(request.endpoint, request.repo, ctx);
    case 'cache.list':
      return listCachedRepos();
    case 'cache.delete':
      return deleteCachedRepo(request);
    case 'dataset.preview':
      return previewDataset(request.source, request.limit, ctx, (d) => host.playground.keepDataset(d), {
        sources: host.datasetSources, ...(request.mapping ? { mapping: request.mapping } : {}),
      });
    case 'dataset.bundled':
      return listBundledDatasets();
    case 'run.prepare':
      host.training.checkDataChange(request.config, request.dataset.kind === 'previewed' ? request.dataset.hash : null);
      return host.playground.prepare(request.location, request.dataset, request.config, ctx).then(async (summary) => {
        await host.training.prepared(host.playground.requirePrepared());
        return summary;
      });
    case 'template.check':
      return Promise.resolve().then(() => host.playground.checkTemplate(request.source, request.kwargs));
    case 'example.get':
      return Promise.resolve().then(() => host.playground.example(request.index));
    case 'batch.inspect':
      return host.training.inspect(ctx, request.backend, request.config);
    case 'graph.export':
      return host.training.exportGraphs(ctx, request.backend, request.config);
    case 'train.start':
      return host.training.start(ctx, request.backend, request.config, request.save, request.lesson);
    case 'prompt.compare': // lessons: "Your own prompt"
      return comparePrompt(host.playground, host.training, request, ctx);
    case 'lesson.lint': // lessons: the linter's count, even for a run the session refuses
      return lintLesson(host.playground, request, ctx);
    case 'lesson.bestVsLatest': // lessons: overfitting
      return bestVsLatest(host.playground, host.training, request, ctx);
    case 'lesson.effect': // lessons: doubled BOS, as trained vs as served
      return lessonEffect(host.playground, host.training, request, ctx);
    case 'train.resume':
      return host.training.resume(ctx, request.checkpoint, request.backend, request.runId, request.config);
    case 'checkpoint.open':
      return host.training.open(ctx, request.checkpoint, request.backend, request.config);
    case 'run.checkpoint':
      return Promise.resolve(host.training.checkpointFiles());
    case 'train.pause':
      return Promise.resolve(host.training.pause());
    case 'train.flush':
      return Promise.resolve(host.training.flush());
    case 'train.handoff':
      return Promise.resolve(host.training.handOffTo(request.port));
    case 'train.stop':
      return Promise.resolve(host.training.stop());
    // saved runs: IndexedDB, owned by the worker (host/persist.ts)
    case 'storage.runs':
      return host.training.persist.runs();
    case 'storage.resumable':
      return host.training.persist.resumable();
    case 'storage.load':
      return host.training.persist.load(request.runId, request.which);
    case 'storage.delete':
      return host.training.persist.remove('runId' in request ? { runId: request.runId } : { checkpointId: request.checkpointId });
    case 'storage.simulateQuota':
      return host.training.persist.simulateQuota(request.bytes);
    // run export, adapter import
    case 'run.export':
      return exportRun(host.playground, host.training, request, ctx);
    case 'adapter.import':
      return importAdapter(host.playground, host.training, request.files, ctx);
    case 'cluster.export':
      return Promise.resolve().then(() => exportCluster(host.playground, host.training, request.config));
    case 'hub.push':
      return pushAdapter(host.playground, host.training, request, ctx);
  }
}

export function errorInfo(err: unknown, cancelled: boolean): WorkerErrorInfo {
  if (cancelled) return { message: CANCELLED_MESSAGE, cancelled: true, name: 'AbortError' };
  if (err instanceof Error) return { message: err.message, cancelled: false, name: err.name };
  return { message: String(err), cancelled: false, name: 'Error' };
}

/** Serves requests arriving on `port` until the worker ends. */
export function serve(port: PortLike, options: ServeOptions = {}): void {
  const inflight = new Map<number, AbortController>();
  const playground = new Playground(options.openBackend ?? openWebBackend);
  const host: Host = { playground, training: new TrainingHost(playground), datasetSources: new DatasetSources() };

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
      const result = await dispatch(request, ctx, host);
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
