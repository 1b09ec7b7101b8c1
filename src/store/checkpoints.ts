// Saved runs, the store's part. The slice: runs and checkpoints the worker keeps in IndexedDB (metadata only, never
// tensors), the run a reloaded tab offers to resume, and the last storage failure. The actions: list and delete
// saved runs, record a new run when training starts (what the worker needs for the manifest, and the panel choices
// a resume restores), and resume a run left by a reloaded or closed tab: restore every panel, reload the model and
// dataset, check they are the ones the run was pinned to, bring back its metrics and samples, and rebuild the
// trainer from the stored checkpoint.
import type { StateCreator } from 'zustand/vanilla';
import { errorMessage } from '../share/labels';
import { parseRunConfig } from '../share/run-config';
import type { WorkerClient } from '../worker/client';
import type { BackendChoice, DatasetMapping, RunSaveInfo, StoredRun, StoredRuns, WorkerEvent } from '../worker/protocol';
import type { AppStore } from './store';
import type { AppState, DatasetChoice, LoadState, MetricPoint, ModelChoice } from './slices';

export interface CheckpointsSlice {
  savedRuns: StoredRuns | null;
  savedRunsState: LoadState;
  /** A run left running or paused by a closed or reloaded tab; the resume prompt offers it. */
  resumeOffer: StoredRun | null;
  /** Restoring the offered run's panels and rebuilding its trainer. */
  resumeState: LoadState;
  /** A checkpoint write that failed (storage full): what was kept and how to free space. Cleared by the next save. */
  storageError: string | null;
  setSavedRuns(runs: StoredRuns | null, state: LoadState): void;
  setResumeOffer(run: StoredRun | null): void;
  setResumeState(state: LoadState): void;
  setStorageError(message: string | null): void;
}

export const createCheckpointsSlice: StateCreator<AppState, [], [], CheckpointsSlice> = (set) => ({
  savedRuns: null,
  savedRunsState: { status: 'idle' },
  resumeOffer: null,
  resumeState: { status: 'idle' },
  storageError: null,
  setSavedRuns: (savedRuns, savedRunsState) => set({ savedRuns, savedRunsState }),
  setResumeOffer: (resumeOffer) => set({ resumeOffer }),
  setResumeState: (resumeState) => set({ resumeState }),
  setStorageError: (storageError) => set({ storageError }),
});

/** The panel choices kept with a run (the run config itself is stored separately, validated by the worker). */
interface RestoreInfo {
  modelChoice: ModelChoice;
  datasetChoice: DatasetChoice | null;
  datasetMapping: DatasetMapping | null;
  backendChoice: BackendChoice;
  hubEndpoint: string;
}


function restoreInfo(s: AppState): RestoreInfo {
  return { modelChoice: s.modelChoice, datasetChoice: s.datasetChoice, datasetMapping: s.datasetMapping, backendChoice: s.backendChoice, hubEndpoint: s.hubEndpoint };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a stored RestoreInfo back, keeping only fields that have the expected shape (records from older versions
 * or other builds may lack some; those panels keep their current choice). */
function parseRestoreInfo(v: unknown): Partial<RestoreInfo> {
  if (!isRecord(v)) return {};
  const out: Partial<RestoreInfo> = {};
  const m = v['modelChoice'];
  if (isRecord(m) && (m['kind'] === 'bundled' || (m['kind'] === 'hub' && typeof m['repo'] === 'string' && typeof m['revision'] === 'string'))) {
    out.modelChoice = m as ModelChoice;
  }
  const d = v['datasetChoice'];
  if (isRecord(d) && ['bundled', 'upload', 'hub'].includes(d['kind'] as string)) out.datasetChoice = d as DatasetChoice;
  const map = v['datasetMapping'];
  if (map === null || (isRecord(map) && typeof map['kind'] === 'string' && isRecord(map['fields']))) out.datasetMapping = map as DatasetMapping | null;
  if (v['backendChoice'] === 'auto' || v['backendChoice'] === 'webgpu' || v['backendChoice'] === 'wasm') out.backendChoice = v['backendChoice'];
  if (typeof v['hubEndpoint'] === 'string') out.hubEndpoint = v['hubEndpoint'];
  return out;
}

/** What `train.start` sends so the worker records the run; undefined when no dataset is loaded (nothing to pin). */
export function runSaveInfo(s: AppState): RunSaveInfo | undefined {
  if (!s.dataset) return undefined;
  const name = `${s.model?.location.repo ?? s.runConfig.model.repo} on ${s.dataset.name}`;
  return { datasetHash: s.dataset.hash, datasetRows: s.dataset.rowCount, name, restore: restoreInfo(s) };
}

export interface CheckpointActions {
  /** Start-up: applies the test quota hook (if any), lists saved runs and finds a run to offer for resuming. */
  init(options?: { simulateQuotaBytes?: number | null }): Promise<void>;
  refresh(): Promise<void>;
  deleteRun(runId: string): Promise<void>;
  deleteCheckpoint(checkpointId: string): Promise<void>;
  /** Hides the offer without touching the saved run (it stays listed in the Checkpoints panel). */
  dismissOffer(): void;
  /** Deletes the offered run. */
  discardOffer(): Promise<void>;
  /** Restores the offered run's panels, reloads model and dataset (through `reload`), then resumes training. */
  resumeOffer(reload: () => Promise<unknown>, resumeStored: (runId: string) => Promise<void>): Promise<void>;
  /** Worker events about storage during training. */
  onTrainEvent(e: WorkerEvent): void;
}

export function createCheckpointActions(store: AppStore, client: WorkerClient): CheckpointActions {
  const refresh = async (): Promise<void> => {
    const s = store.getState();
    s.setSavedRuns(s.savedRuns, { status: 'loading', stage: 'Reading saved runs', loaded: 0, total: null });
    try {
      store.getState().setSavedRuns(await client.request('storage.runs', {}), { status: 'ready' });
    } catch (err) {
      store.getState().setSavedRuns(null, { status: 'error', message: `Saved runs cannot be read: ${errorMessage(err)}` });
    }
  };

  /** Waits until the examples are prepared for the current settings; rejects when preparing failed. */
  const prepared = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (s: AppState): boolean => {
        if (s.preparedState.status === 'ready' && s.prepared) resolve();
        else if (s.preparedState.status === 'error') reject(new Error(s.preparedState.message));
        else return false;
        return true;
      };
      if (check(store.getState())) return;
      const stop = store.subscribe((s) => {
        if (check(s)) stop();
      });
    });

  return {
    async init(options = {}) {
      if (options.simulateQuotaBytes !== undefined) await client.request('storage.simulateQuota', { bytes: options.simulateQuotaBytes });
      await refresh();
      try {
        store.getState().setResumeOffer(await client.request('storage.resumable', {}));
      } catch {
        // Already reported by refresh (same store); without saved runs there is nothing to offer.
      }
    },

    refresh,

    async deleteRun(runId) {
      try {
        store.getState().setSavedRuns(await client.request('storage.delete', { runId }), { status: 'ready' });
        if (store.getState().resumeOffer?.id === runId) store.getState().setResumeOffer(null);
      } catch (err) {
        store.getState().reportError('storage', `Could not delete the run: ${errorMessage(err)}`);
      }
    },

    async deleteCheckpoint(checkpointId) {
      try {
        store.getState().setSavedRuns(await client.request('storage.delete', { checkpointId }), { status: 'ready' });
        const offer = store.getState().resumeOffer;
        if (offer) store.getState().setResumeOffer(await client.request('storage.resumable', {}));
      } catch (err) {
        store.getState().reportError('storage', `Could not delete the checkpoint: ${errorMessage(err)}`);
      }
    },

    dismissOffer() {
      store.getState().setResumeOffer(null);
    },

    async discardOffer() {
      const offer = store.getState().resumeOffer;
      store.getState().setResumeOffer(null);
      if (offer) await this.deleteRun(offer.id);
    },

    async resumeOffer(reload, resumeStored) {
      const run = store.getState().resumeOffer;
      if (!run) return;
      const s = store.getState();
      s.setResumeState({ status: 'loading', stage: `Restoring ${run.name}`, loaded: 0, total: null });
      try {
        const info = parseRestoreInfo(run.restore);
        const config = parseRunConfig(run.config);
        if (info.hubEndpoint !== undefined) s.setHubEndpoint(info.hubEndpoint);
        if (info.modelChoice) s.chooseModel(info.modelChoice);
        if (info.datasetChoice) s.chooseDataset(info.datasetChoice);
        if (info.datasetMapping !== undefined) store.getState().setDatasetMapping(info.datasetMapping);
        if (info.backendChoice) s.setBackendChoice(info.backendChoice);
        // reload() prepares at once, which supersedes the debounced prepare this edit schedules.
        if (JSON.stringify(config) !== JSON.stringify(store.getState().runConfig)) store.getState().setRunConfig(config);
        await reload();
        await prepared();
        const now = store.getState();
        const wantData = run.manifest.dataset.hash;
        if (!now.dataset || now.dataset.hash.replace(/^sha256:/, '') !== wantData) {
          const name = info.datasetChoice && 'name' in info.datasetChoice ? info.datasetChoice.name : info.datasetChoice?.kind === 'bundled' ? info.datasetChoice.file : 'its dataset';
          throw new Error(`This run trained on ${name} (sha256 ${wantData.slice(0, 12)}…), but the dataset loaded now is different${now.dataset ? ` (${now.dataset.hash.replace(/^sha256:/, '').slice(0, 12)}…)` : ''}. Load the same file in the Data panel, then resume again.`);
        }
        if (now.prepared?.sha && now.prepared.sha !== run.manifest.model.sha) {
          throw new Error(`This run trained on ${run.manifest.model.repo}@${run.manifest.model.sha.slice(0, 10)}, but that model now resolves to ${now.prepared.sha.slice(0, 10)}. Pin the revision to ${run.manifest.model.sha} in the Model panel, then resume again.`);
        }
        // The run's history up to its checkpoint; steps after it are trained (and logged) again.
        const history = await client.request('storage.load', { runId: run.id, which: 'latest' });
        if (!history) throw new Error('Its checkpoint was deleted meanwhile; start a new run.');
        const after = store.getState();
        after.resetMetrics();
        after.resetSamples();
        history.metrics.forEach((m) => store.getState().appendMetric(m as MetricPoint));
        const perStep = new Map<number, number>();
        for (const sample of history.samples) {
          const promptIndex = perStep.get(sample.step) ?? 0;
          perStep.set(sample.step, promptIndex + 1);
          store.getState().addSample({ step: sample.step, promptIndex, prompt: sample.prompt, completion: sample.completion, flags: sample.flags });
        }
        store.getState().setResumeOffer(null);
        store.getState().setResumeState({ status: 'ready' });
        await resumeStored(run.id);
      } catch (err) {
        store.getState().setResumeState({ status: 'error', message: `Could not resume ${run.name}: ${errorMessage(err)}` });
      }
    },

    onTrainEvent(e) {
      if (e.type === 'checkpoint') {
        store.getState().setStorageError(null);
        void refresh();
      } else if (e.type === 'storage-error') {
        store.getState().setStorageError(e.message);
        void refresh();
      }
    },
  };
}
