// Op constructors against ORT: every constructor's inferred output shape must equal the shape ORT's CPU EP actually
// produces, in float32 and float64; plus value checks for the ops whose index rules are easy to get wrong, and the
// construction-time errors.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import type { DType, Value } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { runGraph } from './run-graph.ts';

type G = GraphBuilder;
const i64 = (g: G, shape: number[], values: number[]): Value =>
  g.constant({ dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) });

/** Each builds from x, y: [3, 4] inputs of the tested dtype. */
const cases: Record<string, (g: G, x: Value, y: Value) => Value> = {
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
  'MatMul 1-D': (g, x, y) => O.MatMul(g, O.Reshape(g, x, [12]), O.Reshape(g, y, [12, 1])),
  Gemm: (g, x, y) => O.Gemm(g, x, y, g.constant([1, 2, 3], x.dtype), { transB: true, alpha: 2 }),
  SimplifiedLayerNormalization: (g, x) => O.SimplifiedLayerNormalization(g, x, g.constant([1, 2, 3, 4], x.dtype), 1e-6),
  LayerNormalization: (g, x) => O.LayerNormalization(g, x, g.constant([1, 2, 3, 4], x.dtype), null, 1e-5, 0),
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

const X = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
const Y = Array.from({ length: 12 }, (_, i) => Math.cos(i));

async function runCase(dtype: DType, f: (g: G, x: Value, y: Value) => Value): Promise<{ inferred: readonly number[]; actual: readonly number[]; data: number[] }> {
  const g = new GraphBuilder('op');
  const out = f(g, g.input('x', dtype, [3, 4]), g.input('y', dtype, [3, 4]));
  g.output(out, 'out');
  const graph = g.build();
  verifyGraph(graph);
  const r = (await runGraph(graph, { x: X, y: Y })).out!;
  return { inferred: out.shape, actual: r.dims, data: r.data };
}

describe('op constructors: inferred shapes equal what ORT computes', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [name, f] of Object.entries(cases)) {
      it(`${name} (${dtype})`, async () => {
        const { inferred, actual } = await runCase(dtype, f);
        expect(actual).toEqual(inferred);
      });
    }
  }
});

describe('op values where index rules are subtle', () => {
  it('Slice with negative steps and clamped bounds', async () => {
    const { data, actual } = await runCase('float64', cases.Slice!);
    // rows 2,1,0 (step -1 from clamped 5 -> 2); columns 3, 1 (step -2 from -1 -> 3)
    expect(actual).toEqual([3, 2]);
    expect(data).toEqual([X[11], X[9], X[7], X[5], X[3], X[1]]);
  });

  it('Reshape with 0 and -1, Gather along axis 1, Pad', async () => {
    expect((await runCase('float64', cases.Reshape!)).inferred).toEqual([3, 2, 2]);
    expect((await runCase('float64', cases.Gather!)).data).toEqual([X[2], X[0], X[6], X[4], X[10], X[8]]);
    const pad = await runCase('float64', cases.Pad!);
    expect(pad.inferred).toEqual([6, 7]);
    expect(pad.data.slice(0, 7)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(pad.data.slice(7, 14)).toEqual([X[0], X[1], X[2], X[3], 0, 0, 0]);
  });
});

describe('construction-time errors name the op and the problem', () => {
  const g = new GraphBuilder('errors');
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4, 3]);
  const ids = g.input('ids', 'int64', [2]);
  const d = g.input('d', 'float64', [2, 3]);
  it.each([
    ['Add', () => O.Add(g, a, b), /Add: shapes \[2, 3\] and \[4, 3\] do not broadcast/],
    ['MatMul', () => O.MatMul(g, a, a), /MatMul: inner dimensions differ/],
    ['dtype', () => O.Mul(g, a, d), /Mul: dtypes differ .*insert a Cast/],
    ['int64 arithmetic', () => O.Add(g, ids, ids), /int64 is for index inputs only/],
    ['Reshape', () => O.Reshape(g, a, [4, -1]), /Reshape: cannot infer -1/],
    ['Transpose', () => O.Transpose(g, a, [0, 0]), /not a permutation/],
    ['Squeeze', () => O.Squeeze(g, a, [0]), /Squeeze: dim 0 of \[2, 3\] is not 1/],
    ['Split', () => O.Split(g, a, [1, 1], 1), /Split: sizes \[1, 1\] must/],
    ['axis', () => O.Softmax(g, a, 2), /Softmax: axis 2 is out of range for rank 2/],
    ['Gemm', () => O.Gemm(g, a, b), /Gemm: inner dimensions differ/],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(message);
  });
});
