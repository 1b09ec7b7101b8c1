// Model configuration: parses a Hugging Face config.json into a typed ModelConfig for the families TabTune runs
// (llama, mistral without sliding window, qwen2, qwen3, smollm3, gemma3_text, gemma2, olmo2, granite, gpt2) and rejects everything else with a
// message naming what is supported. HF config keys are spelled as transformers writes them. Every number is
// range-checked here, before any table, graph or memory bill is sized from it, and every bad value is quoted through
// preview() (bounded, never recursive). Imports nothing outside this folder but that message helper.
import { preview } from '../engine/preview.ts';
import {
  bool, CONFIG_LIMITS, epsilon, int, ModelConfigError, optInt, probability, softcap, tokenIds, UnsupportedModelError,
  type Json,
} from './config-values.ts';

import { gemma2Rope, gemmaRope, parseRope, type RopeConfig } from './rope.ts';

export { CONFIG_LIMITS, ModelConfigError, UnsupportedModelError };
export { ropeInvFreq, type RopeConfig } from './rope.ts';

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3', 'smollm3', 'gemma3_text', 'gemma2', 'olmo2', 'granite', 'gpt2'] as const;
type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** `architectures` values TabTune accepts, per model_type (the CausalLM heads transformers saves). */
const ARCHITECTURES: Readonly<Record<ModelType, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  smollm3: 'SmolLM3ForCausalLM',
  gemma3_text: 'Gemma3ForCausalLM',
  gemma2: 'Gemma2ForCausalLM',
  olmo2: 'Olmo2ForCausalLM',
  granite: 'GraniteForCausalLM',
  gpt2: 'GPT2LMHeadModel',
};

const SUPPORTED_TEXT =
  'TabTune supports model_type llama (Llama 2/3, SmolLM, TinyLlama), mistral (without sliding window), qwen2 (Qwen2/2.5), ' +
  'qwen3, smollm3, gemma3_text (Gemma 3 text models such as gemma-3-270m and gemma-3-1b), gemma2 (Gemma 2), olmo2 (OLMo 2), ' +
  'granite (dense Granite 3.x) and gpt2, with architectures ' + Object.values(ARCHITECTURES).join(', ');

/**
 * model_type values of well-known causal LMs (and a few non-causal families people try) that TabTune does not run,
 * named so a refusal says what the checkpoint is rather than only that it is unsupported.
 */
const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  gemma: 'Gemma (1)',
  gemma3: 'Gemma 3 with vision (Gemma3ForConditionalGeneration); text-only Gemma 3 checkpoints are model_type gemma3_text, which is supported',
  gemma3n: 'Gemma 3n',
  olmo: 'OLMo',
  olmo3: 'OLMo 3 (sliding-window attention); OLMo 2 checkpoints are model_type olmo2, which is supported',
  olmoe: 'OLMoE (mixture of experts)',
  granitemoe: 'Granite MoE (mixture of experts); dense Granite checkpoints are model_type granite, which is supported',
  granitemoeshared: 'Granite MoE with shared experts; dense Granite checkpoints are model_type granite, which is supported',
  granitemoehybrid: 'Granite 4 (hybrid Mamba-2 / attention); dense Granite checkpoints are model_type granite, which is supported',
  phi: 'Phi-1/Phi-2',
  phi3: 'Phi-3/Phi-4',
  mixtral: 'Mixtral (mixture of experts)',
  qwen2_moe: 'Qwen2-MoE',
  qwen3_moe: 'Qwen3-MoE',
  deepseek_v2: 'DeepSeek-V2',
  deepseek_v3: 'DeepSeek-V3',
  falcon: 'Falcon',
  gpt_neox: 'GPT-NeoX / Pythia',
  gptj: 'GPT-J',
  gpt_bigcode: 'StarCoder (GPTBigCode)',
  starcoder2: 'StarCoder2',
  stablelm: 'StableLM',
  cohere: 'Cohere Command R',
  opt: 'OPT',
  bloom: 'BLOOM',
  mamba: 'Mamba (a state-space model, not a transformer)',
  t5: 'T5 (an encoder-decoder model)',
  bart: 'BART (an encoder-decoder model)',
  bert: 'BERT (an encoder, not a causal language model)',
};

interface CommonConfig {
  readonly modelType: ModelType;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
}

/** Llama, Mistral, Qwen2, Qwen3 and SmolLM3: RMSNorm pre-norm decoder with RoPE, GQA and a SwiGLU MLP. */
export interface LlamaFamilyConfig extends CommonConfig {
  readonly family: 'llama';
  readonly modelType: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'smollm3';
  readonly numKvHeads: number;
  readonly rmsNormEps: number;
  readonly rope: RopeConfig;
  /** Bias on q_proj, k_proj, v_proj (Qwen2 always; Llama/Qwen3 when `attention_bias`). */
  readonly qkvBias: boolean;
  /** Bias on o_proj (`attention_bias` for Llama/Qwen3; never for Qwen2). */
  readonly oBias: boolean;
  /** Bias on gate/up/down_proj (Llama's `mlp_bias`). */
  readonly mlpBias: boolean;
  /** Qwen3's per-head RMSNorm of q and k before RoPE. */
  readonly qkNorm: boolean;
  /** Mistral's window; the graph builders refuse sequences longer than it, since they do not implement it. */
  readonly slidingWindow: number | null;
  /** SmolLM3's `no_rope_layers`: per layer, whether RoPE is applied (layers without it still scale by 1/√d). Null: all. */
  readonly ropeLayers: readonly boolean[] | null;
}

/** GPT-2: LayerNorm pre-norm decoder with learned positions, Conv1D projections and gelu_new. */
export interface Gpt2Config extends CommonConfig {
  readonly family: 'gpt2';
  readonly modelType: 'gpt2';
  readonly layerNormEps: number;
  /** Dropout probabilities transformers applies in training (GPT2Config defaults 0.1): after the embeddings
   * (`embd_pdrop`), on attention probabilities (`attn_pdrop`), after each block's c_proj outputs (`resid_pdrop`). */
  readonly embdPdrop: number;
  readonly attnPdrop: number;
  readonly residPdrop: number;
}

type LayerType = 'sliding_attention' | 'full_attention';

/**
 * Gemma 3 text (Gemma3ForCausalLM): pre- and post-norms around both branches (RMSNorm as x·(1 + w)), per-head q/k
 * norms, embeddings scaled by √hidden_size, GeGLU with tanh GELU, attention scale query_pre_attn_scalar^-½, local
 * sliding-window layers with their own RoPE base, optional tanh soft-capping of attention scores and logits.
 * Gemma 2 (Gemma2ForCausalLM) is the same decoder without q/k norms, with one RoPE base for every layer, sliding
 * windows on alternate layers and soft-capping on by default; it shares this family, as Qwen3 shares 'llama'.
 */
export interface Gemma3Config extends CommonConfig {
  readonly family: 'gemma3';
  readonly modelType: 'gemma3_text' | 'gemma2';
  /** Gemma 3's per-head RMSNorm of q and k before RoPE (q_norm, k_norm); Gemma 2 has none. */
  readonly qkNorm: boolean;
  readonly numKvHeads: number;
  readonly rmsNormEps: number;
  /** RoPE of the full-attention (global) layers: rope_theta plus rope_scaling. */
  readonly rope: RopeConfig;
  /** RoPE of the sliding-window (local) layers: rope_local_base_freq, never scaled (Gemma 2: the same as `rope`). */
  readonly localRope: RopeConfig;
  /** Bias on q/k/v/o_proj (`attention_bias`). */
  readonly attentionBias: boolean;
  /** Attention scores are multiplied by queryPreAttnScalar^-½ (not head_dim^-½). */
  readonly queryPreAttnScalar: number;
  /** Keys at least this many positions behind the query are hidden on sliding layers. */
  readonly slidingWindow: number;
  /** One entry per layer. */
  readonly layerTypes: readonly LayerType[];
  readonly attnLogitSoftcapping: number | null;
  readonly finalLogitSoftcapping: number | null;
}

/**
 * OLMo 2 (Olmo2ForCausalLM): RMSNorm post-norm blocks — each branch output is normed before its residual add
 * (post_attention_layernorm, post_feedforward_layernorm) and nothing is normed before a branch — with q_norm and
 * k_norm over the whole q / k projection outputs (all heads at once) before RoPE, SwiGLU MLP, untied head by default.
 */
export interface Olmo2Config extends CommonConfig {
  readonly family: 'olmo2';
  readonly modelType: 'olmo2';
  readonly numKvHeads: number;
  readonly rmsNormEps: number;
  readonly rope: RopeConfig;
  /** Bias on q/k/v/o_proj (`attention_bias`). */
  readonly attentionBias: boolean;
}

/**
 * Dense Granite (GraniteForCausalLM, Granite 3.x): Llama with four multipliers — embeddings × embedding_multiplier,
 * attention scores × attention_multiplier (in place of 1/√head_dim), each branch output × residual_multiplier
 * before its residual add, logits ÷ logits_scaling.
 */
export interface GraniteConfig extends CommonConfig {
  readonly family: 'granite';
  readonly modelType: 'granite';
  readonly numKvHeads: number;
  readonly rmsNormEps: number;
  readonly rope: RopeConfig;
  /** Bias on q/k/v/o_proj (`attention_bias`). */
  readonly attentionBias: boolean;
  /** Bias on gate/up/down_proj (`mlp_bias`). */
  readonly mlpBias: boolean;
  readonly embeddingMultiplier: number;
  /** The attention scale itself (scores = q·k × attentionMultiplier). */
  readonly attentionMultiplier: number;
  readonly residualMultiplier: number;
  /** Logits are divided by it. */
  readonly logitsScaling: number;
  /** Dropout on the attention probabilities in training (`attention_dropout`; Granite 3 configs publish 0.1). */
  readonly attentionDropout: number;
}

export type ModelConfig = LlamaFamilyConfig | Gemma3Config | Olmo2Config | GraniteConfig | Gpt2Config;

/** Parses the JSON object of a checkpoint's config.json. Throws UnsupportedModelError for other architectures. */
export function parseModelConfig(raw: unknown): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelConfigError('(root)', `the file holds ${preview(raw)}, not a JSON object. HINT: point at a transformers checkpoint's config.json.`);
  }
  const c = raw as Json;
  const modelType = c['model_type'];
  const archs = c['architectures'];
  const archName = (a: unknown) => (typeof a === 'string' && a.length <= 80 ? a : preview(a));
  const archList = (list: readonly unknown[]) => list.slice(0, 4).map(archName).join(', ') + (list.length > 4 ? ` and ${list.length - 4} more` : '');
  if (typeof modelType !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    const archText = Array.isArray(archs) ? ` (architectures ${archList(archs)})` : '';
    const known = typeof modelType === 'string' && Object.hasOwn(KNOWN_UNSUPPORTED, modelType) ? KNOWN_UNSUPPORTED[modelType] : undefined;
    const what = known ? `: it is ${known}, a family TabTune knows but does not run yet` : '';
    throw new UnsupportedModelError(`model_type ${preview(modelType)}${archText} is not supported${what}. ${SUPPORTED_TEXT}.`);
  }
  const mt = modelType as ModelType;
  if (archs !== undefined && archs !== null) {
    const list: unknown[] = Array.isArray(archs) ? archs : [archs];
    const bad = list.filter((a) => a !== ARCHITECTURES[mt]);
    if (bad.length > 0) {
      throw new UnsupportedModelError(
        `architectures ${archList(bad)} is not supported for model_type ${mt}: TabTune trains causal language models only ` +
          `(${ARCHITECTURES[mt]}). ${SUPPORTED_TEXT}.`,
      );
    }
  }
  if (mt === 'olmo2') return parseOlmo2(c);
  if (mt === 'granite') return parseGranite(c);
  return mt === 'gpt2' ? parseGpt2(c) : mt === 'gemma3_text' || mt === 'gemma2' ? parseGemma(c, mt) : parseLlamaFamily(c, mt);
}

/** TabTune trains without attention dropout; a config that asks for it is refused rather than silently ignored. */
function refuseAttentionDropout(c: Json, mt: string): void {
  const p = c['attention_dropout'];
  if (p !== undefined && p !== null && p !== 0) {
    throw new UnsupportedModelError(
      `config.json: attention_dropout ${String(p)} is not supported for ${mt}; TabTune trains without attention dropout. ` +
        'HINT: set attention_dropout to 0.0 in a copy of config.json (LoRA dropout is a separate setting)',
    );
  }
}

function parseLlamaFamily(c: Json, mt: LlamaFamilyConfig['modelType']): LlamaFamilyConfig {
  const { numKvHeads, ...dims } = rotaryDecoderDims(c, mt, 'refused');
  if (mt === 'qwen2' || mt === 'qwen3' || mt === 'smollm3') {
    if (c['use_sliding_window'] === true) {
      throw new UnsupportedModelError(`config.json: use_sliding_window true is not supported for ${mt}; TabTune implements full attention only`);
    }
  }
  const window = mt === 'mistral' ? optInt(c, 'sliding_window', CONFIG_LIMITS.sliding_window, 1) : null;
  const attentionBias = bool(c, 'attention_bias', false);
  if (mt === 'smollm3' && c['mlp_bias'] === true) throw new UnsupportedModelError('config.json: mlp_bias true is not supported for smollm3; its MLP has no biases');
  return {
    family: 'llama',
    modelType: mt,
    ...common(c, dims),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings', CONFIG_LIMITS.max_position_embeddings, 1) ?? 2048,
    // SmolLM3Config defaults tie_word_embeddings to true and SmolLM3-3B's config.json leaves it out; Llama's default is false.
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', mt === 'smollm3'),
    numKvHeads,
    rmsNormEps: epsilon(c, 'rms_norm_eps'),
    rope: parseRope(c),
    qkvBias: mt === 'qwen2' ? true : attentionBias,
    oBias: mt === 'qwen2' ? false : attentionBias,
    mlpBias: mt === 'llama' ? bool(c, 'mlp_bias', false) : false,
    qkNorm: mt === 'qwen3',
    slidingWindow: window,
    ropeLayers: mt === 'smollm3' ? smolRopeLayers(c, dims.numLayers) : null,
  };
}

/** SmolLM3's `no_rope_layers` (1 = RoPE, 0 = none), or transformers' default from no_rope_layer_interval. */
function smolRopeLayers(c: Json, numLayers: number): boolean[] {
  const given = c['no_rope_layers'];
  if (given !== undefined && given !== null) {
    if (!Array.isArray(given) || given.length !== numLayers || !given.every((v) => v === 0 || v === 1)) {
      throw new ModelConfigError('no_rope_layers', `no_rope_layers must list 0 or 1 for each of the ${numLayers} layers, got ${preview(given)}`);
    }
    return given.map((v) => v === 1);
  }
  const interval = c['no_rope_layer_interval'] ?? 4;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1) throw new ModelConfigError('no_rope_layer_interval', `no_rope_layer_interval must be a positive integer, got ${preview(interval)}`);
  return Array.from({ length: numLayers }, (_, i) => (i + 1) % interval !== 0);
}

/**
 * Gemma 3 text and Gemma 2, with each config class's own defaults: Gemma2Config turns soft-capping on (attention 50,
 * logits 30) and uses rope_theta 10000 on every layer; Gemma3TextConfig leaves soft-capping off and gives local layers
 * rope_local_base_freq.
 */
function parseGemma(c: Json, mt: Gemma3Config['modelType']): Gemma3Config {
  const gemma2 = mt === 'gemma2';
  const hiddenSize = int(c, 'hidden_size', CONFIG_LIMITS.hidden_size);
  const numHeads = int(c, 'num_attention_heads', CONFIG_LIMITS.num_attention_heads);
  const numKvHeads = optInt(c, 'num_key_value_heads', CONFIG_LIMITS.num_key_value_heads, 1) ?? numHeads;
  // Gemma3TextConfig's and Gemma2Config's default head_dim is 256, independent of hidden_size.
  const headDim = optInt(c, 'head_dim', CONFIG_LIMITS.head_dim, 1) ?? 256;
  const numLayers = int(c, 'num_hidden_layers', CONFIG_LIMITS.num_hidden_layers);
  if (numHeads % numKvHeads !== 0) throw new ModelConfigError('num_key_value_heads', `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 2 !== 0) throw new ModelConfigError('head_dim', `head_dim ${headDim} must be even for RoPE`);
  if (gemma2 && hiddenSize % numHeads !== 0) {
    // Gemma2Config refuses this too, although head_dim is its own key.
    throw new ModelConfigError('num_attention_heads', `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}, which Gemma 2 requires. HINT: the file is corrupt; re-download config.json.`);
  }
  const act = c['hidden_activation'] ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh') {
    throw new UnsupportedModelError(`config.json: hidden_activation ${preview(act)} is not supported for ${mt}; TabTune implements gelu_pytorch_tanh (GeGLU with tanh GELU)`);
  }
  if (c['use_bidirectional_attention'] === true) {
    throw new UnsupportedModelError(`config.json: use_bidirectional_attention true (an embedding model such as EmbeddingGemma) is not supported for ${mt}; TabTune trains causal language models`);
  }
  const partial = c['partial_rotary_factor'];
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw new UnsupportedModelError(`config.json: partial_rotary_factor ${preview(partial)} is not supported; TabTune rotates the whole head`);
  }
  refuseAttentionDropout(c, mt);
  const layerTypes = gemmaLayerTypes(c, numLayers, mt);
  // Gemma2Config's sliding_window default is 4096; config.json files written by transformers always carry the key.
  const slidingWindow = c['sliding_window'] === undefined && gemma2 ? 4096 : optInt(c, 'sliding_window', CONFIG_LIMITS.sliding_window, 1);
  if (layerTypes.includes('sliding_attention') && (slidingWindow === null || slidingWindow < 1)) {
    const typical = gemma2 ? '4096 for Gemma 2' : '512 for Gemma 3 270M/1B';
    throw new ModelConfigError('sliding_window', `layer_types marks sliding_attention layers but sliding_window is missing or 0; set sliding_window (${typical})`);
  }
  const { global, local } = gemma2 ? gemma2Rope(c) : gemmaRope(c);
  const scalar = c['query_pre_attn_scalar'] ?? 256;
  if (typeof scalar !== 'number' || !Number.isFinite(scalar) || !(scalar > 0)) throw new ModelConfigError('query_pre_attn_scalar', `query_pre_attn_scalar must be a positive number, got ${preview(scalar)}`);
  return {
    family: 'gemma3',
    modelType: mt,
    ...common(c, { hiddenSize, numHeads, headDim, intermediateSize: int(c, 'intermediate_size', CONFIG_LIMITS.intermediate_size), numLayers }),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings', CONFIG_LIMITS.max_position_embeddings, 1) ?? (gemma2 ? 8192 : 131072),
    // Both config classes default tie_word_embeddings to true; their checkpoints store no lm_head.weight.
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', true),
    qkNorm: !gemma2,
    numKvHeads,
    rmsNormEps: c['rms_norm_eps'] === undefined ? 1e-6 : epsilon(c, 'rms_norm_eps'),
    rope: global,
    localRope: local,
    attentionBias: bool(c, 'attention_bias', false),
    queryPreAttnScalar: scalar,
    slidingWindow: slidingWindow ?? 0,
    layerTypes,
    // A missing key takes the config class's default; an explicit null turns soft-capping off in both.
    attnLogitSoftcapping: softcap(c, 'attn_logit_softcapping', gemma2 ? 50 : null),
    finalLogitSoftcapping: softcap(c, 'final_logit_softcapping', gemma2 ? 30 : null),
  };
}

/**
 * `layer_types`, or transformers' derivation when a config has none: Gemma 3 makes every sliding_window_pattern-th
 * layer global; Gemma 2 alternates, local first (Gemma2Config's default, and the `layer_idx % 2 == 0` rule of the
 * releases before layer_types existed).
 */
function gemmaLayerTypes(c: Json, numLayers: number, mt: Gemma3Config['modelType']): LayerType[] {
  const given = c['layer_types'];
  if (given !== undefined && given !== null) {
    if (!Array.isArray(given) || given.length !== numLayers) {
      throw new ModelConfigError('layer_types', `layer_types must list one entry per layer (${numLayers}), got ${preview(given)}`);
    }
    for (const t of given) {
      if (t !== 'sliding_attention' && t !== 'full_attention') {
        throw new UnsupportedModelError(`config.json: layer type ${preview(t)} is not supported for ${mt}; TabTune implements sliding_attention and full_attention`);
      }
    }
    return given as LayerType[];
  }
  const pattern = mt === 'gemma2' ? 2 : (c['sliding_window_pattern'] ?? c['_sliding_window_pattern'] ?? 6);
  if (typeof pattern !== 'number' || !Number.isInteger(pattern) || pattern < 1) throw new ModelConfigError('sliding_window_pattern', `sliding_window_pattern must be a positive integer, got ${preview(pattern)}`);
  return Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern !== 0 ? 'sliding_attention' : 'full_attention'));
}

/** Heads and head size of a Llama-family, OLMo 2 or Granite config (RoPE over whole heads, GQA, SwiGLU only). */
function rotaryDecoderDims(c: Json, mt: LlamaFamilyConfig['modelType'] | 'olmo2' | 'granite', dropout: 'refused' | 'read'): Dims & { numKvHeads: number } {
  const hiddenSize = int(c, 'hidden_size', CONFIG_LIMITS.hidden_size);
  const numHeads = int(c, 'num_attention_heads', CONFIG_LIMITS.num_attention_heads);
  const numKvHeads = optInt(c, 'num_key_value_heads', CONFIG_LIMITS.num_key_value_heads, 1) ?? numHeads;
  const headDim = optInt(c, 'head_dim', CONFIG_LIMITS.head_dim, 1) ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) {
    throw new ModelConfigError('head_dim', `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads} and head_dim is missing. HINT: the file is corrupt; re-download config.json.`);
  }
  if (headDim % 2 !== 0) throw new ModelConfigError('head_dim', `head_dim ${headDim} is odd; rotary embeddings rotate pairs of channels, so it must be even.`);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError('num_key_value_heads', `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}. HINT: the file is corrupt; re-download config.json.`);
  }
  const act = c['hidden_act'] ?? 'silu';
  if (act !== 'silu') throw new UnsupportedModelError(`config.json: hidden_act ${preview(act)} is not supported for ${mt}; TabTune implements silu (SwiGLU)`);
  const partial = c['partial_rotary_factor'];
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw new UnsupportedModelError(`config.json: partial_rotary_factor ${preview(partial)} is not supported for ${mt}; TabTune rotates the whole head`);
  }
  if (dropout === 'refused') refuseAttentionDropout(c, mt);
  return {
    hiddenSize, numHeads, numKvHeads, headDim,
    intermediateSize: int(c, 'intermediate_size', CONFIG_LIMITS.intermediate_size),
    numLayers: int(c, 'num_hidden_layers', CONFIG_LIMITS.num_hidden_layers),
  };
}

function parseOlmo2(c: Json): Olmo2Config {
  const { numKvHeads, ...dims } = rotaryDecoderDims(c, 'olmo2', 'refused');
  // OLMo 2 drops OLMo 1's clip_qkv (Olmo2Config deletes it); a config asking for it was made for another model.
  if (c['clip_qkv'] !== undefined && c['clip_qkv'] !== null) {
    throw new UnsupportedModelError(`config.json: clip_qkv ${preview(c['clip_qkv'])} is not supported for olmo2; OLMo 2 does not clip q/k/v (that is OLMo 1, model_type olmo)`);
  }
  return {
    family: 'olmo2',
    modelType: 'olmo2',
    ...common(c, dims),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings', CONFIG_LIMITS.max_position_embeddings, 1) ?? 2048,
    // Olmo2Config defaults: untied head, rms_norm_eps 1e-5.
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', false),
    numKvHeads,
    rmsNormEps: c['rms_norm_eps'] === undefined || c['rms_norm_eps'] === null ? 1e-5 : epsilon(c, 'rms_norm_eps'),
    rope: parseRope(c),
    attentionBias: bool(c, 'attention_bias', false),
  };
}

/** A Granite multiplier: GraniteConfig's default 1.0 when missing, else a positive number within CONFIG_LIMITS. */
function graniteMultiplier(c: Json, key: string): number {
  const v = c[key];
  if (v === undefined || v === null) return 1;
  const max = CONFIG_LIMITS.granite_multiplier;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0) || v > max || v < 1 / max) {
    throw new ModelConfigError(key, `${key} must be a positive number from ${1 / max} to ${max}, got ${preview(v)} (Granite 3 uses values such as 12, 0.015625, 0.22 and 8).`);
  }
  return v;
}

function parseGranite(c: Json): GraniteConfig {
  // Granite 3 checkpoints publish attention_dropout 0.1: it is applied in training (seeded masks), as transformers does.
  const { numKvHeads, ...dims } = rotaryDecoderDims(c, 'granite', 'read');
  const attentionDropout = c['attention_dropout'] ?? 0;
  if (typeof attentionDropout !== 'number' || !(attentionDropout >= 0 && attentionDropout < 1)) {
    throw new ModelConfigError('attention_dropout', `attention_dropout must be a probability in [0, 1), got ${preview(attentionDropout)}`);
  }
  return {
    family: 'granite',
    modelType: 'granite',
    ...common(c, dims),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings', CONFIG_LIMITS.max_position_embeddings, 1) ?? 2048,
    // GraniteConfig defaults: untied head (Granite 3 checkpoints set tie_word_embeddings true), rms_norm_eps 1e-6.
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', false),
    numKvHeads,
    rmsNormEps: c['rms_norm_eps'] === undefined || c['rms_norm_eps'] === null ? 1e-6 : epsilon(c, 'rms_norm_eps'),
    rope: parseRope(c),
    attentionBias: bool(c, 'attention_bias', false),
    mlpBias: bool(c, 'mlp_bias', false),
    embeddingMultiplier: graniteMultiplier(c, 'embedding_multiplier'),
    attentionMultiplier: graniteMultiplier(c, 'attention_multiplier'),
    residualMultiplier: graniteMultiplier(c, 'residual_multiplier'),
    logitsScaling: graniteMultiplier(c, 'logits_scaling'),
    attentionDropout,
  };
}

function parseGpt2(c: Json): Gpt2Config {
  const hiddenSize = int(c, 'n_embd', CONFIG_LIMITS.hidden_size);
  const numHeads = int(c, 'n_head', CONFIG_LIMITS.num_attention_heads);
  const act = c['activation_function'] ?? 'gelu_new';
  if (act !== 'gelu_new') throw new UnsupportedModelError(`config.json: activation_function ${preview(act)} is not supported for gpt2; TabTune implements gelu_new`);
  for (const key of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'] as const) {
    if (c[key] === true) throw new UnsupportedModelError(`config.json: ${key} true is not supported for gpt2`);
  }
  if (c['scale_attn_weights'] === false) throw new UnsupportedModelError('config.json: scale_attn_weights false is not supported for gpt2');
  if (hiddenSize % numHeads !== 0) throw new ModelConfigError('n_head', `n_embd ${hiddenSize} is not divisible by n_head ${numHeads}. HINT: the file is corrupt; re-download config.json.`);
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    ...common(c, {
      hiddenSize,
      numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: optInt(c, 'n_inner', CONFIG_LIMITS.intermediate_size, 1) ?? 4 * hiddenSize,
      numLayers: int(c, 'n_layer', CONFIG_LIMITS.num_hidden_layers),
    }),
    maxPositionEmbeddings: int(c, 'n_positions', CONFIG_LIMITS.max_position_embeddings),
    // GPT2LMHeadModel always shares lm_head with wte; checkpoints do not store lm_head.weight.
    tieWordEmbeddings: true,
    layerNormEps: epsilon(c, 'layer_norm_epsilon'),
    embdPdrop: probability(c, 'embd_pdrop'),
    attnPdrop: probability(c, 'attn_pdrop'),
    residPdrop: probability(c, 'resid_pdrop'),
  };
}

type Dims = Pick<CommonConfig, 'hiddenSize' | 'numHeads' | 'headDim' | 'intermediateSize' | 'numLayers'>;

function common(c: Json, dims: Dims): Omit<CommonConfig, 'modelType' | 'maxPositionEmbeddings' | 'tieWordEmbeddings'> {
  const vocabSize = int(c, 'vocab_size', CONFIG_LIMITS.vocab_size);
  return { ...dims, vocabSize, bosTokenId: optInt(c, 'bos_token_id', Number.MAX_SAFE_INTEGER, 0), eosTokenIds: tokenIds(c, 'eos_token_id') };
}
