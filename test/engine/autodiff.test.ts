// The autodiff walk itself: fan-out accumulation, seeds, zero gradients for unrelated inputs, gradient stopping at
// integer casts, and build-time errors for ops without a rule or declared unsupported.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { grad, unbroadcast } from '../../src/engine/autodiff.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { runGraph } from './run-graph.ts';
import { gradCheck } from './gradcheck.ts';
import type { Value } from '../../src/engine/ir.ts';

describe('grad', () => {
  it('sums contributions when a value fans out (x used three times)', async () => {
    await gradCheck({
      inputs: { x: { shape: [3] } },
      wrt: ['x'],
      build: (g, v) => O.Add(g, O.Mul(g, v.x!, v.x!), O.Exp(g, v.x!)),
    });
  });

  it('folds earlier adjoints into a gradient Gemm as its C (x feeds an elementwise op and two Gemms, a LoRA linear)', async () => {
    const build = (g: GraphBuilder, v: Readonly<Record<string, Value>>): Value => {
      const x = v.x!;
      const base = O.Gemm(g, x, v.w!, null, { transB: true });
      const lora = O.Gemm(g, O.Gemm(g, x, v.a!, null, { transB: true }), v.b!, base, { transB: true, alpha: 0.5 });
      return O.Add(g, O.Mul(g, lora, lora), O.Tanh(g, x));
    };
    await gradCheck({ inputs: { x: { shape: [3, 4] }, w: { shape: [4, 4] }, a: { shape: [2, 4] }, b: { shape: [4, 2] } }, wrt: ['x', 'w', 'a', 'b'], build });
    // The three contributions to dx (Tanh, the base Gemm, the LoRA A Gemm) are summed inside Gemm C inputs: one Add
    // (the Tanh and Mul terms) at most, none of them after a Gemm.
    const g = new GraphBuilder('fold');
    const ins = { x: g.input('x', 'float32', [3, 4], 'trainable'), w: g.input('w', 'float32', [4, 4]), a: g.input('a', 'float32', [2, 4], 'trainable'), b: g.input('b', 'float32', [4, 2], 'trainable') };
    const loss = O.ReduceSum(g, build(g, ins), []);
    const [dx] = grad(g, loss, [ins.x, ins.a, ins.b]);
    g.output(dx!, 'dx');
    const graph = g.build();
    verifyGraph(graph);
    const producer = graph.nodes.find((n) => n.outputs.some((o) => o.name === 'dx'))!;
    expect(producer.op).toBe('Gemm');
    expect(producer.inputs[2]).not.toBeNull();
    const gemmOutputs = new Set(graph.nodes.filter((n) => n.op === 'Gemm').flatMap((n) => n.outputs.map((o) => o.id)));
    expect(graph.nodes.filter((n) => n.op === 'Add' && n.inputs.some((i) => i && gemmOutputs.has(i.id)))).toEqual([]);
  });

  it('uses the seed, and gives zeros to inputs the loss does not depend on', async () => {
    const g = new GraphBuilder('seed');
    const x = g.input('x', 'float64', [2], 'trainable');
    const unused = g.input('unused', 'float64', [2, 2], 'trainable');
    const seed = g.input('seed', 'float64', [2]);
    const y = O.Mul(g, x, 3);
    const [dx, du] = grad(g, y, [x, unused], seed);
    g.output(dx!, 'dx');
    g.output(du!, 'du');
    const graph = g.build();
    verifyGraph(graph);
    const r = await runGraph(graph, { x: [1, 2], unused: [1, 2, 3, 4], seed: [10, -1] });
    expect(r.dx!.data).toEqual([30, -3]);
    expect(r.du!.data).toEqual([0, 0, 0, 0]);
  });

  it('stops at a cast to an integer type', async () => {
    const g = new GraphBuilder('stop');
    const x = g.input('x', 'float64', [3], 'trainable');
    const rounded = O.Cast(g, O.Cast(g, x, 'int32'), 'float64');
    const loss = O.ReduceSum(g, O.Add(g, O.Mul(g, rounded, x), x), []);
    const [dx] = grad(g, loss, [x]);
    g.output(dx!, 'dx');
    const r = await runGraph(g.build(), { x: [1.5, 2.25, -3.75] });
    expect(r.dx!.data).toEqual([2, 3, -2]); // rounded + 1, truncation toward zero
  });

  it('fails at build time, naming the node, for an op without a rule or an unsupported op', () => {
    const g = new GraphBuilder('errors');
    const x = g.input('x', 'float32', [2], 'trainable');
    const [odd] = g.node({ op: 'Softplus', inputs: [x], outputs: [{ dtype: 'float32', shape: [2] }] });
    expect(() => grad(g, O.ReduceSum(g, odd!, []), [x])).toThrow(/grad: node \/Softplus_0 \(Softplus\) is on the path .* has no gradient rule/);
    const data = g.input('d', 'float32', [4, 2], 'trainable');
    const idx = g.input('i', 'int64', [1, 1]);
    const scattered = O.ScatterND(g, data, idx, O.Reshape(g, x, [1, 2]), 'add');
    expect(() => grad(g, O.ReduceSum(g, scattered, []), [data])).toThrow(/ScatterND_\d+ \(ScatterND\) is not differentiable: its gradient needs GatherND/);
    expect(() => grad(g, O.Cast(g, x, 'int32'), [x])).toThrow(/loss .* has dtype int32/);
  });

  it('does not differentiate through a Gather with int64 indices, with a hint to use int32', () => {
    const g = new GraphBuilder('gather64');
    const table = g.input('table', 'float32', [10, 4], 'trainable');
    const ids = g.input('ids', 'int64', [3]);
    expect(() => grad(g, O.ReduceSum(g, O.Gather(g, table, ids, 0), []), [table])).toThrow(/needs int32 indices .* feed token ids as int32/);
  });

  it('unbroadcast sums added and stretched axes, and rejects shapes that are not a broadcast', () => {
    const g = new GraphBuilder('ub');
    const d = g.input('d', 'float32', [5, 3, 4]);
    expect(unbroadcast(g, d, [3, 1]).shape).toEqual([3, 1]);
    expect(unbroadcast(g, d, [4]).shape).toEqual([4]);
    expect(unbroadcast(g, d, [5, 3, 4])).toBe(d);
    expect(() => unbroadcast(g, d, [2, 4])).toThrow(/not a broadcast of input shape \[2, 4\]/);
  });
});
