// Gradient rules for data-movement ops. Shape, axes and index inputs are declared non-differentiable. Gathers scatter
// their adjoint back with ScatterElements(reduction='add'), which the WebGPU EP runs; no GatherND/ScatterND needed.
import type { Value } from '../ir.ts';
import { numel } from '../ir.ts';
import * as O from '../ops.ts';
import { zerosLike } from './util.ts';
import type { OpGrad, RuleContext } from './context.ts';

const toInputShape = (c: RuleContext): Value => O.Reshape(c.g, c.dy0(), c.in(0).shape);

/**
 * GatherElements' adjoint. One int32 index per row along `axis` (the cross-entropy's pick of the target logit):
 * Where(index == arange, dy, 0), elementwise kernels only. Otherwise ScatterElements(zeros, index, dy, 'add'). The
 * first form exists for WebGPU graph capture: ORT's ScatterElements copies its data input into its output with a
 * buffer copy outside the dispatches a capture records, so replays scatter-add onto the previous run's result (the
 * zeros are a folded constant, never in place); test/runtime/browser.test.ts reproduces it.
 */
function gatherElementsRule(c: RuleContext): (Value | null)[] {
  const g = c.g;
  const data = c.in(0);
  const index = c.in(1);
  const rank = data.shape.length;
  const axis0 = c.int('axis', 0);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  const oneHot = index.dtype === 'int32' && index.shape[axis] === 1 && index.shape.every((d, i) => i === axis || d === data.shape[i]);
  if (!oneHot) return [O.ScatterElements(g, zerosLike(g, data), index, c.dy0(), axis, 'add'), null];
  const positions = O.Reshape(g, O.Range(g, 0, data.shape[axis]!), data.shape.map((d, i) => (i === axis ? d : 1)));
  return [O.Where(g, O.Equal(g, index, positions), c.dy0(), 0), null];
}

function sliceRule(c: RuleContext): (Value | null)[] {
  const x = c.in(0);
  const rank = x.shape.length;
  const starts = c.constInts(1);
  const axes = c.x[3] ? c.constInts(3) : starts.map((_, i) => i);
  const steps = c.x[4] ? c.constInts(4) : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new Error(`${c.node.name}: Slice gradient supports step 1 only (steps [${steps.join(', ')}])`);
  // Zero-pad the adjoint back to x's shape: begin = clamped start, end = dim - clamped end.
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((axis0, i) => {
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    const dim = x.shape[axis]!;
    const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clampIdx(starts[i]!);
    pads[axis] = start;
    pads[axis + rank] = dim - start - c.dy0().shape[axis]!;
  });
  return [pads.every((p) => p === 0) ? c.dy0() : O.Pad(c.g, c.dy0(), pads)];
}

/** Gather along axis 0 of an embedding-like table: scatter-add rows of the adjoint into a zero table. */
function gatherRule(c: RuleContext): (Value | null)[] {
  const { g } = c;
  const [data, indices] = [c.in(0), c.in(1)];
  if (c.int('axis', 0) !== 0) throw new Error(`${c.node.name}: Gather gradient supports axis 0 only (the embedding lookup)`);
  if (indices.dtype !== 'int32') {
    throw new Error(`${c.node.name}: a trainable Gather table needs int32 indices (got ${indices.dtype}): feed token ids as int32, since WebGPU cannot reshape int64`);
  }
  const rows = numel(indices.shape);
  const width = numel(data.shape.slice(1));
  const flatIdx = O.Reshape(g, indices, [rows, 1]);
  const idx = width === 1 ? flatIdx : O.Expand(g, flatIdx, [rows, width]); // [N, R]: every column of row i goes to indices[i]
  const table = O.Reshape(g, zerosLike(g, data), [data.shape[0]!, width]);
  const summed = O.ScatterElements(g, table, idx, O.Reshape(g, c.dy0(), [rows, width]), 0, 'add');
  return [O.Reshape(g, summed, data.shape), null];
}

function splitRule(c: RuleContext): (Value | null)[] {
  const axis = c.int('axis', 0);
  const parts = c.y.map((y, i) => c.dy[i] ?? zerosLike(c.g, y));
  return [O.Concat(c.g, parts, axis)];
}

function concatRule(c: RuleContext): (Value | null)[] {
  const axis = c.int('axis', 0);
  const sizes = c.x.map((v) => v!.shape[axis < 0 ? axis + v!.shape.length : axis]!);
  return O.Split(c.g, c.dy0(), sizes, axis).map((d, i) => (c.needs[i] ? d : null));
}

/** Tile: view the adjoint as [r0, d0, r1, d1, ...] and sum the repeat axes. */
function tileRule(c: RuleContext): (Value | null)[] {
  const x = c.in(0);
  const reps = c.constInts(1);
  if (reps.every((r) => r === 1)) return [c.dy0()];
  const split = x.shape.flatMap((d, i) => [reps[i]!, d]);
  const sum = O.ReduceSum(c.g, O.Reshape(c.g, c.dy0(), split), x.shape.map((_, i) => 2 * i), { keepdims: false });
  return [sum, null];
}

function transposeRule(c: RuleContext): (Value | null)[] {
  const rank = c.in(0).shape.length;
  const perm = c.ints('perm') ?? c.in(0).shape.map((_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [O.Transpose(c.g, c.dy0(), inverse)];
}

export const LAYOUT_RULES: Readonly<Record<string, OpGrad>> = {
  Reshape: { nondiff: [1], rule: (c) => [toInputShape(c), null] },
  Squeeze: { nondiff: [1], rule: (c) => [toInputShape(c), null] },
  Unsqueeze: { nondiff: [1], rule: (c) => [toInputShape(c), null] },
  // The walk sums over the broadcast axes.
  Expand: { nondiff: [1], rule: (c) => [c.dy0(), null] },
  Transpose: { rule: transposeRule },
  Slice: { nondiff: [1, 2, 3, 4], rule: sliceRule },
  Concat: { rule: concatRule },
  Split: { nondiff: [1], rule: splitRule },
  Tile: { nondiff: [1], rule: tileRule },
  Gather: { nondiff: [1], rule: gatherRule },
  // d data = scatter-add of dy at the gathered positions (duplicates accumulate).
  GatherElements: { nondiff: [1], rule: gatherElementsRule },
  // none: overwritten positions get no gradient; add: data passes straight through. updates read dy where they landed.
  ScatterElements: {
    nondiff: [1],
    rule: (c) => {
      const { g } = c;
      const axis = c.int('axis', 0);
      const reduction = c.str('reduction', 'none');
      if (reduction !== 'none' && reduction !== 'add') throw new Error(`${c.node.name}: ScatterElements gradient supports reduction none/add, not ${reduction}`);
      const dData = !c.needs[0] ? null : reduction === 'add' ? c.dy0() : O.ScatterElements(g, c.dy0(), c.in(1), zerosLike(g, c.in(2)), axis);
      return [dData, null, c.needs[2] ? O.GatherElements(g, c.dy0(), c.in(1), axis) : null];
    },
  },
  Pad: {
    nondiff: [1, 2, 3],
    rule: (c) => {
      const x = c.in(0);
      const rank = x.shape.length;
      const pads = c.constInts(1);
      return [O.Slice(c.g, c.dy0(), { starts: pads.slice(0, rank), ends: x.shape.map((d, i) => pads[i]! + d) })];
    },
  },
  // The adjoint of a running sum is the running sum in the other direction.
  CumSum: {
    nondiff: [1],
    rule: (c) => [O.CumSum(c.g, c.dy0(), c.constInts(1)[0]!, { exclusive: c.int('exclusive', 0) === 1, reverse: c.int('reverse', 0) !== 1 })],
  },
};
