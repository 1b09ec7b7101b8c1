// App entry: builds the store, starts the worker, wires the actions that connect them, kicks off the start-up loads
// (WebGPU probe, the bundled demo model and dataset, then the prepared examples) and renders the page. The only
// place these pieces meet. The settings a user expects back after a reload (run configuration, model, dataset, Hub
// endpoint, backend, theme) are kept in localStorage by the store itself (src/store/persist.ts).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAppStore } from './store/store';
import { createDatasetLoader, createModelLoader, loadBundledDatasets, probeCapability } from './store/actions';
import { createRunActions, isTraining, reprepareOnDataChange } from './store/run';
import { createShareActions } from './store/share'; // share links
import { createExportActions } from './store/export-actions'; // run export/import
import { saveBlob, saveBytes } from './ui/download'; // run export/import, ONNX download
import { createModelPanelActions } from './store/model-panel'; // model panel
import { settingsStorage } from './store/persist';
import { createLessonActions } from './store/lesson-actions'; // lessons
import { startWorker } from './worker/client';
import { connectCheckpointHandoff } from './worker/checkpoint-handoff';
import { App } from './ui/App';
import { AppProvider, type AppActions } from './ui/app-context';
import { installTestApi } from './ui/test-api';
import './ui/styles.css';

const store = createAppStore({ origin: location.origin, storage: settingsStorage(() => localStorage) });

const client = startWorker();
client.onFatal((err) => store.getState().reportError('worker', err.message));
const loadModel = createModelLoader(store, client);
const loadDataset = createDatasetLoader(store, client);
const run = createRunActions(store, client);
// Share links: uploads go through `share` too, which keeps a copy of their bytes for links carrying data inline.
const sendUpload = (name: string, bytes: ArrayBuffer) => loadDataset({ name, bytes }).then(() => run.prepare());
const share = createShareActions(store, { uploadDataset: sendUpload, pageUrl: () => location.href });
const reloadRun = () => Promise.all([loadModel(), loadDataset()]).then(() => run.prepare());
const exporting = createExportActions(store, { client, share, run, save: saveBytes, saveBlob, reloadRun });
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
// A closing tab loses no step it showed as completed: the training worker hands step states to the checkpoint
// service worker and tells the page of a step only once a state at or past it was handed over, and when the tab goes away the service worker is asked to stay
// until the last step shown is written (src/worker/checkpoint-handoff.ts). Without service workers the worker
// checkpoints after the step under way when asked (and autosaves when that is cheap, src/worker/host/training.ts),
// so a reload offers a step close to the last one shown.
const handoff = connectCheckpointHandoff(client);
const goingAway = (): void => {
  const shown = store.getState().step;
  void handoff.then((link) => link?.hold(shown));
  void run.flush();
};
addEventListener('pagehide', goingAway);
document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && goingAway());
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
