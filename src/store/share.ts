// Share links and run zips, the store's part: the slice (the link the user made, the link the page was opened with,
// export/import progress) and the actions that make and open links. Plain data in the slice: the bytes of uploads
// and zips never enter the store; the actions below hold an upload's bytes while a link may need them inline. A
// link carries the run (model pinned to its commit, data by reference, inline or by hash, template, mask, LoRA,
// hyperparameters and seed; never the backend choice or a token); a file too large for a link is asked for and
// checked against the link's sha256.
import type { StateCreator } from 'zustand/vanilla';
import { errorMessage } from '../share/labels';
import { MissingUploadError, readShareLink, resolveUploadData, ShareLinkError, shareUrl, uploadDataRef, type UploadRef } from '../share/link';
import { DEMO_MODEL_REPO, parseRunConfig, type RunConfig } from '../share/run-config';
import type { HubPushResult } from '../worker/protocol';
import { dataRefFor } from './actions';
import { PUBLIC_HUB } from './slices';
import type { AppStore } from './store';
import type { AppState, LoadState } from './slices';
import { count } from '../share/wording';

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

interface UploadedFile {
  name: string;
  bytes: Uint8Array;
}

export interface ShareDeps {
  /** Sends a dataset's bytes to the worker and re-prepares the run (main.tsx's uploadDataset). */
  uploadDataset(name: string, bytes: ArrayBuffer): Promise<void>;
  /** The page address a link is built on (its fragment is replaced). */
  pageUrl(): string;
}

export interface ShareActions {
  /** Keeps the bytes of the file the user uploaded, for links that carry data inline. */
  rememberUpload(file: UploadedFile): void;
  /** Builds the link for the current run into `outgoingLink`; returns it, or null (the reason is in the store). */
  makeLink(): Promise<string | null>;
  /** Opens a link into the store (settings only; the loads follow). False when it was refused (message in store). */
  openLink(link: string): boolean;
  /** Opens a run config (from an imported zip) the way a link is opened; `from` names where it came from. */
  openConfig(config: RunConfig, from: string): void;
  /** The current run as a link carries it (see linkedRunConfig). */
  currentConfig(): Promise<RunConfig>;
  /** After the model and bundled list have loaded: loads the link's data (inline, by hash, Hub) and notes differences. */
  completeRestore(): Promise<void>;
  /** The user chose the file a by-hash link asked for: verified against the link, then loaded. */
  supplyFile(file: UploadedFile): Promise<void>;
}


const hex = (hash: string) => hash.replace(/^sha256:/, '');

/** The run as a link carries it: the edited run config with the model pinned to the commit it resolved to and the
 * dataset by reference. Throws with what to do when the model or dataset has not loaded yet. */
async function linkedRunConfig(state: AppState, upload: UploadedFile | null): Promise<RunConfig> {
  const model = state.model;
  if (!model || state.modelState.status !== 'ready') {
    throw new Error('Wait for the model to load: a link pins the model to the commit it resolved to.');
  }
  const dataset = state.dataset;
  const choice = state.datasetChoice;
  if (!dataset || !choice || state.datasetState.status !== 'ready') throw new Error('Load a dataset first: a link names the data the run trains on.');
  const bundled = state.modelChoice.kind === 'bundled';
  const repo = { repo: model.location.repo, revision: bundled ? 'main' : model.location.revision, sha: model.sha };
  // Uploads travel inline (when small) so the link alone reproduces the run; other data by reference and hash.
  let data: RunConfig['data'];
  if (choice.kind === 'upload') {
    if (!upload || upload.name !== choice.name) throw new Error(`Upload "${choice.name}" again: this page no longer holds its bytes.`);
    data = await uploadDataRef(upload.name, upload.bytes);
  } else {
    data = dataRefFor(choice, dataset);
  }
  // While the run's adapter exists, the link describes what it was trained with (frozen at its start).
  const rest: Partial<RunConfig> = { ...(state.trained?.config ?? state.runConfig) };
  delete rest.hubEndpoint;
  // The bundled demo is served by whichever TabTune opens the link; a Hub model or dataset names its Hub unless it is
  // the public one.
  const usesHub = !bundled || choice.kind === 'hub';
  const endpoint = usesHub && state.hubEndpoint !== PUBLIC_HUB ? { hubEndpoint: state.hubEndpoint } : {};
  // A tokenizer chosen apart from the model (Model panel) travels pinned to the commit it was checked at; otherwise
  // the link names the model's own tokenizer at the model's commit.
  const chosen = state.runConfig.tokenizer;
  const tokenizer = chosen && chosen.repo !== repo.repo ? { ...chosen } : { ...repo };
  return parseRunConfig({ ...rest, ...endpoint, model: repo, tokenizer, data });
}

function describe(config: RunConfig): string {
  const d = config.data;
  const data = d.source === 'hub' ? `${d.repo}${d.file ? `/${d.file}` : ''}` : d.name;
  const sha = config.model.sha ? `@${config.model.sha.slice(0, 7)}` : `@${config.model.revision}`;
  return `${config.model.repo}${sha} on ${data}, mask ${config.mask}, lr ${config.train.lr}, ${count(config.train.steps, 'step')}, seed ${config.seed}`;
}

/** The bundled demo is served by the app itself, whatever Hub the link names for its data. */
function isDemo(config: RunConfig): boolean {
  return config.model.repo === DEMO_MODEL_REPO;
}

export function createShareActions(store: AppStore, deps: ShareDeps): ShareActions {
  let upload: UploadedFile | null = null;
  /** The config of the link being restored, until its data has loaded. */
  let opened: RunConfig | null = null;
  /** 'link', or the name of the imported zip the config came from. */
  let origin = 'link';

  const load = async (name: string, bytes: Uint8Array): Promise<void> => {
    upload = { name, bytes: bytes.slice() };
    await deps.uploadDataset(name, bytes.slice().buffer);
  };

  const restored = (notes: string[]): void => {
    if (opened) store.getState().setIncomingLink({ status: 'restored', summary: describe(opened), notes, from: origin });
  };

  return {
    rememberUpload(file) {
      upload = { name: file.name, bytes: file.bytes };
    },

    async makeLink() {
      const s = store.getState();
      try {
        const url = shareUrl(deps.pageUrl(), await linkedRunConfig(s, upload));
        store.getState().setOutgoingLink({ status: 'ready', url });
        return url;
      } catch (err) {
        store.getState().setOutgoingLink({ status: 'error', message: errorMessage(err) });
        return null;
      }
    },

    currentConfig: () => linkedRunConfig(store.getState(), upload),

    openLink(link) {
      const result = readShareLink(link);
      if (!result.ok) {
        opened = null;
        store.getState().setIncomingLink({ status: 'error', message: result.message });
        return false;
      }
      this.openConfig(result.config, 'link');
      return true;
    },

    openConfig(config, from) {
      const s = store.getState();
      opened = config;
      origin = from;
      s.setRunConfig(config);
      s.bumpConfigGeneration();
      if (config.hubEndpoint) s.setHubEndpoint(config.hubEndpoint);
      if (isDemo(config)) {
        s.chooseModel({ kind: 'bundled' });
      } else {
        // Pinned to the commit the run used, not to a branch that may have moved since.
        s.chooseModel({ kind: 'hub', repo: config.model.repo, revision: config.model.sha ?? config.model.revision });
      }
      const d = config.data;
      if (d.source === 'bundled') {
        // A bundled file this build does not ship keeps the current choice; completeRestore says so.
        const known = s.bundledDatasets.length === 0 || s.bundledDatasets.some((b) => b.file === d.name);
        if (known) s.chooseDataset({ kind: 'bundled', file: d.name });
      } else if (d.source === 'hub') {
        s.chooseDataset({ kind: 'hub', name: d.file ?? d.repo, repo: d.repo, revision: d.sha ?? d.revision, ...(d.file ? { file: d.file } : {}) });
      } else s.chooseDataset({ kind: 'upload', name: d.name });
      s.setIncomingLink({ status: 'restored', summary: describe(config), notes: [], from });
    },

    async completeRestore() {
      const config = opened;
      if (!config) return;
      const s = store.getState();
      const notes: string[] = [];
      if (config.model.sha && s.model && s.model.sha !== config.model.sha) {
        notes.push(`The model resolved to commit ${s.model.sha.slice(0, 7)}, but the link was made on ${config.model.sha.slice(0, 7)}; losses may differ.`);
      }
      const d = config.data;
      if (d.source === 'hub') {
        if (s.datasetState.status === 'error') notes.push(`The run's Hub dataset ${d.repo} could not be loaded; see the Data panel.`);
        else if (d.hash && s.dataset && hex(s.dataset.hash) !== hex(d.hash)) {
          notes.push(`${d.repo}${d.file ? `/${d.file}` : ''} differs from the file the link was made with (sha256); the run may differ.`);
        }
        restored(notes);
        return;
      }
      if (d.source === 'bundled') {
        const choice = s.datasetChoice;
        if (choice?.kind === 'bundled' && choice.file !== d.name) {
          notes.push(`This TabTune does not ship the dataset "${d.name}"; "${choice.file}" is loaded instead, so the run differs.`);
        } else if (d.hash && s.dataset && hex(s.dataset.hash) !== hex(d.hash)) {
          notes.push(`The bundled "${d.name}" here differs from the one the link was made with (sha256 ${hex(s.dataset.hash).slice(0, 12)}… ≠ ${hex(d.hash).slice(0, 12)}…); the run may differ.`);
        }
        restored(notes);
        return;
      }
      try {
        const bytes = await resolveUploadData(d);
        restored(notes);
        await load(d.name, bytes);
      } catch (err) {
        if (err instanceof MissingUploadError || err instanceof ShareLinkError) {
          const problem = err instanceof MissingUploadError ? null : err.message;
          store.getState().setIncomingLink({ status: 'needs-file', summary: describe(config), ref: d, problem, from: origin });
          return;
        }
        notes.push(`The run's data could not be loaded: ${errorMessage(err)}`);
        restored(notes);
      }
    },

    async supplyFile(file) {
      const incoming = store.getState().incomingLink;
      if (incoming.status !== 'needs-file') return;
      const ref: UploadRef = incoming.ref;
      try {
        const bytes = await resolveUploadData(ref, file.bytes);
        restored([]);
        await load(ref.name, bytes);
      } catch (err) {
        store.getState().setIncomingLink({ ...incoming, problem: errorMessage(err) });
      }
    },
  };
}
