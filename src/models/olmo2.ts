// Forward graph of OLMo 2 as transformers' Olmo2ForCausalLM defines it: post-norm residual blocks — the attention and
// MLP outputs are RMS-normed (post_attention_layernorm, post_feedforward_layernorm) before each residual add, and no
// norm precedes either branch — q_norm and k_norm over the whole q / k projection outputs (all heads together, before
// the split into heads and before RoPE), RoPE with the Llama scalings, GQA, SwiGLU MLP, a final norm and the head.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { Olmo2Config } from './config.ts';
import type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
import { applyRope, attention, declareInputs, linear, linears, lmHead, rmsNorm, rotaryDecoderStart, silu, weight } from './layers.ts';

export function buildOlmo2Forward(g: GraphBuilder, cfg: Olmo2Config, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T } = ctx;
  const D = cfg.headDim;
  const eps = cfg.rmsNormEps;
  const start = rotaryDecoderStart(ctx, data, cfg, 1 / Math.sqrt(D));
  const { heads, bias, rope, embed } = start;
  let x: Value = start.x; // [N, H]
  const cache: CacheBinding[] = [];
  const ab = { bias: cfg.attentionBias };
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    x = g.scope(`layers.${i}`, () => {
      // q_norm / k_norm normalise the [N, heads·D] projection rows as a whole, then the rows split into heads.
      const [qp, kp, vp] = linears(ctx, x, ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`), ab);
      const qFlat = rmsNorm(ctx, qp!, `${p}.self_attn.q_norm.weight`, eps);
      const kFlat = rmsNorm(ctx, kp!, `${p}.self_attn.k_norm.weight`, eps);
      const v = O.Reshape(g, vp!, [B, T, heads.kv, D]);
      const q = applyRope(ctx, O.Reshape(g, qFlat, [B, T, heads.q, D]), rope.q); // also applies the scale 1/√D
      const k = applyRope(ctx, O.Reshape(g, kFlat, [B, T, heads.kv, D]), rope.k);
      const a = attention(ctx, q, k, v, heads, bias, i, data.positionIds);
      if (a.cache) cache.push(a.cache);
      const attnOut = linear(ctx, a.out, `${p}.self_attn.o_proj`, ab);
      const x1 = O.Add(g, x, rmsNorm(ctx, attnOut, `${p}.post_attention_layernorm.weight`, eps));
      const gate = linear(ctx, x1, `${p}.mlp.gate_proj`, { bias: false });
      const up = linear(ctx, x1, `${p}.mlp.up_proj`, { bias: false });
      const act = O.Mul(g, silu(ctx, gate), up);
      const mlpOut = linear(ctx, act, `${p}.mlp.down_proj`, { bias: false });
      return O.Add(g, x1, rmsNorm(ctx, mlpOut, `${p}.post_feedforward_layernorm.weight`, eps));
    });
  }
  const hidden = rmsNorm(ctx, x, 'model.norm.weight', eps);
  const head = cfg.tieWordEmbeddings ? embed : weight(ctx, 'lm_head.weight');
  const logits = lmHead(ctx, hidden, head, data.logitsIndex);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
