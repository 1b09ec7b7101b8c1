// React access to the app: the store (read through selectors with useApp) and the actions that talk to the worker.
// Provided once by main.tsx; components never create stores or workers themselves.
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { RunActions } from '../store/run';
import type { ShareActions } from '../store/share'; // share links
import type { ExportActions } from '../store/export-actions'; // run export/import
import type { ModelPanelActions } from '../store/model-panel'; // model panel
import type { LessonActions } from '../store/lesson-actions'; // lessons
import type { AppStore } from '../store/store';
import type { AppState } from '../store/slices';

export interface AppActions {
  reloadModel(): Promise<void>;
  reloadDataset(): Promise<void>;
  /** Reads a user-picked file and sends its bytes to the worker (transferred, not copied). */
  uploadDataset(file: File): Promise<void>;
  /** Examples, batch inspection and training (src/store/run.ts). */
  run: RunActions;
  /** Share links: make one for the current run, restore one, supply its data file (src/store/share.ts). */
  share: ShareActions;
  /** Run zip download/import, PEFT adapter import, cluster export, Hub push, ONNX download (src/store/export-actions.ts). */
  exporting: ExportActions;
  /** Model panel: weights download, separate tokenizer, cache list, memory bill (src/store/model-panel.ts). */
  model: ModelPanelActions;
  /** Lessons: open a lesson's preset, run it with its metric, ask base and adapter a prompt (src/store/lesson-actions.ts). */
  lessons: LessonActions;
}

interface AppContextValue {
  store: AppStore;
  actions: AppActions;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider(props: { store: AppStore; actions: AppActions; children: ReactNode }) {
  return <AppContext.Provider value={{ store: props.store, actions: props.actions }}>{props.children}</AppContext.Provider>;
}

function useAppContext(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp() was called outside <AppProvider>; render the UI through src/main.tsx.');
  return ctx;
}

/** Reads one slice of state through a selector; re-renders only when that selection changes. */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useAppContext().store, selector);
}

/** Setters stored in the state (stable references). */
export function useStoreApi(): AppStore {
  return useAppContext().store;
}

export function useActions(): AppActions {
  return useAppContext().actions;
}
