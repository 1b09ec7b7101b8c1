// The store's saved-runs slice: runs and checkpoints the worker keeps in IndexedDB (metadata only, never
// tensors), the run a reloaded tab offers to resume, the run being written now, and the last storage failure.
import type { StateCreator } from 'zustand/vanilla';
import type { StoredRun, StoredRuns } from '../worker/protocol';
import type { AppState, LoadState } from './types';

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
