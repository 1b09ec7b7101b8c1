// App entry: builds the store, starts the worker, wires the actions that connect them, kicks off the start-up loads
// (WebGPU probe, the bundled demo model and dataset, then the prepared examples) and renders the page. The only
// place these pieces meet. The run configuration the user edits, and which model, dataset and Hub endpoint it was
// for, are kept in localStorage across reloads.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { parseRunConfig, type RunConfig } from './share/run-config';
import { createAppStore } from './store/store';
import { createDatasetLoader, createModelLoader, loadBundledDatasets, probeCapability } from './store/actions';
import { createRunActions, isTraining, reprepareOnDataChange } from './store/run-actions';
import { createShareActions } from './store/share-actions'; // share links
import { createExportActions } from './store/export-actions'; // run export/import
import { saveBytes } from './ui/download'; // run export/import
import { createModelPanelActions } from './store/model-panel-actions'; // model panel
import { createLessonActions } from './store/lesson-actions'; // lessons
import { parseSavedSources, sourcesToSave } from './store/saved-sources';
import type { ThemeChoice } from './store/types';
import { startWorker } from './worker/client';
import { App } from './ui/App';
import { AppProvider, type AppActions } from './ui/app-context';
import { THEME_KEY } from './ui/Header';
import { installTestApi } from './ui/test-api';
import './ui/styles.css';

const RUN_CONFIG_KEY = 'tabtune.runConfig';
const BACKEND_KEY = 'tabtune.backend';
const SOURCES_KEY = 'tabtune.sources';

function savedTheme(): ThemeChoice | null {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' || v === 'system' ? v : null;
  } catch {
    return null;
  }
}

function savedRunConfig(): RunConfig | null {
  try {
    const raw = localStorage.getItem(RUN_CONFIG_KEY);
    return raw ? parseRunConfig(JSON.parse(raw)) : null;
  } catch {
    // A config saved by another version (or edited by hand) that no longer validates: start from the defaults.
    return null;
  }
}

const store = createAppStore({ origin: location.origin });
const theme = savedTheme();
if (theme) store.getState().setTheme(theme);
const runConfig = savedRunConfig();
if (runConfig) store.getState().setRunConfig(runConfig);
try {
  const savedBackend = localStorage.getItem(BACKEND_KEY);
  if (savedBackend === 'wasm' || savedBackend === 'webgpu') store.getState().setBackendChoice(savedBackend);
  const sources = parseSavedSources(localStorage.getItem(SOURCES_KEY));
  if (sources) {
    store.getState().setHubEndpoint(sources.hubEndpoint);
    store.getState().chooseModel(sources.modelChoice);
    if (sources.datasetChoice) store.getState().chooseDataset(sources.datasetChoice);
  }
} catch {
  // Storage blocked: WebGPU (the default) and the bundled demo are used.
}

const client = startWorker();
client.onFatal((err) => store.getState().reportError('worker', err.message));
const loadModel = createModelLoader(store, client);
const loadDataset = createDatasetLoader(store, client);
const run = createRunActions(store, client);
// Share links: uploads go through `share` too, which keeps a copy of their bytes for links carrying data inline.
const sendUpload = (name: string, bytes: ArrayBuffer) => loadDataset({ name, bytes }).then(() => run.prepare());
const share = createShareActions(store, { uploadDataset: sendUpload, pageUrl: () => location.href });
const reloadRun = () => Promise.all([loadModel(), loadDataset()]).then(() => run.prepare());
const exporting = createExportActions(store, { client, share, run, save: saveBytes, reloadRun });
const actions: AppActions = {
  reloadModel: () => loadModel().then(() => run.prepare()),
  reloadDataset: () => loadDataset().then(() => run.prepare()),
  uploadDataset: async (file) => {
    const bytes = await file.arrayBuffer();
    share.rememberUpload({ name: file.name, bytes: new Uint8Array(bytes.slice(0)) }); // the original is transferred
    return sendUpload(file.name, bytes);
  },
  run,
  share,
  exporting,
  model: createModelPanelActions(store, client), // model panel
  lessons: createLessonActions(store, { client, share, run, reloadRun }), // lessons
};

reprepareOnDataChange(store, run);
store.subscribe((state, previous) => {
  if (state.backendChoice !== previous.backendChoice) {
    try {
      localStorage.setItem(BACKEND_KEY, state.backendChoice);
    } catch {
      // Storage blocked: the choice lasts for this page only.
    }
  }
  if (state.modelChoice !== previous.modelChoice || state.datasetChoice !== previous.datasetChoice || state.hubEndpoint !== previous.hubEndpoint) {
    try {
      localStorage.setItem(SOURCES_KEY, JSON.stringify(sourcesToSave(state)));
    } catch {
      // Storage blocked: the choices last for this page only.
    }
  }
  if (state.runConfig === previous.runConfig) return;
  try {
    localStorage.setItem(RUN_CONFIG_KEY, JSON.stringify(state.runConfig));
  } catch {
    // Storage blocked: the settings last for this page only.
  }
});

// Share links: a link in the address wins over the saved settings; it is applied before anything loads, then
// dropped from the address so a reload keeps the user's later edits (saved above) instead of re-applying it.
const hasLink = () => /[#&]run=/.test(location.hash);
const dropLink = () => history.replaceState(null, '', location.pathname + location.search);
if (hasLink()) {
  share.openLink(location.href);
  dropLink();
}
addEventListener('hashchange', () => {
  if (!hasLink()) return;
  if (isTraining(store.getState().phase)) {
    store.getState().setIncomingLink({ status: 'error', message: 'A run is training: stop it, then open the link again.' });
  } else if (share.openLink(location.href)) {
    void reloadRun().then(() => share.completeRestore());
  }
  dropLink();
});

const startup = Promise.all([
  probeCapability(store, client),
  loadModel(),
  loadBundledDatasets(store, client).then((listed) => (listed ? loadDataset() : undefined)),
]).then(() => run.prepare()).then(() => share.completeRestore());
installTestApi(store, startup);

const rootElement = document.getElementById('root');
if (!rootElement) throw new Error('index.html has no #root element to render TabTune into.');
createRoot(rootElement).render(
  <StrictMode>
    <AppProvider store={store} actions={actions}>
      <App />
    </AppProvider>
  </StrictMode>,
);
