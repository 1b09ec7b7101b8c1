// Forward graph of GPT-2 as transformers' GPT2LMHeadModel defines it: learned position embeddings, pre-LayerNorm
// blocks, fused q/k/v Conv1D (c_attn, weights [in, out]), gelu_new MLP, final ln_f and a head tied to wte.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { Gpt2Config } from './config.ts';
import type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
import { attention, attentionBias, declareInputs, layerNorm, linear, lmHead, weight } from './layers.ts';

export function buildGpt2Forward(g: GraphBuilder, cfg: Gpt2Config, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T, N } = ctx;
  const H = cfg.hiddenSize;
  const heads = { q: cfg.numHeads, kv: cfg.numHeads, dim: cfg.headDim };
  const eps = cfg.layerNormEps;
  const bias = g.scope('prelude', () => attentionBias(ctx, data.positionIds, data.attentionMask, 1));
  const wte = weight(ctx, 'transformer.wte.weight');
  const tokens = O.Gather(g, wte, O.Reshape(g, data.inputIds, [N])); // [N, H]
  const positions = O.Gather(g, weight(ctx, 'transformer.wpe.weight'), O.Reshape(g, data.positionIds, [N]));
  let x: Value = O.Add(g, tokens, positions);
  const cache: CacheBinding[] = [];
  const split = (v: Value): Value => O.Reshape(g, v, [B, T, heads.q, heads.dim]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `transformer.h.${i}`;
    x = g.scope(`h.${i}`, () => {
      const h = layerNorm(ctx, x, `${p}.ln_1`, eps);
      const qkv = linear(ctx, h, `${p}.attn.c_attn`, { bias: true, conv1d: true }); // [N, 3H]
      const [q, k, v] = O.Split(g, qkv, [H, H, H], 1) as [Value, Value, Value];
      const scaled = O.Mul(g, split(q), 1 / Math.sqrt(heads.dim));
      const a = attention(ctx, scaled, split(k), split(v), heads, bias, i, data.positionIds);
      if (a.cache) cache.push(a.cache);
      const x1 = O.Add(g, x, linear(ctx, a.out, `${p}.attn.c_proj`, { bias: true, conv1d: true }));
      const h2 = layerNorm(ctx, x1, `${p}.ln_2`, eps);
      // gelu_new is the tanh approximation, which com.microsoft FastGelu computes in one node.
      const f = O.FastGelu(g, linear(ctx, h2, `${p}.mlp.c_fc`, { bias: true, conv1d: true }));
      return O.Add(g, x1, linear(ctx, f, `${p}.mlp.c_proj`, { bias: true, conv1d: true }));
    });
  }
  const hidden = layerNorm(ctx, x, 'transformer.ln_f', eps);
  const logits = lmHead(ctx, hidden, wte, data.logitsIndex);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
