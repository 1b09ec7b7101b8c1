// Masked causal-LM cross-entropy as graph nodes, written only with ops the WebGPU EP runs (ReduceMax, Sub, Exp,
// ReduceSum, Log, GatherElements, Equal/Not/Where/Cast on int32): no LogSoftmax, SoftmaxCrossEntropyLoss, OneHot or
// int64 arithmetic (docs/architecture.md). Returns the NLL *sum* and the target count, never a mean, so the
// caller can normalise by the target tokens of a whole accumulation window (docs/architecture.md).
import type { Value } from './ir.ts';
import type { GraphBuilder } from './graph.ts';
import { makeTensor } from './graph.ts';
import { IGNORE_INDEX } from './labels.ts';
import { Cast, Concat, Equal, Exp, Gather, GatherElements, Log, Mul, Not, ReduceMax, ReduceSum, Squeeze, Sub, Unsqueeze, Where } from './ops.ts';

export { IGNORE_INDEX };

export interface CrossEntropyOutputs {
  /** [] float32: Σ token NLL over target positions. */
  readonly nllSum: Value;
  /** [] float32: number of target positions (exact up to 2^24 tokens per graph run). */
  readonly targetCount: Value;
  /** [B, T] float32: NLL of predicting token t+1 at position t; 0 where there is no target. */
  readonly tokenNll: Value;
}

/**
 * Causal-LM loss. `logits` is [B, T, V] float32; `labels` is [B, T] int32 **unshifted**, exactly as transformers
 * collates them (same length as input_ids, -100 = no loss). The shift happens here: position t is scored against
 * labels[t + 1], and the last position has no target. Shifting the labels (not slicing the logits) avoids copying the
 * [B, T, V] tensor.
 */
export function causalLmLoss(g: GraphBuilder, logits: Value, labels: Value): CrossEntropyOutputs {
  const [B, T, V] = logits.shape;
  if (logits.shape.length !== 3 || B === undefined || T === undefined || V === undefined) {
    throw new Error(`causalLmLoss: logits must be [batch, seq, vocab], got [${logits.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'int32' || labels.shape.length !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
    throw new Error(`causalLmLoss: labels must be int32 [${B}, ${T}] to match the logits, got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const tail = g.constant(makeTensor('int32', [B, 1], new Array<number>(B).fill(IGNORE_INDEX)));
  // targets[b, t] = labels[b, t + 1]; targets[b, T - 1] = -100. Gather, not Slice: ORT 1.30's WebGPU EP has no int32
  // Slice kernel (the node would land on the CPU), while Gather of int32 data runs on the GPU.
  const next = T > 1 ? Gather(g, labels, g.constant(Array.from({ length: T - 1 }, (_, i) => i + 1), 'int32'), 1) : null;
  const targets = next ? Concat(g, [next, tail], 1) : tail;
  return maskedCrossEntropy(g, logits, targets);
}

/**
 * Cross-entropy of `logits` [B, T, V] against already-aligned `targets` [B, T] int32 (-100 = ignored), stable via the
 * max shift: nll = log Σ exp(x - max) - (x[target] - max).
 */
export function maskedCrossEntropy(g: GraphBuilder, logits: Value, targets: Value): CrossEntropyOutputs {
  const keep = Not(g, Equal(g, targets, IGNORE_INDEX)); // [B, T] bool
  const mask = Cast(g, keep, 'float32'); // [B, T]
  // Ignored positions gather index 0 (any valid index); their NLL is multiplied by 0 below.
  const index = Unsqueeze(g, Where(g, keep, targets, 0), [2]); // [B, T, 1] int32
  const shifted = Sub(g, logits, ReduceMax(g, logits, [2])); // [B, T, V]
  const logSumExp = Log(g, ReduceSum(g, Exp(g, shifted), [2])); // [B, T, 1]
  const picked = GatherElements(g, shifted, index, 2); // [B, T, 1]
  const tokenNll = Mul(g, Squeeze(g, Sub(g, logSumExp, picked), [2]), mask); // [B, T]
  return {
    nllSum: ReduceSum(g, tokenNll, [], { keepdims: false }),
    targetCount: ReduceSum(g, mask, [], { keepdims: false }),
    tokenNll,
  };
}
