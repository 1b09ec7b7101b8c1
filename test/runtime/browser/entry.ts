// Browser side of test/runtime/browser.test.ts, bundled with esbuild and run in Chromium (WebGPU on SwiftShader):
// trains the tiny model with the browser backend (onnxruntime-web/webgpu) and reports losses and parameters, and runs
// the app's Trainer on the demo checkpoint (served under /model/) with and without graph capture.
import * as ort from 'onnxruntime-web/webgpu';
import { GraphBuilder, makeTensor } from '../../../src/engine/graph.ts';
import { serializeGraph } from '../../../src/engine/onnx.ts';
import * as O from '../../../src/engine/ops.ts';
import { buildStepGraphs } from '../../../src/engine/step.ts';
import { createWebBackend } from '../../../src/runtime/web.ts';
import type { Backend, RuntimeSession, SessionConfig } from '../../../src/runtime/backend.ts';
import { TrainSession } from '../../../src/runtime/train-session.ts';
import { TINY, collate, tinyForward, tinyRows, tinyWeights } from '../../engine/step-fixtures.ts';
import type { Example } from '../../../src/data/example.ts';
import { defaultRunConfig } from '../../../src/share/run-config.ts';
import { loadModel, type FileSource } from '../../../src/train/model-source.ts';
import { Trainer } from '../../../src/train/trainer.ts';
import { resolveSubset } from '../../../src/train/session.ts';

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

interface TrainerRun {
  label: string;
  capture: { on: boolean; note: string | null };
  graphNodes: number;
  losses: number[];
  gradNorms: number[];
  evalLosses: number[];
  params: Record<string, number[]>;
  /** The batch inspector's answer after the run (Trainer.gradients): loss and the gradients' sum of squares. */
  inspected: { loss: number; gradSquares: number };
  ms: number;
}

/** Synthetic examples over the demo vocabulary: rows of 9–16 tokens, the first three of each not trained. */
function demoExamples(count: number, seed: number): Example[] {
  return Array.from({ length: count }, (_, i): Example => {
    const n = 9 + ((i * 5 + seed) % 8);
    const ids = Array.from({ length: n }, (_, t) => (seed * 131 + i * 37 + t * t * 11 + t * 7) % 1021);
    const labels = Int32Array.from(ids, (id, t) => (t < 3 ? -100 : id));
    return { id: `row-${seed}-${i}`, text: '', ids, labels, starts: new Int32Array(n), ends: new Int32Array(n), turns: [], messages: [], templated: false, fullLength: n, notes: [] };
  });
}

/**
 * The app's training path on the browser backend: Trainer.create (what the worker's TrainingHost builds) on the demo
 * checkpoint with LoRA dropout and gradient accumulation, `steps` optimizer steps with an eval every 25, graph capture
 * asked for or not.
 */
/**
 * The backend with one fault injected: the first run of the first session created for graph capture rejects, as a
 * driver or ORT fault at recording time would. Everything else is the real backend.
 */
function failingFirstCapture(backend: Backend): Backend {
  let failed = false;
  const createSession = async (model: Uint8Array, config?: SessionConfig): Promise<RuntimeSession> => {
    const session = await backend.createSession(model, config);
    if (!config?.graphCapture || failed) return session;
    return new Proxy(session, {
      get(target, key) {
        if (key === 'run' && !failed) {
          return () => {
            failed = true;
            return Promise.reject(new Error('injected fault: the captured graph could not be recorded'));
          };
        }
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'createSession') return createSession;
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function trainDemo(prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean, failFirstCapture = false): Promise<TrainerRun> {
  const created = await createWebBackend({ prefer, wasmPaths: '/ort/' });
  const backend = failFirstCapture ? failingFirstCapture(created.backend) : created.backend;
  const files = ['config.json', 'generation_config.json', 'model.safetensors'];
  const source: FileSource = {
    id: 'tiny-storyteller', sha: 'fixture', list: async () => files,
    read: async (path) => new Uint8Array(await (await fetch(`/model/${path}`)).arrayBuffer()),
  };
  const model = await loadModel(source);
  const c = defaultRunConfig();
  const config = {
    ...c, maxLength: 16, lora: { ...c.lora, r: 4, dropout: 0.1, targets: ['q_proj', 'v_proj'] },
    train: { ...c.train, steps, batchSize: 2, gradAccum: 2, lr: 1e-2, warmupSteps: 5, evalEvery: 25, sampleEvery: 0, checkpointEvery: 0 },
  };
  const trainer = await Trainer.create({ backend, model, config, subset: resolveSubset(config, model.config), train: demoExamples(12, 1), eval: demoExamples(2, 2), padId: 0, graphCapture });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const evalLosses: number[] = [];
  const started = performance.now();
  const result = await trainer.run({ onStep: (r) => (losses.push(r.loss), gradNorms.push(r.gradNorm)), onEval: (r) => evalLosses.push(r.loss) });
  const ms = performance.now() - started;
  if (result.reason !== 'completed') throw new Error(`the run ended ${result.reason} at step ${result.step}`);
  const state = await trainer.checkpoint();
  const g = await trainer.gradients(demoExamples(2, 3));
  const gradSquares = Object.values(g.grads).reduce((s, v) => s + v.reduce((a, x) => a + x * x, 0), 0);
  const out: TrainerRun = {
    label: trainer.backendLabel, capture: trainer.graphCapture, graphNodes: trainer.graphs.train.nodes.length, losses, gradNorms, evalLosses, params: {},
    inspected: { loss: g.loss, gradSquares }, ms,
  };
  for (const [k, v] of Object.entries(state.params)) out.params[k] = Array.from(v);
  await trainer.release();
  await backend.release();
  return out;
}

declare global {
  interface Window {
    tabtuneTrainDemo: (prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean, failFirstCapture?: boolean) => Promise<TrainerRun>;
    tabtuneRun: (prefer: 'webgpu' | 'wasm', steps: number, graphCapture: boolean | 'fixed-buffers') => Promise<BrowserRun>;
    tabtuneCaptureRepro: (kind: 'scatter' | 'reshape', capture: boolean) => Promise<number[][]>;
  }
}
window.tabtuneRun = run;
window.tabtuneTrainDemo = trainDemo;
window.tabtuneCaptureRepro = captureRepro;
