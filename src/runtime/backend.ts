// Backend abstraction shared by the browser (onnxruntime-web) and Node (onnxruntime-web WASM, onnxruntime-node).
// Owns session-option policy (EP object form, CPU fallback disabled on WebGPU, per-output GPU placement) so every
// caller gets the same guarantees. Imports only types from ORT; the concrete modules live in web.ts and node.ts.
import type * as Ort from 'onnxruntime-common';

/** Execution provider family. `webgpu` keeps tensors in GPU buffers; `wasm` and `cpu` run on the host CPU. */
export type BackendKind = 'webgpu' | 'wasm' | 'cpu';

/** Which ORT package is underneath: onnxruntime-web in a browser/worker, or a Node process. */
type BackendHost = 'browser' | 'node';

/** Element types the runtime moves across the host boundary. */
type TensorDType = 'float32' | 'int32' | 'int64' | 'bool' | 'uint8';

type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** A host-side tensor: plain data a caller hands to the runtime (batches, initial parameters, frozen weights). */
export interface HostTensor {
  readonly dtype: TensorDType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/** The slice of an ORT module (onnxruntime-web or onnxruntime-node) the runtime uses. */
export interface OrtModule {
  readonly InferenceSession: typeof Ort.InferenceSession;
  readonly Tensor: typeof Ort.Tensor;
  readonly env: Ort.Env;
}

export type OrtTensor = Ort.Tensor;

export interface SessionConfig {
  /**
   * Outputs that stay on the device between runs ('gpu-buffer'); the rest are read back to the host. Ignored on
   * host backends, where every output is already in host memory. Default: none.
   */
  readonly deviceOutputs?: readonly string[];
  /** WebGPU graph capture (replays a recorded command stream). Only honoured where the backend supports it. */
  readonly graphCapture?: boolean;
  /**
   * Buffers the model's external-data initializers name by `path` (engine/onnx.ts `external`), read once when the
   * session is created. Only where `Backend.sessionWeights` is 'external'.
   */
  readonly externalData?: readonly { readonly path: string; readonly data: Uint8Array }[];
}

/** One ONNX graph loaded on a backend. Feeds may mix host tensors and device tensors from this backend. */
export interface RuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, OrtTensor>>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly host: BackendHost;
  /** Human-readable description for banners and benchmark reports, e.g. "WebGPU (onnxruntime-node, swiftshader)". */
  readonly label: string;
  /** True when outputs can stay in device memory between runs (WebGPU). */
  readonly deviceResident: boolean;
  /** True when graph capture can be switched on for this backend (browser WebGPU only, see ort-webgpu.md). */
  readonly supportsGraphCapture: boolean;
  /**
   * Where values that never change belong in the session (initializers) rather than in the feeds, and how they get
   * there: 'external' (onnxruntime-web WASM, which copies every CPU-side feed into its heap on every run: initializers
   * read once from `SessionConfig.externalData`), 'inline' (onnxruntime-node's CPU EP, which cannot read external data
   * from memory: raw data in the model bytes; ORT then prepacks and folds them). null on WebGPU, whose frozen weights
   * are GPU buffers uploaded once.
   */
  readonly sessionWeights: 'external' | 'inline' | null;
  createSession(model: Uint8Array, config?: SessionConfig): Promise<RuntimeSession>;
  /** Wraps host data in this backend's ORT tensor class (tensors of one ORT package are not valid in another). */
  tensor(t: HostTensor): OrtTensor;
  /** Reads any tensor (host or device) back to host memory. Device reads cost a GPU→host copy: use sparingly. */
  read(t: OrtTensor): Promise<HostTensor>;
  /**
   * Puts host data where sessions of this backend read it fastest: a device buffer on WebGPU (uploaded once, reused
   * by every run), a plain host tensor elsewhere. Release device tensors with `dispose()`.
   */
  upload(t: HostTensor): Promise<OrtTensor>;
  /** Frees helper sessions the backend created for itself (copies). Sessions made by callers are theirs to release. */
  release(): Promise<void>;
  /**
   * Device-buffer writes and copies, present where the backend holds the GPUDevice (browser WebGPU). Graph capture
   * needs them: replays read the buffers bound at capture time, so new data must be written *into* those buffers.
   */
  readonly device?: DeviceOps;
  /**
   * Settles when the GPU device behind this backend is lost (driver reset, GPU process crash, `destroy()`), with what
   * the browser said; never settles on backends without a device. Every buffer and session on it is gone by then.
   */
  readonly lost?: Promise<string>;
}

export interface DeviceOps {
  /** Overwrites the device tensor `dst` with host data of the same byte size. */
  write(dst: OrtTensor, src: HostTensor): void;
  /** Copies device tensor `src` into device tensor `dst` (same byte size), in queue order. */
  copy(dst: OrtTensor, src: OrtTensor): void;
}

/**
 * Session options for one backend kind. WebGPU: EP in object form (the string form silently disables graph capture)
 * and `disable_cpu_ep_fallback` so that a node the GPU cannot run fails session creation instead of quietly running
 * on the CPU. WASM/CPU must not set that flag: it rejects every node there.
 */
export function sessionOptions(kind: BackendKind, config: SessionConfig = {}, extraProvider: Record<string, unknown> = {}): Ort.InferenceSession.SessionOptions {
  const external = config.externalData ? { externalData: config.externalData.map((f) => ({ path: f.path, data: f.data })) } : {};
  if (kind !== 'webgpu') {
    // WASM: no busy-waiting between ops. ORT's pool threads spin by default, which in a tab (it shares the cores with
    // everything else) starves the page and the other threads for no gain: spinning measured no faster there. The
    // native CPU EP runs only in Node (CLI, benchmarks), in a process that exists to run the step: there ORT's
    // default spinning is kept, 11 % faster at two threads (bench:torch shapes, 84.7 → 75.3 ms median per step).
    const spin = kind === 'cpu' ? '1' : '0';
    return { executionProviders: [kind], graphOptimizationLevel: 'all', extra: { session: { 'intra_op.allow_spinning': spin } }, ...external };
  }
  const placement: Record<string, Ort.Tensor.DataLocation> = {};
  for (const name of config.deviceOutputs ?? []) placement[name] = 'gpu-buffer';
  const options: Ort.InferenceSession.SessionOptions = {
    executionProviders: [{ name: 'webgpu', ...extraProvider }],
    graphOptimizationLevel: 'all',
    preferredOutputLocation: placement,
    extra: { session: { disable_cpu_ep_fallback: '1' } },
    ...external,
  };
  if (config.graphCapture) options.enableGraphCapture = true;
  return options;
}

/** Wraps an ORT InferenceSession with error messages that name the graph and the missing/extra feeds. */
export function wrapSession(session: Ort.InferenceSession, what: string): RuntimeSession {
  const inputNames = [...session.inputNames];
  const outputNames = [...session.outputNames];
  return {
    inputNames,
    outputNames,
    async run(feeds) {
      const missing = inputNames.filter((n) => !(n in feeds));
      if (missing.length > 0) {
        throw new Error(`${what}: missing feeds ${missing.map((n) => `"${n}"`).join(', ')}; the graph expects ${inputNames.length} inputs`);
      }
      const extra = Object.keys(feeds).filter((n) => !inputNames.includes(n));
      if (extra.length > 0) throw new Error(`${what}: unknown feeds ${extra.map((n) => `"${n}"`).join(', ')} (not graph inputs)`);
      return (await session.run(feeds as Ort.InferenceSession.FeedsType)) as Record<string, OrtTensor>;
    },
    release: () => session.release(),
  };
}

/** Copies ORT host tensor data into a HostTensor, checking the dtype is one the runtime handles. */
export function hostFromOrt(t: OrtTensor, data: unknown): HostTensor {
  const dtype = t.type as TensorDType;
  const ok =
    (dtype === 'float32' && data instanceof Float32Array) ||
    (dtype === 'int32' && data instanceof Int32Array) ||
    (dtype === 'int64' && data instanceof BigInt64Array) ||
    ((dtype === 'bool' || dtype === 'uint8') && data instanceof Uint8Array);
  if (!ok) throw new Error(`cannot read back a tensor of type ${t.type}: the runtime handles float32, int32, int64, bool and uint8`);
  return { dtype, dims: [...t.dims], data: data as TensorData };
}

/** Element count of a dims list. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
