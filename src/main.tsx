// App entry: builds the store, starts the worker, wires the actions that connect them, kicks off the start-up loads
// (WebGPU probe, the bundled demo model and dataset) and renders the page. The only place these pieces meet.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAppStore } from './store/store';
import { createDatasetLoader, createModelLoader, loadBundledDatasets, probeCapability } from './store/actions';
import type { ThemeChoice } from './store/types';
import { startWorker } from './worker/client';
import { App } from './ui/App';
import { AppProvider, type AppActions } from './ui/app-context';
import { THEME_KEY } from './ui/Header';
import { installTestApi } from './ui/test-api';
import './ui/styles.css';

function savedTheme(): ThemeChoice | null {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' || v === 'system' ? v : null;
  } catch {
    return null;
  }
}

const store = createAppStore({ origin: location.origin });
const theme = savedTheme();
if (theme) store.getState().setTheme(theme);

const client = startWorker();
client.onFatal((err) => store.getState().reportError('worker', err.message));
const loadModel = createModelLoader(store, client);
const loadDataset = createDatasetLoader(store, client);
const actions: AppActions = {
  reloadModel: loadModel,
  reloadDataset: () => loadDataset(),
  uploadDataset: async (file) => loadDataset({ name: file.name, bytes: await file.arrayBuffer() }),
};

const startup = Promise.all([
  probeCapability(store, client),
  loadModel(),
  loadBundledDatasets(store, client).then((listed) => (listed ? loadDataset() : undefined)),
]).then(() => undefined);
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
