// Reading config.json values safely: the project's two config errors, the range limits every size is checked against
// before anything is sized from it, and typed getters that refuse a wrong type or an out-of-range value with a
// message naming the key (bad values quoted through preview(), bounded and never recursive). config.ts parses with them.
import { preview } from '../engine/preview.ts';

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
  /** Granite's embedding/attention/residual multipliers and logits_scaling lie in [1/this, this]. */
  granite_multiplier: 1e6,
} as const;

export type Json = Record<string, unknown>;

/** A dropout probability in [0, 1), with GPT2Config's default 0.1 when the key is missing. */
export function probability(c: Json, key: string): number {
  const v = c[key] ?? 0.1;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ModelConfigError(key, `${key} must be a probability in [0, 1), got ${preview(v)}`);
  return v;
}

/** A tanh soft-capping value: positive and finite, null when the config sets null, `fallback` (the config class's
 * default) when the key is missing. */
export function softcap(c: Json, key: string, fallback: number | null = null): number | null {
  const v = c[key];
  if (v === undefined) return fallback;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new ModelConfigError(key, `${key} must be a positive number or null, got ${preview(v)}`);
  return v;
}

function num(c: Json, key: string, label = key): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelConfigError(label, `${label} must be a number, got ${preview(v)}.`);
  return v;
}

export function positive(c: Json, key: string, label = key): number {
  const v = num(c, key, label);
  if (!(v > 0)) throw new ModelConfigError(label, `${label} must be a positive number, got ${v}.`);
  return v;
}

/** A normalisation epsilon: positive and small (1e-5, 1e-6 in published configs). */
export function epsilon(c: Json, key: string): number {
  const v = num(c, key);
  if (!(v > 0 && v < 1)) throw new ModelConfigError(key, `${key} must be a small positive number such as 1e-5, got ${v}.`);
  return v;
}

export function int(c: Json, key: string, max: number): number {
  const v = num(c, key);
  if (!Number.isInteger(v) || v <= 0 || v > max) {
    throw new ModelConfigError(key, `${key} must be a positive integer of at most ${max}, got ${v}. HINT: the file is corrupt or not a model TabTune can train.`);
  }
  return v;
}

export function optInt(c: Json, key: string, max: number, min: number): number | null {
  const v = c[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ModelConfigError(key, `${key} must be an integer from ${min} to ${max} or null, got ${preview(v)}. HINT: the file is corrupt or not a model TabTune can train.`);
  }
  return v;
}

export function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ModelConfigError(key, `${key} must be true or false, got ${preview(v)}.`);
  return v;
}

export function obj(c: Json, key: string): Json | null {
  const v = c[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

export function tokenIds(c: Json, key: string): number[] {
  const v = c[key];
  if (v === undefined || v === null) return [];
  const list: unknown[] = Array.isArray(v) ? v : [v];
  if (list.length > CONFIG_LIMITS.eos_token_id || !list.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) {
    throw new ModelConfigError(key, `${key} must be an integer or a list of at most ${CONFIG_LIMITS.eos_token_id} integers, got ${preview(v)}.`);
  }
  return list as number[];
}
