// The typed test hook e2e specs reach through page.evaluate: `window.__tabtune`. Read-only views of the store as
// plain JSON, and a promise that settles when the start-up loads finish. No way to change state from here.
import type { AppStore } from '../store/store';
import type { AppState } from '../store/slices';

type DataOnly<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };
export type StateSnapshot = DataOnly<AppState>;

interface TabTuneTestApi {
  /** The store's data (no actions), deep-copied so tests cannot mutate the app. */
  state(): StateSnapshot;
  /** Resolves when capability, model and dataset have each finished loading (ready or error). */
  startup: Promise<void>;
}

declare global {
  interface Window {
    __tabtune?: TabTuneTestApi;
  }
}

export function installTestApi(store: AppStore, startup: Promise<void>): void {
  window.__tabtune = {
    state: () => JSON.parse(JSON.stringify(store.getState())) as StateSnapshot,
    startup,
  };
}
