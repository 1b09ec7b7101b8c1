// Browser side of test/runtime/browser.test.ts, bundled with esbuild and run in Chromium (WebGPU on SwiftShader):
// trains the tiny model with the browser backend (onnxruntime-web/webgpu) and reports losses and parameters.
import { buildStepGraphs } from '../../../src/engine/step.ts';
import { createWebBackend } from '../../../src/runtime/web.ts';
import { TrainSession } from '../../../src/runtime/train-session.ts';
import { TINY, collate, tinyForward, tinyRows, tinyWeights } from '../../engine/step-fixtures.ts';

export interface BrowserRun {
  backend: string;
  fallbackReason: string | null;
  losses: number[];
  gradNorms: number[];
  params: Record<string, number[]>;
}

async function run(prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean | 'fixed-buffers'): Promise<BrowserRun> {
  const { backend, fallbackReason } = await createWebBackend({ prefer, wasmPaths: '/ort/' });
  const graphs = buildStepGraphs(tinyForward(TINY), { adamw: { weightDecay: 0.01, maxGradNorm: 1.0 } });
  const w = tinyWeights(TINY, 1);
  const rows = tinyRows(TINY, 16, 2);
  const batches = [0, 1, 2, 3].map((i) => collate(rows.slice(4 * i, 4 * i + 4), TINY.T));
  const session = await TrainSession.create({ backend, graphs, params: w.params, frozen: w.frozen, graphCapture });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const m = await session.step([batches[(2 * s) % 4]!, batches[(2 * s + 1) % 4]!], 5e-2);
    losses.push(m.loss);
    gradNorms.push(m.gradNorm);
  }
  const state = await session.exportState();
  await session.release();
  await backend.release();
  const params: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(state.params)) params[k] = Array.from(v);
  return { backend: backend.label, fallbackReason: fallbackReason ?? null, losses, gradNorms, params };
}

declare global {
  interface Window {
    tabtuneRun: (prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean | 'fixed-buffers') => Promise<BrowserRun>;
  }
}
window.tabtuneRun = run;
