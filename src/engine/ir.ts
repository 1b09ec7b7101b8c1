// Graph IR: typed values with static shapes, nodes named exactly as ONNX ops, and the graph that owns them.
// Pure data, no I/O. Builders (ops.ts), shape inference, the verifier, autodiff and ONNX serialisation work on these.

/** Element types the engine emits. int64 appears only as index inputs (see docs/architecture.md). */
export type DType = 'float32' | 'float64' | 'float16' | 'int32' | 'int64' | 'bool' | 'uint8';

/** Static shape: every dimension is a known non-negative integer. Scalars have shape []. */
export type Shape = readonly number[];

/** A tensor value in the graph: a graph input, an initializer (small constants only), or a node output. */
export interface Value {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** ONNX attribute values, tagged so serialisation never has to guess int vs float. */
export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: ConstTensor };

/** A small constant (shape arrays, scalars, arange tables). Large weights are graph inputs, never constants. */
export interface ConstTensor {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

/** Which part of a training step a node belongs to (graph summaries; the runtime ignores it). */
export type Phase = 'forward' | 'backward' | 'optimizer';

export interface Node {
  readonly id: number;
  /** ONNX op type, spelled as upstream (`MatMul`, `SimplifiedLayerNormalization`, ...). */
  readonly op: string;
  /** '' for the default ONNX domain, 'com.microsoft' for contrib ops. */
  readonly domain: string;
  readonly name: string;
  /** Inputs in ONNX order; `null` marks an omitted optional input. */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** Set by GraphBuilder.phase(): 'forward' unless built inside autodiff (backward) or the optimizer. */
  readonly phase: Phase;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
