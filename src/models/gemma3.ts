// Forward graph of Gemma 3 text models as transformers' Gemma3ForCausalLM defines them: embeddings × √hidden_size,
// blocks with four RMSNorms (x·(1 + w)) — input and post-attention around attention, pre- and post-feedforward around
// the MLP, the post-norms on the branch outputs before each residual add — per-head q/k norms before RoPE, attention
// scale query_pre_attn_scalar^-½, sliding-window layers with their own RoPE base, GeGLU with tanh GELU, a tied head,
// and tanh soft-capping of attention scores and logits when the config sets it. Gemma 2 (Gemma2ForCausalLM) runs
// through the same builder: no q/k norms, one RoPE base shared by the alternating local and global layers.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { Gemma3Config } from './config.ts';
import { ropeInvFreq } from './config.ts';
import type { CacheBinding, Ctx, ForwardGraph, ForwardOptions } from './layers.ts';
import { applyRope, attention, attentionBias, declareInputs, linear, linears, lmHead, ropeTables, softcapValues, weight } from './layers.ts';

/** Gemma3RMSNorm (and Gemma2RMSNorm): x / rms(x) · (1 + w), computed in float32. */
function gemmaNorm(ctx: Ctx, x: Value, name: string, eps: number): Value {
  return O.SimplifiedLayerNormalization(ctx.g, x, O.Add(ctx.g, weight(ctx, name), 1), eps);
}

export function buildGemma3Forward(g: GraphBuilder, cfg: Gemma3Config, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T, N } = ctx;
  const D = cfg.headDim;
  const eps = cfg.rmsNormEps;
  const heads = { q: cfg.numHeads, kv: cfg.numKvHeads, dim: D };
  const maxPos = opts.cache ? opts.cache.maxLen : T;
  const scale = 1 / Math.sqrt(cfg.queryPreAttnScalar);
  const rep = heads.q / heads.kv;
  const hasLocal = cfg.layerTypes.includes('sliding_attention');
  const hasGlobal = cfg.layerTypes.includes('full_attention');
  const globalFreq = ropeInvFreq(cfg.rope, D);
  const localFreq = ropeInvFreq(cfg.localRope, D);
  const prelude = g.scope('prelude', () => {
    const globalRope = hasGlobal ? ropeTables(ctx, data.positionIds, globalFreq, maxPos, scale) : null;
    // Gemma 2's local layers rotate like its global ones: one set of tables serves both.
    const sameFreq = localFreq.every((f, j) => f === globalFreq[j]);
    const localRope = !hasLocal ? null : globalRope && sameFreq ? globalRope : ropeTables(ctx, data.positionIds, localFreq, maxPos, scale);
    return {
      global: globalRope ? { bias: attentionBias(ctx, data.positionIds, data.attentionMask, rep), rope: globalRope } : null,
      local: localRope ? { bias: attentionBias(ctx, data.positionIds, data.attentionMask, rep, cfg.slidingWindow), rope: localRope } : null,
    };
  });
  const embed = weight(ctx, 'model.embed_tokens.weight');
  // Gemma3TextScaledWordEmbedding multiplies by √hidden_size cast to the embedding dtype: float32 here.
  let x: Value = O.Mul(g, O.Gather(g, embed, O.Reshape(g, data.inputIds, [N])), Math.fround(Math.sqrt(cfg.hiddenSize))); // [N, H]
  const cache: CacheBinding[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    const kind = (cfg.layerTypes[i] === 'sliding_attention' ? prelude.local : prelude.global)!;
    x = g.scope(`layers.${i}`, () => {
      const h = gemmaNorm(ctx, x, `${p}.input_layernorm.weight`, eps);
      const [qp, kp, vp] = linears(ctx, h, ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`), { bias: cfg.attentionBias });
      let q = O.Reshape(g, qp!, [B, T, heads.q, D]);
      let k = O.Reshape(g, kp!, [B, T, heads.kv, D]);
      const v = O.Reshape(g, vp!, [B, T, heads.kv, D]);
      if (cfg.qkNorm) {
        q = gemmaNorm(ctx, q, `${p}.self_attn.q_norm.weight`, eps);
        k = gemmaNorm(ctx, k, `${p}.self_attn.k_norm.weight`, eps);
      }
      q = applyRope(ctx, q, kind.rope.q); // also applies the attention scale query_pre_attn_scalar^-½
      k = applyRope(ctx, k, kind.rope.k);
      const a = attention(ctx, q, k, v, heads, kind.bias, i, data.positionIds, cfg.attnLogitSoftcapping);
      if (a.cache) cache.push(a.cache);
      const attnOut = linear(ctx, a.out, `${p}.self_attn.o_proj`, { bias: cfg.attentionBias });
      const x1 = O.Add(g, x, gemmaNorm(ctx, attnOut, `${p}.post_attention_layernorm.weight`, eps));
      const h2 = gemmaNorm(ctx, x1, `${p}.pre_feedforward_layernorm.weight`, eps);
      // gelu_pytorch_tanh is the tanh approximation, which com.microsoft FastGelu computes in one node.
      const act = O.Mul(g, O.FastGelu(g, linear(ctx, h2, `${p}.mlp.gate_proj`, { bias: false })), linear(ctx, h2, `${p}.mlp.up_proj`, { bias: false }));
      const mlpOut = linear(ctx, act, `${p}.mlp.down_proj`, { bias: false });
      return O.Add(g, x1, gemmaNorm(ctx, mlpOut, `${p}.post_feedforward_layernorm.weight`, eps));
    });
  }
  const hidden = gemmaNorm(ctx, x, 'model.norm.weight', eps);
  const head = cfg.tieWordEmbeddings ? embed : weight(ctx, 'lm_head.weight');
  let logits = lmHead(ctx, hidden, head, data.logitsIndex);
  if (logits && cfg.finalLogitSoftcapping !== null) logits = softcapValues(g, logits, cfg.finalLogitSoftcapping);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
