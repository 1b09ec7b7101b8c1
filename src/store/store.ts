// Builds the app store from its slices. A factory (not a module singleton) so tests and the e2e hook get a fresh,
// inspectable store; the React tree receives it through context (src/ui/app-context.tsx). Given a storage (the page
// passes localStorage), the settings a user expects back after a reload are kept there (src/store/persist.ts).
import { createStore, type StateCreator, type StoreApi } from 'zustand/vanilla';
import { persist, type StateStorage } from 'zustand/middleware';
import { persistOptions } from './persist';
import {
  createCapabilitySlice, createConfigSlice, createDataSlice, createMetricsSlice, createModelSlice,
  createRunStatusSlice, createSamplesSlice,
} from './slices';
// the run: config, examples, batch inspection, training
import { createRunSlice } from './run';
import type { AppState } from './slices';
// share links, run export/import
import { createShareSlice } from './share';
// saved runs, resume
import { createCheckpointsSlice } from './checkpoints';
// model panel: download, tokenizer, cache
import { createModelPanelSlice } from './model-panel';

export type AppStore = StoreApi<AppState>;

export function createAppStore(options: { origin: string; storage?: StateStorage }): AppStore {
  const slices: StateCreator<AppState> = (...a) => ({
    ...createConfigSlice(options.origin)(...a),
    ...createRunStatusSlice(...a),
    ...createMetricsSlice(...a),
    ...createSamplesSlice(...a),
    ...createCapabilitySlice(...a),
    ...createModelSlice(...a),
    ...createDataSlice(...a),
    ...createRunSlice(...a),
    // share links, run export/import
    ...createShareSlice(...a),
    // saved runs, resume
    ...createCheckpointsSlice(...a),
    // model panel: download, tokenizer, cache
    ...createModelPanelSlice(...a),
  });
  return options.storage ? createStore<AppState>()(persist(slices, persistOptions(options.storage))) : createStore<AppState>()(slices);
}
