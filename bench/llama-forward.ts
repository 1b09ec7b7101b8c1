// A Llama-shaped decoder stack built from engine ops, for the engine benchmark only (src/models owns real models):
// embedding → N × (RMSNorm → attention with RoPE + causal mask → residual → RMSNorm → SwiGLU MLP → residual) → RMSNorm
// → LM head, with LoRA (PEFT layout: A [r, in], B [out, r], scale alpha / r) on every linear layer. Frozen weights are
// stored [in, out] so the base projections need no Transpose.
import type { Value } from '../src/engine/ir.ts';
import { makeTensor } from '../src/engine/graph.ts';
import type { ForwardFn } from '../src/engine/step.ts';
import type { HostTensor } from '../src/runtime/backend.ts';
import {
  Add, Concat, Gather, MatMul, Mul, Reshape, Sigmoid, SimplifiedLayerNormalization, Softmax, Split, Sub, Transpose,
} from '../src/engine/ops.ts';

export interface LlamaDims {
  readonly batch: number;
  readonly seq: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly rank: number;
  readonly alpha: number;
}

const LINEARS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** [in, out] of each linear layer. */
export function linearShapes(d: LlamaDims): Record<(typeof LINEARS)[number], [number, number]> {
  const hd = d.hidden / d.heads;
  return {
    q_proj: [d.hidden, d.heads * hd],
    k_proj: [d.hidden, d.kvHeads * hd],
    v_proj: [d.hidden, d.kvHeads * hd],
    o_proj: [d.heads * hd, d.hidden],
    gate_proj: [d.hidden, d.intermediate],
    up_proj: [d.hidden, d.intermediate],
    down_proj: [d.intermediate, d.hidden],
  };
}

export function llamaForward(d: LlamaDims): ForwardFn {
  const hd = d.hidden / d.heads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new Error(`hidden ${d.hidden} must split into ${d.heads} heads of even size`);
  const shapes = linearShapes(d);
  return (g) => {
    const ids = g.input('input_ids', 'int32', [d.batch, d.seq], 'data');
    const cos = g.input('rope.cos', 'float32', [d.seq, hd / 2], 'frozen');
    const sin = g.input('rope.sin', 'float32', [d.seq, hd / 2], 'frozen');
    const mask: number[] = [];
    for (let i = 0; i < d.seq; i++) for (let j = 0; j < d.seq; j++) mask.push(j <= i ? 0 : -1e9);
    const causal = g.constant(makeTensor('float32', [d.seq, d.seq], mask));
    const linear = (prefix: string, name: (typeof LINEARS)[number], x: Value): Value => {
      const [fin, fout] = shapes[name];
      const w = g.input(`${prefix}.${name}.weight`, 'float32', [fin, fout], 'frozen');
      const a = g.input(`${prefix}.${name}.lora_A.weight`, 'float32', [d.rank, fin], 'trainable');
      const b = g.input(`${prefix}.${name}.lora_B.weight`, 'float32', [fout, d.rank], 'trainable');
      const lora = MatMul(g, MatMul(g, x, Transpose(g, a)), Transpose(g, b)); // [B, T, out]
      return Add(g, MatMul(g, x, w), Mul(g, lora, d.alpha / d.rank));
    };
    const rope = (x: Value): Value => {
      // x [B, h, T, hd]; rotate-half form as in transformers' apply_rotary_pos_emb.
      const [x1, x2] = Split(g, x, [hd / 2, hd / 2], 3);
      return Concat(g, [Sub(g, Mul(g, x1!, cos), Mul(g, x2!, sin)), Add(g, Mul(g, x2!, cos), Mul(g, x1!, sin))], 3);
    };
    const heads = (x: Value, n: number): Value => Transpose(g, Reshape(g, x, [d.batch, d.seq, n, hd]), [0, 2, 1, 3]); // [B, n, T, hd]
    let x = Gather(g, g.input('embed_tokens.weight', 'float32', [d.vocab, d.hidden], 'frozen'), ids, 0); // [B, T, H]
    for (let l = 0; l < d.layers; l++) {
      const p = `layers.${l}`;
      g.scope(p, () => {
        const h = SimplifiedLayerNormalization(g, x, g.input(`${p}.input_layernorm.weight`, 'float32', [d.hidden], 'frozen'), 1e-5);
        const q = rope(heads(linear(p, 'q_proj', h), d.heads));
        let k = rope(heads(linear(p, 'k_proj', h), d.kvHeads));
        let v = heads(linear(p, 'v_proj', h), d.kvHeads);
        if (d.kvHeads !== d.heads) {
          // GQA: repeat each kv head heads/kvHeads times along the head axis.
          const rep = d.heads / d.kvHeads;
          const expand = (t: Value) => Concat(g, Split(g, t, new Array<number>(d.kvHeads).fill(1), 1).flatMap((s) => new Array<Value>(rep).fill(s)), 1);
          k = expand(k);
          v = expand(v);
        }
        const scores = Add(g, Mul(g, MatMul(g, q, Transpose(g, k, [0, 1, 3, 2])), 1 / Math.sqrt(hd)), causal); // [B, h, T, T]
        const attn = MatMul(g, Softmax(g, scores, -1), v); // [B, h, T, hd]
        const merged = Reshape(g, Transpose(g, attn, [0, 2, 1, 3]), [d.batch, d.seq, d.hidden]);
        x = Add(g, x, linear(p, 'o_proj', merged));
        const h2 = SimplifiedLayerNormalization(g, x, g.input(`${p}.post_attention_layernorm.weight`, 'float32', [d.hidden], 'frozen'), 1e-5);
        const gate = linear(p, 'gate_proj', h2);
        const act = Mul(g, Mul(g, gate, Sigmoid(g, gate)), linear(p, 'up_proj', h2)); // SiLU(gate) · up
        x = Add(g, x, linear(p, 'down_proj', act));
      });
    }
    const final = SimplifiedLayerNormalization(g, x, g.input('norm.weight', 'float32', [d.hidden], 'frozen'), 1e-5);
    return MatMul(g, final, g.input('lm_head.weight', 'float32', [d.hidden, d.vocab], 'frozen')); // [B, T, V]
  };
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded weights: frozen tensors, LoRA A uniform ±1/√in, B small non-zero (so every tensor has a gradient). */
export function llamaWeights(d: LlamaDims, seed: number): { frozen: Record<string, HostTensor>; params: Record<string, Float32Array> } {
  const rand = seeded(seed);
  const u = (n: number, bound: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);
  const f = (dims: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', dims, data });
  const hd = d.hidden / d.heads;
  const frozen: Record<string, HostTensor> = {};
  const params: Record<string, Float32Array> = {};
  const cos: number[] = [];
  const sin: number[] = [];
  for (let t = 0; t < d.seq; t++) {
    for (let i = 0; i < hd / 2; i++) {
      const angle = t / 10000 ** ((2 * i) / hd);
      cos.push(Math.cos(angle));
      sin.push(Math.sin(angle));
    }
  }
  frozen['rope.cos'] = f([d.seq, hd / 2], Float32Array.from(cos));
  frozen['rope.sin'] = f([d.seq, hd / 2], Float32Array.from(sin));
  frozen['embed_tokens.weight'] = f([d.vocab, d.hidden], u(d.vocab * d.hidden, 1));
  const shapes = linearShapes(d);
  for (let l = 0; l < d.layers; l++) {
    const p = `layers.${l}`;
    frozen[`${p}.input_layernorm.weight`] = f([d.hidden], new Float32Array(d.hidden).fill(1));
    frozen[`${p}.post_attention_layernorm.weight`] = f([d.hidden], new Float32Array(d.hidden).fill(1));
    for (const name of LINEARS) {
      const [fin, fout] = shapes[name];
      frozen[`${p}.${name}.weight`] = f([fin, fout], u(fin * fout, 1 / Math.sqrt(fin)));
      params[`${p}.${name}.lora_A.weight`] = u(d.rank * fin, 1 / Math.sqrt(fin));
      params[`${p}.${name}.lora_B.weight`] = u(fout * d.rank, 1e-3);
    }
  }
  frozen['norm.weight'] = f([d.hidden], new Float32Array(d.hidden).fill(1));
  frozen['lm_head.weight'] = f([d.hidden, d.vocab], u(d.hidden * d.vocab, 1 / Math.sqrt(d.hidden)));
  return { frozen, params };
}
