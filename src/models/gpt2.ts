// Forward graph of GPT-2 as transformers' GPT2LMHeadModel defines it: learned position embeddings, pre-LayerNorm
// blocks, fused q/k/v Conv1D (c_attn, weights [in, out]), gelu_new MLP, final ln_f and a head tied to wte.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { Gpt2Config, ModelConfig } from './config.ts';
import { graniteDropoutSpecs } from './granite.ts';
import type { CacheBinding, ForwardGraph, ForwardOptions } from './layers.ts';
import { attention, attentionBias, declareInputs, layerNorm, linear, lmHead, weight } from './layers.ts';

/** A graph input holding an inverted-dropout mask (0, or 1 / (1 - p)), drawn by the host per training step. */
export interface DropoutSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly p: number;
}

/**
 * GPT-2's training-time dropout as transformers applies it, one mask input per site, named after the module: the
 * embedding sum (`transformer.drop`), attention probabilities (`h.<i>.attn.attn_dropout`), the attention output after
 * c_proj (`h.<i>.attn.resid_dropout`) and the MLP output (`h.<i>.mlp.dropout`). Sites with p = 0 get no input.
 */
function gpt2DropoutSpecs(cfg: Gpt2Config, batch: number, seqLen: number): DropoutSpec[] {
  const N = batch * seqLen;
  const H = cfg.hiddenSize;
  const out: DropoutSpec[] = [];
  const add = (name: string, shape: number[], p: number): void => void (p > 0 && out.push({ name: `dropout.${name}`, shape, p }));
  add('transformer.drop', [N, H], cfg.embdPdrop);
  for (let i = 0; i < cfg.numLayers; i++) {
    add(`transformer.h.${i}.attn.attn_dropout`, [batch, cfg.numHeads, seqLen, seqLen], cfg.attnPdrop);
    add(`transformer.h.${i}.attn.resid_dropout`, [N, H], cfg.residPdrop);
    add(`transformer.h.${i}.mlp.dropout`, [N, H], cfg.residPdrop);
  }
  return out;
}

/** The model's own dropout sites in training graphs: GPT-2's (above), Granite's attention dropout; none elsewhere. */
export function modelDropoutSpecs(cfg: ModelConfig, batch: number, seqLen: number): DropoutSpec[] {
  if (cfg.family === 'gpt2') return gpt2DropoutSpecs(cfg, batch, seqLen);
  if (cfg.family === 'granite') return graniteDropoutSpecs(cfg, batch, seqLen);
  return [];
}

export function buildGpt2Forward(g: GraphBuilder, cfg: Gpt2Config, opts: ForwardOptions): ForwardGraph {
  const { ctx, data } = declareInputs(g, cfg, opts);
  const { B, T, N } = ctx;
  if (opts.modelDropout && opts.cache) throw new Error('forward: model dropout is for training graphs, not KV-cache generation');
  const masks = new Map((opts.modelDropout ? gpt2DropoutSpecs(cfg, B, T) : []).map((s) => [s.name, g.input(s.name, 'float32', s.shape)] as const));
  const drop = (x: Value, site: string): Value => {
    const m = masks.get(`dropout.${site}`);
    return m ? O.Mul(g, x, m) : x;
  };
  const H = cfg.hiddenSize;
  const heads = { q: cfg.numHeads, kv: cfg.numHeads, dim: cfg.headDim };
  const eps = cfg.layerNormEps;
  const bias = g.scope('prelude', () => attentionBias(ctx, data.positionIds, data.attentionMask, 1));
  const wte = weight(ctx, 'transformer.wte.weight');
  const tokens = O.Gather(g, wte, O.Reshape(g, data.inputIds, [N])); // [N, H]
  const positions = O.Gather(g, weight(ctx, 'transformer.wpe.weight'), O.Reshape(g, data.positionIds, [N]));
  let x: Value = drop(O.Add(g, tokens, positions), 'transformer.drop');
  const cache: CacheBinding[] = [];
  const split = (v: Value): Value => O.Reshape(g, v, [B, T, heads.q, heads.dim]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `transformer.h.${i}`;
    x = g.scope(`h.${i}`, () => {
      const h = layerNorm(ctx, x, `${p}.ln_1`, eps);
      const qkv = linear(ctx, h, `${p}.attn.c_attn`, { bias: true, conv1d: true }); // [N, 3H]
      const [q, k, v] = O.Split(g, qkv, [H, H, H], 1) as [Value, Value, Value];
      const scaled = O.Mul(g, split(q), 1 / Math.sqrt(heads.dim));
      const a = attention(ctx, scaled, split(k), split(v), heads, bias, i, data.positionIds, null, masks.get(`dropout.${p}.attn.attn_dropout`) ?? null);
      if (a.cache) cache.push(a.cache);
      const x1 = O.Add(g, x, drop(linear(ctx, a.out, `${p}.attn.c_proj`, { bias: true, conv1d: true }), `${p}.attn.resid_dropout`));
      const h2 = layerNorm(ctx, x1, `${p}.ln_2`, eps);
      // gelu_new is the tanh approximation, which com.microsoft FastGelu computes in one node.
      const f = O.FastGelu(g, linear(ctx, h2, `${p}.mlp.c_fc`, { bias: true, conv1d: true }));
      return O.Add(g, x1, drop(linear(ctx, f, `${p}.mlp.c_proj`, { bias: true, conv1d: true }), `${p}.mlp.dropout`));
    });
  }
  const hidden = layerNorm(ctx, x, 'transformer.ln_f', eps);
  const logits = lmHead(ctx, hidden, wte, data.logitsIndex);
  return { ...data, hidden, logits, weights: ctx.weights, lora: [...ctx.lora.values()], cache };
}
