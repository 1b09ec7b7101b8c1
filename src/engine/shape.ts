// Static shape arithmetic shared by the op constructors, the verifier and autodiff: numpy broadcasting, axis
// normalisation, and the shape rules of the data-movement ops. Pure functions over number arrays; errors say which op.
import type { Shape } from './ir.ts';
import { shapeToString } from './ir.ts';

/** Numpy (multidirectional) broadcasting of any number of shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (dim !== 1 && dim !== d) {
        throw new Error(`${op}: shapes ${shapes.map(shapeToString).join(' and ')} do not broadcast (numpy rules)`);
      }
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

/** Maps a possibly negative axis into [0, rank). */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises, sorts and de-duplicates a list of axes. */
export function normAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = [...new Set(axes.map((a) => normAxis(op, a, rank)))].sort((a, b) => a - b);
  if (out.length !== axes.length) throw new Error(`${op}: repeated axis in [${axes.join(', ')}]`);
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Reduce over `axes` (all axes when empty): keep reduced dims as 1 when keepdims, else drop them. */
export function reduceShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const all = axes.length === 0;
  const out: number[] = [];
  shape.forEach((d, i) => {
    const reduced = all || axes.includes(i);
    if (!reduced) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** ONNX Reshape (allowzero = 0): 0 copies the input dim, one -1 is inferred. */
export function reshapeShape(op: string, input: Shape, target: readonly number[]): number[] {
  const total = input.reduce((a, b) => a * b, 1);
  let inferAt = -1;
  let known = 1;
  const out = target.map((d, i) => {
    if (d === -1) {
      if (inferAt >= 0) throw new Error(`${op}: more than one -1 in target shape [${target.join(', ')}]`);
      inferAt = i;
      return -1;
    }
    const v = d === 0 ? input[i] : d;
    if (v === undefined || !Number.isInteger(v) || v < 0) throw new Error(`${op}: bad target dim ${d} at ${i} in [${target.join(', ')}]`);
    known *= v;
    return v;
  });
  if (inferAt >= 0) {
    if (known === 0 || total % known !== 0) throw new Error(`${op}: cannot infer -1 reshaping ${shapeToString(input)} to [${target.join(', ')}]`);
    out[inferAt] = total / known;
  } else if (known !== total) {
    throw new Error(`${op}: cannot reshape ${shapeToString(input)} (${total} elements) to [${target.join(', ')}] (${known})`);
  }
  return out;
}

export interface SliceSpec {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly axes?: readonly number[];
  readonly steps?: readonly number[];
}

/** Effective per-axis slice after ONNX clamping: start, step and count for every axis of the input. */
export interface ResolvedSlice {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/** Resolves ONNX Slice-13 semantics (negative indices, clamping, negative steps) for every input axis. */
export function resolveSlice(op: string, input: Shape, spec: SliceSpec): ResolvedSlice[] {
  const rank = input.length;
  const axes = spec.axes ?? spec.starts.map((_, i) => i);
  const n = spec.starts.length;
  if (spec.ends.length !== n || axes.length !== n || (spec.steps && spec.steps.length !== n)) {
    throw new Error(`${op}: starts, ends, axes and steps must have the same length`);
  }
  const out: ResolvedSlice[] = input.map((d) => ({ start: 0, step: 1, count: d }));
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const axis = normAxis(op, axes[i]!, rank);
    if (seen.has(axis)) throw new Error(`${op}: axis ${axis} sliced twice`);
    seen.add(axis);
    const dim = input[axis]!;
    const step = spec.steps?.[i] ?? 1;
    if (step === 0 || !Number.isInteger(step)) throw new Error(`${op}: step must be a non-zero integer`);
    let start = spec.starts[i]!;
    let end = spec.ends[i]!;
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
      start = clamp(start, 0, dim);
      end = clamp(end, 0, dim);
      out[axis] = { start, step, count: Math.max(0, Math.ceil((end - start) / step)) };
    } else {
      start = clamp(start, 0, dim - 1);
      end = clamp(end, -1, dim - 1);
      out[axis] = { start, step, count: Math.max(0, Math.ceil((end - start) / step)) };
    }
  }
  return out;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** MatMul with numpy semantics: 1-D operands are promoted and the promoted dim dropped afterwards. */
export function matmulShape(op: string, a: Shape, b: Shape): number[] {
  if (a.length === 0 || b.length === 0) throw new Error(`${op}: operands must have rank >= 1, got ${shapeToString(a)} and ${shapeToString(b)}`);
  const a2 = a.length === 1 ? [1, a[0]!] : [...a];
  const b2 = b.length === 1 ? [b[0]!, 1] : [...b];
  const k1 = a2[a2.length - 1]!;
  const k2 = b2[b2.length - 2]!;
  if (k1 !== k2) throw new Error(`${op}: inner dimensions differ: ${shapeToString(a)} x ${shapeToString(b)}`);
  const batch = broadcastShapes(op, a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}
