// Masked causal-LM cross-entropy as graph nodes, written only with ops the WebGPU EP runs (ReduceMax, Sub, Exp,
// ReduceSum, Log, GatherElements, Equal/Not/Where/Cast on int32): no LogSoftmax, SoftmaxCrossEntropyLoss, OneHot or
// int64 arithmetic (docs/architecture.md). Returns the NLL *sum* and the target count, never a mean, so the
// caller can normalise by the target tokens of a whole accumulation window (docs/architecture.md).
import type { Value } from './ir.ts';
import type { GraphBuilder } from './graph.ts';
import { makeTensor } from './graph.ts';
import { IGNORE_INDEX } from './labels.ts';
import {
  Cast, Concat, Div, Equal, Exp, Gather, GatherElements, Gemm, Log, Mul, Not, Range, ReduceMax, ReduceSum, Reshape, Squeeze, Sub, Tanh,
  Unsqueeze, Where,
} from './ops.ts';

export { IGNORE_INDEX };

interface CrossEntropyOutputs {
  /** [] float32: Σ token NLL over target positions. */
  readonly nllSum: Value;
  /** [] float32: number of target positions (exact up to 2^24 tokens per graph run). */
  readonly targetCount: Value;
  /** [B, T] float32: NLL of predicting token t+1 at position t; 0 where there is no target. */
  readonly tokenNll: Value;
}

export interface CausalLmLossOutputs extends CrossEntropyOutputs {
  /**
   * [B, T, V] float32: d nllSum / d logits = (softmax − onehot(target)) · mask (null unless `gradient`);
   * the train step seeds autodiff with it from the logits instead of differentiating the loss node by node.
   */
  readonly dLogits: Value | null;
}

/**
 * Causal-LM loss. `logits` is [B, T, V] float32; `labels` is [B, T] int32 **unshifted**, exactly as transformers
 * collates them (same length as input_ids, -100 = no loss). The shift happens here: position t is scored against
 * labels[t + 1], and the last position has no target. Shifting the labels (not slicing the logits) avoids copying the
 * [B, T, V] tensor.
 */
export function causalLmLoss(g: GraphBuilder, logits: Value, labels: Value, opts: { readonly gradient?: boolean } = {}): CausalLmLossOutputs {
  const [B, T, V] = logits.shape;
  if (logits.shape.length !== 3 || B === undefined || T === undefined || V === undefined) {
    throw new Error(`causalLmLoss: logits must be [batch, seq, vocab], got [${logits.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'int32' || labels.shape.length !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
    throw new Error(`causalLmLoss: labels must be int32 [${B}, ${T}] to match the logits, got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  return maskedCrossEntropy(g, logits, shiftLabels(g, labels), opts.gradient ?? false);
}

/** targets[b, t] = labels[b, t + 1]; targets[b, T - 1] = -100. */
function shiftLabels(g: GraphBuilder, labels: Value): Value {
  const [B, T] = labels.shape as [number, number];
  const tail = g.constant(makeTensor('int32', [B, 1], new Array<number>(B).fill(IGNORE_INDEX)));
  // Gather, not Slice: ORT 1.30's WebGPU EP has no int32 Slice kernel (the node would land on the CPU), while Gather of
  // int32 data runs on the GPU.
  const next = T > 1 ? Gather(g, labels, g.constant(Array.from({ length: T - 1 }, (_, i) => i + 1), 'int32'), 1) : null;
  return next ? Concat(g, [next, tail], 1) : tail;
}

/**
 * (softmax − onehot(target)) · mask along `axis`, the cross-entropy's gradient by its logits, from the forward pass's
 * e = exp(x − max) and its `sum` along `axis`: e · (mask / sum) − (target == arange). `targets` keeps −100 on the
 * positions without a target, so its one-hot row is all zeros there and the mask only scales the [.., 1]-shaped
 * factor. Four passes over the [.., V] tensor (Mul, Equal, Cast, Sub) where Div, Sub, Equal, Where and Mul took five;
 * on the CPU EP the three-input Where alone cost more than the other four together. ScatterElements(p, index, −1,
 * 'add') would be one node, but ORT's WebGPU kernel first copies its data input into its output with a buffer copy
 * that graph capture does not record, so every replay would add −1 onto the previous step's values (the same hazard
 * as GatherElements' adjoint in rules/layout.ts).
 */
function crossEntropyGrad(g: GraphBuilder, e: Value, sum: Value, targets: Value, mask: Value, axis: number): Value {
  const positions = Reshape(g, Range(g, 0, e.shape[axis]!), e.shape.map((d, i) => (i === axis ? d : 1)));
  const oneHot = Cast(g, Equal(g, Unsqueeze(g, targets, [axis]), positions), 'float32');
  return Sub(g, Mul(g, e, Div(g, Unsqueeze(g, mask, [axis]), sum)), oneHot);
}

/**
 * Cross-entropy of `logits` [B, T, V] against already-aligned `targets` [B, T] int32 (-100 = ignored), stable via the
 * max shift: nll = log Σ exp(x - max) - (x[target] - max).
 */
function maskedCrossEntropy(g: GraphBuilder, logits: Value, targets: Value, gradient: boolean): CausalLmLossOutputs {
  const keep = Not(g, Equal(g, targets, IGNORE_INDEX)); // [B, T] bool
  const mask = Cast(g, keep, 'float32'); // [B, T]
  // Ignored positions gather index 0 (any valid index); their NLL is multiplied by 0 below.
  const index = Unsqueeze(g, Where(g, keep, targets, 0), [2]); // [B, T, 1] int32
  const shifted = Sub(g, logits, ReduceMax(g, logits, [2])); // [B, T, V]
  const e = Exp(g, shifted);
  const sum = ReduceSum(g, e, [2]); // [B, T, 1]
  const logSumExp = Log(g, sum);
  const picked = GatherElements(g, shifted, index, 2); // [B, T, 1]
  const tokenNll = Mul(g, Squeeze(g, Sub(g, logSumExp, picked), [2]), mask); // [B, T]
  // softmax − onehot(target), zero on positions without a target.
  const dLogits = gradient
    ? g.phase('backward', () => g.scope('grad', () => crossEntropyGrad(g, e, sum, targets, mask, 2)))
    : null;
  return {
    nllSum: ReduceSum(g, tokenNll, [], { keepdims: false }),
    targetCount: ReduceSum(g, mask, [], { keepdims: false }),
    tokenNll,
    dLogits,
  };
}

export interface ChunkedHeadOptions {
  /** Positions per chunk: the largest logits tensor is [chunkRows, V]. */
  readonly chunkRows: number;
  /** Gemma's final-logit soft-capping cap·tanh(z / cap), or null. */
  readonly softcap?: number | null;
  /** Also compute d nllSum / d hidden (training graphs); eval graphs leave it out. */
  readonly gradient: boolean;
}

export interface ChunkedHeadOutputs extends CrossEntropyOutputs {
  /** [N, H] float32: d nllSum / d hidden, computed chunk by chunk in the forward pass (null unless `gradient`). */
  readonly dHidden: Value | null;
}

/** Widest Concat emitted here (the WebGPU EP binds each input as a storage buffer; see MAX_FAN in step.ts). */
const MAX_CONCAT = 6;

function concatRows(g: GraphBuilder, parts: readonly Value[]): Value {
  let level = [...parts];
  while (level.length > 1) {
    const next: Value[] = [];
    for (let i = 0; i < level.length; i += MAX_CONCAT) {
      const chunk = level.slice(i, i + MAX_CONCAT);
      next.push(chunk.length === 1 ? chunk[0]! : Concat(g, chunk, 0));
    }
    level = next;
  }
  return level[0]!;
}

/**
 * The LM head and the causal-LM loss fused and computed in chunks of positions, so that no [B·T, V] tensor exists:
 * for a 262k-token vocabulary the full logits of one 512-token row are 537 MB, and backward keeps several copies.
 * `hidden` is [N = B·T, H] (final-normed), `head` [V, H] (frozen: its gradient is not computed), `labels` [B, T]
 * unshifted as in causalLmLoss. With `gradient`, each chunk also computes its part of d nllSum / d hidden
 * ((softmax − onehot) · mask, through the soft-cap's derivative, times the head), which the caller seeds into autodiff
 * from `hidden` backwards: each chunk's [rows, V] tensors die inside the chunk instead of living until backward.
 */
export function chunkedHeadLoss(g: GraphBuilder, hidden: Value, head: Value, labels: Value, opts: ChunkedHeadOptions): ChunkedHeadOutputs {
  const [N, H] = hidden.shape;
  const [V, Hh] = head.shape;
  const [B, T] = labels.shape;
  if (hidden.shape.length !== 2 || head.shape.length !== 2 || N === undefined || H === undefined || V === undefined || H !== Hh) {
    throw new Error(`chunkedHeadLoss: hidden must be [N, H] and head [V, H], got [${hidden.shape.join(', ')}] and [${head.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'int32' || labels.shape.length !== 2 || B === undefined || T === undefined || B * T !== N) {
    throw new Error(`chunkedHeadLoss: labels must be int32 [B, T] with B·T = ${N}, got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  if (!Number.isInteger(opts.chunkRows) || opts.chunkRows < 1) throw new Error(`chunkedHeadLoss: chunkRows must be a positive integer, got ${opts.chunkRows}`);
  const cap = opts.softcap ?? null;
  const targets = Reshape(g, shiftLabels(g, labels), [N]); // [N] int32
  const allKeep = Cast(g, Not(g, Equal(g, targets, IGNORE_INDEX)), 'float32');
  const nlls: Value[] = [];
  const grads: Value[] = [];
  for (let start = 0; start < N; start += opts.chunkRows) {
    const n = Math.min(opts.chunkRows, N - start);
    const rows = g.constant(Array.from({ length: n }, (_, i) => start + i), 'int32');
    const h = n === N ? hidden : Gather(g, hidden, rows, 0); // [n, H]
    const tg = n === N ? targets : Gather(g, targets, rows, 0); // [n] int32
    const keep = Not(g, Equal(g, tg, IGNORE_INDEX));
    const mask = Cast(g, keep, 'float32'); // [n]
    const index = Unsqueeze(g, Where(g, keep, tg, 0), [1]); // [n, 1]
    const z = Gemm(g, h, head, null, { transB: true }); // [n, V]
    const t = cap === null ? null : Tanh(g, Div(g, z, cap));
    const logits = t === null || cap === null ? z : Mul(g, t, cap);
    const shifted = Sub(g, logits, ReduceMax(g, logits, [1])); // [n, V]
    const e = Exp(g, shifted);
    const sum = ReduceSum(g, e, [1]); // [n, 1]
    const picked = GatherElements(g, shifted, index, 1); // [n, 1]
    nlls.push(Mul(g, Squeeze(g, Sub(g, Log(g, sum), picked), [1]), mask)); // [n]
    if (opts.gradient) {
      // d nll / d logits = softmax − onehot(target), zero on rows without a target: backward work, built here.
      g.phase('backward', () => {
        let d = crossEntropyGrad(g, e, sum, tg, mask, 1); // [n, V]
        if (t !== null) d = Mul(g, d, Sub(g, 1, Mul(g, t, t))); // through cap·tanh(z / cap)
        grads.push(Gemm(g, d, head)); // [n, H]
      });
    }
  }
  const tokenNll = concatRows(g, nlls); // [N]
  return {
    nllSum: ReduceSum(g, tokenNll, [], { keepdims: false }),
    targetCount: ReduceSum(g, allKeep, [], { keepdims: false }),
    tokenNll: Reshape(g, tokenNll, [B, T]),
    dHidden: opts.gradient ? g.phase('backward', () => concatRows(g, grads)) : null,
  };
}

export interface TrainedRowsOutputs {
  readonly nllSum: Value;
  readonly targetCount: Value;
  /** [N, H] float32: d nllSum / d hidden (null unless `gradient`), zero on rows without a target. */
  readonly dHidden: Value | null;
}

/**
 * The LM head and the causal-LM loss on the trained positions only: `rows` int32 [K] are the flat positions b·T + t
 * whose next token is a target and `targets` int32 [K] those tokens (already shifted; -100 pads the list to K, see
 * trainedRows). With responses-only masks most positions of an SFT batch have no target, and the head — the widest
 * Gemm of a small model — then costs K/N of the full one, forward and backward. `hidden` [N, H] (final-normed), `head`
 * [V, H] frozen. d nllSum / d hidden goes back to all N rows through a one-hot [N, K] MatMul: exact (one non-zero per
 * sum) and elementwise-built, where ScatterElements would break graph capture (see crossEntropyGrad).
 */
export function trainedRowsLoss(g: GraphBuilder, hidden: Value, head: Value, rows: Value, targets: Value, opts: { readonly softcap?: number | null; readonly gradient: boolean }): TrainedRowsOutputs {
  const [N, H] = hidden.shape;
  const [K] = rows.shape;
  if (hidden.shape.length !== 2 || head.shape.length !== 2 || N === undefined || H === undefined || head.shape[1] !== H) {
    throw new Error(`trainedRowsLoss: hidden must be [N, H] and head [V, H], got [${hidden.shape.join(', ')}] and [${head.shape.join(', ')}]`);
  }
  if (rows.dtype !== 'int32' || targets.dtype !== 'int32' || rows.shape.length !== 1 || K === undefined || targets.shape.length !== 1 || targets.shape[0] !== K) {
    throw new Error(`trainedRowsLoss: rows and targets must be int32 [K], got ${rows.dtype} [${rows.shape.join(', ')}] and ${targets.dtype} [${targets.shape.join(', ')}]`);
  }
  const cap = opts.softcap ?? null;
  const keep = Not(g, Equal(g, targets, IGNORE_INDEX));
  const mask = Cast(g, keep, 'float32'); // [K]
  const index = Unsqueeze(g, Where(g, keep, targets, 0), [1]); // [K, 1]
  const z = Gemm(g, Gather(g, hidden, rows, 0), head, null, { transB: true }); // [K, V]
  const t = cap === null ? null : Tanh(g, Div(g, z, cap));
  const logits = t === null || cap === null ? z : Mul(g, t, cap);
  const shifted = Sub(g, logits, ReduceMax(g, logits, [1]));
  const e = Exp(g, shifted);
  const sum = ReduceSum(g, e, [1]); // [K, 1]
  const nll = Mul(g, Squeeze(g, Sub(g, Log(g, sum), GatherElements(g, shifted, index, 1)), [1]), mask); // [K]
  const dHidden = opts.gradient
    ? g.phase('backward', () => g.scope('grad', () => {
      let d = crossEntropyGrad(g, e, sum, targets, mask, 1); // [K, V]
      if (t !== null) d = Mul(g, d, Sub(g, 1, Mul(g, t, t))); // through cap·tanh(z / cap)
      const onRows = Cast(g, Equal(g, Reshape(g, Range(g, 0, N), [N, 1]), Reshape(g, rows, [1, K])), 'float32'); // [N, K]
      return Gemm(g, onRows, Gemm(g, d, head)); // [N, H]
    }))
    : null;
  return { nllSum: ReduceSum(g, nll, [], { keepdims: false }), targetCount: ReduceSum(g, mask, [], { keepdims: false }), dHidden };
}

/**
 * The host side of trainedRowsLoss for a collated batch: the flat positions whose next label is a target and those
 * labels, padded to `k` with row 0 and -100. `labels` are unshifted [B·T], as collated. Throws when the batch has more
 * than `k` targets (the graph was built for fewer).
 */
export function trainedRows(labels: Int32Array, batch: number, seqLen: number, k: number): { rows: Int32Array; targets: Int32Array } {
  const rows = new Int32Array(k);
  const targets = new Int32Array(k).fill(IGNORE_INDEX);
  let n = 0;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < seqLen; t++) {
      const label = labels[b * seqLen + t + 1]!;
      if (label === IGNORE_INDEX) continue;
      if (n === k) throw new Error(`trainedRows: the batch has more than ${k} target tokens, the number its graphs were built for`);
      rows[n] = b * seqLen + t;
      targets[n] = label;
      n++;
    }
  }
  return { rows, targets };
}
