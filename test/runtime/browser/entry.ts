// Browser side of test/runtime/browser.test.ts, bundled with esbuild and run in Chromium (WebGPU on SwiftShader):
// trains the tiny model with the browser backend (onnxruntime-web/webgpu) and reports losses and parameters.
import * as ort from 'onnxruntime-web/webgpu';
import { GraphBuilder, makeTensor } from '../../../src/engine/graph.ts';
import { serializeGraph } from '../../../src/engine/onnx.ts';
import * as O from '../../../src/engine/ops.ts';
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
  // Captured graphs need every parameter output written by a dispatch (StepConfig.computedOutputs).
  const graphs = buildStepGraphs(tinyForward(TINY), { adamw: { weightDecay: 0.01, maxGradNorm: 1.0 }, computedOutputs: graphCapture === true });
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

/**
 * Minimal reproduction of the ORT 1.30 graph-capture fault: one-node graphs run three times on fixed GPU input buffers,
 * plain or captured, returning each run's output. `scatter`: ScatterElements(add) of [10, 20] at [1, 3] onto a
 * constant zero vector (the kernel copies data → output with a buffer copy, then dispatches the scatter).
 * `reshape`: Reshape(Add(x, 1)) as the graph output, x rewritten before each run to [10, 20]·run.
 */
async function captureRepro(kind: 'scatter' | 'reshape', capture: boolean): Promise<number[][]> {
  ort.env.wasm.wasmPaths = '/ort/';
  const g = new GraphBuilder(kind);
  const x = g.input('x', 'float32', [2]);
  if (kind === 'scatter') {
    const idx = g.constant(makeTensor('int32', [2], [1, 3]));
    g.output(O.ScatterElements(g, g.constant(makeTensor('float32', [4], [0, 0, 0, 0])), idx, x, 0, 'add'), 'y');
  } else {
    g.output(O.Reshape(g, O.Add(g, x, 1), [2, 1]), 'y');
  }
  const session = await ort.InferenceSession.create(serializeGraph(g.build()), {
    executionProviders: [{ name: 'webgpu' }], preferredOutputLocation: 'gpu-buffer', ...(capture ? { enableGraphCapture: true } : {}),
  });
  const device = (await ort.env.webgpu.device) as GPUDevice;
  const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const feeds = { x: ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: [2] }) };
  const outs: number[][] = [];
  for (let i = 1; i <= 3; i++) {
    const scale = kind === 'scatter' ? 1 : i;
    device.queue.writeBuffer(buffer, 0, Float32Array.of(10 * scale, 20 * scale));
    const out = await session.run(feeds);
    outs.push(Array.from((await out.y!.getData()) as Float32Array));
  }
  await session.release();
  buffer.destroy();
  return outs;
}

declare global {
  interface Window {
    tabtuneRun: (prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean | 'fixed-buffers') => Promise<BrowserRun>;
    tabtuneCaptureRepro: (kind: 'scatter' | 'reshape', capture: boolean) => Promise<number[][]>;
  }
}
window.tabtuneRun = run;
window.tabtuneCaptureRepro = captureRepro;
