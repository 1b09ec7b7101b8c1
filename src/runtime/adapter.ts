// Which backend fits this machine: a WebGPU adapter that is software (SwiftShader, or one the browser marks as a
// fallback adapter) emulates the GPU on the CPU cores WASM would use directly, and is far slower than WASM for training
// (93 s to the first step of the demo, against about 3 s on WASM). Also how many threads WASM gets. Pure: no ORT
// import, shared by the worker's probe and the browser backend.

/** The parts of GPUAdapterInfo (or the probe's AdapterSummary) that tell a software adapter apart. */
export interface AdapterIdentity {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** GPUAdapterInfo.isFallbackAdapter (Chrome 131+); absent in older browsers. */
  readonly isFallbackAdapter?: boolean;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software rasterizer|microsoft basic render/i;

/** The software renderer's name when the adapter is one, else null. */
export function softwareAdapterName(info: AdapterIdentity): string | null {
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const named = SOFTWARE_NAMES.exec(text);
  if (named) return named[0].toLowerCase() === 'swiftshader' ? 'SwiftShader' : named[0];
  return info.isFallbackAdapter === true ? 'a fallback adapter' : null;
}

/**
 * One line for the user when the automatic choice is WASM although WebGPU exists (the adapter is software), else
 * null: what was found, what TabTune does, and how to override it.
 */
export function softwareAdapterNote(info: AdapterIdentity): string | null {
  const name = softwareAdapterName(info);
  if (!name) return null;
  return `The only WebGPU adapter is a software renderer (${name}), slower than WebAssembly on this machine, so training runs on WASM; pick WebGPU under "Train on" to use it anyway.`;
}

/**
 * Threads for ORT's WASM pool on a machine with `cores` logical cores: all but one. ORT's pool computes on the calling
 * thread too, so `cores` threads leave nothing for the page's main thread and the garbage collector; measured on a
 * 2-core machine with other work on it, 2 threads stalled the tab at step 0 (its main thread stopped answering, the
 * renderer churning 3–4 GB) while 1 thread trained 30 steps in 10 s.
 */
export function wasmThreads(cores: number): number {
  return Math.max(1, Math.floor(cores) - 1);
}
