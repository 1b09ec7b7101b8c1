// Run zips and adapters in the app: "Download run (.zip)" asks the worker to build the zip from its latest checkpoint
// and hands the bytes to the page to save; "Import run (.zip)" restores the config (like a share link), the metrics
// and the samples into the panels and keeps the checkpoint for "Continue training"; "Import PEFT adapter" (a zip or
// the two files) is checked by the worker against the loaded model and becomes the adapter the next trainer uses;
// "Download ONNX" saves the trainer's graphs.
import { errorMessage } from '../share/labels';
import type { WorkerClient } from '../worker/client';
import type { CheckpointFiles } from '../worker/protocol';
import { ADAPTER_REQUIRED, readRunZip, RunZipError } from '../share/run-zip';
import type { SampleRecord } from '../share/manifest';
import { isTraining, type RunActions } from './run';
import type { ShareActions } from './share';
import type { AppStore } from './store';
import { count } from '../share/wording';

export interface ExportDeps {
  client: WorkerClient;
  share: ShareActions;
  run: RunActions;
  /** Saves bytes or text as a file for the user (a Blob link in the page). */
  save(fileName: string, bytes: Uint8Array | string, type: string): void;
  saveBlob(fileName: string, blob: Blob): void;
  /** Loads the chosen model and dataset again and re-prepares (after an import changed them). */
  reloadRun(): Promise<void>;
}

export interface ExportActions {
  exportRun(opts?: { adapterOnly?: boolean }): Promise<void>;
  /** A run zip, or a zip holding only a PEFT adapter folder. */
  importZip(name: string, bytes: Uint8Array): Promise<void>;
  /** adapter_config.json + adapter_model.safetensors chosen as two files, or one zip holding an adapter folder
   * (a run zip's adapter counts; nothing else of the run is restored). */
  importAdapterFiles(files: { name: string; bytes: Uint8Array }[]): Promise<void>;
  /** Continues training from the imported zip's checkpoint. */
  continueImported(): Promise<void>;
  /** The run for a GPU cluster: the Axolotl YAML, the TRL script, or the whole job with its data rows as a zip. */
  exportCluster(which: 'axolotl' | 'trl' | 'zip'): Promise<void>;
  /** Pushes the adapter folder to the Hub set in Settings. The token is an argument only: it goes to the worker for
   * this request and is never written to the store, a link, storage or a log. */
  push(input: { token: string; repo: string; private: boolean }): Promise<void>;
  /** "Download ONNX" in the batch inspector: the current trainer's graphs as ONNX files in one zip
   * (docs/onnx-export.md). Resolves with what it held, rejects with the worker's message; progress and errors stay
   * with the button that asked. */
  downloadOnnx(onStage?: (stage: string) => void): Promise<{ fileName: string; files: { path: string; bytes: number }[] }>;
}


/** Samples as the store keeps them: the prompt index is the sample's position among those of its step. */
function toStoreSamples(records: readonly SampleRecord[]) {
  const seen = new Map<number, number>();
  return records.map((r) => {
    const promptIndex = seen.get(r.step) ?? 0;
    seen.set(r.step, promptIndex + 1);
    return { step: r.step, promptIndex, prompt: r.prompt, completion: r.completion, flags: [...r.flags] };
  });
}

export function createExportActions(store: AppStore, deps: ExportDeps): ExportActions {
  let checkpoint: CheckpointFiles | null = null;
  const loading = (stage: string) => ({ status: 'loading' as const, stage, loaded: 0, total: null });

  const importAdapter = async (files: ReadonlyMap<string, Uint8Array>, from: string): Promise<void> => {
    const s = store.getState();
    if (!s.model || !s.prepared) throw new Error('Load the base model and a dataset first: an adapter is checked against the model it will run on.');
    if (isTraining(s.phase)) throw new Error('Pause or stop the run before importing an adapter.');
    const out: Record<string, Uint8Array> = {};
    for (const name of ADAPTER_REQUIRED) {
      const bytes = files.get(name);
      if (!bytes) throw new Error(`${from} has no ${name}; a PEFT adapter needs ${ADAPTER_REQUIRED.join(' and ')}.`);
      out[name] = bytes.slice(); // transferred to the worker
    }
    s.setImportState(loading(`Checking the adapter against ${s.model.location.repo}`));
    const result = await deps.client.request('adapter.import', { files: out });
    const after = store.getState();
    after.setRunConfig({ ...after.runConfig, lora: { ...after.runConfig.lora, ...result.lora } });
    const other = result.baseModel && result.baseModel !== after.model?.location.repo
      ? ` It names ${result.baseModel} as its base; its ${count(result.tensors, 'tensor')} fit ${after.model?.location.repo ?? 'this model'} exactly.` : '';
    after.setImportState({ status: 'ready' },
      `Adapter from ${from} loaded (LoRA r ${result.lora.r}, alpha ${result.lora.alpha}, ${result.lora.targets.join(', ')}): the batch inspector, samples and Start now begin from it.${other}`);
  };

  return {
    async exportRun(opts = {}) {
      const s = store.getState();
      s.setExportState(loading('Building the zip in the worker'));
      try {
        const dataset = s.dataset;
        if (!dataset) throw new Error('Load a dataset first.');
        const config = await deps.share.currentConfig();
        const adapter = s.capability?.webgpu.available ? s.capability.webgpu.adapter.description || s.capability.webgpu.adapter.vendor : undefined;
        const backend = s.trainer?.backend ?? s.capability?.backend ?? 'unknown';
        const result = await deps.client.request('run.export', {
          config,
          datasetHash: dataset.hash.replace(/^sha256:/, ''),
          datasetName: dataset.name,
          datasetRows: dataset.rowCount,
          metrics: s.metrics.map(({ ms: _ms, ...m }) => m),
          samples: s.samples.map((x) => ({ step: x.step, prompt: x.prompt, completion: x.completion, flags: x.flags })),
          device: { backend, ...(backend === 'webgpu' && adapter ? { adapter } : {}) },
          ...(opts.adapterOnly ? { adapterOnly: true } : {}),
        }, {
          onEvent: (e) => {
            if (e.type === 'progress') store.getState().setExportState({ status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
          },
        });
        deps.save(result.fileName, result.bytes, 'application/zip');
        store.getState().setLastExport({ fileName: result.fileName, step: result.step, files: result.files });
        store.getState().setExportState({ status: 'ready' });
      } catch (err) {
        store.getState().setExportState({ status: 'error', message: errorMessage(err) });
      }
    },

    async importZip(name, bytes) {
      const s = store.getState();
      if (isTraining(s.phase)) {
        s.setImportState({ status: 'error', message: 'Pause or stop the run before importing.' }, null);
        return;
      }
      s.setImportState(loading(`Reading ${name}`), null);
      try {
        const zip = readRunZip(bytes);
        if (zip.kind === 'adapter') {
          await importAdapter(zip.adapter, name);
          return;
        }
        const state = JSON.parse(new TextDecoder().decode(zip.trainerState)) as { global_step?: unknown };
        const step = typeof state.global_step === 'number' ? state.global_step : (zip.metrics.at(-1)?.step ?? 0);
        checkpoint = zip.checkpoint ? { step, files: Object.fromEntries(zip.checkpoint) } : null;
        deps.share.openConfig(zip.manifest.config, name);
        store.getState().setImportState(loading('Loading the model and data the run used'));
        await deps.reloadRun();
        await deps.share.completeRestore();
        const after = store.getState();
        after.resetMetrics();
        for (const m of zip.metrics) store.getState().appendMetric(m);
        after.resetSamples();
        for (const x of toStoreSamples(zip.samples)) store.getState().addSample(x);
        after.setImportedCheckpointStep(checkpoint ? step : null);
        after.setPhase('idle');
        after.setImportState({ status: 'ready' },
          `Restored ${name}: its settings, ${count(zip.metrics.length, 'metric point')} and ${count(zip.samples.length, 'sample')} (step ${step}).` +
          (checkpoint ? ' Continue training from its checkpoint, or just look.' : ' It holds no checkpoint, so it can be inspected but not continued.') +
          (zip.ignored.length ? ` Ignored: ${zip.ignored.join(', ')}.` : ''));
      } catch (err) {
        const prefix = err instanceof RunZipError ? `${name} cannot be imported: ` : '';
        store.getState().setImportState({ status: 'error', message: `${prefix}${errorMessage(err)}` });
      }
    },

    async importAdapterFiles(files) {
      const names = files.map((f) => f.name).join(' + ');
      try {
        const zip = files.length === 1 && /\.zip$/i.test(files[0]!.name) ? readRunZip(files[0]!.bytes) : null;
        await importAdapter(zip ? zip.adapter : new Map(files.map((f) => [f.name.replace(/^.*[\\/]/, ''), f.bytes])), names);
      } catch (err) {
        store.getState().setImportState({ status: 'error', message: errorMessage(err) });
      }
    },

    async downloadOnnx(onStage) {
      const s = store.getState();
      const result = await deps.client.request('graph.export', { backend: s.backendChoice, config: s.runConfig }, {
        onEvent: (e) => {
          if (e.type === 'trainer') store.getState().setTrainer(e.info);
          if (e.type === 'progress') onStage?.(e.stage);
        },
      });
      deps.saveBlob(result.fileName, result.zip);
      return { fileName: result.fileName, files: result.files };
    },

    async exportCluster(which) {
      store.getState().setClusterState(loading('Writing the cluster job'));
      try {
        const result = await deps.client.request('cluster.export', { config: await deps.share.currentConfig() });
        if (which === 'axolotl') deps.save('axolotl.yaml', result.axolotlYaml, 'application/yaml');
        else if (which === 'trl') deps.save('train_sft.py', result.trlScript, 'text/x-python');
        else deps.save(result.fileName, result.zip, 'application/zip');
        store.getState().setClusterState({ status: 'ready' }, result.readme);
      } catch (err) {
        store.getState().setClusterState({ status: 'error', message: errorMessage(err) });
      }
    },

    async push({ token, repo, private: isPrivate }) {
      const s = store.getState();
      const scrub = (text: string) => (token ? text.split(token).join('hf_***') : text);
      s.setPushState(loading(`Pushing to ${repo}`), null);
      try {
        const dataset = s.dataset;
        if (!dataset) throw new Error('Load a dataset first.');
        const result = await deps.client.request('hub.push', {
          endpoint: s.hubEndpoint, token, repo: repo.trim(), private: isPrivate,
          datasetName: dataset.name, datasetHash: dataset.hash.replace(/^sha256:/, ''), datasetRows: dataset.rowCount,
        }, {
          onEvent: (e) => {
            if (e.type === 'progress') store.getState().setPushState({ status: 'loading', stage: scrub(e.stage), loaded: e.loaded, total: e.total });
          },
        });
        store.getState().setPushState({ status: 'ready' }, result);
      } catch (err) {
        store.getState().setPushState({ status: 'error', message: scrub(errorMessage(err)) }, null);
      }
    },

    async continueImported() {
      if (!checkpoint) return;
      store.getState().setImportedCheckpointStep(null);
      await deps.run.resumeFrom(checkpoint);
    },
  };
}
