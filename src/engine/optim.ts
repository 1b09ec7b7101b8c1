// AdamW and global-norm gradient clipping as graph nodes, matching torch.optim.AdamW (bias correction, decoupled
// weight decay) and torch.nn.utils.clip_grad_norm_. The learning rate and the 1-based step number enter as graph inputs
// (host scalars fed each run, with the bias corrections computed on the host in float64); betas, eps, weight decay
// and the clipping threshold are build-time constants.
import type { Value } from './ir.ts';
import type { GraphBuilder } from './graph.ts';
import { Add, Div, Max, Min, Mul, ReduceSumSquare, Sqrt, Sub } from './ops.ts';

export interface AdamWConfig {
  /** Default 0.9 (torch, HF Trainer). */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8; added to sqrt(v̂), outside the square root, as torch does. */
  readonly eps?: number;
  /** Decoupled weight decay λ: p ← p·(1 − lr·λ) before the Adam step. Default 0 (HF Trainer's default). */
  readonly weightDecay?: number;
  /** Global L2 norm threshold; null disables clipping (the norm is still computed for the metrics). Default 1.0. */
  readonly maxGradNorm?: number | null;
}

export interface ResolvedAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number | null;
}

export function resolveAdamW(c: AdamWConfig = {}): ResolvedAdamW {
  const r = { beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999, eps: c.eps ?? 1e-8, weightDecay: c.weightDecay ?? 0, maxGradNorm: c.maxGradNorm === undefined ? 1.0 : c.maxGradNorm };
  for (const [k, v] of [['beta1', r.beta1], ['beta2', r.beta2]] as const) {
    if (!(v >= 0 && v < 1)) throw new Error(`AdamW ${k} must be in [0, 1), got ${v}`);
  }
  if (!(r.eps > 0)) throw new Error(`AdamW eps must be > 0, got ${r.eps}`);
  if (!(r.weightDecay >= 0)) throw new Error(`AdamW weightDecay must be ≥ 0, got ${r.weightDecay}`);
  if (r.maxGradNorm !== null && !(r.maxGradNorm > 0)) throw new Error(`maxGradNorm must be > 0 or null (no clipping), got ${r.maxGradNorm}`);
  return r;
}

/** sqrt(Σ_i ‖g_i‖²) over every gradient: a [] float32 value. */
export function globalNorm(g: GraphBuilder, grads: readonly Value[]): Value {
  if (grads.length === 0) throw new Error('globalNorm: no gradients given');
  // ONNX Sum with several inputs falls back to the CPU on WebGPU (ort-webgpu.md): chain Adds instead.
  let total: Value | null = null;
  for (const grad of grads) {
    const sq = ReduceSumSquare(g, grad, [], { keepdims: false });
    total = total === null ? sq : Add(g, total, sq);
  }
  return Sqrt(g, total!);
}

/** torch's clip_grad_norm_ factor: min(1, maxNorm / (norm + 1e-6)). Multiply every gradient by it. */
export function clipFactor(g: GraphBuilder, norm: Value, maxNorm: number): Value {
  return Min(g, Div(g, g.constant(maxNorm, norm.dtype), Add(g, norm, 1e-6)), 1);
}

/**
 * Per-step scalars shared by every parameter's update, graph inputs of shape [] float32. The bias corrections are
 * computed on the host in float64 (adamwHostScalars), as torch does in Python: in float32, 1 − β2^t cancels
 * catastrophically (0.999 itself is off by 1.3e-8, i.e. 1.3e-5 of 1 − 0.999), and the WebGPU Pow kernel adds its own
 * error, which made WASM and WebGPU updates differ by 3e-5.
 */
export interface AdamWScalars {
  /** The learning rate (for the decoupled decay). */
  readonly lr: Value;
  /** lr / (1 − β1^t) */
  readonly stepSize: Value;
  /** sqrt(1 − β2^t) */
  readonly bc2Sqrt: Value;
  /** 1 − lr·λ, built once for all parameters; null when λ = 0. */
  readonly decay: Value | null;
}

/** Names of the scalar inputs adamwScalarInputs declares. */
export const ADAMW_INPUTS = { lr: 'optim.lr', stepSize: 'optim.step_size', bc2Sqrt: 'optim.bc2_sqrt' } as const;

/** Declares the three per-step scalar inputs ([] float32, role 'data') and derives the decay factor once. */
export function adamwScalarInputs(g: GraphBuilder, c: ResolvedAdamW): AdamWScalars {
  const lr = g.input(ADAMW_INPUTS.lr, 'float32', [], 'data');
  return {
    lr,
    stepSize: g.input(ADAMW_INPUTS.stepSize, 'float32', [], 'data'),
    bc2Sqrt: g.input(ADAMW_INPUTS.bc2Sqrt, 'float32', [], 'data'),
    decay: c.weightDecay > 0 ? Sub(g, 1, Mul(g, lr, c.weightDecay)) : null,
  };
}

/** The host values of AdamWScalars for the update at 1-based step `step`, in float64. */
export function adamwHostScalars(lr: number, step: number, c: ResolvedAdamW): { lr: number; stepSize: number; bc2Sqrt: number } {
  if (!Number.isInteger(step) || step < 1) throw new Error(`AdamW step must be a whole number ≥ 1 (1-based), got ${step}`);
  return { lr, stepSize: lr / (1 - c.beta1 ** step), bc2Sqrt: Math.sqrt(1 - c.beta2 ** step) };
}

export interface AdamWUpdate {
  readonly param: Value;
  readonly m: Value;
  readonly v: Value;
}

/**
 * One AdamW update of one parameter, in torch's order: p ← p·(1 − lr·λ); m ← β1·m + (1 − β1)·g;
 * v ← β2·v + (1 − β2)·g²; p ← p − (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps). `decay` false skips weight decay for
 * this parameter (HF Trainer exempts biases and norm weights).
 */
export function adamwUpdate(g: GraphBuilder, param: Value, grad: Value, m: Value, v: Value, s: AdamWScalars, c: ResolvedAdamW, decay = true): AdamWUpdate {
  const m1 = Add(g, Mul(g, m, c.beta1), Mul(g, grad, 1 - c.beta1));
  const v1 = Add(g, Mul(g, v, c.beta2), Mul(g, Mul(g, grad, grad), 1 - c.beta2));
  const denom = Add(g, Div(g, Sqrt(g, v1), s.bc2Sqrt), c.eps);
  const decayed = decay && s.decay ? Mul(g, param, s.decay) : param;
  const p1 = Sub(g, decayed, Mul(g, Div(g, m1, denom), s.stepSize));
  return { param: p1, m: m1, v: v1 };
}

/** Divides accumulated gradient sums by the window's target count (at least 1, so an empty window cannot make NaN). */
export function normaliseByCount(g: GraphBuilder, gradSums: readonly Value[], targetCount: Value): Value[] {
  const inv = Div(g, 1, Max(g, targetCount, 1));
  return gradSums.map((x) => Mul(g, x, inv));
}
