// Shared fixtures for step/runtime tests: a seeded RNG, a tiny causal LM with LoRA-style trainable tensors built from
// engine ops (embedding → causal mixing → linear + LoRA → tanh residual → scale → head), and variable-length batches.
import type { ForwardFn } from '../../src/engine/step.ts';
import type { Value } from '../../src/engine/ir.ts';
import type { HostTensor } from '../../src/runtime/backend.ts';
import { makeTensor } from '../../src/engine/graph.ts';
import { Add, Gather, MatMul, Mul, Tanh, Transpose } from '../../src/engine/ops.ts';
import { IGNORE_INDEX } from '../../src/engine/loss.ts';

/** Deterministic pseudo-random numbers (mulberry32): uniform in [0, 1), same seed → same stream. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TinyDims {
  readonly B: number;
  readonly T: number;
  readonly V: number;
  readonly D: number;
  readonly R: number;
}

export const TINY: TinyDims = { B: 4, T: 8, V: 13, D: 16, R: 4 };

/** The tiny model's forward. Weight layouts follow torch Linear ([out, in]); LoRA A [r, in], B [out, r]. */
export function tinyForward(d: TinyDims): ForwardFn {
  return (g) => {
    const ids = g.input('input_ids', 'int32', [d.B, d.T], 'data');
    const embed = g.input('embed.weight', 'float32', [d.V, d.D], 'frozen');
    const w = g.input('layer.weight', 'float32', [d.D, d.D], 'frozen');
    const head = g.input('lm_head.weight', 'float32', [d.V, d.D], 'frozen');
    const a = g.input('layer.lora_A.weight', 'float32', [d.R, d.D], 'trainable');
    const b = g.input('layer.lora_B.weight', 'float32', [d.D, d.R], 'trainable');
    const scale = g.input('norm.weight', 'float32', [d.D], 'trainable');
    const x = Gather(g, embed, ids, 0); // [B, T, D]
    // Causal mixing: position t averages positions ≤ t, so padding after a row's end cannot change its loss.
    const tri: number[] = [];
    for (let i = 0; i < d.T; i++) for (let j = 0; j < d.T; j++) tri.push(j <= i ? 1 / (i + 1) : 0);
    const mixed = MatMul(g, g.constant(makeTensor('float32', [d.T, d.T], tri)), x); // [B, T, D]
    const lora = MatMul(g, MatMul(g, mixed, Transpose(g, a)), Transpose(g, b)); // [B, T, D]
    const h = Add(g, MatMul(g, mixed, Transpose(g, w)), Mul(g, lora, 2)); // alpha / r = 2
    const y: Value = Mul(g, Add(g, x, Tanh(g, h)), scale);
    return MatMul(g, y, Transpose(g, head)); // [B, T, V]
  };
}

const uniform = (rand: () => number, n: number, bound: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);

/** Seeded weights: frozen tensors and non-zero initial trainables (B non-zero so every tensor gets a gradient). */
export function tinyWeights(d: TinyDims, seed: number) {
  const rand = seededRandom(seed);
  const frozen: Record<string, HostTensor> = {
    'embed.weight': { dtype: 'float32', dims: [d.V, d.D], data: uniform(rand, d.V * d.D, 1) },
    'layer.weight': { dtype: 'float32', dims: [d.D, d.D], data: uniform(rand, d.D * d.D, 1 / Math.sqrt(d.D)) },
    'lm_head.weight': { dtype: 'float32', dims: [d.V, d.D], data: uniform(rand, d.V * d.D, 1 / Math.sqrt(d.D)) },
  };
  const params: Record<string, Float32Array> = {
    'layer.lora_A.weight': uniform(rand, d.R * d.D, 1 / Math.sqrt(d.D)),
    'layer.lora_B.weight': uniform(rand, d.D * d.R, 0.1),
    'norm.weight': Float32Array.from({ length: d.D }, () => 1 + (rand() * 2 - 1) * 0.1),
  };
  return { frozen, params };
}

/** One row: token ids and unshifted labels (prompt masked with -100), padded to T with -100 labels. */
export interface Row {
  readonly ids: readonly number[];
  readonly labels: readonly number[];
}

/** Rows of different lengths and prompt lengths, from a seed. */
export function tinyRows(d: TinyDims, n: number, seed: number): Row[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const len = 3 + Math.floor(rand() * (d.T - 2)); // 3..T
    const prompt = 1 + Math.floor(rand() * (len - 2));
    const ids = Array.from({ length: len }, () => Math.floor(rand() * d.V));
    return { ids, labels: ids.map((id, i) => (i < prompt ? IGNORE_INDEX : id)) };
  });
}

/** Collates rows into a batch of T columns (pad id 0, pad label -100 by position). */
export function collate(rows: readonly Row[], T: number): Record<string, HostTensor> {
  const ids = new Int32Array(rows.length * T);
  const labels = new Int32Array(rows.length * T).fill(IGNORE_INDEX);
  rows.forEach((r, b) => {
    r.ids.forEach((id, t) => (ids[b * T + t] = id));
    r.labels.forEach((l, t) => (labels[b * T + t] = l));
  });
  return {
    input_ids: { dtype: 'int32', dims: [rows.length, T], data: ids },
    labels: { dtype: 'int32', dims: [rows.length, T], data: labels },
  };
}

/**
 * A forward with `n` small trainable tensors (per-position biases added to tiny logits), to exercise optimizer groups
 * wider than one Concat/Split may be on WebGPU.
 */
export function manyParamsForward(n: number, B = 2, T = 4, V = 5): ForwardFn {
  return (g) => {
    const ids = g.input('input_ids', 'int32', [B, T], 'data');
    const table = g.input('table', 'float32', [V, V], 'frozen');
    let logits: Value = Gather(g, table, ids, 0); // [B, T, V]
    for (let i = 0; i < n; i++) logits = Add(g, logits, Mul(g, g.input(`bias.${i}`, 'float32', [T, V], 'trainable'), 1 / (i + 1)));
    return logits;
  };
}
