// The store's share slice: the link the user made ("Copy share link"), the link the page was opened with (restored,
// waiting for a file, or refused with a message), and the state of a zip export/import. Plain data only: the bytes of
// uploads and zips never enter the store (src/store/share-actions.ts holds them while it needs them).
import type { StateCreator } from 'zustand/vanilla';
import type { UploadRef } from '../share/link';
import type { HubPushResult } from '../worker/protocol';
import type { AppState, LoadState } from './types';

/** The link this page was opened with (or an imported run zip, restored the same way; `from` says which). `restored`: every panel took its settings (notes: what differs here, e.g. a
 * model that now resolves to another commit); `needs-file`: the run's data is too large for a link and the user must
 * choose the file; `error`: the link was refused and the app runs on its saved or default settings. */
type IncomingLink =
  | { status: 'none' }
  | { status: 'restored'; summary: string; notes: string[]; from: string }
  | { status: 'needs-file'; summary: string; ref: UploadRef; problem: string | null; from: string }
  | { status: 'error'; message: string };

/** The link the user made for the current run. */
type OutgoingLink = { status: 'idle' } | { status: 'ready'; url: string } | { status: 'error'; message: string };

export interface ShareSlice {
  incomingLink: IncomingLink;
  outgoingLink: OutgoingLink;
  /** Building / saving the run zip (export) or reading one (import). */
  exportState: LoadState;
  importState: LoadState;
  /** What the last import restored, in words (shown under the import buttons). */
  importNote: string | null;
  /** The last zip saved: its name, checkpoint step and every path in it. */
  lastExport: { fileName: string; step: number; files: string[] } | null;
  /** Step of the checkpoint inside an imported run zip, which "Continue training" resumes from; null without one. */
  importedCheckpointStep: number | null;
  /** Bumped when a whole run config is replaced from outside the panels (a link, an imported zip): the panel grid
   * remounts on it, since its inputs hold their own text while the user types. */
  configGeneration: number;
  bumpConfigGeneration(): void;
  setIncomingLink(link: IncomingLink): void;
  setOutgoingLink(link: OutgoingLink): void;
  setExportState(state: LoadState): void;
  setImportState(state: LoadState, note?: string | null): void;
  setLastExport(last: ShareSlice['lastExport']): void;
  /** The cluster job export, and the launch README of the last one (shown in the panel). */
  clusterState: LoadState;
  clusterReadme: string | null;
  setClusterState(state: LoadState, readme?: string | null): void;
  /** Push to the Hub: progress, and the repo and commit of the last push. Never the token. */
  pushState: LoadState;
  pushResult: HubPushResult | null;
  setPushState(state: LoadState, result?: HubPushResult | null): void;
  setImportedCheckpointStep(step: number | null): void;
}

export const createShareSlice: StateCreator<AppState, [], [], ShareSlice> = (set) => ({
  incomingLink: { status: 'none' },
  outgoingLink: { status: 'idle' },
  exportState: { status: 'idle' },
  importState: { status: 'idle' },
  importNote: null,
  lastExport: null,
  importedCheckpointStep: null,
  configGeneration: 0,
  bumpConfigGeneration: () => set((s) => ({ configGeneration: s.configGeneration + 1 })),
  setIncomingLink: (incomingLink) => set({ incomingLink }),
  setOutgoingLink: (outgoingLink) => set({ outgoingLink }),
  setExportState: (exportState) => set({ exportState }),
  setImportState: (importState, note) => set(note === undefined ? { importState } : { importState, importNote: note }),
  setLastExport: (lastExport) => set({ lastExport }),
  clusterState: { status: 'idle' },
  clusterReadme: null,
  pushState: { status: 'idle' },
  pushResult: null,
  setPushState: (pushState, result) => set(result === undefined ? { pushState } : { pushState, pushResult: result }),
  setClusterState: (clusterState, readme) => set(readme === undefined ? { clusterState } : { clusterState, clusterReadme: readme }),
  setImportedCheckpointStep: (importedCheckpointStep) => set({ importedCheckpointStep }),
});
