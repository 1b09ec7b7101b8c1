// A tiny Llama-style decoder block (RMSNorm, attention with RoPE, GQA and a causal mask, SwiGLU MLP, LoRA on q_proj)
// built from the op constructors. Used by the float64 gradient check and the WebGPU placement check.
import * as O from '../../src/engine/ops.ts';
import type { Value } from '../../src/engine/ir.ts';
import type { GraphBuilder } from '../../src/engine/graph.ts';
import type { InputSpec } from './gradcheck.ts';

const [B, T, D, H, KV, HD, FF, R] = [2, 4, 8, 2, 1, 4, 12, 2];
export { D, FF };

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

export function block(g: GraphBuilder, v: Readonly<Record<string, Value>>): Value {
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
export const BLOCK_INPUTS: Record<string, InputSpec> = {
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

export const BLOCK_PARAMS = ['x', 'ln1', 'wq', 'wk', 'wv', 'wo', 'ln2', 'wgate', 'wup', 'wdown', 'loraA', 'loraB'];
