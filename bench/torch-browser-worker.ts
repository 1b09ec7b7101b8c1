// Worker side of `npm run bench:torch -- --backends browser`: bench/torch.ts bundles this file with esbuild and runs
// it in a dedicated Web Worker of a cross-origin-isolated page in Chromium, as the app runs its trainer, so the step
// is the browser's onnxruntime-web WASM build with real WASM threads. Replies with the label, losses and timings.
import { createWebBackend } from '../src/runtime/web.ts';
import { setup, timeSteps, type Dims, type Timing } from './torch-model.ts';

export interface BrowserRequest {
  dims: Dims;
  threads: number;
  warmup: number;
  steps: number;
}

export type BrowserReply =
  | ({ ok: true; label: string; isolated: boolean; nodes: number } & Timing)
  | { ok: false; error: string };

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<BrowserRequest>) => void) | null; postMessage(m: BrowserReply): void; crossOriginIsolated?: boolean };

scope.onmessage = (e) => {
  const { dims, threads, warmup, steps } = e.data;
  void (async () => {
    try {
      const { backend } = await createWebBackend({ prefer: 'wasm', wasmPaths: '/ort/', threads });
      const t = await timeSteps(backend, 'wasm', setup(dims), warmup, steps);
      await backend.release();
      scope.postMessage({ ok: true, label: `${backend.label} in Chromium`, isolated: scope.crossOriginIsolated === true, ...t });
    } catch (err) {
      scope.postMessage({ ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
    }
  })();
};
