// Model configuration: parses a Hugging Face config.json into a typed ModelConfig for the families TabTune runs
// (llama, mistral without sliding window, qwen2, qwen3, gpt2) and rejects everything else with a message naming what is
// supported. HF config keys are spelled as transformers writes them. Every number is range-checked here, before any
// table, graph or memory bill is sized from it, and every bad value is quoted through preview() (bounded, never
// recursive). Imports nothing outside this folder but that message helper.
import { preview } from '../engine/preview.ts';

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** `architectures` values TabTune accepts, per model_type (the CausalLM heads transformers saves). */
const ARCHITECTURES: Readonly<Record<ModelType, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  gpt2: 'GPT2LMHeadModel',
};

const SUPPORTED_TEXT =
  'TabTune supports model_type llama (Llama 2/3, SmolLM, TinyLlama), mistral (without sliding window), qwen2 (Qwen2/2.5), ' +
  'qwen3 and gpt2, with architectures ' + Object.values(ARCHITECTURES).join(', ');

export type RopeType = 'default' | 'linear' | 'llama3';

/** Rotary embedding parameters as transformers' ROPE_INIT_FUNCTIONS reads them. */
export interface RopeConfig {
  readonly theta: number;
  readonly type: RopeType;
  /** `factor` of linear / llama3 scaling (1 for default). */
  readonly factor: number;
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositionEmbeddings: number;
}

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

/** Llama, Mistral, Qwen2 and Qwen3: RMSNorm pre-norm decoder with RoPE, GQA and a SwiGLU MLP. */
export interface LlamaFamilyConfig extends CommonConfig {
  readonly family: 'llama';
  readonly modelType: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
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
}

/** GPT-2: LayerNorm pre-norm decoder with learned positions, Conv1D projections and gelu_new. */
export interface Gpt2Config extends CommonConfig {
  readonly family: 'gpt2';
  readonly modelType: 'gpt2';
  readonly layerNormEps: number;
}

export type ModelConfig = LlamaFamilyConfig | Gpt2Config;

export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

/** A config.json that is malformed or out of range; `field` names the key (e.g. `head_dim`, `rope_scaling.factor`). */
export class ModelConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`config.json: ${message}`);
    this.name = 'ModelConfigError';
  }
}

/**
 * Upper bounds on the sizes a config may declare: at least twice the largest published model (Llama 3.1 405B has
 * hidden 16384, 126 layers, 128 heads, head_dim 128; Gemma 3 a 262,144-token vocabulary), and far below what would
 * make a weight table or memory bill allocate or overflow. A value past one is a corrupt or hostile file.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 22,
  hidden_size: 1 << 16,
  intermediate_size: 1 << 18,
  num_hidden_layers: 256,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  max_position_embeddings: 1 << 24,
  sliding_window: 1 << 24,
  eos_token_id: 1024,
} as const;

type Json = Record<string, unknown>;

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
    throw new UnsupportedModelError(`model_type ${preview(modelType)}${archText} is not supported. ${SUPPORTED_TEXT}.`);
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
  return mt === 'gpt2' ? parseGpt2(c) : parseLlamaFamily(c, mt);
}

function parseLlamaFamily(c: Json, mt: LlamaFamilyConfig['modelType']): LlamaFamilyConfig {
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
    throw new UnsupportedModelError(`config.json: partial_rotary_factor ${preview(partial)} is not supported; TabTune rotates the whole head`);
  }
  if (mt === 'qwen2' || mt === 'qwen3') {
    if (c['use_sliding_window'] === true) {
      throw new UnsupportedModelError(`config.json: use_sliding_window true is not supported for ${mt}; TabTune implements full attention only`);
    }
  }
  const window = mt === 'mistral' ? optInt(c, 'sliding_window', CONFIG_LIMITS.sliding_window, 1) : null;
  const attentionBias = bool(c, 'attention_bias', false);
  return {
    family: 'llama',
    modelType: mt,
    ...common(c, {
      hiddenSize, numHeads, headDim,
      intermediateSize: int(c, 'intermediate_size', CONFIG_LIMITS.intermediate_size),
      numLayers: int(c, 'num_hidden_layers', CONFIG_LIMITS.num_hidden_layers),
    }),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings', CONFIG_LIMITS.max_position_embeddings, 1) ?? 2048,
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', false),
    numKvHeads,
    rmsNormEps: epsilon(c, 'rms_norm_eps'),
    rope: parseRope(c),
    qkvBias: mt === 'qwen2' ? true : attentionBias,
    oBias: mt === 'qwen2' ? false : attentionBias,
    mlpBias: mt === 'llama' ? bool(c, 'mlp_bias', false) : false,
    qkNorm: mt === 'qwen3',
    slidingWindow: window,
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
  };
}

type Dims = Pick<CommonConfig, 'hiddenSize' | 'numHeads' | 'headDim' | 'intermediateSize' | 'numLayers'>;

function common(c: Json, dims: Dims): Omit<CommonConfig, 'modelType' | 'maxPositionEmbeddings' | 'tieWordEmbeddings'> {
  const vocabSize = int(c, 'vocab_size', CONFIG_LIMITS.vocab_size);
  return { ...dims, vocabSize, bosTokenId: optInt(c, 'bos_token_id', Number.MAX_SAFE_INTEGER, 0), eosTokenIds: tokenIds(c, 'eos_token_id') };
}

/** Reads rope_theta / rope_scaling, or transformers 5's combined `rope_parameters`. */
function parseRope(c: Json): RopeConfig {
  const params = obj(c, 'rope_parameters');
  const scaling = obj(c, 'rope_scaling') ?? params ?? {};
  const theta = c['rope_theta'] ?? params?.['rope_theta'] ?? 10000;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || !(theta > 0)) {
    throw new ModelConfigError('rope_theta', `rope_theta ${preview(theta)} must be a positive number (10000 for Llama 2, 500000 for Llama 3).`);
  }
  const type = scaling['rope_type'] ?? scaling['type'] ?? 'default';
  if (type !== 'default' && type !== 'linear' && type !== 'llama3') {
    throw new UnsupportedModelError(`config.json: rope_scaling type ${preview(type)} is not supported; TabTune implements default, linear and llama3`);
  }
  const factor = type === 'default' ? 1 : positive(scaling, 'factor', 'rope_scaling.factor');
  if (type !== 'llama3') return { theta, type, factor, lowFreqFactor: 1, highFreqFactor: 1, originalMaxPositionEmbeddings: 0 };
  const lowFreqFactor = positive(scaling, 'low_freq_factor', 'rope_scaling.low_freq_factor');
  const highFreqFactor = positive(scaling, 'high_freq_factor', 'rope_scaling.high_freq_factor');
  if (!(highFreqFactor > lowFreqFactor)) {
    throw new ModelConfigError('rope_scaling.high_freq_factor', `rope_scaling.high_freq_factor ${highFreqFactor} must be above low_freq_factor ${lowFreqFactor} (Llama 3.1 uses 4 and 1).`);
  }
  return {
    theta,
    type,
    factor,
    lowFreqFactor,
    highFreqFactor,
    originalMaxPositionEmbeddings: positive(scaling, 'original_max_position_embeddings', 'rope_scaling.original_max_position_embeddings'),
  };
}

/**
 * RoPE inverse frequencies for `headDim` channels (headDim / 2 values), in float64, following transformers:
 * default θ^(-2i/d); linear divides by `factor`; llama3 divides long wavelengths by `factor`, keeps short ones and
 * blends the band in between.
 */
export function ropeInvFreq(rope: RopeConfig, headDim: number): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const f = 1 / Math.pow(rope.theta, (2 * i) / headDim);
    out[i] = rope.type === 'linear' ? f / rope.factor : rope.type === 'llama3' ? llama3Scale(rope, f) : f;
  }
  return out;
}

function llama3Scale(rope: RopeConfig, f: number): number {
  const lowWavelen = rope.originalMaxPositionEmbeddings / rope.lowFreqFactor;
  const highWavelen = rope.originalMaxPositionEmbeddings / rope.highFreqFactor;
  const wavelen = (2 * Math.PI) / f;
  if (wavelen < highWavelen) return f;
  if (wavelen > lowWavelen) return f / rope.factor;
  const smooth = (rope.originalMaxPositionEmbeddings / wavelen - rope.lowFreqFactor) / (rope.highFreqFactor - rope.lowFreqFactor);
  return (1 - smooth) * (f / rope.factor) + smooth * f;
}

function num(c: Json, key: string, label = key): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelConfigError(label, `${label} must be a number, got ${preview(v)}.`);
  return v;
}

function positive(c: Json, key: string, label = key): number {
  const v = num(c, key, label);
  if (!(v > 0)) throw new ModelConfigError(label, `${label} must be a positive number, got ${v}.`);
  return v;
}

/** A normalisation epsilon: positive and small (1e-5, 1e-6 in published configs). */
function epsilon(c: Json, key: string): number {
  const v = num(c, key);
  if (!(v > 0 && v < 1)) throw new ModelConfigError(key, `${key} must be a small positive number such as 1e-5, got ${v}.`);
  return v;
}

function int(c: Json, key: string, max: number): number {
  const v = num(c, key);
  if (!Number.isInteger(v) || v <= 0 || v > max) {
    throw new ModelConfigError(key, `${key} must be a positive integer of at most ${max}, got ${v}. HINT: the file is corrupt or not a model TabTune can train.`);
  }
  return v;
}

function optInt(c: Json, key: string, max: number, min: number): number | null {
  const v = c[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelConfigError(key, `${key} must be an integer from ${min} to ${max} or null, got ${preview(v)}. HINT: the file is corrupt or not a model TabTune can train.`);
  }
  return v;
}

function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ModelConfigError(key, `${key} must be true or false, got ${preview(v)}.`);
  return v;
}

function obj(c: Json, key: string): Json | null {
  const v = c[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

function tokenIds(c: Json, key: string): number[] {
  const v = c[key];
  if (v === undefined || v === null) return [];
  const list: unknown[] = Array.isArray(v) ? v : [v];
  if (list.length > CONFIG_LIMITS.eos_token_id || !list.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) {
    throw new ModelConfigError(key, `${key} must be an integer or a list of at most ${CONFIG_LIMITS.eos_token_id} integers, got ${preview(v)}.`);
  }
  return list as number[];
}
