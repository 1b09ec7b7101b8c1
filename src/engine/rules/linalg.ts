// Gradient rules for MatMul, Gemm, Softmax, the reductions and the normalisation ops. Weight gradients of a batched
// activation times a 2-D weight are one Gemm over the flattened batch (not a batched MatMul then a ReduceSum).
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { makeTensor } from '../graph.ts';
import * as O from '../ops.ts';
import type { OpGrad, RuleContext } from './context.ts';

const only = <T>(need: boolean, f: () => T): T | null => (need ? f() : null);

/** Swaps the last two axes. */
function mT(g: GraphBuilder, x: Value): Value {
  const r = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return O.Transpose(g, x, perm);
}

/** Rows of a [..., K] tensor as a 2-D [N, K] matrix. */
const flat2d = (g: GraphBuilder, x: Value): Value => O.Reshape(g, x, [-1, x.shape[x.shape.length - 1]!]);

/** Bᵀ of a 2-D constant B as a new constant, or null when B is not a constant. */
function transposedConstant(g: GraphBuilder, b: Value): Value | null {
  const t = g.constantData(b);
  if (!t) return null;
  const [rows, cols] = b.shape as [number, number];
  const data: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = Number(t.data[i * cols + j]);
  return g.constant(makeTensor(t.dtype, [cols, rows], data));
}

function matmulRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  let a = c.in(0);
  let b = c.in(1);
  let dy = c.dy0();
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  // Promote 1-D operands the way MatMul does, so the 2-D formulas below apply; undo at the end.
  if (aVec) a = O.Unsqueeze(g, a, [0]);
  if (bVec) b = O.Unsqueeze(g, b, [1]);
  const yShape = [...dy.shape];
  if (aVec) yShape.splice(yShape.length - (bVec ? 0 : 1), 0, 1);
  if (bVec) yShape.push(1);
  if (aVec || bVec) dy = O.Reshape(g, dy, yShape);
  let da: Value | null = null;
  let db: Value | null = null;
  if (c.needs[0]) {
    // dA = dY B^T. With 2-D B and batched dY this is one Gemm on the flattened rows.
    // A constant 2-D B (RoPE's rotation) is transposed at build time: one broadcasting MatMul, no Reshape or Transpose.
    const bT = b.shape.length === 2 ? transposedConstant(g, b) : null;
    da = bT
      ? O.MatMul(g, dy, bT)
      : b.shape.length === 2 && dy.shape.length > 2
        ? O.Reshape(g, O.Gemm(g, flat2d(g, dy), b, null, { transB: true }), [...dy.shape.slice(0, -1), b.shape[0]!])
        : O.MatMul(g, dy, mT(g, b));
    if (aVec) da = O.Reshape(g, O.ReduceSum(g, da, da.shape.slice(0, -2).map((_, i) => i).concat([da.shape.length - 2]), { keepdims: false }), c.in(0).shape);
  }
  if (c.needs[1]) {
    // B made by a Transpose of its last two axes (attention's keys, Kᵀ): dB = (dYᵀ A)ᵀ, whose outer Transpose cancels
    // against the gradient of that Transpose, so the key gradient costs Transpose(dY) + MatMul instead of three nodes.
    const bp = g.producer(c.in(1));
    const bPerm = bp?.op === 'Transpose' && bp.attrs['perm']?.kind === 'ints' ? (bp.attrs['perm'].value as readonly number[]) : null;
    const r = b.shape.length;
    const lastTwoSwap = bPerm !== null && r >= 2 && bPerm.every((p, i) => p === (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
    if (lastTwoSwap && !aVec && !bVec && a.shape.length === r && a.shape.slice(0, -2).join() === b.shape.slice(0, -2).join()) {
      return [da, mT(g, O.MatMul(g, mT(g, dy), a))];
    }
    // dB = A^T dY. With 2-D B and batched A, sum over the batch inside one Gemm: flat(A)^T flat(dY).
    db = b.shape.length === 2 && a.shape.length > 2
      ? O.Gemm(g, flat2d(g, a), flat2d(g, dy), null, { transA: true })
      : O.MatMul(g, mT(g, a), dy);
    if (bVec) db = O.Reshape(g, O.ReduceSum(g, db, db.shape.slice(0, -2).map((_, i) => i).concat([db.shape.length - 1]), { keepdims: false }), c.in(1).shape);
  }
  return [da, db];
}

/** Y = alpha op(A) op(B) + beta C. Each gradient is one Gemm with the transposes folded into its flags. */
function gemmRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const [a, b, dy] = [c.in(0), c.in(1), c.dy0()];
  const transA = c.int('transA', 0) === 1;
  const transB = c.int('transB', 0) === 1;
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  // Each gradient Gemm adds the adjoint other consumers already sent to that input as its C (no separate Add).
  const da = only(c.needs[0]!, () => {
    const acc = c.partial(0);
    return transA ? O.Gemm(g, b, dy, acc, { transA: transB, transB: true, alpha }) : O.Gemm(g, dy, b, acc, { transB: !transB, alpha });
  });
  const db = only(c.needs[1]!, () => {
    const acc = c.partial(1);
    return transB ? O.Gemm(g, dy, a, acc, { transA: true, transB: transA, alpha }) : O.Gemm(g, a, dy, acc, { transA: !transA, alpha });
  });
  const dc = only(!!c.needs[2], () => (beta === 1 ? dy : O.Mul(g, dy, beta)));
  return [da, db, dc];
}

/** The reduced axes of a Reduce* node (all axes when the axes input is omitted). */
function reducedAxes(c: RuleContext): number[] {
  const x = c.in(0);
  const axes = c.x[1] ? c.constInts(1) : x.shape.map((_, i) => i);
  return axes.map((a) => (a < 0 ? a + x.shape.length : a));
}

/** Brings a reduction's output (or its adjoint) back to the keepdims shape so it broadcasts against x. */
function keepShape(c: RuleContext, v: Value): Value {
  if (c.int('keepdims', 1) === 1) return v;
  const axes = reducedAxes(c);
  return O.Reshape(c.g, v, c.in(0).shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

const expandBack = (c: RuleContext, d: Value): Value => O.Expand(c.g, keepShape(c, d), c.in(0).shape);

function reduceCount(c: RuleContext): number {
  const x = c.in(0);
  return reducedAxes(c).reduce((n, a) => n * x.shape[a]!, 1);
}

/** Normalised-axis list for SimplifiedLayerNormalization / LayerNormalization (dims >= axis). */
function normAxesOf(c: RuleContext): number[] {
  const x = c.in(0);
  const axis = c.int('axis', -1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  return x.shape.map((_, i) => i).filter((i) => i >= a);
}

/**
 * RMSNorm backward, recomputing r = 1/sqrt(mean(x^2) + eps) from x (4 nodes) (no reliance on the optional inv_std_var output):
 * n = x r, y = n s; ds = dy n (summed over leading dims by the walk); dx = r (gs - n mean(gs n)), gs = dy s.
 */
function simplifiedLayerNormRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const [x, s, dy] = [c.in(0), c.in(1), c.dy0()];
  const axes = normAxesOf(c);
  // r = 1/sqrt(Σx²/H + eps) = √H / sqrt(Σx² + H·eps): ReduceSumSquare folds the square into the reduction.
  const H = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const r = O.Div(g, g.constant(Math.sqrt(H), x.dtype), O.Sqrt(g, O.Add(g, O.ReduceSumSquare(g, x, axes), H * c.float('epsilon', 1e-5))));
  const n = O.Mul(g, x, r);
  const dx = only(c.needs[0]!, () => {
    const gs = O.Mul(g, dy, s);
    return O.Mul(g, r, O.Sub(g, gs, O.Mul(g, n, O.ReduceMean(g, O.Mul(g, gs, n), axes))));
  });
  return [dx, only(c.needs[1]!, () => O.Mul(g, dy, n))];
}

/** LayerNorm backward: n = (x - mean) r; dx = r (gs - mean(gs) - n mean(gs n)); dscale = dy n; dbias = dy. */
function layerNormRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const [x, s, dy] = [c.in(0), c.in(1), c.dy0()];
  const axes = normAxesOf(c);
  const xc = O.Sub(g, x, O.ReduceMean(g, x, axes));
  const r = O.Reciprocal(g, O.Sqrt(g, O.Add(g, O.ReduceMean(g, O.Mul(g, xc, xc), axes), c.float('epsilon', 1e-5))));
  const n = O.Mul(g, xc, r);
  const dx = only(c.needs[0]!, () => {
    const gs = O.Mul(g, dy, s);
    const inner = O.Sub(g, O.Sub(g, gs, O.ReduceMean(g, gs, axes)), O.Mul(g, n, O.ReduceMean(g, O.Mul(g, gs, n), axes)));
    return O.Mul(g, r, inner);
  });
  return [dx, only(c.needs[1]!, () => O.Mul(g, dy, n)), only(!!c.needs[2], () => dy)];
}

/**
 * Einsum: the gradient of one operand is the einsum of the output's adjoint with the other operand, read back into the
 * operand's subscripts ("bkts,bskd->btkd" gives dA by "btkd,bskd->bkts" and dB by "bkts,btkd->bskd"). One node per
 * operand. Every subscript of the operand must appear in the output or the other operand (nothing summed away that a
 * gradient would have to broadcast back), which is how the attention builders use it.
 */
function einsumRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const operands = c.x.map((_, i) => c.in(i));
  const spec = O.parseEinsum(c.str('equation', ''), operands.length);
  const dy = c.dy0();
  return operands.map((_, i) => only(c.needs[i]!, () => {
    const target = spec.inputs[i]!;
    const others = spec.inputs.filter((_, k) => k !== i);
    const available = new Set([spec.output, ...others].join(''));
    const lost = [...target].filter((ch) => !available.has(ch));
    if (lost.length > 0) throw new Error(`Einsum gradient: subscript(s) ${lost.join(', ')} of "${target}" are summed away in "${c.str('equation', '')}"; broadcast them explicitly`);
    return O.Einsum(g, `${[spec.output, ...others].join(',')}->${target}`, [dy, ...operands.filter((_, k) => k !== i)]);
  }));
}

export const LINALG_RULES: Readonly<Record<string, OpGrad>> = {
  MatMul: { rule: matmulRule },
  Einsum: { rule: einsumRule },
  Gemm: { rule: gemmRule },
  // dx = y (dy - sum(dy y)) along the softmax axis.
  Softmax: {
    rule: (c) => {
      const { g } = c;
      const y = c.y[0]!;
      const dot = O.ReduceSum(g, O.Mul(g, c.dy0(), y), [c.int('axis', -1)]);
      return [O.Mul(g, y, O.Sub(g, c.dy0(), dot))];
    },
  },
  ReduceSum: { nondiff: [1], rule: (c) => [expandBack(c, c.dy0())] },
  ReduceMean: { nondiff: [1], rule: (c) => [expandBack(c, O.Div(c.g, c.dy0(), reduceCount(c)))] },
  ReduceSumSquare: { nondiff: [1], rule: (c) => [O.Mul(c.g, O.Mul(c.g, c.in(0), keepShape(c, c.dy0())), 2)] },
  // d logsumexp(x) = softmax(x) = exp(x - y).
  ReduceLogSumExp: { nondiff: [1], rule: (c) => [O.Mul(c.g, keepShape(c, c.dy0()), O.Exp(c.g, O.Sub(c.g, c.in(0), keepShape(c, c.y[0]!))))] },
  // Ties share the gradient equally (the subgradient PyTorch's amax uses).
  ReduceMax: {
    nondiff: [1],
    rule: (c) => {
      const { g } = c;
      const x = c.in(0);
      const mask = O.Cast(g, O.Equal(g, x, keepShape(c, c.y[0]!)), x.dtype);
      const count = O.ReduceSum(g, mask, reducedAxes(c));
      return [O.Mul(g, mask, O.Div(g, keepShape(c, c.dy0()), count))];
    },
  },
  SimplifiedLayerNormalization: { rule: simplifiedLayerNormRule },
  LayerNormalization: { rule: layerNormRule },
};
