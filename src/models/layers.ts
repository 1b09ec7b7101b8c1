// Building blocks shared by the family graph builders: graph inputs for weights, LoRA and data; linear layers with
// the LoRA branch; norms; the attention mask bias; RoPE tables; scaled-dot-product attention with GQA and the KV cache.
// Activations stay 2-D [N = B·T, features] between layers so every projection is one Gemm.
import type { GraphBuilder, InputRole } from '../engine/graph.ts';
import { makeTensor } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import * as O from '../engine/ops.ts';
import type { ModelConfig, RopeConfig } from './config.ts';
import { ropeInvFreq } from './config.ts';
import type { LoraPlan, LoraTarget } from './lora.ts';
import { loraDropoutInputName, loraShapes } from './lora.ts';
import { weightTable } from './weights.ts';

/** Large negative bias for masked attention scores: exp underflows to exactly 0, and two of them cannot overflow. */
const MASK_BIAS = -1e9;

interface CacheOptions {
  /** prefill: run the prompt, return logits and the cache; decode: one token per row against the cache. */
  readonly mode: 'prefill' | 'decode';
  /** Cache slots per row (positions 0 .. maxLen-1). */
  readonly maxLen: number;
}

export interface ForwardOptions {
  readonly batch: number;
  /** Tokens per row in this run (1 for decode). */
  readonly seqLen: number;
  readonly lora?: LoraPlan | null;
  /** Role of the LoRA inputs (default 'trainable'; generation graphs bind the same buffers). */
  readonly loraRole?: InputRole;
  /** Declare `lora_dropout.<module>` mask inputs [N, in] (training with dropout > 0). */
  readonly loraDropout?: boolean;
  /** Declare the model's own dropout mask inputs (GPT-2's embd/attn/resid dropout, Granite's attention dropout; see modelDropoutSpecs). */
  readonly modelDropout?: boolean;
  /** Base tensors (weight-table names) trained fully: declared with role 'trainable' instead of 'frozen'. */
  readonly trainableWeights?: readonly string[];
  readonly cache?: CacheOptions | null;
  /** 'all': logits [B, T, V]; 'selected': one position per row from input `logits_index` [B] → [B, V]; 'none'. */
  readonly logits?: 'all' | 'selected' | 'none';
  /**
   * Attention as two Einsums over the token-major views the projections write, with RoPE on [B, T, heads·D]: 12 nodes
   * fewer per layer of a training step (no head Transposes), for the WebGPU EP, where every node is a dispatch.
   * Off (the default), attention is Transpose + MatMul, which the CPU/WASM EP runs faster: its Einsum kernel transposes
   * internally, and took twice as long on this attention at T = 128 in onnxruntime-web.
   */
  readonly einsumAttention?: boolean;
}

interface LoraBinding {
  readonly target: LoraTarget;
  readonly a: Value;
  readonly b: Value;
  readonly dropout: Value | null;
}

export interface CacheBinding {
  readonly pastKey: Value | null;
  readonly pastValue: Value | null;
  readonly presentKey: Value;
  readonly presentValue: Value;
}

export interface ForwardGraph {
  readonly inputIds: Value;
  readonly positionIds: Value;
  readonly attentionMask: Value;
  readonly logitsIndex: Value | null;
  /** The LM head's input [N, H]: final-normed hidden states (Granite's already divided by logits_scaling). */
  readonly hidden: Value;
  readonly logits: Value | null;
  readonly weights: ReadonlyMap<string, Value>;
  readonly lora: readonly LoraBinding[];
  readonly cache: readonly CacheBinding[];
}

/** What the family builders thread through their layers. */
export interface Ctx {
  readonly g: GraphBuilder;
  readonly cfg: ModelConfig;
  readonly opts: ForwardOptions;
  readonly B: number;
  readonly T: number;
  readonly N: number;
  readonly weights: ReadonlyMap<string, Value>;
  readonly lora: ReadonlyMap<string, LoraBinding>;
  /** Values shared by every layer (built on first use). */
  readonly memo: Map<string, Value>;
}

/** Declares data inputs, then every weight (table order), then LoRA tensors: a fixed, readable input order. */
export function declareInputs(g: GraphBuilder, cfg: ModelConfig, opts: ForwardOptions): { ctx: Ctx; data: Pick<ForwardGraph, 'inputIds' | 'positionIds' | 'attentionMask' | 'logitsIndex'> } {
  const B = opts.batch;
  const T = opts.seqLen;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`forward: batch ${B} and seqLen ${T} must be positive integers`);
  const cache = opts.cache ?? null;
  if (cache?.mode === 'decode' && T !== 1) throw new Error(`forward: decode graphs take one token per row, got seqLen ${T}`);
  if (cache && cache.maxLen < T) throw new Error(`forward: cache maxLen ${cache.maxLen} is shorter than seqLen ${T}`);
  const maxPos = cache ? cache.maxLen : T;
  if (cfg.family === 'gpt2' && maxPos > cfg.maxPositionEmbeddings) {
    throw new Error(`forward: ${maxPos} positions exceed GPT-2's n_positions ${cfg.maxPositionEmbeddings}; shorten the sequence`);
  }
  if (cfg.family === 'llama' && cfg.slidingWindow !== null && maxPos > cfg.slidingWindow) {
    throw new Error(`forward: ${maxPos} positions exceed Mistral's sliding_window ${cfg.slidingWindow}, which TabTune does not implement; shorten the sequence`);
  }
  const inputIds = g.input('input_ids', 'int32', [B, T]);
  const positionIds = g.input('position_ids', 'int32', [B, T]);
  const attentionMask = g.input('attention_mask', 'int32', [B, cache?.mode === 'decode' ? cache.maxLen : T]);
  const logitsIndex = opts.logits === 'selected' ? g.input('logits_index', 'int32', [B]) : null;
  const trainable = new Set(opts.trainableWeights ?? []);
  const table = weightTable(cfg);
  for (const name of trainable) if (!table.some((s) => s.name === name)) throw new Error(`forward: cannot train "${name}": no such tensor in the ${cfg.modelType} weight table`);
  const weights = new Map<string, Value>();
  for (const s of table) weights.set(s.name, g.input(s.name, 'float32', s.shape, trainable.has(s.name) ? 'trainable' : 'frozen'));
  const lora = new Map<string, LoraBinding>();
  const plan = opts.lora ?? null;
  if (plan) {
    const shapes = loraShapes(plan);
    const withDropout = (opts.loraDropout ?? false) && (plan.config.dropout ?? 0) > 0;
    for (const t of plan.targets) {
      const role = opts.loraRole ?? 'trainable';
      const a = g.input(t.keyA, 'float32', shapes.get(t.keyA)!, role);
      const b = g.input(t.keyB, 'float32', shapes.get(t.keyB)!, role);
      const dropout = withDropout ? g.input(loraDropoutInputName(t), 'float32', [B * T, t.inFeatures]) : null;
      lora.set(t.module, { target: t, a, b, dropout });
    }
  }
  return { ctx: { g, cfg, opts, B, T, N: B * T, weights, lora, memo: new Map() }, data: { inputIds, positionIds, attentionMask, logitsIndex } };
}

export function weight(ctx: Ctx, name: string): Value {
  const v = ctx.weights.get(name);
  if (!v) throw new Error(`forward: weight ${name} is not in the weight table`);
  return v;
}

/**
 * y = x Wᵀ + b (nn.Linear, W [out, in]) or x W + b (GPT-2 Conv1D, W [in, out]), plus PEFT's LoRA branch
 * ((dropout(x) Aᵀ) Bᵀ · scale) when the module is targeted. x: [N, in] → [N, out].
 */
export function linear(ctx: Ctx, x: Value, module: string, opts: { bias: boolean; conv1d?: boolean }): Value {
  const { g } = ctx;
  const w = weight(ctx, `${module}.weight`);
  const bias = opts.bias ? weight(ctx, `${module}.bias`) : null;
  const base = O.Gemm(g, x, w, bias, { transB: !opts.conv1d });
  const l = ctx.lora.get(module);
  if (!l) return base;
  const scale = ctx.opts.lora!.scale;
  const xin = l.dropout ? O.Mul(g, x, l.dropout) : x;
  const down = O.Gemm(g, xin, l.a, null, { transB: true }); // [N, r]
  return O.Gemm(g, down, l.b, base, { transB: true, alpha: scale }); // base + scale · down Bᵀ: [N, out], no Add
}

/**
 * Several projections of the same input (q/k/v): as linear() each, except that the LoRA A matrices of the targeted
 * ones (without dropout) are concatenated in the graph, so one Gemm makes every down-projection and one Gemm its input
 * gradient (Split/Concat around them); the adapter tensors stay separate PEFT inputs.
 */
export function linears(ctx: Ctx, x: Value, modules: readonly string[], opts: { bias: boolean; conv1d?: boolean }): Value[] {
  const { g } = ctx;
  const shared = modules.filter((m) => {
    const l = ctx.lora.get(m);
    return l !== undefined && l.dropout === null;
  });
  if (shared.length < 2) return modules.map((m) => linear(ctx, x, m, opts));
  const as = shared.map((m) => ctx.lora.get(m)!.a);
  const downs = O.Split(g, O.Gemm(g, x, O.Concat(g, as, 0), null, { transB: true }), as.map((a) => a.shape[0]!), 1); // [N, r] each
  const scale = ctx.opts.lora!.scale;
  return modules.map((m) => {
    const i = shared.indexOf(m);
    if (i < 0) return linear(ctx, x, m, opts);
    const bias = opts.bias ? weight(ctx, `${m}.bias`) : null;
    const base = O.Gemm(g, x, weight(ctx, `${m}.weight`), bias, { transB: !opts.conv1d });
    return O.Gemm(g, downs[i]!, ctx.lora.get(m)!.b, base, { transB: true, alpha: scale });
  });
}

export function rmsNorm(ctx: Ctx, x: Value, name: string, eps: number): Value {
  return O.SimplifiedLayerNormalization(ctx.g, x, weight(ctx, name), eps);
}

export function layerNorm(ctx: Ctx, x: Value, prefix: string, eps: number): Value {
  return O.LayerNormalization(ctx.g, x, weight(ctx, `${prefix}.weight`), weight(ctx, `${prefix}.bias`), eps);
}

/**
 * Additive attention bias [B, 1, rep·T, Tk]: key slot j is visible to the query at position p when j <= p (causal by
 * position, which also serves cache decoding where slot = position), j > p - slidingWindow when a window is given,
 * and attention_mask[b, j] = 1. The T query rows repeat `rep` times to line up with the grouped-query layout of
 * attention(); with einsumAttention the bias is [B, 1, 1, T, Tk] and broadcasts over key/value heads and groups.
 */
export function attentionBias(ctx: Ctx, positionIds: Value, attentionMask: Value, rep: number, slidingWindow: number | null = null): Value {
  const { g, B, T } = ctx;
  const Tk = attentionMask.shape[1]!;
  const slots = O.Range(g, 0, Tk, 1, 'int32'); // [Tk]
  const pos = O.Unsqueeze(g, positionIds, [2]); // [B, T, 1]
  const future = O.Greater(g, slots, pos); // [B, T, Tk]
  let causal = O.Where(g, future, g.constant(MASK_BIAS), 0); // [B, T, Tk]
  if (slidingWindow !== null) {
    // transformers' sliding_window_overlay: key j stays visible while j > p - window (the query and window - 1 before it).
    const old = O.Less(g, slots, O.Sub(g, pos, slidingWindow - 1)); // [B, T, Tk]
    causal = O.Add(g, causal, O.Where(g, old, g.constant(MASK_BIAS), 0));
  }
  const keep = O.Cast(g, attentionMask, 'float32'); // [B, Tk]
  const padding = O.Mul(g, O.Sub(g, keep, 1), -MASK_BIAS); // 0 where kept, MASK_BIAS where padded
  const bias = O.Add(g, causal, O.Reshape(g, padding, [B, 1, Tk])); // [B, T, Tk]
  if (ctx.opts.einsumAttention) return O.Reshape(g, bias, [B, 1, 1, T, Tk]); // broadcast over [B, KV, rep, T, Tk]
  if (rep === 1) return O.Reshape(g, bias, [B, 1, T, Tk]);
  return O.Reshape(g, O.Expand(g, O.Reshape(g, bias, [B, 1, 1, T, Tk]), [B, 1, rep, T, Tk]), [B, 1, rep * T, Tk]);
}

/** RoPE caches for one table set: cos and sin [maxPositions, D/2], and the token positions as int64 [B, T]. */
export interface RopeCache {
  readonly cos: Value;
  readonly sin: Value;
  readonly positions: Value;
}

export interface RopeTables {
  /** Caches for keys. */
  readonly k: RopeCache;
  /** The same multiplied by the attention scale 1/√D, so queries come out of RoPE pre-scaled (one Mul fewer per layer). */
  readonly q: RopeCache;
}

/**
 * What the RoPE decoders with one RoPE base (Llama family, OLMo 2, Granite) build before their first block: the attention
 * bias (causal, padding, grouped-query layout), the RoPE tables with `qScale` on the query side (1/√d, or Granite's
 * attention_multiplier), and the token embeddings [N, H] with their table (the tied head reuses it).
 */
export function rotaryDecoderStart(ctx: Ctx, data: Pick<ForwardGraph, 'inputIds' | 'positionIds' | 'attentionMask'>, cfg: { readonly headDim: number; readonly numHeads: number; readonly numKvHeads: number; readonly rope: RopeConfig }, qScale: number): { heads: { q: number; kv: number; dim: number }; bias: Value; rope: RopeTables; embed: Value; x: Value } {
  const { g } = ctx;
  const heads = { q: cfg.numHeads, kv: cfg.numKvHeads, dim: cfg.headDim };
  const maxPos = ctx.opts.cache ? ctx.opts.cache.maxLen : ctx.T;
  const { bias, rope } = g.scope('prelude', () => ({
    bias: attentionBias(ctx, data.positionIds, data.attentionMask, heads.q / heads.kv),
    rope: ropeTables(ctx, data.positionIds, ropeInvFreq(cfg.rope, cfg.headDim), maxPos, qScale),
  }));
  const embed = weight(ctx, 'model.embed_tokens.weight');
  return { heads, bias, rope, embed, x: O.Gather(g, embed, O.Reshape(g, data.inputIds, [ctx.N])) };
}

/**
 * cos and sin of RoPE angles for the integer positions 0 .. maxPositions-1, without Sin/Cos ops: angle(p) =
 * angle(hi·K) + angle(lo) with p = hi·K + lo, and two small float64-exact tables combined by the angle-addition
 * formulas. Built once per graph (the com.microsoft RotaryEmbedding op indexes them by position).
 */
export function ropeTables(ctx: Ctx, positionIds: Value, invFreq: Float64Array, maxPositions: number, qScale: number): RopeTables {
  const { g } = ctx;
  const half = invFreq.length;
  const K = Math.max(1, Math.ceil(Math.sqrt(maxPositions)));
  const rows = Math.ceil(maxPositions / K);
  const table = (n: number, stride: number, f: (a: number) => number): Value => {
    const data: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < half; j++) data.push(f(i * stride * invFreq[j]!));
    return g.constant(makeTensor('float32', [n, half], data));
  };
  const all = O.Range(g, 0, maxPositions, 1, 'int32'); // [maxPositions]
  const hi = O.Div(g, all, K); // int32, non-negative so this is floor
  const lo = O.Sub(g, all, O.Mul(g, hi, K));
  const cosHi = O.Gather(g, table(rows, K, Math.cos), hi); // [maxPositions, half]
  const sinHi = O.Gather(g, table(rows, K, Math.sin), hi);
  const cosLo = O.Gather(g, table(K, 1, Math.cos), lo);
  const sinLo = O.Gather(g, table(K, 1, Math.sin), lo);
  const cos = O.Sub(g, O.Mul(g, cosHi, cosLo), O.Mul(g, sinHi, sinLo));
  const sin = O.Add(g, O.Mul(g, sinHi, cosLo), O.Mul(g, cosHi, sinLo));
  const positions = O.Cast(g, positionIds, 'int64'); // RotaryEmbedding's position_ids are int64 (an index input)
  return { k: { cos, sin, positions }, q: { cos: O.Mul(g, cos, qScale), sin: O.Mul(g, sin, qScale), positions } };
}

/**
 * x·cos + rotate_half(x)·sin (transformers' convention, rotate_half(x) = cat(-x2, x1)) on [B, T, heads, D], as one
 * com.microsoft RotaryEmbedding in head-major layout: the Transposes around it compose with attention()'s own, so the
 * rotation costs one node forward and one backward (the same op with -sin). With einsumAttention, in token-major layout.
 */
export function applyRope(ctx: Ctx, x: Value, t: RopeCache): Value {
  const { g } = ctx;
  if (ctx.opts.einsumAttention) {
    // Token-major: the Reshapes fold into the projection's own view and attention's, so the rotation is one node.
    const [B, T, heads, D] = x.shape as [number, number, number, number];
    return O.Reshape(g, O.RotaryEmbedding(g, O.Reshape(g, x, [B, T, heads * D]), t.positions, t.cos, t.sin), [B, T, heads, D]);
  }
  const rotated = O.RotaryEmbedding(g, O.Transpose(g, x, [0, 2, 1, 3]), t.positions, t.cos, t.sin); // [B, heads, T, D]
  return O.Transpose(g, rotated, [0, 2, 1, 3]);
}

/**
 * Attention from q [B, T, H, D] (already multiplied by 1/√D), k and v [B, T, KV, D] to [N, H·D]. Grouped-query heads
 * are handled by viewing q as [B, KV, rep·T, D] (query head h = kv·rep + i reads key/value head kv, as transformers'
 * repeat_kv) instead of copying keys and values. Keys/values pass through the KV cache when the graph has one.
 * `softcap` applies Gemma's cap·tanh(scores / cap) to the scaled scores before the mask; `probsMask` [B, H, T, Tk]
 * multiplies the probabilities (GPT-2's and Granite's attention dropout in training).
 */
export function attention(
  ctx: Ctx,
  q: Value,
  k: Value,
  v: Value,
  heads: { q: number; kv: number; dim: number },
  bias: Value,
  layer: number,
  positionIds: Value,
  softcap: number | null = null,
  probsMask: Value | null = null,
): { out: Value; cache: CacheBinding | null } {
  const { g, B, T } = ctx;
  const { dim: D, kv: KV } = heads;
  const rep = heads.q / KV;
  if (ctx.opts.einsumAttention) return einsumAttention(ctx, q, k, v, heads, bias, layer, positionIds, softcap, probsMask);
  const dropMask = probsMask && rep > 1 ? O.Reshape(g, probsMask, [B, KV, rep * T, probsMask.shape[3]!]) : probsMask; // grouped layout
  let qh = O.Transpose(g, q, [0, 2, 1, 3]); // [B, H, T, D]
  if (rep > 1) qh = O.Reshape(g, qh, [B, KV, rep * T, D]);
  let vh = O.Transpose(g, v, [0, 2, 1, 3]); // [B, KV, T, D]
  let kT: Value; // [B, KV, D, Tk]
  let cache: CacheBinding | null = null;
  const c = ctx.opts.cache ?? null;
  if (!c) {
    kT = O.Transpose(g, k, [0, 2, 3, 1]);
  } else {
    const kv = cacheKeysValues(ctx, O.Transpose(g, k, [0, 2, 1, 3]), vh, layer, positionIds, c);
    vh = kv.vh;
    cache = kv.cache;
    kT = O.Transpose(g, kv.kh, [0, 1, 3, 2]);
  }
  let raw = O.MatMul(g, qh, kT); // [B, KV, rep·T, Tk]
  if (softcap !== null) raw = softcapValues(g, raw, softcap);
  const scores = O.Add(g, raw, bias);
  let probs = O.Softmax(g, scores, -1);
  if (dropMask) probs = O.Mul(g, probs, dropMask); // attention dropout (inverted: kept entries scaled by 1/(1-p))
  let out = O.MatMul(g, probs, vh); // [B, KV, rep·T, D]
  if (rep > 1) out = O.Reshape(g, out, [B, heads.q, T, D]);
  const merged = O.Transpose(g, out, [0, 2, 1, 3]); // [B, T, H, D]
  return { out: O.Reshape(g, merged, [ctx.N, heads.q * D]), cache };
}

/** KV-cache bookkeeping shared by both attention layouts: keys and values head-major [B, KV, S, D], padded to the
 * cache length (prefill) or written into the past tensors at each row's position (decode). */
function cacheKeysValues(ctx: Ctx, kh: Value, vh: Value, layer: number, positionIds: Value, c: CacheOptions): { kh: Value; vh: Value; cache: CacheBinding } {
  const { g, B, T } = ctx;
  const [, KV, , D] = kh.shape as [number, number, number, number];
  if (c.mode === 'prefill') {
    const pad = [0, 0, 0, 0, 0, 0, c.maxLen - T, 0];
    return { kh, vh, cache: { pastKey: null, pastValue: null, presentKey: O.Pad(g, kh, pad), presentValue: O.Pad(g, vh, pad) } };
  }
  const shape = [B, KV, c.maxLen, D];
  const pastKey = g.input(`past_key_values.${layer}.key`, 'float32', shape, 'state');
  const pastValue = g.input(`past_key_values.${layer}.value`, 'float32', shape, 'state');
  // The new token goes into slot = its position; the index tensor is shared by every layer.
  const slot = memo(ctx, 'cache-slot', () => O.Expand(g, O.Reshape(g, positionIds, [B, 1, 1, 1]), [B, KV, 1, D]));
  const k2 = O.ScatterElements(g, pastKey, slot, kh, 2); // [B, KV, S, D]
  const v2 = O.ScatterElements(g, pastValue, slot, vh, 2);
  return { kh: k2, vh: v2, cache: { pastKey, pastValue, presentKey: k2, presentValue: v2 } };
}

/**
 * attention() with einsumAttention: q viewed [B, T, KV, rep, D] (query head h = kv·rep + r), scores
 * [B, KV, rep, T, Tk] from one Einsum with keys [B, Tk, KV, D], and the output written back token-major by a second,
 * so no head Transpose is built forward or backward. With a KV cache, keys and values are head-major ([B, KV, S, D]).
 */
function einsumAttention(...[ctx, q, k, v, heads, bias, layer, positionIds, softcap = null, probsMask = null]: Parameters<typeof attention>): ReturnType<typeof attention> {
  const { g, B, T } = ctx;
  const { dim: D, kv: KV } = heads;
  const rep = heads.q / KV;
  const q5 = O.Reshape(g, q, [B, T, KV, rep, D]);
  const c = ctx.opts.cache ?? null;
  let keys = k; // [B, Tk, KV, D], or head-major with a cache
  let values = v;
  let cache: CacheBinding | null = null;
  if (c) {
    const kv = cacheKeysValues(ctx, O.Transpose(g, k, [0, 2, 1, 3]), O.Transpose(g, v, [0, 2, 1, 3]), layer, positionIds, c);
    keys = kv.kh;
    values = kv.vh;
    cache = kv.cache;
  }
  const kv = c ? 'bksd' : 'bskd';
  let raw = O.Einsum(g, `btkrd,${kv}->bkrts`, [q5, keys]); // [B, KV, rep, T, Tk]
  if (softcap !== null) raw = softcapValues(g, raw, softcap);
  let probs = O.Softmax(g, O.Add(g, raw, bias), -1);
  if (probsMask) probs = O.Mul(g, probs, O.Reshape(g, probsMask, [B, KV, rep, T, probsMask.shape[3]!]));
  const out = O.Einsum(g, `bkrts,${kv}->btkrd`, [probs, values]); // [B, T, KV, rep, D]
  return { out: O.Reshape(g, out, [ctx.N, heads.q * D]), cache };
}

/** SiLU x·sigmoid(x) as one node (com.microsoft QuickGelu with alpha 1; runs on the WebGPU and WASM EPs). */
export function silu(ctx: Ctx, x: Value): Value {
  return O.QuickGelu(ctx.g, x, 1);
}

/** cap·tanh(x / cap): Gemma's soft-capping of attention scores and final logits. */
export function softcapValues(g: GraphBuilder, x: Value, cap: number): Value {
  return O.Mul(g, O.Tanh(g, O.Div(g, x, cap)), cap);
}

/** A value built once per graph and shared by all layers. */
function memo(ctx: Ctx, key: string, make: () => Value): Value {
  let v = ctx.memo.get(key);
  if (!v) {
    v = make();
    ctx.memo.set(key, v);
  }
  return v;
}

/** Final projection to the vocabulary: all positions [B, T, V] or one per row [B, V]. */
export function lmHead(ctx: Ctx, hidden: Value, head: Value, logitsIndex: Value | null): Value | null {
  const { g, B, T } = ctx;
  const mode = ctx.opts.logits ?? 'all';
  if (mode === 'none') return null;
  const vocab = head.shape[0]!;
  if (mode === 'selected') {
    if (!logitsIndex) throw new Error('forward: logits "selected" needs the logits_index input');
    const picked = O.Gather(g, hidden, logitsIndex); // [B, H], logits_index holds b·T + t
    return O.Gemm(g, picked, head, null, { transB: true }); // [B, V]
  }
  return O.Reshape(g, O.Gemm(g, hidden, head, null, { transB: true }), [B, T, vocab]);
}
