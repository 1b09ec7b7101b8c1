// Node backends (CLI, tests, benchmarks): onnxruntime-web's WASM build, and onnxruntime-node with its WebGPU EP
// (SwiftShader on a GPU-less box, launched through scripts/with-swiftshader.mjs) or its CPU EP. Node-only: the
// browser bundle must never import this file; it loads both ORT packages with dynamic import() for that reason.
import { availableParallelism } from 'node:os';
import type { Backend, BackendKind, HostTensor, OrtModule, OrtTensor, RuntimeSession, SessionConfig } from './backend.ts';
import { hostFromOrt, sessionOptions, wrapSession } from './backend.ts';
import { DeviceCopier } from './copier.ts';

export interface NodeBackendOptions {
  /** Threads for the host backends: WASM worker threads, or the CPU EP's intra-op pool (default: the number of CPU
   * cores). Ignored by WebGPU. */
  readonly threads?: number;
}

let webModule: Promise<OrtModule> | undefined;
let nodeModule: Promise<OrtModule> | undefined;

async function loadWeb(threads: number): Promise<OrtModule> {
  webModule ??= import('onnxruntime-web').then((m) => m as unknown as OrtModule);
  const ort = await webModule;
  // numThreads is read when the WASM module initialises (first session); later changes are ignored by ORT.
  ort.env.wasm.numThreads = threads;
  return ort;
}

async function loadNode(): Promise<OrtModule> {
  nodeModule ??= import('onnxruntime-node').then((m) => ((m as { default?: unknown }).default ?? m) as OrtModule);
  return nodeModule;
}

const SWIFTSHADER_HINT =
  'onnxruntime-node needs a Vulkan driver for WebGPU. On a machine without a GPU, start the process through ' +
  '`node scripts/with-swiftshader.mjs <command>` (it points the Vulkan loader at Chromium\'s SwiftShader before the ' +
  'process starts; `npm run test:unit` already does this).';

/**
 * Creates a Node backend. `wasm` is onnxruntime-web (the same WASM kernels a browser without WebGPU runs); `webgpu`
 * and `cpu` are onnxruntime-node. WebGPU sessions refuse CPU fallback, so a graph that is not wholly GPU-runnable
 * fails at createSession with ORT's message.
 */
/** "1 thread", "4 threads" (src/share/wording.ts's rule; runtime may import only the engine). */
function threadCount(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

export async function createNodeBackend(kind: BackendKind, options: NodeBackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a whole number ≥ 1, got ${threads}`);
  const ort = kind === 'wasm' ? await loadWeb(threads) : await loadNode();
  const label =
    kind === 'wasm'
      ? `WASM (onnxruntime-web, ${threadCount(ort.env.wasm.numThreads ?? 1)})`
      : kind === 'webgpu'
        ? `WebGPU (onnxruntime-node${process.env.TABTUNE_SWIFTSHADER === '1' ? ', SwiftShader' : ''})`
        : `CPU (onnxruntime-node, ${threadCount(threads)})`;
  const copier = kind === 'webgpu' ? new DeviceCopier((bytes, cfg) => createSession(bytes, cfg)) : undefined;

  async function createSession(model: Uint8Array, config: SessionConfig = {}): Promise<RuntimeSession> {
    if (config.graphCapture) {
      throw new Error(
        'graph capture is not available on Node backends: replays reuse the first bound input buffers, and Node has no ' +
          'GPUDevice handle to copy new data into them. Use it in the browser (web.ts) or turn it off.',
      );
    }
    if (config.externalData && kind !== 'wasm') {
      throw new Error(`${label}: onnxruntime-node cannot read external data from memory; inline the values or feed them (Backend.sessionWeights)`);
    }
    try {
      const options = sessionOptions(kind, config);
      // The CPU EP's own default is the number of physical cores; the label promises `threads`, so say it.
      if (kind === 'cpu') options.intraOpNumThreads = threads;
      const session = await ort.InferenceSession.create(model, options);
      return wrapSession(session, `${label} session`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const hint = kind === 'webgpu' && /adapter|vulkan|device|webgpu/i.test(msg) && !/fallback/.test(msg) ? ` ${SWIFTSHADER_HINT}` : '';
      throw new Error(`${label}: session creation failed: ${msg}${hint}`, { cause: err });
    }
  }

  return {
    kind,
    host: 'node',
    label,
    deviceResident: kind === 'webgpu',
    supportsGraphCapture: false,
    sessionWeights: kind === 'wasm' ? 'external' : kind === 'cpu' ? 'inline' : null,
    createSession,
    tensor: (t: HostTensor): OrtTensor => new ort.Tensor(t.dtype, t.data, t.dims),
    async read(t: OrtTensor): Promise<HostTensor> {
      if (t.location === 'cpu') return hostFromOrt(t, t.data);
      // onnxruntime-node 1.30 aborts the process (uncaught C++ throw) on Tensor.getData() of a GPU tensor, so GPU
      // tensors are read through an Identity session whose output is placed on the host.
      if (!copier) throw new Error(`${label}: tensor is at "${t.location}", which this backend cannot read`);
      return hostFromOrt(t, (await copier.toHost(t)).data);
    },
    async upload(t: HostTensor): Promise<OrtTensor> {
      const host = new ort.Tensor(t.dtype, t.data, t.dims);
      return copier ? copier.toDevice(host) : host;
    },
    async release(): Promise<void> {
      await copier?.release();
    },
  };
}
