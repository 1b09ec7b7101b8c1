// Forward graph of dense Granite (Granite 3.x) as transformers' GraniteForCausalLM defines it: the Llama block —
// pre-RMSNorm attention and SwiGLU MLP, RoPE, GQA — with four multipliers from config.json: embeddings ×
// embedding_multiplier, attention scores × attention_multiplier (the scale itself, in place of 1/√head_dim), each branch
// output × residual_multiplier before its residual add, and logits ÷ logits_scaling. In training graphs
// (opts.modelDropout) the attention probabilities are multiplied by attention_dropout masks, as transformers trains.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { GraniteConfig } from './config.ts';
import type { DropoutSpec } from './gpt2.ts';
import type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
import { applyRope, attention, declareInputs, linear, linears, lmHead, rmsNorm, rotaryDecoderStart, silu, weight } from './layers.ts';

/** One inverted-dropout mask [B, heads, T, T] per layer on the attention probabilities, when attention_dropout > 0. */
export function graniteDropoutSpecs(cfg: GraniteConfig, batch: number, seqLen: number): DropoutSpec[] {
  if (!(cfg.attentionDropout > 0)) return [];
  return Array.from({ length: cfg.numLayers }, (_, i) => ({
    name: `dropout.model.layers.${i}.self_attn`, shape: [batch, cfg.numHeads, seqLen, seqLen], p: cfg.attentionDropout,
  }));
}

export function buildGraniteForward(g: GraphBuilder, cfg: GraniteConfig, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T } = ctx;
  if (opts.modelDropout && opts.cache) throw new Error('forward: model dropout is for training graphs, not KV-cache generation');
  const masks = (opts.modelDropout ? graniteDropoutSpecs(cfg, B, T) : []).map((s) => g.input(s.name, 'float32', s.shape));
  const D = cfg.headDim;
  const eps = cfg.rmsNormEps;
  // The query side of the RoPE tables carries attention_multiplier, so scores come out scaled.
  const start = rotaryDecoderStart(ctx, data, cfg, cfg.attentionMultiplier);
  const { heads, bias, rope, embed } = start;
  let x: Value = start.x; // [N, H]
  if (cfg.embeddingMultiplier !== 1) x = O.Mul(g, x, cfg.embeddingMultiplier);
  const residual = (branch: Value): Value => (cfg.residualMultiplier === 1 ? branch : O.Mul(g, branch, cfg.residualMultiplier));
  const cache: CacheBinding[] = [];
  const ab = { bias: cfg.attentionBias };
  const mb = { bias: cfg.mlpBias };
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    x = g.scope(`layers.${i}`, () => {
      const h = rmsNorm(ctx, x, `${p}.input_layernorm.weight`, eps);
      const [qp, kp, vp] = linears(ctx, h, ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`), ab);
      const q = applyRope(ctx, O.Reshape(g, qp!, [B, T, heads.q, D]), rope.q);
      const k = applyRope(ctx, O.Reshape(g, kp!, [B, T, heads.kv, D]), rope.k);
      const v = O.Reshape(g, vp!, [B, T, heads.kv, D]);
      const a = attention(ctx, q, k, v, heads, bias, i, data.positionIds, null, masks[i] ?? null);
      if (a.cache) cache.push(a.cache);
      const x1 = O.Add(g, x, residual(linear(ctx, a.out, `${p}.self_attn.o_proj`, ab)));
      const h2 = rmsNorm(ctx, x1, `${p}.post_attention_layernorm.weight`, eps);
      const gate = linear(ctx, h2, `${p}.mlp.gate_proj`, mb);
      const up = linear(ctx, h2, `${p}.mlp.up_proj`, mb);
      const act = O.Mul(g, silu(ctx, gate), up);
      return O.Add(g, x1, residual(linear(ctx, act, `${p}.mlp.down_proj`, mb)));
    });
  }
  // logits = norm(x) Wᵀ / logits_scaling, computed as (norm(x) / logits_scaling) Wᵀ: the head's input carries the
  // division, so the chunked head + loss (which reads `hidden` and the head weight) needs no Granite case.
  const normed = rmsNorm(ctx, x, 'model.norm.weight', eps);
  const hidden = cfg.logitsScaling === 1 ? normed : O.Div(g, normed, cfg.logitsScaling);
  const head = cfg.tieWordEmbeddings ? embed : weight(ctx, 'lm_head.weight');
  const logits = lmHead(ctx, hidden, head, data.logitsIndex);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
