// Op constructors against ORT: every constructor's inferred output shape must equal the shape ORT's CPU EP actually
// produces, in float32 and float64; plus value checks for the ops whose index rules are easy to get wrong, and the
// construction-time errors.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import type { DType, Value } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { runGraph } from './run-graph.ts';
import { OP_CASES } from './op-cases.ts';

const cases = OP_CASES;

const X = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
const Y = Array.from({ length: 12 }, (_, i) => Math.cos(i));

async function runCase(dtype: DType, f: (g: GraphBuilder, x: Value, y: Value) => Value): Promise<{ inferred: readonly number[]; actual: readonly number[]; data: number[] }> {
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
    ['Einsum', () => O.Einsum(g, 'ab,bc->ac', [a, a]), /Einsum: subscript "b" of "ab,bc->ac" is/],
    ['Einsum', () => O.Einsum(g, 'aa->a', [a]), /repeats a subscript/],
    ['axis', () => O.Softmax(g, a, 2), /Softmax: axis 2 is out of range for rank 2/],
    ['Gemm', () => O.Gemm(g, a, b), /Gemm: inner dimensions differ/],
    ['norm scale', () => O.SimplifiedLayerNormalization(g, a, g.input('s1', 'float32', [1]), 1e-6), /must have the normalised dims' size \[3\]/],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(message);
  });
});
