// Rotary position embeddings as a config.json describes them: rope_theta and rope_scaling (default, linear, llama3) or
// transformers 5's rope_parameters, Gemma's separate local and global bases, and the inverse frequencies the RoPE
// tables are built from, in float64 as transformers computes them.
import { preview } from '../engine/preview.ts';
import { ModelConfigError, obj, positive, UnsupportedModelError, type Json } from './config-values.ts';

type RopeType = 'default' | 'linear' | 'llama3';

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

/** Reads rope_theta / rope_scaling, or transformers 5's combined `rope_parameters`. */
export function parseRope(c: Json): RopeConfig {
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

/**
 * Global layers use rope_theta with rope_scaling (Gemma 3 4B+ scale linearly); local layers use rope_local_base_freq
 * unscaled. transformers 5 writes both under rope_parameters.{full_attention,sliding_attention}.
 */
export function gemmaRope(c: Json): { global: RopeConfig; local: RopeConfig } {
  const params = obj(c, 'rope_parameters');
  const full = params ? obj(params, 'full_attention') : null;
  const sliding = params ? obj(params, 'sliding_attention') : null;
  if (full || sliding) {
    const localParams = sliding ?? {};
    const localType = localParams['rope_type'] ?? 'default';
    if (localType !== 'default') throw new UnsupportedModelError(`config.json: rope_parameters.sliding_attention rope_type ${preview(localType)} is not supported; TabTune implements default RoPE on local layers`);
    return {
      global: parseRope({ rope_parameters: full ?? {} }),
      local: parseRope({ rope_theta: localParams['rope_theta'] ?? 10000 }),
    };
  }
  const localTheta = c['rope_local_base_freq'] ?? 10000;
  // Gemma3TextConfig's rope_theta default is 1e6, not the Llama 1e4.
  return { global: parseRope({ ...c, rope_theta: c['rope_theta'] ?? 1_000_000 }), local: parseRope({ rope_theta: localTheta }) };
}

/** Gemma 2: one RoPE (rope_theta, default 10000, or transformers 5's rope_parameters) on local and global layers. */
export function gemma2Rope(c: Json): { global: RopeConfig; local: RopeConfig } {
  const rope = parseRope(c);
  return { global: rope, local: rope };
}
