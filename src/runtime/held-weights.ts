// Frozen weights held by the sessions themselves on host backends (Backend.sessionWeights): onnxruntime-web's WASM EP
// copies every CPU-side feed into its heap on every run, so values that never change become initializers the session
// reads once, from external data (WASM) or from raw data in the model bytes (onnxruntime-node's CPU EP). Shared by the
// training sessions (train-session.ts) and the generation sessions (src/train/generation.ts).
import type { Graph } from '../engine/graph.ts';
import type { ConstTensor } from '../engine/ir.ts';
import { serializeGraph, type ExternalInputs } from '../engine/onnx.ts';
import type { Backend, HostTensor, RuntimeSession, SessionConfig } from './backend.ts';

/**
 * Largest total of frozen weights that sessions hold themselves. Each session that holds them keeps its own copy (on
 * WASM in the 4 GiB wasm32 heap, where fed weights need only one transient copy per run; inline they also pass through
 * the model bytes, which protobuf caps at 2 GB). Above this the weights are fed as before.
 */
export const HELD_WEIGHTS_LIMIT_BYTES = 768 * 1024 ** 2;

/** The frozen values a HeldWeights set is made from: name, dtype and shape, and the data. */
interface HeldSpec {
  readonly name: string;
  readonly dtype: ConstTensor['dtype'];
  readonly shape: readonly number[];
}

/**
 * Frozen weights for sessions to hold: 'external', each tensor its own external-data buffer, a view of the caller's
 * array (no copy on this side); 'inline', raw data in the model bytes. Per graph, only the frozen inputs that graph has.
 */
export class HeldWeights {
  private readonly files = new Map<string, { location: string; data: Uint8Array }>();

  private constructor(
    readonly how: 'external' | 'inline',
    private readonly specs: readonly HeldSpec[],
    private readonly values: Readonly<Record<string, HostTensor>>,
  ) {
    specs.forEach((spec, i) => {
      const t = values[spec.name]!;
      this.files.set(spec.name, { location: `frozen/${i}.bin`, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    });
  }

  /**
   * The weights the sessions of `backend` should hold, or null when they should be fed: WebGPU (buffers uploaded once
   * serve every run), `feeds` asked for, or more than HELD_WEIGHTS_LIMIT_BYTES in all.
   */
  static forBackend(backend: Backend, specs: readonly HeldSpec[], values: Readonly<Record<string, HostTensor>>, feeds = false): HeldWeights | null {
    if (!backend.sessionWeights || feeds) return null;
    const bytes = specs.reduce((n, spec) => n + values[spec.name]!.data.byteLength, 0);
    return bytes <= HELD_WEIGHTS_LIMIT_BYTES ? new HeldWeights(backend.sessionWeights, specs, values) : null;
  }

  /** Whether `name` is one of the held weights (it is then no input of the sessions made with them). */
  has(name: string): boolean {
    return this.files.has(name);
  }

  /** A session of `graph` on `backend` holding the frozen inputs the graph has (the others stay inputs). */
  createSession(backend: Backend, graph: Graph, config: SessionConfig): Promise<RuntimeSession> {
    if (this.how === 'inline') return backend.createSession(serializeGraph(graph, { inline: this.inlineFor(graph) }), config);
    const { external, externalData } = this.externalFor(graph);
    return backend.createSession(serializeGraph(graph, { external }), { ...config, externalData });
  }

  private externalFor(graph: Graph): { external: ExternalInputs; externalData: { path: string; data: Uint8Array }[] } {
    const external = new Map<string, { location: string; offset: number; length: number }>();
    const externalData: { path: string; data: Uint8Array }[] = [];
    for (const input of graph.inputs) {
      const file = this.files.get(input.value.name);
      if (!file) continue;
      external.set(input.value.name, { location: file.location, offset: 0, length: file.data.byteLength });
      externalData.push({ path: file.location, data: file.data });
    }
    return { external, externalData };
  }

  private inlineFor(graph: Graph): Map<string, ConstTensor> {
    const names = new Set(graph.inputs.map((i) => i.value.name));
    const inline = new Map<string, ConstTensor>();
    for (const spec of this.specs) {
      if (names.has(spec.name)) inline.set(spec.name, { dtype: spec.dtype, shape: spec.shape, data: this.values[spec.name]!.data as ConstTensor['data'] });
    }
    return inline;
  }
}
