// Composite ops: nodes that exist only between the builder and build(). Autodiff differentiates them by their own rule
// (rules/composite.ts), which can be cheaper than differentiating their expansion; GraphBuilder.build() then lowers
// each into standard ONNX nodes (src/engine/composite.ts), so no runtime ever sees the TabTune domain.
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { TABTUNE_DOMAIN } from '../composite.ts';
import { shapeToString } from '../ir.ts';
import { attr, checkDtype, checkRank, checkSameDtype } from './common.ts';

/**
 * x itself, through which no gradient flows (autodiff treats the input as non-differentiable). Lowered to nothing: its
 * consumers read x. LoraLinear's callers compute LoRA's down-projection from it, so that the input gradient the
 * merged weight already carries is not added a second time through A.
 */
export function StopGradient(g: GraphBuilder, x: Value): Value {
  return g.node({ op: 'StopGradient', domain: TABTUNE_DOMAIN, inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

export interface LoraLinearOptions {
  /** PEFT's scale (alpha / r, or alpha / √r for rsLoRA). */
  readonly scale: number;
  /** GPT-2's Conv1D layout: w is [in, out] and y = x w (nn.Linear's w is [out, in] and y = x wᵀ). */
  readonly conv1d?: boolean;
}

/**
 * A linear layer with a LoRA adapter, computed through the merged weight: w' = w + scale · B A (in w's layout), then
 * y = x w'ᵀ + bias. Equal to x wᵀ + bias + scale · (x Aᵀ) Bᵀ, with no [N, out] product of inner dimension r, which
 * runs far below a CPU GEMM kernel's peak. x [N, in], w [out, in], a [r, in], b [out, r], bias [out] or null.
 * `down` is x Aᵀ [N, r] computed by the caller from StopGradient(x): the rule needs it for B's gradient and sends A's
 * gradient through it. Outputs: y [N, out] and w' (which the rule reuses for x's gradient: dx = dy w', one GEMM where
 * the unmerged form takes two).
 */
export function LoraLinear(g: GraphBuilder, x: Value, w: Value, a: Value, b: Value, down: Value, bias: Value | null, opts: LoraLinearOptions): { y: Value; merged: Value } {
  checkDtype('LoraLinear', x, ['float32', 'float64']);
  for (const v of [x, w, a, b, down]) checkRank('LoraLinear', v, 2);
  checkSameDtype('LoraLinear', [x, w, a, b, down, ...(bias ? [bias] : [])]);
  const [n, inF] = x.shape as [number, number];
  const [r] = a.shape as [number];
  const [out, wIn] = (opts.conv1d ? [w.shape[1], w.shape[0]] : w.shape) as [number, number];
  const fits = wIn === inF && a.shape[1] === inF && b.shape[0] === out && b.shape[1] === r && down.shape[0] === n && down.shape[1] === r;
  if (!fits || (bias && (bias.shape.length !== 1 || bias.shape[0] !== out))) {
    const shapes = [x, w, a, b, down, ...(bias ? [bias] : [])].map((v) => `${v.name} ${shapeToString(v.shape)}`).join(', ');
    throw new Error(`LoraLinear: shapes do not fit x [N, in], w [${opts.conv1d ? 'in, out' : 'out, in'}], a [r, in], b [out, r], down [N, r], bias [out]: ${shapes}`);
  }
  const [y, merged] = g.node({
    op: 'LoraLinear',
    domain: TABTUNE_DOMAIN,
    inputs: [x, w, a, b, down, bias],
    attrs: { scale: attr.float(opts.scale), conv1d: attr.int(opts.conv1d ? 1 : 0) },
    outputs: [{ dtype: x.dtype, shape: [n, out] }, { dtype: w.dtype, shape: w.shape }],
  });
  return { y: y!, merged: merged! };
}
