// The Model panel, the store's part. The slice: the weights download, a separate tokenizer and its check against the
// model, the Cache API listing; the pure memory-fit verdict against the adapter limits from the capability probe.
// The actions: keep the memory bill in step with the run's batch, max length and LoRA setting, download the weights
// with byte progress, check a tokenizer from another repo, list or delete what the browser's cache holds, search
// the Hub. Each action keeps its LoadState honest and never throws.
import type { StateCreator } from 'zustand/vanilla';
import { errorMessage } from '../share/labels';
import { WorkerRequestError, type WorkerClient } from '../worker/client';
import type { BackendChoice, CachedRepo, Capability, HubLocation, HubModelHit, HubRefs, MemoryEstimate, MemoryShape, TokenizerCheck } from '../worker/protocol';
import type { AppStore } from './store';
import type { AppState, LoadState } from './slices';

/** A tokenizer from another repo, as the user named it; null = the model's own. Kept in the run config
 * (`runConfig.tokenizer`, pinned to a sha once checked) so run.prepare uses it and a reload keeps it. */
interface TokenizerChoice {
  repo: string;
  revision: string;
}

function selectTokenizerChoice(s: AppState): TokenizerChoice | null {
  const t = s.runConfig.tokenizer;
  return t ? { repo: t.repo, revision: t.revision } : null;
}

export interface ModelPanelSlice {
  downloadState: LoadState;
  /** Bytes in the cache for the shown model after a download (null before one). */
  downloaded: { repo: string; sha: string; bytes: number } | null;
  tokenizerCheck: TokenizerCheck | null;
  tokenizerCheckState: LoadState;
  cachedRepos: CachedRepo[];
  cacheState: LoadState;
  memoryState: LoadState;
  setDownload(state: LoadState, downloaded?: ModelPanelSlice['downloaded']): void;
  /** Sets (or with null, clears) `runConfig.tokenizer`; `sha` pins it to the commit the check resolved. */
  setTokenizerChoice(choice: TokenizerChoice | null, sha?: string): void;
  setTokenizerCheck(check: TokenizerCheck | null, state: LoadState): void;
  setCachedRepos(repos: CachedRepo[], state: LoadState): void;
  setMemoryState(state: LoadState): void;
}

export const createModelPanelSlice: StateCreator<AppState, [], [], ModelPanelSlice> = (set) => ({
  downloadState: { status: 'idle' },
  downloaded: null,
  tokenizerCheck: null,
  tokenizerCheckState: { status: 'idle' },
  cachedRepos: [],
  cacheState: { status: 'idle' },
  memoryState: { status: 'idle' },
  setDownload: (downloadState, downloaded) => set(downloaded === undefined ? { downloadState } : { downloadState, downloaded }),
  setTokenizerChoice: (choice, sha) =>
    set((s) => {
      const { tokenizer: _previous, ...rest } = s.runConfig;
      const runConfig = choice ? { ...rest, tokenizer: { repo: choice.repo, revision: choice.revision, ...(sha ? { sha } : {}) } } : rest;
      // A pin of the same choice keeps its check; another choice starts over.
      const same = choice !== null && _previous?.repo === choice.repo && _previous.revision === choice.revision;
      return same && sha ? { runConfig } : { runConfig, tokenizerCheck: null, tokenizerCheckState: { status: 'idle' } };
    }),
  setTokenizerCheck: (tokenizerCheck, tokenizerCheckState) => set({ tokenizerCheck, tokenizerCheckState }),
  setCachedRepos: (cachedRepos, cacheState) => set({ cachedRepos, cacheState }),
  setMemoryState: (memoryState) => set({ memoryState }),
});

/** wasm32 onnxruntime-web: the heap ends at 4 GiB (docs/architecture.md, size limits). */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** The backend a run will train on for this choice: `auto` follows the probe (WASM on a software adapter), `webgpu`
 * needs an adapter; null before the probe. */
export function trainingBackend(capability: Capability | null, choice: BackendChoice = 'auto'): 'webgpu' | 'wasm' | null {
  if (!capability) return null;
  if (choice === 'wasm' || !capability.webgpu.available) return 'wasm';
  return choice === 'webgpu' ? 'webgpu' : capability.backend;
}

/** The limits of the backend training will use (for the chosen backend), from the capability probe: one WebGPU
 * buffer's size, or the WASM heap; none before the probe. */
export function memoryLimits(capability: Capability | null, choice: BackendChoice = 'auto'): NonNullable<MemoryShape['limits']> | undefined {
  if (!capability) return undefined;
  if (trainingBackend(capability, choice) === 'webgpu' && capability.webgpu.available) {
    const { maxBufferSize, maxStorageBufferBindingSize } = capability.webgpu.adapter.limits;
    return { ...(maxBufferSize !== undefined ? { maxBufferSize } : {}), ...(maxStorageBufferBindingSize !== undefined ? { maxStorageBufferBindingSize } : {}) };
  }
  // WASM sessions hold their own copies of the frozen weights in that heap (the bill counts each).
  return { budgetBytes: WASM_HEAP_BYTES, sessionWeights: true };
}

/** The run shape the memory bill is for: batch × max length (the longest a batch can be), the LoRA setting, and the
 * limits of this device. */
export function selectMemoryShape(s: AppState): MemoryShape {
  const limits = memoryLimits(s.capability, s.backendChoice);
  return {
    batch: s.runConfig.train.batchSize, seqLen: s.runConfig.maxLength, lora: { r: s.runConfig.lora.r, targets: [...s.runConfig.lora.targets] },
    full: s.runConfig.full,
    ...(limits ? { limits } : {}),
  };
}

function sameShape(a: MemoryShape, b: MemoryShape): boolean {
  return a.batch === b.batch && a.seqLen === b.seqLen && a.lora.r === b.lora.r && a.lora.targets.join(',') === b.lora.targets.join(',') &&
    JSON.stringify(a.full ?? null) === JSON.stringify(b.full ?? null) &&
    JSON.stringify(a.limits ?? null) === JSON.stringify(b.limits ?? null);
}

export interface MemoryFit {
  /** `fits`: within every limit the browser reports; `refused`: past one (see `problems`); `unknown`: no probe yet. */
  verdict: 'fits' | 'refused' | 'unknown';
  problems: string[];
  /** What the browser does not tell (the GPU's total memory), said once so nobody reads `fits` as a promise. */
  note: string | null;
}

/**
 * The verdict on a bill the worker checked against `shape.limits` (src/train planMemory): one WebGPU buffer must hold
 * the largest tensor; on WASM everything must fit the 4 GiB heap. WebGPU reports no total memory size, so there the
 * total is not checked, and the note says so.
 */
export function memoryFit(memory: MemoryEstimate, capability: Capability | null, choice: BackendChoice = 'auto'): MemoryFit {
  if (!capability || !memory.shape.limits) return { verdict: 'unknown', problems: [], note: 'The device has not been probed yet.' };
  const verdict = memory.problems.length > 0 ? 'refused' : 'fits';
  const note = trainingBackend(capability, choice) === 'webgpu' ? 'WebGPU does not report how much memory the GPU has: the total must fit in it.' : null;
  return { verdict, problems: memory.problems, note };
}

export interface ModelPanelActions {
  /** Downloads the shown model's weight files into the cache (the trainer then reads them from there). */
  download(): Promise<void>;
  /** Checks a tokenizer from another repo against the shown model; null goes back to the model's own. */
  checkTokenizer(choice: TokenizerChoice | null): Promise<void>;
  listCache(): Promise<void>;
  deleteCached(entry: CachedRepo): Promise<void>;
  /** Recomputes the memory bill when the run shape changed since the model was inspected. */
  refreshMemory(): Promise<void>;
  /** Model search on an endpoint (the autocomplete keeps the answer itself); an error comes back as text. */
  search(endpoint: string, query: string): Promise<{ hits: HubModelHit[]; error: string | null }>;
  /** Branches and tags of a repo with their commits, for the revision picker. */
  refs(endpoint: string, repo: string): Promise<{ refs: HubRefs | null; error: string | null }>;
}

/** Results the autocomplete lists. */
const SEARCH_LIMIT = 10;

/** Run-config edits (typing a batch size) settle this long before the bill is asked for again. */
export const MEMORY_DEBOUNCE_MS = 250;


export function createModelPanelActions(store: AppStore, client: WorkerClient): ModelPanelActions {
  const pinned = (): HubLocation | null => {
    const model = store.getState().model;
    return model ? { ...model.location, revision: model.sha } : null;
  };

  const refreshMemory = async (): Promise<void> => {
    const s = store.getState();
    const model = s.model;
    const shape = selectMemoryShape(s);
    // No bill for an unsupported model; a bill refused for the settings (memoryError) is asked for again.
    if (!model || (!model.memory && !model.memoryError) || (model.memory && sameShape(model.memory.shape, shape))) return;
    s.setMemoryState({ status: 'loading', stage: 'Recomputing the memory bill', loaded: 0, total: null });
    try {
      const memory = await client.request('model.memory', { location: { ...model.location, revision: model.sha }, shape });
      const now = store.getState();
      // A newer model or shape wins; this answer is for what was asked.
      if (now.model?.sha === model.sha && sameShape(selectMemoryShape(now), shape) && now.model) now.setModel({ ...now.model, memory, memoryError: null });
      now.setMemoryState({ status: 'ready' });
    } catch (err) {
      const now = store.getState();
      // The settings do not apply to this model (a LoRA target it lacks): the bill gives way to the reason.
      if (now.model?.sha === model.sha) now.setModel({ ...now.model, memory: null, memoryError: errorMessage(err) });
      now.setMemoryState({ status: 'idle' });
    }
  };

  /** The choice in the store is still this one (a newer choice or "the model's own" wins). */
  const current = (choice: TokenizerChoice): boolean => {
    const now = selectTokenizerChoice(store.getState());
    return now?.repo === choice.repo && now.revision === choice.revision;
  };

  const checkTokenizer = async (choice: TokenizerChoice | null): Promise<void> => {
    const s = store.getState();
    // The tokenizer in use before this check: a check that fails goes back to it (the examples keep working).
    const before = s.runConfig.tokenizer ?? null;
    s.setTokenizerChoice(choice);
    const model = pinned();
    if (!choice || !model) return;
    s.setTokenizerCheck(null, { status: 'loading', stage: `Checking ${choice.repo}@${choice.revision}`, loaded: 0, total: null });
    try {
      // The tokenizer comes from the model's Hub, as run.prepare reads it.
      const check = await client.request('tokenizer.check', { tokenizer: { endpoint: model.endpoint, ...choice }, model }, {
        onEvent: (e) => {
          if (e.type === 'progress' && current(choice)) {
            store.getState().setTokenizerCheck(null, { status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
          }
        },
      });
      if (!current(choice)) return;
      store.getState().setTokenizerCheck(check, { status: 'ready' });
      store.getState().setTokenizerChoice(choice, check.sha); // pins the run to the commit checked
    } catch (err) {
      if (!current(choice)) return;
      const now = store.getState();
      now.setTokenizerChoice(before ? { repo: before.repo, revision: before.revision } : null, before?.sha);
      const kept = before ? `${before.repo}@${before.revision}` : "the model's own";
      now.setTokenizerCheck(null, { status: 'error', message: `${errorMessage(err)} (still using ${kept} tokenizer)` });
    }
  };

  const listCache = async (): Promise<void> => {
    const s = store.getState();
    s.setCachedRepos(s.cachedRepos, { status: 'loading', stage: 'Reading the cache', loaded: 0, total: null });
    try {
      store.getState().setCachedRepos(await client.request('cache.list', {}), { status: 'ready' });
    } catch (err) {
      store.getState().setCachedRepos([], { status: 'error', message: errorMessage(err) });
    }
  };

  let timer: ReturnType<typeof setTimeout> | null = null;
  store.subscribe((state, previous) => {
    // The run shape or the device's limits changed since the bill was made, or a bill arrived that was asked for
    // before the probe answered (start-up runs both at once).
    const changed = state.runConfig !== previous.runConfig || state.capability !== previous.capability || state.model !== previous.model || state.backendChoice !== previous.backendChoice;
    const stale = state.model?.memory ? !sameShape(selectMemoryShape(state), state.model.memory.shape) : state.runConfig !== previous.runConfig && Boolean(state.model?.memoryError);
    if (changed && stale) {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void refreshMemory();
      }, MEMORY_DEBOUNCE_MS);
    }
    // Another model: the tokenizer chosen beside it is checked against the new one.
    const choice = selectTokenizerChoice(state);
    if (choice && state.model && state.model.sha !== previous.model?.sha) void checkTokenizer(choice);
    if (state.model?.sha !== previous.model?.sha && state.downloaded && state.downloaded.sha !== state.model?.sha) {
      state.setDownload({ status: 'idle' }, null);
    }
  });

  return {
    refreshMemory,
    checkTokenizer,
    listCache,

    async search(endpoint, query) {
      try {
        return { hits: await client.request('hub.search', { endpoint, query, limit: SEARCH_LIMIT }), error: null };
      } catch (err) {
        return { hits: [], error: errorMessage(err) };
      }
    },

    async refs(endpoint, repo) {
      try {
        return { refs: await client.request('hub.refs', { endpoint, repo }), error: null };
      } catch (err) {
        return { refs: null, error: errorMessage(err) };
      }
    },

    async download() {
      const location = pinned();
      const model = store.getState().model;
      if (!location || !model) return;
      store.getState().setDownload({ status: 'loading', stage: 'Starting the download', loaded: 0, total: null }, null);
      try {
        const result = await client.request('model.download', { location }, {
          onEvent: (e) => {
            if (e.type === 'progress') store.getState().setDownload({ status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
          },
        });
        store.getState().setDownload({ status: 'ready' }, { repo: model.location.repo, sha: model.sha, bytes: result.bytes });
        await listCache();
      } catch (err) {
        if (err instanceof WorkerRequestError && err.cancelled) return;
        store.getState().setDownload({ status: 'error', message: errorMessage(err) }, null);
      }
    },

    async deleteCached(entry) {
      const s = store.getState();
      s.setCachedRepos(s.cachedRepos, { status: 'loading', stage: `Deleting ${entry.repo}`, loaded: 0, total: null });
      try {
        const left = await client.request('cache.delete', { endpoint: entry.endpoint, repo: entry.repo, sha: entry.sha, kind: entry.kind });
        store.getState().setCachedRepos(left, { status: 'ready' });
        const now = store.getState();
        if (now.downloaded?.sha === entry.sha && now.downloaded.repo === entry.repo) now.setDownload({ status: 'idle' }, null);
      } catch (err) {
        store.getState().setCachedRepos(store.getState().cachedRepos, { status: 'error', message: errorMessage(err) });
      }
    },
  };
}
