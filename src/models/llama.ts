// Forward graph of the Llama family (Llama 2/3, SmolLM, TinyLlama, Mistral without sliding window, Qwen2 with q/k/v
// biases, Qwen3 with q_norm/k_norm, SmolLM3 with RoPE skipped on its no_rope_layers), following transformers'
// LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM / SmolLM3ForCausalLM: pre-RMSNorm blocks, RoPE, GQA attention,
// SwiGLU MLP, tied or untied head.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { LlamaFamilyConfig } from './config.ts';
import type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
import { applyRope, attention, declareInputs, linear, linears, lmHead, rmsNorm, rotaryDecoderStart, silu, weight } from './layers.ts';

export function buildLlamaForward(g: GraphBuilder, cfg: LlamaFamilyConfig, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T } = ctx;
  const D = cfg.headDim;
  const eps = cfg.rmsNormEps;
  const start = rotaryDecoderStart(ctx, data, cfg, 1 / Math.sqrt(D));
  const { heads, bias, rope, embed } = start;
  let x: Value = start.x; // [N, H]
  const cache: CacheBinding[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    x = g.scope(`layers.${i}`, () => {
      const h = rmsNorm(ctx, x, `${p}.input_layernorm.weight`, eps);
      const [qp, kp, vp] = linears(ctx, h, ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`), { bias: cfg.qkvBias });
      let q = O.Reshape(g, qp!, [B, T, heads.q, D]);
      let k = O.Reshape(g, kp!, [B, T, heads.kv, D]);
      const v = O.Reshape(g, vp!, [B, T, heads.kv, D]);
      if (cfg.qkNorm) {
        // Qwen3: RMSNorm over each head's channels, before RoPE.
        q = rmsNorm(ctx, q, `${p}.self_attn.q_norm.weight`, eps);
        k = rmsNorm(ctx, k, `${p}.self_attn.k_norm.weight`, eps);
      }
      if (cfg.ropeLayers === null || cfg.ropeLayers[i]) {
        q = applyRope(ctx, q, rope.q); // also applies the attention scale 1/√D
        k = applyRope(ctx, k, rope.k);
      } else {
        q = O.Mul(g, q, 1 / Math.sqrt(D)); // SmolLM3's layers without RoPE keep the scale
      }
      const a = attention(ctx, q, k, v, heads, bias, i, data.positionIds);
      if (a.cache) cache.push(a.cache);
      const attnOut = linear(ctx, a.out, `${p}.self_attn.o_proj`, { bias: cfg.oBias });
      const x1 = O.Add(g, x, attnOut);
      const h2 = rmsNorm(ctx, x1, `${p}.post_attention_layernorm.weight`, eps);
      const gate = linear(ctx, h2, `${p}.mlp.gate_proj`, { bias: cfg.mlpBias });
      const up = linear(ctx, h2, `${p}.mlp.up_proj`, { bias: cfg.mlpBias });
      const act = O.Mul(g, silu(ctx, gate), up);
      return O.Add(g, x1, linear(ctx, act, `${p}.mlp.down_proj`, { bias: cfg.mlpBias }));
    });
  }
  const hidden = rmsNorm(ctx, x, 'model.norm.weight', eps);
  const head = cfg.tieWordEmbeddings ? embed : weight(ctx, 'lm_head.weight');
  const logits = lmHead(ctx, hidden, head, data.logitsIndex);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
