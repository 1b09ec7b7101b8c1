// The gradient-check cases, one or more per rule in the gradient table. Shared by the float64 CPU check
// (rules.test.ts) and the float32 WebGPU placement check (webgpu.test.ts).
import * as O from '../../src/engine/ops.ts';
import type { Value } from '../../src/engine/ir.ts';
import type { GraphBuilder } from '../../src/engine/graph.ts';
import { makeTensor } from '../../src/engine/graph.ts';
import type { GradCheckCase } from './gradcheck.ts';

type V = Readonly<Record<string, Value>>;
const pos = [0.5, 2] as const;

/** ORT's CPU EP has no float64 Erf kernel: run the op itself in float32 between casts, with float32 tolerances. */
function viaFloat32(g: GraphBuilder, x: Value, f: (x32: Value) => Value): Value {
  return O.Cast(g, f(O.Cast(g, x, 'float32')), x.dtype);
}
const f32 = { h: 1e-2, rtol: 2e-3, atol: 2e-4 };

const twoByThree = { a: { shape: [2, 3] }, b: { shape: [2, 3] } };
export interface RuleCase extends GradCheckCase {
  readonly op: string;
  readonly title?: string;
}

export const RULE_CASES: readonly RuleCase[] = [
  { op: 'Add', inputs: { a: { shape: [2, 3] }, b: { shape: [3] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Add(g, v.a!, v.b!), title: 'broadcast' },
  { op: 'Sub', inputs: { a: { shape: [2, 1] }, b: { shape: [1, 3] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Sub(g, v.a!, v.b!), title: 'both broadcast' },
  { op: 'Mul', inputs: twoByThree, wrt: ['a', 'b'], build: (g, v: V) => O.Mul(g, v.a!, v.b!) },
  { op: 'Div', inputs: { a: { shape: [2, 3] }, b: { shape: [2, 1], range: pos } }, wrt: ['a', 'b'], build: (g, v: V) => O.Div(g, v.a!, v.b!) },
  { op: 'Pow', inputs: { a: { shape: [2, 3], range: pos }, b: { shape: [3] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Pow(g, v.a!, v.b!) },
  { op: 'Sqrt', inputs: { a: { shape: [5], range: pos } }, wrt: ['a'], build: (g, v: V) => O.Sqrt(g, v.a!) },
  { op: 'Reciprocal', inputs: { a: { shape: [5], range: pos } }, wrt: ['a'], build: (g, v: V) => O.Reciprocal(g, v.a!) },
  { op: 'Exp', inputs: { a: { shape: [5] } }, wrt: ['a'], build: (g, v: V) => O.Exp(g, v.a!) },
  { op: 'Log', inputs: { a: { shape: [5], range: pos } }, wrt: ['a'], build: (g, v: V) => O.Log(g, v.a!) },
  { op: 'Tanh', inputs: { a: { shape: [5] } }, wrt: ['a'], build: (g, v: V) => O.Tanh(g, v.a!) },
  { op: 'Sigmoid', inputs: { a: { shape: [5] } }, wrt: ['a'], build: (g, v: V) => O.Sigmoid(g, v.a!) },
  { op: 'Erf', inputs: { a: { shape: [5] } }, wrt: ['a'], build: (g, v: V) => viaFloat32(g, v.a!, (x) => O.Erf(g, x)), ...f32 },
  { op: 'Neg', inputs: { a: { shape: [5] } }, wrt: ['a'], build: (g, v: V) => O.Neg(g, v.a!) },
  { op: 'Abs', inputs: { a: { shape: [6] } }, wrt: ['a'], build: (g, v: V) => O.Abs(g, v.a!) },
  { op: 'Relu', inputs: { a: { shape: [6] } }, wrt: ['a'], build: (g, v: V) => O.Relu(g, v.a!) },
  { op: 'Identity', inputs: { a: { shape: [3] } }, wrt: ['a'], build: (g, v: V) => O.Identity(g, v.a!) },
  { op: 'Max', inputs: twoByThree, wrt: ['a', 'b'], build: (g, v: V) => O.Max(g, v.a!, v.b!) },
  { op: 'Min', inputs: { a: { shape: [2, 3] }, b: { shape: [3] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Min(g, v.a!, v.b!) },
  { op: 'Clip', inputs: { a: { shape: [8], range: [-2, 2] } }, wrt: ['a'], build: (g, v: V) => O.Clip(g, v.a!, -0.7, 0.9) },
  {
    op: 'Where',
    inputs: { a: { shape: [2, 3] }, b: { shape: [3] }, c: { shape: [2, 3], dtype: 'bool', values: [1, 0, 1, 0, 0, 1] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.Where(g, v.c!, v.a!, v.b!),
  },
  { op: 'Cast', inputs: { a: { shape: [4] } }, wrt: ['a'], build: (g, v: V) => O.Mul(g, O.Cast(g, O.Cast(g, v.a!, 'float32'), v.a!.dtype), v.a!), ...f32 },
  { op: 'Gelu', title: 'tanh', inputs: { a: { shape: [6], range: [-3, 3] } }, wrt: ['a'], build: (g, v: V) => O.Gelu(g, v.a!, 'tanh') },
  {
    op: 'com.microsoft.RotaryEmbedding',
    title: 'head-major, GQA-like positions with a gap (float32 kernel)',
    inputs: { a: { shape: [2, 2, 3, 4] } },
    wrt: ['a'],
    build: (g, v: V) =>
      viaFloat32(g, v.a!, (x) => {
        const cos: number[] = [];
        const sin: number[] = [];
        for (let p = 0; p < 6; p++) {
          for (const f of [1, 0.1]) {
            cos.push(0.8 * Math.cos(p * f));
            sin.push(0.8 * Math.sin(p * f));
          }
        }
        const pos = g.constant(makeTensor('int64', [2, 3], [0, 1, 2, 3, 5, 4]));
        return O.RotaryEmbedding(g, x, pos, g.constant(makeTensor('float32', [6, 2], cos)), g.constant(makeTensor('float32', [6, 2], sin)));
      }),
    ...f32,
  },
  { op: 'com.microsoft.QuickGelu', title: 'alpha 1 (SiLU), float32 kernel', inputs: { a: { shape: [7], range: [-4, 4] } }, wrt: ['a'], build: (g, v: V) => viaFloat32(g, v.a!, (x) => O.QuickGelu(g, x, 1)), ...f32 },
  { op: 'com.microsoft.QuickGelu', title: 'alpha 1.702, float32 kernel', inputs: { a: { shape: [7], range: [-3, 3] } }, wrt: ['a'], build: (g, v: V) => viaFloat32(g, v.a!, (x) => O.QuickGelu(g, x, 1.702)), ...f32 },
  { op: 'Gelu', title: 'erf', inputs: { a: { shape: [6], range: [-3, 3] } }, wrt: ['a'], build: (g, v: V) => viaFloat32(g, v.a!, (x) => O.Gelu(g, x)), ...f32 },
  {
    op: 'com.microsoft.FastGelu',
    inputs: { a: { shape: [2, 4], range: [-3, 3] }, b: { shape: [4] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.FastGelu(g, v.a!, v.b!),
  },
  {
    op: 'Einsum',
    title: 'grouped-query scores, the attention builders\' layout',
    inputs: { a: { shape: [2, 3, 2, 2, 4] }, b: { shape: [2, 5, 2, 4] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.Einsum(g, 'btkrd,bskd->bkrts', [v.a!, v.b!]),
  },
  {
    op: 'Einsum',
    title: 'probabilities times values, back to the token-major layout',
    inputs: { a: { shape: [2, 2, 2, 3, 5] }, b: { shape: [2, 5, 2, 4] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.Einsum(g, 'bkrts,bskd->btkrd', [v.a!, v.b!]),
  },
  { op: 'Einsum', title: 'one operand, a permutation', inputs: { a: { shape: [2, 3, 4] } }, wrt: ['a'], build: (g, v: V) => O.Einsum(g, 'abc->cab', [v.a!]) },
  { op: 'MatMul', title: '2-D', inputs: { a: { shape: [2, 3] }, b: { shape: [3, 4] } }, wrt: ['a', 'b'], build: (g, v: V) => O.MatMul(g, v.a!, v.b!) },
  {
    op: 'MatMul',
    title: 'batched activation x 2-D weight (Gemm fast path)',
    inputs: { a: { shape: [2, 3, 4] }, b: { shape: [4, 5] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.MatMul(g, v.a!, v.b!),
  },
  {
    op: 'MatMul',
    title: 'batched activation x constant 2-D matrix (transposed at build time, like the RoPE rotation)',
    inputs: { a: { shape: [2, 3, 4] } },
    wrt: ['a'],
    build: (g, v: V) => O.MatMul(g, v.a!, g.constant(makeTensor(v.a!.dtype, [4, 3], [0.5, -1, 2, 0, 1.5, 3, -0.25, 1, 0.75, -2, 0, 1]))),
  },
  {
    op: 'MatMul',
    title: 'by a transposed operand (attention scores q kᵀ: the key gradient skips a Transpose)',
    inputs: { a: { shape: [2, 3, 4] }, b: { shape: [2, 5, 4] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.MatMul(g, v.a!, O.Transpose(g, v.b!, [0, 2, 1])),
  },
  {
    op: 'MatMul',
    title: 'broadcast batch (GQA-like)',
    inputs: { a: { shape: [2, 2, 3, 4] }, b: { shape: [2, 1, 4, 3] } },
    wrt: ['a', 'b'],
    build: (g, v: V) => O.MatMul(g, v.a!, v.b!),
  },
  { op: 'MatMul', title: '1-D operands', inputs: { a: { shape: [3] }, b: { shape: [2, 3, 4] }, c: { shape: [4] } }, wrt: ['a', 'b', 'c'], build: (g, v: V) => O.MatMul(g, O.MatMul(g, v.a!, v.b!), v.c!) },
  {
    op: 'Gemm',
    inputs: { a: { shape: [3, 2] }, b: { shape: [4, 3] }, c: { shape: [4] } },
    wrt: ['a', 'b', 'c'],
    build: (g, v: V) => O.Gemm(g, v.a!, v.b!, v.c!, { transA: true, transB: true, alpha: 0.7, beta: 1.3 }),
  },
  { op: 'Gemm', title: 'no transposes', inputs: { a: { shape: [2, 3] }, b: { shape: [3, 4] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Gemm(g, v.a!, v.b!) },
  { op: 'Softmax', inputs: { a: { shape: [2, 3, 4], range: [-3, 3] } }, wrt: ['a'], build: (g, v: V) => O.Softmax(g, v.a!, 1) },
  { op: 'ReduceSum', inputs: { a: { shape: [2, 3, 4] } }, wrt: ['a'], build: (g, v: V) => O.ReduceSum(g, v.a!, [0, 2], { keepdims: false }) },
  { op: 'ReduceMean', inputs: { a: { shape: [2, 3, 4] } }, wrt: ['a'], build: (g, v: V) => O.ReduceMean(g, v.a!, [-1]) },
  { op: 'ReduceMax', inputs: { a: { shape: [3, 4] } }, wrt: ['a'], build: (g, v: V) => O.ReduceMax(g, v.a!, [1], { keepdims: false }) },
  { op: 'ReduceLogSumExp', inputs: { a: { shape: [3, 4], range: [-3, 3] } }, wrt: ['a'], build: (g, v: V) => O.ReduceLogSumExp(g, v.a!, [1], { keepdims: false }) },
  { op: 'ReduceSumSquare', inputs: { a: { shape: [3, 4] } }, wrt: ['a'], build: (g, v: V) => O.ReduceSumSquare(g, v.a!, [0]) },
  {
    op: 'SimplifiedLayerNormalization',
    inputs: { x: { shape: [2, 3, 4] }, s: { shape: [4] } },
    wrt: ['x', 's'],
    build: (g, v: V) => O.SimplifiedLayerNormalization(g, v.x!, v.s!, 1e-6),
  },
  {
    op: 'LayerNormalization',
    inputs: { x: { shape: [3, 5] }, s: { shape: [5] }, b: { shape: [5] } },
    wrt: ['x', 's', 'b'],
    build: (g, v: V) => O.LayerNormalization(g, v.x!, v.s!, v.b!, 1e-5),
  },
  { op: 'Reshape', inputs: { a: { shape: [2, 6] } }, wrt: ['a'], build: (g, v: V) => O.Mul(g, O.Reshape(g, v.a!, [3, -1]), O.Reshape(g, v.a!, [3, 4])) },
  { op: 'Squeeze', inputs: { a: { shape: [2, 1, 3] } }, wrt: ['a'], build: (g, v: V) => O.Squeeze(g, v.a!, [1]) },
  { op: 'Unsqueeze', inputs: { a: { shape: [2, 3] } }, wrt: ['a'], build: (g, v: V) => O.Unsqueeze(g, v.a!, [0, 3]) },
  { op: 'Expand', inputs: { a: { shape: [3, 1] } }, wrt: ['a'], build: (g, v: V) => O.Expand(g, v.a!, [2, 3, 4]) },
  { op: 'Transpose', inputs: { a: { shape: [2, 3, 4] } }, wrt: ['a'], build: (g, v: V) => O.Transpose(g, v.a!, [2, 0, 1]) },
  { op: 'Slice', inputs: { a: { shape: [4, 5] } }, wrt: ['a'], build: (g, v: V) => O.Slice(g, v.a!, { starts: [1, -3], ends: [3, 100], axes: [0, 1] }) },
  { op: 'Concat', inputs: { a: { shape: [2, 3] }, b: { shape: [2, 1] } }, wrt: ['a', 'b'], build: (g, v: V) => O.Concat(g, [v.a!, v.b!, v.a!], 1) },
  {
    op: 'Split',
    inputs: { a: { shape: [2, 6] } },
    wrt: ['a'],
    // The middle part is unused: its adjoint is missing and must be zero-filled.
    build: (g, v: V) => {
      const [p, , r] = O.Split(g, v.a!, [1, 2, 3], 1);
      return O.Concat(g, [O.Mul(g, p!, 2), r!], 1);
    },
  },
  { op: 'Tile', inputs: { a: { shape: [2, 3] } }, wrt: ['a'], build: (g, v: V) => O.Tile(g, v.a!, [2, 3]) },
  {
    op: 'Gather',
    title: 'embedding table, repeated ids',
    inputs: { t: { shape: [5, 3] }, ids: { shape: [2, 3], dtype: 'int32', values: [4, 0, 4, 1, 1, 2] } },
    wrt: ['t'],
    build: (g, v: V) => O.Gather(g, v.t!, v.ids!, 0),
  },
  {
    op: 'GatherElements',
    inputs: { a: { shape: [3, 4] }, idx: { shape: [3, 2], dtype: 'int64', values: [0, 3, 2, 2, 1, 0] } },
    wrt: ['a'],
    build: (g, v: V) => O.GatherElements(g, v.a!, v.idx!, 1),
  },
  {
    op: 'GatherElements',
    title: 'one int32 index per row (the cross-entropy pick): Where(index == arange) adjoint',
    inputs: { a: { shape: [2, 3, 5] }, idx: { shape: [2, 3, 1], dtype: 'int32', values: [4, 0, 2, 2, 1, 3] } },
    wrt: ['a'],
    build: (g, v: V) => O.GatherElements(g, v.a!, v.idx!, 2),
  },
  {
    op: 'ScatterElements',
    title: 'none',
    inputs: { d: { shape: [3, 4] }, idx: { shape: [3, 1], dtype: 'int64', values: [1, 0, 3] }, u: { shape: [3, 1] } },
    wrt: ['d', 'u'],
    build: (g, v: V) => O.ScatterElements(g, v.d!, v.idx!, v.u!, 1),
  },
  {
    op: 'ScatterElements',
    title: 'add',
    inputs: { d: { shape: [3, 2] }, idx: { shape: [2, 2], dtype: 'int64', values: [2, 2, 2, 0] }, u: { shape: [2, 2] } },
    wrt: ['d', 'u'],
    build: (g, v: V) => O.ScatterElements(g, v.d!, v.idx!, v.u!, 0, 'add'),
  },
  { op: 'Pad', inputs: { a: { shape: [2, 3] } }, wrt: ['a'], build: (g, v: V) => O.Pad(g, v.a!, [1, 0, 0, 2]) },
  { op: 'CumSum', inputs: { a: { shape: [2, 4] } }, wrt: ['a'], build: (g, v: V) => O.CumSum(g, v.a!, 1, { exclusive: true }) },
];
