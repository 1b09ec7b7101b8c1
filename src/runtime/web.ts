// Browser backend (runs inside the training Web Worker): onnxruntime-web's native WebGPU EP (`/webgpu`, never the
// older JSEP default import) with its WASM EP as the fallback when WebGPU is missing or fails to start. Frozen
// weights are uploaded once with queue.writeBuffer and wrapped with Tensor.fromGpuBuffer (they never touch the heap).
import * as ort from 'onnxruntime-web/webgpu';
import type { Backend, HostTensor, OrtModule, OrtTensor, RuntimeSession, SessionConfig } from './backend.ts';
import { hostFromOrt, sessionOptions, wrapSession } from './backend.ts';
import { softwareAdapterNote, wasmThreads } from './adapter.ts';
import { identityModel } from './copier.ts';

export interface WebBackendOptions {
  /**
   * 'auto' (default): WebGPU on a hardware adapter, WASM on a software one (SwiftShader or a fallback adapter) or none.
   * 'webgpu': WebGPU whenever an adapter exists, software too (WASM only when it fails). 'wasm' skips WebGPU.
   */
  readonly prefer?: 'auto' | 'webgpu' | 'wasm';
  /** Where the .wasm/.mjs files are served from (ort.env.wasm.wasmPaths), when the bundler does not place them. */
  readonly wasmPaths?: string;
  /**
   * WASM threads; needs cross-origin isolation (SharedArrayBuffer). Default: every logical core but one (wasmThreads).
   * Read once, when the WASM runtime starts (the first backend created in this worker); later values are ignored.
   */
  readonly threads?: number;
}

export interface WebBackendResult {
  readonly backend: Backend;
  /** Set when WebGPU was wanted (or chosen automatically) but WASM is used: why, in one line for the user. */
  readonly fallbackReason?: string;
}

const module: OrtModule = ort as unknown as OrtModule;

export async function createWebBackend(options: WebBackendOptions = {}): Promise<WebBackendResult> {
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  // @huggingface/transformers (loaded by src/data for tokenizers) points ORT at a CDN when it is imported. The app
  // bundles ORT's own files and must work offline, so a cross-origin path TabTune did not ask for is removed.
  else if (pointsElsewhere(ort.env.wasm.wasmPaths)) delete ort.env.wasm.wasmPaths;
  const threads = await startWasm(options.threads);
  if (options.prefer === 'wasm') return { backend: wasmBackend(threads) };
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav?.gpu) return { backend: wasmBackend(threads), fallbackReason: 'navigator.gpu is missing: this browser or context has no WebGPU.' };
  if (options.prefer !== 'webgpu') {
    // The adapter ORT would get (same power preference as its default): software ones lose to WASM.
    const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    const note = adapter ? softwareAdapterNote(adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }) : null;
    if (note) return { backend: wasmBackend(threads), fallbackReason: note };
  }
  try {
    return { backend: await webgpuBackend() };
  } catch (err) {
    return { backend: wasmBackend(threads), fallbackReason: `WebGPU failed to start: ${err instanceof Error ? err.message : String(err)}` };
  }
}

let wasmStart: Promise<number> | undefined;

/**
 * Starts onnxruntime-web's WASM runtime once per worker and says how many threads it really runs. ORT reads
 * env.wasm.numThreads only when the runtime starts (the first session of any EP, WebGPU included), and quietly drops
 * to 1 thread where SharedArrayBuffer or WASM threads are missing, writing the 1 back into env.wasm.numThreads. So the
 * count is set here before any session exists, a one-node WASM session starts the runtime, and the value read back
 * afterwards is the truth the label shows.
 */
function startWasm(threads: number | undefined): Promise<number> {
  wasmStart ??= (async () => {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    ort.env.wasm.numThreads = isolated ? Math.max(1, threads ?? wasmThreads(globalThis.navigator?.hardwareConcurrency ?? 1)) : 1;
    const first = await module.InferenceSession.create(identityModel('float32', [4]), sessionOptions('wasm'));
    await first.release();
    return ort.env.wasm.numThreads ?? 1;
  })();
  return wasmStart;
}

function wasmBackend(threads: number): Backend {
  return {
    kind: 'wasm',
    host: 'browser',
    label: `WASM (onnxruntime-web, ${threads} thread${threads === 1 ? '' : 's'})`,
    deviceResident: false,
    supportsGraphCapture: false,
    sessionWeights: 'external',
    async createSession(model: Uint8Array, config: SessionConfig = {}): Promise<RuntimeSession> {
      return wrapSession(await module.InferenceSession.create(model, sessionOptions('wasm', config)), 'WASM session');
    },
    tensor: (t: HostTensor): OrtTensor => new module.Tensor(t.dtype, t.data, t.dims),
    read: async (t: OrtTensor): Promise<HostTensor> => hostFromOrt(t, await t.getData()),
    upload: async (t: HostTensor): Promise<OrtTensor> => new module.Tensor(t.dtype, t.data, t.dims),
    release: async (): Promise<void> => {},
  };
}

/** Devices this module saw lost: ORT keeps the device of its first session, so after a loss it must be given a new one. */
const lostDevices = new WeakSet<GPUDevice>();
let lastDevice: GPUDevice | null = null;

/** The limits a device needs for ORT's kernels and TabTune's buffers: the adapter's own maxima (the defaults are far
 * smaller than what ORT asks for when it opens its device itself). */
const DEVICE_LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** A new GPUDevice to replace one that was lost, with the adapter's limits and the features ORT can use. */
async function replacementDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('The WebGPU device was lost and the browser offers no adapter to open a new one: reload the page, or choose WASM in the Training panel.');
  const requiredLimits: Record<string, number> = {};
  for (const key of DEVICE_LIMITS) requiredLimits[key] = adapter.limits[key];
  const requiredFeatures = (['shader-f16', 'timestamp-query', 'subgroups'] as const).filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredLimits, requiredFeatures: requiredFeatures as GPUFeatureName[] });
}

async function webgpuBackend(): Promise<Backend> {
  // The EP creates its GPUDevice with the first session; a one-node session starts it and proves WebGPU works. It is
  // kept open until release(): releasing the EP's last session can destroy the device the other tensors live on.
  // After a loss ORT would hand back the dead device, so every session is given a new one instead.
  const replacement = lastDevice && lostDevices.has(lastDevice) ? await replacementDevice() : null;
  const probe = await module.InferenceSession.create(identityModel('float32', [4]),
    sessionOptions('webgpu', { deviceOutputs: ['y'] }, replacement ? { device: replacement } : {}));
  const device = replacement ?? ((await ort.env.webgpu.device) as GPUDevice | undefined);
  if (!device) throw new Error('onnxruntime-web created a WebGPU session but exposed no GPUDevice (ort.env.webgpu.device)');
  lastDevice = device;
  const label = 'WebGPU (onnxruntime-web)';
  // GPUDevice.lost resolves (never rejects) with a reason: 'destroyed' when the page or ORT destroyed the device on
  // purpose, 'unknown' for a driver reset or a GPU process crash.
  const lost = device.lost.then((info) => {
    lostDevices.add(device);
    return `GPUDevice.lost: ${info.reason || 'unknown'}${info.message ? `, ${info.message}` : ''}`;
  });
  return {
    lost,
    kind: 'webgpu',
    host: 'browser',
    label,
    deviceResident: true,
    supportsGraphCapture: true,
    sessionWeights: null,
    async createSession(model: Uint8Array, config: SessionConfig = {}): Promise<RuntimeSession> {
      // Passing the device keeps every session on one GPUDevice, so GPU tensors can move between sessions.
      return wrapSession(await module.InferenceSession.create(model, sessionOptions('webgpu', config, { device })), `${label} session`);
    },
    tensor: (t: HostTensor): OrtTensor => new module.Tensor(t.dtype, t.data, t.dims),
    // Not Tensor.getData(): on a GPU tensor it turns the tensor into a CPU one for good (ORT keeps the downloaded copy
    // and drops the buffer's location), so a state tensor read for a checkpoint would be fed from that stale host copy
    // afterwards, and a captured graph, which needs its fixed buffers, fails ("Buffer is not registered").
    read: async (t: OrtTensor): Promise<HostTensor> => hostFromOrt(t, t.location === 'gpu-buffer' ? await download(device, t.gpuBuffer as GPUBuffer, t.type, byteSize(t)) : await t.getData()),
    async upload(t: HostTensor): Promise<OrtTensor> {
      // Buffers must be ≥16 bytes with a 16-byte-aligned size (ort-webgpu.md); the tensor's dims say how much is used.
      const size = Math.max(16, Math.ceil(t.data.byteLength / 16) * 16);
      const buffer = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(buffer, 0, t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const dataType = t.dtype as 'float32' | 'int32' | 'int64' | 'bool' | 'uint8';
      return module.Tensor.fromGpuBuffer(buffer, {
        dataType, dims: t.dims, dispose: () => buffer.destroy(), download: (() => download(device, buffer, dataType, t.data.byteLength)) as never,
      });
    },
    release: async (): Promise<void> => {
      await probe.release();
    },
    device: {
      write(dst: OrtTensor, src: HostTensor): void {
        device.queue.writeBuffer(dst.gpuBuffer as GPUBuffer, 0, src.data.buffer, src.data.byteOffset, src.data.byteLength);
      },
      copy(dst: OrtTensor, src: OrtTensor): void {
        const bytes = byteSize(src);
        if (bytes !== byteSize(dst)) throw new Error(`device copy: ${src.dims.join('x')} ${src.type} into ${dst.dims.join('x')} ${dst.type}`);
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(src.gpuBuffer as GPUBuffer, 0, dst.gpuBuffer as GPUBuffer, 0, Math.ceil(bytes / 4) * 4);
        device.queue.submit([encoder.finish()]);
      },
    },
  };
}

/** The first `bytes` of a GPU buffer, read through a staging copy queued after the work already submitted. */
async function download(device: GPUDevice, buffer: GPUBuffer, dtype: string, bytes: number): Promise<Float32Array | Int32Array | BigInt64Array | Uint8Array> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    if (dtype === 'float32') return new Float32Array(copy);
    if (dtype === 'int32') return new Int32Array(copy);
    if (dtype === 'int64') return new BigInt64Array(copy);
    return new Uint8Array(copy);
  } finally {
    staging.destroy();
  }
}

function byteSize(t: OrtTensor): number {
  const per = t.type === 'bool' || t.type === 'uint8' ? 1 : t.type === 'int64' ? 8 : 4;
  return per * t.dims.reduce((a, b) => a * b, 1);
}

/** True when ORT's wasm paths name another origin than this page's (a CDN nobody in TabTune configured). */
function pointsElsewhere(paths: unknown): boolean {
  const urls = typeof paths === 'string' ? [paths] : paths && typeof paths === 'object' ? Object.values(paths) : [];
  return urls.some((u) => {
    if (typeof u !== 'string' || !/^https?:\/\//.test(u)) return false;
    return typeof location === 'undefined' || new URL(u).origin !== location.origin;
  });
}
