// One small graph per op constructor, built from two [3, 4] inputs x and y of the tested float type. Shared by the
// shape-inference check against ORT CPU (ops.test.ts) and the WebGPU placement check (webgpu.test.ts).
import * as O from '../../src/engine/ops.ts';
import type { Value } from '../../src/engine/ir.ts';
import type { GraphBuilder } from '../../src/engine/graph.ts';

type G = GraphBuilder;
const i64 = (g: G, shape: number[], values: number[]): Value =>
  g.constant({ dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) });

/** Each builds from x, y: [3, 4] inputs of the tested dtype. */
export const OP_CASES: Readonly<Record<string, (g: G, x: Value, y: Value) => Value>> = {
  Add: (g, x, y) => O.Add(g, x, O.Slice(g, y, { starts: [0], ends: [1] })),
  Sub: (g, x, y) => O.Sub(g, x, y),
  Mul: (g, x) => O.Mul(g, x, 3),
  Div: (g, x, y) => O.Div(g, x, O.Add(g, O.Abs(g, y), 1)),
  Pow: (g, x) => O.Pow(g, O.Abs(g, x), 1.5),
  Max: (g, x, y) => O.Max(g, x, y),
  Min: (g, x, y) => O.Min(g, x, y),
  Sqrt: (g, x) => O.Sqrt(g, O.Abs(g, x)),
  Reciprocal: (g, x) => O.Reciprocal(g, x),
  Exp: (g, x) => O.Exp(g, x),
  Log: (g, x) => O.Log(g, O.Abs(g, x)),
  Tanh: (g, x) => O.Tanh(g, x),
  Sigmoid: (g, x) => O.Sigmoid(g, x),
  Neg: (g, x) => O.Neg(g, x),
  Relu: (g, x) => O.Relu(g, x),
  Identity: (g, x) => O.Identity(g, x),
  Where: (g, x, y) => O.Where(g, O.Not(g, O.Greater(g, x, y)), x, O.Unsqueeze(g, O.ReduceMax(g, y, [0], { keepdims: false }), [0])),
  Equal: (g, x, y) => O.Where(g, O.And(g, O.Equal(g, x, x), O.Less(g, x, y)), x, y),
  Clip: (g, x) => O.Clip(g, x, -0.5, 0.5),
  Cast: (g, x) => O.Cast(g, O.Cast(g, x, 'int32'), x.dtype),
  Gelu: (g, x) => O.Gelu(g, x, 'tanh'),
  FastGelu: (g, x) => O.FastGelu(g, x, g.constant([1, 2, 3, 4], x.dtype)),
  Softmax: (g, x) => O.Softmax(g, x, 0),
  ReduceSum: (g, x) => O.ReduceSum(g, x, [1], { keepdims: false }),
  ReduceMean: (g, x) => O.ReduceMean(g, x, []),
  ReduceMax: (g, x) => O.ReduceMax(g, x, [-1]),
  ReduceLogSumExp: (g, x) => O.ReduceLogSumExp(g, x, [0, 1]),
  ReduceSumSquare: (g, x) => O.ReduceSumSquare(g, x, [0], { keepdims: false }),
  MatMul: (g, x, y) => O.MatMul(g, O.Reshape(g, x, [3, 1, 4]), O.Reshape(g, y, [1, 4, 3])),
  Einsum: (g, x, y) => O.Einsum(g, 'bskd,btkd->bkts', [O.Reshape(g, x, [1, 3, 2, 2]), O.Reshape(g, y, [1, 3, 2, 2])]),
  'Einsum one operand': (g, x) => O.Einsum(g, 'ab->ba', [x]),
  'MatMul 1-D': (g, x, y) => O.MatMul(g, O.Reshape(g, x, [12]), O.Reshape(g, y, [12, 1])),
  Gemm: (g, x, y) => O.Gemm(g, x, y, g.constant([1, 2, 3], x.dtype), { transB: true, alpha: 2 }),
  SimplifiedLayerNormalization: (g, x) => O.SimplifiedLayerNormalization(g, x, g.constant([1, 2, 3, 4], x.dtype), 1e-6),
  LayerNormalization: (g, x, y) => O.LayerNormalization(g, x, O.Add(g, y, 1.5), null, 1e-5, 0),
  Reshape: (g, x) => O.Reshape(g, x, [0, 2, -1]),
  Transpose: (g, x) => O.Transpose(g, x),
  Slice: (g, x) => O.Slice(g, x, { starts: [-1, 5], ends: [-100, -100], axes: [1, 0], steps: [-2, -1] }),
  Concat: (g, x, y) => O.Concat(g, [x, y, x], 0),
  Split: (g, x) => O.Split(g, x, [1, 0, 3], 1)[2]!,
  Expand: (g, x) => O.Expand(g, O.Reshape(g, x, [3, 1, 4]), [2, 1, 5, 1]),
  Tile: (g, x) => O.Tile(g, x, [1, 2]),
  Squeeze: (g, x) => O.Squeeze(g, O.Reshape(g, x, [1, 3, 1, 4]), [0, -2]),
  Gather: (g, x) => O.Gather(g, x, g.constant([2, 0], 'int32'), 1),
  GatherElements: (g, x) => O.GatherElements(g, x, i64(g, [2, 4], [2, 0, 1, 2, 0, 0, 0, 1]), 0),
  ScatterElements: (g, x, y) => O.ScatterElements(g, x, i64(g, [3, 1], [3, 3, 0]), O.Slice(g, y, { starts: [0], ends: [1], axes: [1] }), 1, 'add'),
  ScatterND: (g, x, y) => O.ScatterND(g, x, i64(g, [2, 1], [2, 2]), O.Slice(g, y, { starts: [1], ends: [3] }), 'add'),
  Pad: (g, x) => O.Pad(g, x, [1, 0, 2, 3]),
  CumSum: (g, x) => O.CumSum(g, x, 0, { reverse: true }),
  Range: (g, x) => O.Add(g, x, O.Range(g, 0, 2, 0.5, x.dtype)),
};
