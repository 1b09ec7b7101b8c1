// A whole small Llama-style decoder block (RMSNorm, attention with RoPE, GQA and a causal mask, SwiGLU MLP, LoRA on
// q_proj) differentiated end to end and checked against float64 central differences on ORT's CPU EP.
import { describe, expect, it } from 'vitest';
import * as O from '../../src/engine/ops.ts';
import type { Value } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { gradCheck } from './gradcheck.ts';
import type { InputSpec } from './gradcheck.ts';

const [B, T, D, H, KV, HD, FF, R] = [2, 4, 8, 2, 1, 4, 12, 2];

function ropeTables(): { cos: number[]; sin: number[] } {
  const cos: number[] = [];
  const sin: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < HD; i++) {
      const freq = 1 / 10000 ** ((2 * (i % (HD / 2))) / HD);
      cos.push(Math.cos(t * freq));
      sin.push(Math.sin(t * freq));
    }
  }
  return { cos, sin };
}

/** rotate_half as in HF Llama: concat(-x2, x1) over the last axis. */
function rope(g: GraphBuilder, x: Value, cos: Value, sin: Value): Value {
  const half = HD / 2;
  const x1 = O.Slice(g, x, { starts: [0], ends: [half], axes: [-1] });
  const x2 = O.Slice(g, x, { starts: [half], ends: [HD], axes: [-1] });
  const rotated = O.Concat(g, [O.Neg(g, x2), x1], -1);
  return O.Add(g, O.Mul(g, x, cos), O.Mul(g, rotated, sin));
}

function heads(g: GraphBuilder, x: Value, n: number): Value {
  return O.Transpose(g, O.Reshape(g, x, [B, T, n, HD]), [0, 2, 1, 3]); // [B, n, T, HD]
}

/** GQA: repeat each KV head H/KV times -> [B, H, T, HD]. */
function repeatKv(g: GraphBuilder, x: Value): Value {
  const e = O.Expand(g, O.Unsqueeze(g, x, [2]), [B, KV, H / KV, T, HD]);
  return O.Reshape(g, e, [B, H, T, HD]);
}

function block(g: GraphBuilder, v: Readonly<Record<string, Value>>): Value {
  const p = (k: string): Value => v[k]!;
  const h = O.SimplifiedLayerNormalization(g, p('x'), p('ln1'), 1e-6);
  const lora = O.Mul(g, O.MatMul(g, O.MatMul(g, h, p('loraA')), p('loraB')), 2);
  const q = rope(g, heads(g, O.Add(g, O.MatMul(g, h, p('wq')), lora), H), p('cos'), p('sin'));
  const k = repeatKv(g, rope(g, heads(g, O.MatMul(g, h, p('wk')), KV), p('cos'), p('sin')));
  const val = repeatKv(g, heads(g, O.MatMul(g, h, p('wv')), KV));
  const scores = O.Mul(g, O.MatMul(g, q, O.Transpose(g, k, [0, 1, 3, 2])), 1 / Math.sqrt(HD)); // [B, H, T, T]
  const future = O.Greater(g, O.Range(g, 0, T), O.Unsqueeze(g, O.Range(g, 0, T), [1])); // [T, T], true above the diagonal
  const attn = O.Softmax(g, O.Where(g, future, -1e9, scores), -1);
  const ctx = O.Reshape(g, O.Transpose(g, O.MatMul(g, attn, val), [0, 2, 1, 3]), [B, T, H * HD]);
  const x1 = O.Add(g, p('x'), O.MatMul(g, ctx, p('wo')));
  const h2 = O.SimplifiedLayerNormalization(g, x1, p('ln2'), 1e-6);
  const gate = O.MatMul(g, h2, p('wgate'));
  const silu = O.Mul(g, gate, O.Sigmoid(g, gate));
  return O.Add(g, x1, O.MatMul(g, O.Mul(g, silu, O.MatMul(g, h2, p('wup'))), p('wdown')));
}

const { cos, sin } = ropeTables();
const inputs: Record<string, InputSpec> = {
  x: { shape: [B, T, D] },
  ln1: { shape: [D], range: [0.5, 1.5] },
  wq: { shape: [D, H * HD] },
  wk: { shape: [D, KV * HD] },
  wv: { shape: [D, KV * HD] },
  wo: { shape: [H * HD, D] },
  ln2: { shape: [D], range: [0.5, 1.5] },
  wgate: { shape: [D, FF] },
  wup: { shape: [D, FF] },
  wdown: { shape: [FF, D] },
  loraA: { shape: [D, R] },
  loraB: { shape: [R, H * HD] },
  cos: { shape: [T, HD], values: cos },
  sin: { shape: [T, HD], values: sin },
};

describe('transformer block gradients', () => {
  it('match float64 central differences for every parameter and the input', async () => {
    const wrt = ['x', 'ln1', 'wq', 'wk', 'wv', 'wo', 'ln2', 'wgate', 'wup', 'wdown', 'loraA', 'loraB'];
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
    const all = count(['x', 'ln1', 'wq', 'wk', 'wv', 'wo', 'ln2', 'wgate', 'wup', 'wdown', 'loraA', 'loraB']);
    expect(lora.ffWeightGrads).toBe(0);
    expect(all.ffWeightGrads).toBeGreaterThan(0);
    expect(lora.nodes).toBeLessThan(all.nodes);
  });
});
