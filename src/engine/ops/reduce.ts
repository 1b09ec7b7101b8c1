// Reductions (axes as an int64 input, the opset-18 form), Softmax, MatMul, Gemm and the normalisation ops.
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { MS_DOMAIN } from '../graph.ts';
import { broadcastShapes, matmulShape, normAxes, normAxis, reduceShape, sameShape } from '../shape.ts';
import { FLOAT_TYPES, NUMERIC_TYPES, attr, checkDtype, checkRank, checkSameDtype } from './common.ts';
import { numel, shapeToString } from '../ir.ts';

export interface ReduceOptions {
  /** Keep reduced dimensions as size 1 (ONNX default true). */
  readonly keepdims?: boolean;
}

function reduce(g: GraphBuilder, op: string, x: Value, axes: readonly number[], opts: ReduceOptions): Value {
  checkDtype(op, x, op === 'ReduceMax' ? NUMERIC_TYPES : FLOAT_TYPES.concat(['int32']));
  const keepdims = opts.keepdims ?? true;
  // An empty axes list means "all axes" in ONNX; spell them out so no reader has to remember noop_with_empty_axes.
  const norm = axes.length === 0 ? x.shape.map((_, i) => i) : normAxes(op, axes, x.shape.length);
  const shape = reduceShape(x.shape, norm, keepdims);
  const inputs = norm.length === 0 ? [x] : [x, g.constant(norm, 'int64')];
  return g.node({ op, inputs, attrs: { keepdims: attr.int(keepdims ? 1 : 0) }, outputs: [{ dtype: x.dtype, shape }] })[0]!;
}

/** Reduce over `axes` (every axis when empty). */
export const ReduceSum = (g: GraphBuilder, x: Value, axes: readonly number[], opts: ReduceOptions = {}): Value => reduce(g, 'ReduceSum', x, axes, opts);
export const ReduceMean = (g: GraphBuilder, x: Value, axes: readonly number[], opts: ReduceOptions = {}): Value => reduce(g, 'ReduceMean', x, axes, opts);
export const ReduceMax = (g: GraphBuilder, x: Value, axes: readonly number[], opts: ReduceOptions = {}): Value => reduce(g, 'ReduceMax', x, axes, opts);
export const ReduceLogSumExp = (g: GraphBuilder, x: Value, axes: readonly number[], opts: ReduceOptions = {}): Value =>
  reduce(g, 'ReduceLogSumExp', x, axes, opts);
export const ReduceSumSquare = (g: GraphBuilder, x: Value, axes: readonly number[], opts: ReduceOptions = {}): Value =>
  reduce(g, 'ReduceSumSquare', x, axes, opts);

/** Softmax-13 along one axis (default last). */
export function Softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  checkDtype('Softmax', x, FLOAT_TYPES);
  normAxis('Softmax', axis, x.shape.length);
  return g.node({ op: 'Softmax', inputs: [x], attrs: { axis: attr.int(axis) }, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/** MatMul with numpy semantics (batched, broadcast, 1-D promotion). */
export function MatMul(g: GraphBuilder, a: Value, b: Value): Value {
  checkDtype('MatMul', a, NUMERIC_TYPES);
  checkSameDtype('MatMul', [a, b]);
  return g.node({ op: 'MatMul', inputs: [a, b], outputs: [{ dtype: a.dtype, shape: matmulShape('MatMul', a.shape, b.shape) }] })[0]!;
}

export interface GemmOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

/** Gemm: alpha * op(A) @ op(B) + beta * C, A and B 2-D, C unidirectionally broadcast to [M, N]. */
export function Gemm(g: GraphBuilder, a: Value, b: Value, c?: Value | null, opts: GemmOptions = {}): Value {
  checkDtype('Gemm', a, FLOAT_TYPES);
  checkRank('Gemm', a, 2);
  checkRank('Gemm', b, 2);
  checkSameDtype('Gemm', c ? [a, b, c] : [a, b]);
  const [m, ka] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb) throw new Error(`Gemm: inner dimensions differ: op(A) is [${m}, ${ka}], op(B) is [${kb}, ${n}]`);
  if (c && !sameShape(broadcastShapes('Gemm', c.shape, [m, n]), [m, n])) {
    throw new Error(`Gemm: C ${shapeToString(c.shape)} does not broadcast to [${m}, ${n}]`);
  }
  const attrs = {
    alpha: attr.float(opts.alpha ?? 1),
    beta: attr.float(opts.beta ?? 1),
    transA: attr.int(opts.transA ? 1 : 0),
    transB: attr.int(opts.transB ? 1 : 0),
  };
  return g.node({ op: 'Gemm', inputs: c ? [a, b, c] : [a, b], attrs, outputs: [{ dtype: a.dtype, shape: [m, n] }] })[0]!;
}

function normScaleCheck(op: string, x: Value, scale: Value, axis: number): number {
  checkDtype(op, x, FLOAT_TYPES);
  checkSameDtype(op, [x, scale]);
  const a = normAxis(op, axis, x.shape.length);
  const normalized = x.shape.slice(a);
  // ONNX allows a broadcastable scale, but the WebGPU kernels require one element per normalised element.
  if (!sameShape(broadcastShapes(op, scale.shape, normalized), normalized) || numel(scale.shape) !== numel(normalized)) {
    throw new Error(`${op}: "${scale.name}" ${shapeToString(scale.shape)} must have the normalised dims' size ${shapeToString(normalized)} (WebGPU does not broadcast it)`);
  }
  return a;
}

/**
 * SimplifiedLayerNormalization (RMSNorm; ORT registers it in the default domain, since version 1):
 * Y = X / sqrt(mean(X^2 over dims >= axis) + epsilon) * scale.
 */
export function SimplifiedLayerNormalization(g: GraphBuilder, x: Value, scale: Value, epsilon: number, axis = -1): Value {
  normScaleCheck('SimplifiedLayerNormalization', x, scale, axis);
  const attrs = { axis: attr.int(axis), epsilon: attr.float(epsilon), stash_type: attr.int(1) };
  return g.node({ op: 'SimplifiedLayerNormalization', inputs: [x, scale], attrs, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/**
 * com.microsoft SkipSimplifiedLayerNormalization: sum = x + skip, y = RMSNorm(sum) · scale, on 2-D or 3-D inputs over
 * the last axis. Outputs y, mean and inv_std_var ([..., 1]; the WebGPU EP does not write them: never consume them)
 * and sum. GraphBuilder.build() emits it in place of Add + SimplifiedLayerNormalization (fuseSkipNorms).
 */
export function SkipSimplifiedLayerNormalization(g: GraphBuilder, x: Value, skip: Value, scale: Value, epsilon: number): { y: Value; sum: Value } {
  checkDtype('SkipSimplifiedLayerNormalization', x, ['float32']);
  checkSameDtype('SkipSimplifiedLayerNormalization', [x, skip, scale]);
  if (x.shape.length !== 2 && x.shape.length !== 3) throw new Error(`SkipSimplifiedLayerNormalization: input ${shapeToString(x.shape)} must be 2-D or 3-D`);
  if (!sameShape(x.shape, skip.shape)) throw new Error(`SkipSimplifiedLayerNormalization: skip ${shapeToString(skip.shape)} must have the input's shape ${shapeToString(x.shape)}`);
  normScaleCheck('SkipSimplifiedLayerNormalization', x, scale, -1);
  const stat = [...x.shape.slice(0, -1), 1];
  const [y, , , sum] = g.node({
    op: 'SkipSimplifiedLayerNormalization',
    domain: MS_DOMAIN,
    inputs: [x, skip, scale],
    attrs: { epsilon: attr.float(epsilon) },
    outputs: [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: stat },
      { dtype: x.dtype, shape: stat },
      { dtype: x.dtype, shape: x.shape },
    ],
  });
  return { y: y!, sum: sum! };
}

/** LayerNormalization-17: Y = (X - mean) / sqrt(var + epsilon) * scale + bias over dims >= axis. */
export function LayerNormalization(g: GraphBuilder, x: Value, scale: Value, bias: Value | null, epsilon: number, axis = -1): Value {
  normScaleCheck('LayerNormalization', x, scale, axis);
  if (bias) normScaleCheck('LayerNormalization', x, bias, axis);
  const attrs = { axis: attr.int(axis), epsilon: attr.float(epsilon), stash_type: attr.int(1) };
  return g.node({ op: 'LayerNormalization', inputs: bias ? [x, scale, bias] : [x, scale], attrs, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/**
 * com.microsoft RotaryEmbedding, rotate_half convention (not interleaved): y = x·cos[pos] + rotate_half(x)·sin[pos],
 * with `positionIds` int64 [B, S] indexing the caches cos, sin [maxPositions, D/2]. x is head-major [B, heads, S, D],
 * or token-major [B, S, heads·D] (the heads are then counted from the caches' width, and written as num_heads).
 * Runs on the WebGPU and the CPU/WASM EPs (float32).
 */
export function RotaryEmbedding(g: GraphBuilder, x: Value, positionIds: Value, cos: Value, sin: Value): Value {
  checkDtype('RotaryEmbedding', x, ['float32']);
  if (x.shape.length !== 3 && x.shape.length !== 4) throw new Error(`RotaryEmbedding: input ${shapeToString(x.shape)} must be [B, heads, S, D] or [B, S, heads·D]`);
  checkDtype('RotaryEmbedding', positionIds, ['int64']);
  checkSameDtype('RotaryEmbedding', [x, cos, sin]);
  const tokenMajor = x.shape.length === 3;
  const B = x.shape[0]!;
  const S = x.shape[tokenMajor ? 1 : 2]!;
  const D = tokenMajor ? cos.shape[1]! * 2 : x.shape[3]!;
  if (positionIds.shape.length !== 2 || positionIds.shape[0] !== B || positionIds.shape[1] !== S) {
    throw new Error(`RotaryEmbedding: position ids ${shapeToString(positionIds.shape)} must be [${B}, ${S}] for x ${shapeToString(x.shape)}`);
  }
  for (const t of [cos, sin]) {
    if (t.shape.length !== 2 || t.shape[1]! * 2 !== D) throw new Error(`RotaryEmbedding: cache "${t.name}" ${shapeToString(t.shape)} must be [maxPositions, ${D / 2}]`);
  }
  if (!sameShape(cos.shape, sin.shape)) throw new Error(`RotaryEmbedding: cos ${shapeToString(cos.shape)} and sin ${shapeToString(sin.shape)} caches differ`);
  if (tokenMajor && (D === 0 || x.shape[2]! % D !== 0)) throw new Error(`RotaryEmbedding: hidden size ${x.shape[2]} of ${shapeToString(x.shape)} is not a whole number of ${D}-wide heads`);
  return g.node({
    op: 'RotaryEmbedding',
    domain: MS_DOMAIN,
    inputs: [x, positionIds, cos, sin],
    attrs: tokenMajor ? { interleaved: attr.int(0), num_heads: attr.int(x.shape[2]! / D) } : { interleaved: attr.int(0) },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  })[0]!;
}

/** com.microsoft QuickGelu: x·sigmoid(alpha·x); alpha 1 is SiLU (Swish), the Llama-family MLP activation. */
export function QuickGelu(g: GraphBuilder, x: Value, alpha = 1): Value {
  checkDtype('QuickGelu', x, ['float32']);
  return g.node({ op: 'QuickGelu', domain: MS_DOMAIN, inputs: [x], attrs: { alpha: attr.float(alpha) }, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/** com.microsoft FastGelu (tanh approximation, GPT-2's gelu_new), optional bias added first. */
export function FastGelu(g: GraphBuilder, x: Value, bias?: Value): Value {
  checkDtype('FastGelu', x, FLOAT_TYPES);
  if (bias) {
    checkSameDtype('FastGelu', [x, bias]);
    checkRank('FastGelu', bias, 1);
  }
  return g.node({ op: 'FastGelu', domain: MS_DOMAIN, inputs: bias ? [x, bias] : [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}
