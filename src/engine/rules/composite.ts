// Gradient rules of the composite ops (ops/composite.ts), which build() lowers into ONNX nodes after autodiff.
import type { Value } from '../ir.ts';
import { TABTUNE_DOMAIN } from '../composite.ts';
import * as O from '../ops.ts';
import type { OpGrad, RuleContext } from './context.ts';

/**
 * LoraLinear: y = x w'ᵀ + bias with w' = w + s·B A, and down = x Aᵀ given. dx = dy w' (the adapter's share included,
 * so x's gradient is one GEMM); d down = s·dy B, whose own rule (a Gemm on StopGradient(x)) gives A's gradient;
 * dB = s·dyᵀ down; dw = dyᵀ x (when the base weight is trained too); dbias = dy. A itself is non-differentiable here:
 * its gradient flows through `down`.
 */
function loraLinearRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const [x, dy, merged] = [c.in(0), c.dy0(), c.y[1]!];
  const scale = c.float('scale', 1);
  const conv1d = c.int('conv1d', 0) === 1;
  const dx = c.needs[0] ? O.Gemm(g, dy, merged, c.partial(0), { transB: conv1d }) : null;
  const dw = c.needs[1] ? (conv1d ? O.Gemm(g, x, dy, c.partial(1), { transA: true }) : O.Gemm(g, dy, x, c.partial(1), { transA: true })) : null;
  const db = c.needs[3] ? O.Gemm(g, dy, c.in(4), c.partial(3), { transA: true, alpha: scale }) : null;
  const dDown = c.needs[4] ? O.Gemm(g, dy, c.in(3), c.partial(4), { alpha: scale }) : null;
  const dBias = c.needs[5] ? dy : null;
  return [dx, dw, null, db, dDown, dBias];
}

export const COMPOSITE_RULES: Readonly<Record<string, OpGrad>> = {
  // Identity whose input carries no gradient: nothing flows back through it.
  [`${TABTUNE_DOMAIN}.StopGradient`]: { nondiff: [0] },
  [`${TABTUNE_DOMAIN}.LoraLinear`]: { nondiff: [2], rule: loraLinearRule },
};
