// The whole tiny decoder block (tiny-block.ts) differentiated end to end and checked against float64 central
// differences on ORT's CPU EP, plus the check that only requested parameters get gradient nodes.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import type { Value } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { gradCheck } from './gradcheck.ts';
import { BLOCK_INPUTS as inputs, BLOCK_PARAMS, D, FF, block } from './tiny-block.ts';

describe('transformer block gradients', () => {
  it('match float64 central differences for every parameter and the input', async () => {
    const wrt = BLOCK_PARAMS;
    const { checked, maxRelError } = await gradCheck({ inputs, wrt, build: block, seed: 7, h: 1e-5 });
    console.log(`block gradcheck: ${checked} elements, max relative error ${maxRelError.toExponential(2)}`);
    expect(checked).toBe(wrt.reduce((n, k) => n + inputs[k]!.shape.reduce((a, b) => a * b, 1), 0));
    expect(maxRelError).toBeLessThan(1e-6);
  });

  it('builds gradient nodes only for the requested LoRA matrices', () => {
    const count = (wrt: string[]): { nodes: number; ffWeightGrads: number } => {
      const g = new GraphBuilder('block');
      const v: Record<string, Value> = {};
      for (const [name, spec] of Object.entries(inputs)) v[name] = g.input(name, 'float64', spec.shape, wrt.includes(name) ? 'trainable' : 'frozen');
      const loss = O.ReduceSum(g, block(g, v), []);
      const before = g.nodes.length;
      grad(g, loss, wrt.map((k) => v[k]!));
      const added = g.nodes.slice(before);
      // A [FF, D] gradient can only be d wdown: none of the forward intermediates has that shape.
      const ffWeightGrads = added.filter((n) => n.outputs.some((o) => o.shape.length === 2 && o.shape[0] === FF && o.shape[1] === D)).length;
      return { nodes: added.length, ffWeightGrads };
    };
    const lora = count(['loraA', 'loraB']);
    const all = count(BLOCK_PARAMS);
    expect(lora.ffWeightGrads).toBe(0);
    expect(all.ffWeightGrads).toBeGreaterThan(0);
    expect(lora.nodes).toBeLessThan(all.nodes);
  });
});
