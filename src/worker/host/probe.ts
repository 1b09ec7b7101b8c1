// Capability probe, run once in the worker (where training runs): the WebGPU adapter's identity, every limit and
// feature, or the exact reason WebGPU is missing and what the user can try. Pure data out; no device is kept.
import { softwareAdapterNote, wasmThreads } from '../../runtime/adapter.ts';
import type { AdapterSummary, Capability, WebGpuProbe } from '../protocol';

const NO_GPU_HINT =
  'Use a current Chrome or Edge (or Firefox/Safari with WebGPU enabled), turn on hardware acceleration ' +
  '(chrome://settings/system), and check that chrome://gpu lists WebGPU as hardware accelerated.';

function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // WebIDL attributes are enumerable accessors on the prototype, so for-in sees every limit the browser knows.
  for (const key in limits) {
    const value = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

async function probeWebGpu(): Promise<WebGpuProbe> {
  if (!globalThis.isSecureContext) {
    return {
      available: false,
      reason: `WebGPU needs a secure context, and this page is not one (${globalThis.location?.origin ?? 'unknown origin'}).`,
      hint: 'Open the app over https, or from http://localhost or http://127.0.0.1.',
    };
  }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    return {
      available: false,
      reason: 'navigator.gpu is undefined in the worker: this browser does not offer WebGPU (or it is switched off).',
      hint: NO_GPU_HINT,
    };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { available: false, reason: `navigator.gpu.requestAdapter() threw ${describeError(err)}`, hint: NO_GPU_HINT };
  }
  if (!adapter) {
    return {
      available: false,
      reason: 'navigator.gpu.requestAdapter() returned null: WebGPU exists but no usable GPU adapter was found ' +
        '(the GPU or driver may be blocklisted, or hardware acceleration is off).',
      hint: NO_GPU_HINT,
    };
  }
  const info = adapter.info;
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits: readLimits(adapter.limits),
  };
  // An adapter is only a promise of a device: create one (then destroy it) so a broken driver is caught here.
  try {
    const device = await adapter.requestDevice();
    device.destroy();
  } catch (err) {
    return {
      available: false,
      reason: `The WebGPU adapter (${summary.vendor || 'unknown vendor'} ${summary.architecture}) could not create a device: ${describeError(err)}`,
      hint: NO_GPU_HINT,
    };
  }
  return { available: true, adapter: summary };
}

export async function probeCapability(): Promise<Capability> {
  const webgpu = await probeWebGpu();
  // A software adapter (SwiftShader, a fallback adapter) is slower than WASM: the automatic choice is WASM, and says why.
  const note = webgpu.available ? softwareAdapterNote(webgpu.adapter) : null;
  return {
    webgpu,
    backend: webgpu.available && !note ? 'webgpu' : 'wasm',
    ...(note ? { backendNote: note } : {}),
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    hardwareConcurrency: globalThis.navigator?.hardwareConcurrency ?? 1,
    wasmThreads: globalThis.crossOriginIsolated ? wasmThreads(globalThis.navigator?.hardwareConcurrency ?? 1) : 1,
    userAgent: globalThis.navigator?.userAgent ?? 'unknown',
  };
}
