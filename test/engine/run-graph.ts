// Test helper: serialise a built Graph and run it on onnxruntime-node (CPU EP, or WebGPU EP with CPU fallback
// disabled) with named feeds. Feeds may be plain
// number arrays (converted to the input's dtype and shape) or ort Tensors; results come back as plain arrays.
import * as ort from 'onnxruntime-node';
import type { DType } from '../../src/engine/ir.ts';
import type { Graph } from '../../src/engine/graph.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';

export type Feed = readonly number[] | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | ort.Tensor;

export interface RunResult {
  readonly dims: readonly number[];
  readonly dtype: DType;
  readonly data: number[];
}

/** Converts a feed for `dtype` into a typed array ort accepts. */
function toTensor(dtype: DType, dims: readonly number[], x: Feed): ort.Tensor {
  if (x instanceof ort.Tensor) return x;
  const values = Array.from(x as ArrayLike<number | bigint>, (v) => Number(v));
  switch (dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(values), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values), dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(values), dims);
    case 'float16':
      throw new Error('run-graph: float16 feeds are not supported on the CPU test path');
  }
}

export type TestEp = 'cpu' | 'webgpu';

/** Whether onnxruntime-node's WebGPU EP can run here (SwiftShader set up by scripts/with-swiftshader.mjs). */
export const WEBGPU_AVAILABLE = process.env.TABTUNE_SWIFTSHADER === '1';

/**
 * A session for `graph`, reusable across runs (finite differences run the same graph many times). 'webgpu' disables
 * CPU fallback, so creation fails, naming the node, if any node would not run on the GPU.
 */
export async function cpuSession(graph: Graph, ep: TestEp = 'cpu'): Promise<(feeds: Readonly<Record<string, Feed>>) => Promise<Record<string, RunResult>>> {
  const options: ort.InferenceSession.SessionOptions =
    ep === 'cpu'
      ? {
          executionProviders: ['cpu'],
          // Keep ORT from rewriting float64 maths into fused kernels with other rounding; tests compare tightly.
          graphOptimizationLevel: 'disabled',
          logSeverityLevel: 3,
        }
      : { executionProviders: [{ name: 'webgpu' }], extra: { session: { disable_cpu_ep_fallback: '1' } }, logSeverityLevel: 3 };
  const session = await ort.InferenceSession.create(serializeGraph(graph), options);
  return async (feeds) => {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const input of graph.inputs) {
      const x = feeds[input.value.name];
      if (x === undefined) throw new Error(`run-graph: no feed for input "${input.value.name}"`);
      ortFeeds[input.value.name] = toTensor(input.value.dtype, input.value.shape, x);
    }
    for (const name of Object.keys(feeds)) {
      if (!graph.inputs.some((i) => i.value.name === name)) throw new Error(`run-graph: "${name}" is not an input of graph "${graph.name}"`);
    }
    const out = await session.run(ortFeeds);
    const result: Record<string, RunResult> = {};
    for (const o of graph.outputs) {
      const t = out[o.value.name];
      if (!t) throw new Error(`run-graph: output "${o.value.name}" missing from the run`);
      const data = Array.from(t.data as ArrayLike<number | bigint | boolean>, (v) => Number(v));
      result[o.value.name] = { dims: [...t.dims], dtype: o.value.dtype, data };
    }
    return result;
  };
}

/** One-shot: build a session for `graph`, run it once with `feeds`. */
export async function runGraph(graph: Graph, feeds: Readonly<Record<string, Feed>>, ep: TestEp = 'cpu'): Promise<Record<string, RunResult>> {
  return (await cpuSession(graph, ep))(feeds);
}
