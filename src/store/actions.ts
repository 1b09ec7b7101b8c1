// Actions that ask the worker for something and write the answer into the store: the only place the store meets
// the worker client. Each keeps its slice's LoadState honest (loading → ready | error) and never throws. Failures
// of a panel's load stay in that slice (the panel shows them); the page-wide error list is for the rest.
import { errorMessage } from '../share/labels';
import { WorkerRequestError, type WorkerClient } from '../worker/client';
import type { DatasetMapping, DatasetPreview, PreviewSource, WorkerEvent } from '../worker/protocol';
import { selectMemoryShape } from './model-panel';
import { bundledDatasetUrl, demoEndpoint, selectModelLocation } from './selectors';
import { DEMO_REPO } from './slices';
import type { AppStore } from './store';
import type { DatasetChoice, LoadState } from './slices';
import type { RunConfig } from '../share/run-config';

/** Rows the Data panel previews. */
const PREVIEW_ROWS = 50;


function progressState(event: WorkerEvent, fallbackStage: string): LoadState | null {
  if (event.type !== 'progress') return null;
  return { status: 'loading', stage: event.stage || fallbackStage, loaded: event.loaded, total: event.total };
}

function isCancel(err: unknown): boolean {
  return err instanceof WorkerRequestError && err.cancelled;
}

export async function probeCapability(store: AppStore, client: WorkerClient): Promise<void> {
  const { setCapability, setCapabilityState, reportError } = store.getState();
  setCapabilityState({ status: 'loading', stage: 'Probing WebGPU', loaded: 0, total: null });
  try {
    setCapability(await client.request('capability.probe', {}));
  } catch (err) {
    setCapabilityState({ status: 'error', message: errorMessage(err) });
    reportError('capability', errorMessage(err));
  }
}

/** Runs `job` so that starting it again cancels the previous run still in flight (a newer choice wins). */
function latestOnly<A extends unknown[]>(job: (signal: AbortSignal, isCurrent: () => boolean, ...args: A) => Promise<void>) {
  let current: AbortController | null = null;
  return async (...args: A): Promise<void> => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    try {
      await job(controller.signal, () => current === controller, ...args);
    } finally {
      if (current === controller) current = null;
    }
  };
}

/** The error of a load that never reached the server (the Hub client says "could not reach"; a browser fetch says
 * "Failed to fetch" / "NetworkError"). */
function isUnreachable(message: string): boolean {
  return /could not reach|failed to fetch|networkerror|network error|ECONNREFUSED|ENOTFOUND|ERR_INTERNET_DISCONNECTED/i.test(message);
}

/** Loads the chosen model's summary. A load that fails while another model is loaded leaves that model, and the choice
 * that loaded it, in place (the failure is kept beside the form): a typo or an offline Hub never throws away the demo. */
export function createModelLoader(store: AppStore, client: WorkerClient): () => Promise<void> {
  return latestOnly(async (signal, isCurrent) => {
    const { setModel, setModelState } = store.getState();
    const location = selectModelLocation(store.getState());
    const previous = store.getState().model;
    setModelState({ status: 'loading', stage: `Resolving ${location.repo}@${location.revision}`, loaded: 0, total: null });
    try {
      // The memory bill is for the run's batch × max length and LoRA setting (src/store/model-panel.ts).
      const model = await client.request('model.inspect', { location, shape: selectMemoryShape(store.getState()) }, {
        signal,
        onEvent: (event) => {
          const state = progressState(event, 'Loading model');
          if (state && isCurrent()) setModelState(state);
        },
      });
      setModel(model);
      store.getState().setModelLoadFailure(null);
      setModelState({ status: 'ready' });
    } catch (err) {
      if (isCancel(err)) return;
      const message = errorMessage(err);
      const failure = { asked: `${location.repo}@${location.revision}`, message, unreachable: isUnreachable(message) };
      const s = store.getState();
      s.setModelLoadFailure(failure);
      if (!previous) {
        setModel(null);
        setModelState({ status: 'error', message });
        return;
      }
      // Back to the choice that loaded the model still shown, so the run, links and exports keep using it.
      const was = previous.location;
      const bundled = was.repo === DEMO_REPO && was.endpoint === demoEndpoint(s.origin);
      if (bundled) s.chooseModel({ kind: 'bundled' });
      else {
        s.setHubEndpoint(was.endpoint);
        s.chooseModel({ kind: 'hub', repo: was.repo, revision: was.revision });
      }
      setModel(previous);
      setModelState({ status: 'ready' });
    }
  });
}

/** Lists the bundled datasets and keeps the choice valid (the first, when the chosen file is not among them).
 * Returns false when the list could not be read (the error is in the store). */
export async function loadBundledDatasets(store: AppStore, client: WorkerClient): Promise<boolean> {
  const { setBundledDatasets, setDatasetState } = store.getState();
  try {
    const list = await client.request('dataset.bundled', {});
    setBundledDatasets(list);
    const choice = store.getState().datasetChoice;
    const first = list[0];
    const stale = choice === null || (choice.kind === 'bundled' && !list.some((d) => d.file === choice.file));
    if (stale && first) store.getState().chooseDataset({ kind: 'bundled', file: first.file });
    return list.length > 0;
  } catch (err) {
    setDatasetState({ status: 'error', message: errorMessage(err) });
    return false;
  }
}

/** Previews a dataset: the chosen bundled file, a Hub dataset, or the bytes of an uploaded file (transferred to the
 * worker); with a mapping chosen by hand, the shown file mapped again (the worker keeps its bytes). */
/** The run config's reference to a loaded dataset: the choice that loaded it, pinned to its content hash (and a Hub
 * dataset to the commit its revision resolved to). Uploads travel inline only in share links (src/store/share.ts). */
export function dataRefFor(choice: DatasetChoice, dataset: DatasetPreview): RunConfig['data'] {
  const hash = dataset.hash.replace(/^sha256:/, '');
  if (choice.kind === 'bundled') return { source: 'bundled', name: choice.file, hash };
  if (choice.kind === 'upload') return { source: 'upload', name: choice.name.slice(-300), hash };
  const file = choice.file ?? (dataset.hub?.files.length === 1 ? dataset.hub.files[0] : undefined);
  return {
    source: 'hub', repo: choice.repo, revision: choice.revision, hash,
    ...(dataset.hub?.sha ? { sha: dataset.hub.sha } : {}), ...(file ? { file } : {}),
  };
}

export function createDatasetLoader(store: AppStore, client: WorkerClient): (upload?: { name: string; bytes: ArrayBuffer }) => Promise<void> {
  // The choice (and mapping) of the dataset on screen: what a failed load restores.
  let previousChoice: DatasetChoice | null = null;
  let previousMapping: DatasetMapping | null = null;
  return latestOnly(async (signal, isCurrent, upload?: { name: string; bytes: ArrayBuffer }) => {
    const { setDataset, setDatasetState, chooseDataset } = store.getState();
    let source: PreviewSource;
    if (upload) {
      chooseDataset({ kind: 'upload', name: upload.name });
      source = { kind: 'bytes', name: upload.name, bytes: upload.bytes };
    } else {
      const s = store.getState();
      const choice = s.datasetChoice;
      if (choice === null) return;
      if (s.dataset && (s.datasetMapping !== null || choice.kind === 'upload')) {
        // Mapping the shown file again (by hand, or back to detection): the worker still holds its bytes.
        source = { kind: 'previewed', hash: s.dataset.hash, name: s.dataset.name };
      } else if (choice.kind === 'bundled') {
        source = { kind: 'url', url: bundledDatasetUrl(s.origin, choice.file), name: choice.file };
      } else if (choice.kind === 'hub') {
        source = { kind: 'hub', endpoint: s.hubEndpoint, repo: choice.repo, revision: choice.revision, name: choice.name, ...(choice.file ? { file: choice.file } : {}) };
      } else {
        return; // an upload whose preview is gone: its bytes went to the worker, the user uploads it again
      }
    }
    const mapping = upload ? null : store.getState().datasetMapping;
    // What a failed load goes back to: the dataset shown now, and the choice that loaded it.
    const kept = { dataset: store.getState().dataset, choice: previousChoice, mapping: previousMapping };
    setDatasetState({ status: 'loading', stage: `Reading ${source.name}`, loaded: 0, total: null });
    try {
      const dataset = await client.request('dataset.preview', { source, limit: PREVIEW_ROWS, ...(mapping ? { mapping } : {}) }, {
        signal,
        onEvent: (event) => {
          const state = progressState(event, 'Reading dataset');
          if (state && isCurrent()) setDatasetState(state);
        },
      });
      setDataset(dataset);
      // The run config names the data it trains on (one dataset reference: what links, saved runs and exports carry).
      const now = store.getState();
      if (now.datasetChoice) now.setRunConfig({ ...now.runConfig, data: dataRefFor(now.datasetChoice, dataset) });
      previousChoice = now.datasetChoice;
      previousMapping = now.datasetMapping;
      now.setDatasetLoadFailure(null);
      setDatasetState({ status: 'ready' });
    } catch (err) {
      if (isCancel(err)) return;
      const message = errorMessage(err);
      const s = store.getState();
      s.setDatasetLoadFailure({ asked: source.name, message, unreachable: isUnreachable(message) });
      if (!kept.dataset || !kept.choice) {
        setDataset(null);
        setDatasetState({ status: 'error', message });
        return;
      }
      // The dataset still shown stays the run's: its choice and mapping come back with it.
      s.chooseDataset(kept.choice);
      s.setDatasetMapping(kept.mapping);
      setDataset(kept.dataset);
      setDatasetState({ status: 'ready' });
    }
  });
}
