// "Download ONNX" in the batch inspector: asks the worker for the current trainer's graphs as ONNX files (one zip,
// docs/onnx-export.md) and hands the Blob to the page to save. Progress and errors stay with the button that asked.
import type { WorkerClient } from '../worker/client';
import type { AppStore } from './store';

export interface GraphExportActions {
  /** Saves the zip; resolves with what it held, rejects with the worker's message. */
  downloadOnnx(onStage?: (stage: string) => void): Promise<{ fileName: string; files: { path: string; bytes: number }[] }>;
}

export function createGraphExportActions(store: AppStore, deps: { client: WorkerClient; saveBlob(fileName: string, blob: Blob): void }): GraphExportActions {
  return {
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
  };
}
