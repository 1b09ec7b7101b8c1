// The Model panel's actions: keep the memory bill in step with the run's batch, max length and LoRA setting,
// download the weights with byte progress, check a tokenizer from another repo against the model, and list or delete
// what the browser's cache holds. Each keeps its LoadState honest and never throws.
import { errorMessage } from '../share/labels';
import { WorkerRequestError, type WorkerClient } from '../worker/client';
import type { CachedRepo, HubLocation, HubModelHit, HubRefs } from '../worker/protocol';
import { sameShape, selectMemoryShape, selectTokenizerChoice, type TokenizerChoice } from './model-panel';
import type { AppStore } from './store';

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
