// Data-movement ONNX ops: Reshape, Transpose, Slice, Concat, Split, Expand, Tile, Unsqueeze/Squeeze, Gather family,
// scatters and Range. Shape-like arguments are plain number arrays turned into int64 constants (opset 13+/18 inputs),
// so output shapes are always known at construction.
import type { DType, Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { shapeToString } from '../ir.ts';
import { broadcastShapes, normAxes, normAxis, reshapeShape, resolveSlice } from '../shape.ts';
import type { SliceSpec } from '../shape.ts';
import { INDEX_TYPES, NUMERIC_TYPES, attr, checkDtype, checkSameDtype } from './common.ts';

const ints = (g: GraphBuilder, xs: readonly number[]): Value => g.constant(xs, 'int64');

/** Reshape-21 (allowzero 0): 0 copies a dim, one -1 is inferred. */
export function Reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const out = reshapeShape('Reshape', x.shape, shape);
  // A Reshape of a Reshape is one Reshape of the source (the element order never changes), so views built in steps
  // (a projection viewed per head, then per query group) cost one node; the inner one is pruned when nothing else reads it.
  const inner = g.producer(x);
  if (inner?.op === 'Reshape' && inner.domain === '') return Reshape(g, inner.inputs[0]!, out);
  // Emit the resolved shape, not the 0/-1 form, so the graph says what it does.
  return g.node({ op: 'Reshape', inputs: [x, ints(g, out)], outputs: [{ dtype: x.dtype, shape: out }] })[0]!;
}

/** Transpose with an explicit permutation (default: reverse the axes). */
export function Transpose(g: GraphBuilder, x: Value, perm?: readonly number[]): Value {
  const rank = x.shape.length;
  const p = perm ?? x.shape.map((_, i) => rank - 1 - i);
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw new Error(`Transpose: perm [${p.join(', ')}] is not a permutation of ${rank} axes`);
  }
  // A Transpose of a Transpose is one Transpose of the source (perms composed), and an identity perm is no node: the
  // attention layout changes (RoPE in head-major form, then the attention's own transposes) cost nothing twice.
  const inner = g.producer(x);
  if (inner?.op === 'Transpose' && inner.domain === '') {
    const innerPerm = inner.attrs['perm'];
    if (innerPerm?.kind === 'ints') return Transpose(g, inner.inputs[0]!, p.map((a) => (innerPerm.value as readonly number[])[a]!));
  }
  if (p.every((a, i) => a === i)) return x;
  const shape = p.map((a) => x.shape[a]!);
  return g.node({ op: 'Transpose', inputs: [x], attrs: { perm: attr.ints(p) }, outputs: [{ dtype: x.dtype, shape }] })[0]!;
}

/** Slice-13 with starts/ends/axes/steps as int64 constant inputs (ONNX clamping rules). */
export function Slice(g: GraphBuilder, x: Value, spec: SliceSpec): Value {
  const resolved = resolveSlice('Slice', x.shape, spec);
  const inputs: Value[] = [x, ints(g, spec.starts), ints(g, spec.ends)];
  if (spec.axes || spec.steps) inputs.push(ints(g, spec.axes ?? spec.starts.map((_, i) => i)));
  if (spec.steps) inputs.push(ints(g, spec.steps));
  return g.node({ op: 'Slice', inputs, outputs: [{ dtype: x.dtype, shape: resolved.map((r) => r.count) }] })[0]!;
}

/** Concat along `axis`; all other dims must match. */
export function Concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  const first = xs[0];
  if (!first) throw new Error('Concat: needs at least one input');
  checkSameDtype('Concat', xs);
  const a = normAxis('Concat', axis, first.shape.length);
  let total = 0;
  for (const x of xs) {
    if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`Concat: ${shapeToString(x.shape)} does not match ${shapeToString(first.shape)} outside axis ${a}`);
    }
    total += x.shape[a]!;
  }
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  return g.node({ op: 'Concat', inputs: [...xs], attrs: { axis: attr.int(a) }, outputs: [{ dtype: first.dtype, shape }] })[0]!;
}

/** Split-18 with explicit sizes as an input (the WebGPU EP mishandles `num_outputs`, see ort-webgpu.md). */
export function Split(g: GraphBuilder, x: Value, sizes: readonly number[], axis: number): Value[] {
  const a = normAxis('Split', axis, x.shape.length);
  const sum = sizes.reduce((s, d) => s + d, 0);
  if (sum !== x.shape[a] || sizes.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`Split: sizes [${sizes.join(', ')}] must be non-negative and sum to dim ${a} of ${shapeToString(x.shape)}`);
  }
  const outputs = sizes.map((d) => ({ dtype: x.dtype, shape: x.shape.map((s, i) => (i === a ? d : s)) }));
  return g.node({ op: 'Split', inputs: [x, ints(g, sizes)], attrs: { axis: attr.int(a) }, outputs });
}

/** Expand: bidirectional broadcast of x against `shape`. */
export function Expand(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const out = broadcastShapes('Expand', x.shape, shape);
  return g.node({ op: 'Expand', inputs: [x, ints(g, shape)], outputs: [{ dtype: x.dtype, shape: out }] })[0]!;
}

/** Tile: repeat each axis `repeats[i]` times. */
export function Tile(g: GraphBuilder, x: Value, repeats: readonly number[]): Value {
  if (repeats.length !== x.shape.length) throw new Error(`Tile: ${repeats.length} repeats for rank ${x.shape.length}`);
  const shape = x.shape.map((d, i) => d * repeats[i]!);
  return g.node({ op: 'Tile', inputs: [x, ints(g, repeats)], outputs: [{ dtype: x.dtype, shape }] })[0]!;
}

/** Unsqueeze-21: insert size-1 dims at `axes` (positions in the output). */
export function Unsqueeze(g: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const rank = x.shape.length + axes.length;
  const norm = normAxes('Unsqueeze', axes, rank);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[k++]!);
  return g.node({ op: 'Unsqueeze', inputs: [x, ints(g, norm)], outputs: [{ dtype: x.dtype, shape }] })[0]!;
}

/** Squeeze-21: remove the size-1 dims at `axes` (explicit, never "all ones"). */
export function Squeeze(g: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const norm = normAxes('Squeeze', axes, x.shape.length);
  for (const a of norm) if (x.shape[a] !== 1) throw new Error(`Squeeze: dim ${a} of ${shapeToString(x.shape)} is not 1`);
  const shape = x.shape.filter((_, i) => !norm.includes(i));
  return g.node({ op: 'Squeeze', inputs: [x, ints(g, norm)], outputs: [{ dtype: x.dtype, shape }] })[0]!;
}

/** Gather: out = data[..., indices, ...] along `axis`; shape data[:axis] + indices + data[axis+1:]. */
export function Gather(g: GraphBuilder, data: Value, indices: Value, axis = 0): Value {
  checkDtype('Gather', indices, INDEX_TYPES, 'indices');
  const a = normAxis('Gather', axis, data.shape.length);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return g.node({ op: 'Gather', inputs: [data, indices], attrs: { axis: attr.int(a) }, outputs: [{ dtype: data.dtype, shape }] })[0]!;
}

/** GatherElements: out[i][j] = data[indices[i][j]][j] (axis 0); output has the shape of indices. */
export function GatherElements(g: GraphBuilder, data: Value, indices: Value, axis: number): Value {
  checkDtype('GatherElements', indices, INDEX_TYPES, 'indices');
  const a = normAxis('GatherElements', axis, data.shape.length);
  if (indices.shape.length !== data.shape.length) throw new Error(`GatherElements: indices rank must equal data rank ${data.shape.length}`);
  return g.node({ op: 'GatherElements', inputs: [data, indices], attrs: { axis: attr.int(a) }, outputs: [{ dtype: data.dtype, shape: indices.shape }] })[0]!;
}

export type ScatterReduction = 'none' | 'add';

/** ScatterElements-18: data with `updates` written (or added) at `indices` along `axis`. */
export function ScatterElements(g: GraphBuilder, data: Value, indices: Value, updates: Value, axis: number, reduction: ScatterReduction = 'none'): Value {
  checkDtype('ScatterElements', indices, INDEX_TYPES, 'indices');
  checkSameDtype('ScatterElements', [data, updates]);
  const a = normAxis('ScatterElements', axis, data.shape.length);
  if (indices.shape.length !== data.shape.length || indices.shape.some((d, i) => d !== updates.shape[i])) {
    throw new Error(`ScatterElements: indices ${shapeToString(indices.shape)} and updates ${shapeToString(updates.shape)} must match, with data's rank`);
  }
  const attrs = { axis: attr.int(a), reduction: attr.string(reduction) };
  return g.node({ op: 'ScatterElements', inputs: [data, indices, updates], attrs, outputs: [{ dtype: data.dtype, shape: data.shape }] })[0]!;
}

/** ScatterND-18: indices [..., k] address the first k dims of data; updates are indices[:-1] + data[k:]. */
export function ScatterND(g: GraphBuilder, data: Value, indices: Value, updates: Value, reduction: ScatterReduction = 'none'): Value {
  checkDtype('ScatterND', indices, ['int64'], 'indices');
  checkSameDtype('ScatterND', [data, updates]);
  const k = indices.shape[indices.shape.length - 1];
  if (k === undefined || k > data.shape.length) throw new Error(`ScatterND: indices ${shapeToString(indices.shape)} must end in k <= rank of data`);
  const expected = [...indices.shape.slice(0, -1), ...data.shape.slice(k)];
  if (expected.length !== updates.shape.length || expected.some((d, i) => d !== updates.shape[i])) {
    throw new Error(`ScatterND: updates ${shapeToString(updates.shape)} must have shape ${shapeToString(expected)}`);
  }
  return g.node({ op: 'ScatterND', inputs: [data, indices, updates], attrs: { reduction: attr.string(reduction) }, outputs: [{ dtype: data.dtype, shape: data.shape }] })[0]!;
}

/** Range(start, limit, delta) as scalar constants; float32 or int32 only (int64 Range does not run on WebGPU). */
export function Range(g: GraphBuilder, start: number, limit: number, delta = 1, dtype: DType = 'int32'): Value {
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'float64') throw new Error(`Range: dtype ${dtype} not allowed; use int32 or float32`);
  if (delta === 0) throw new Error('Range: delta must be non-zero');
  const n = Math.max(0, Math.ceil((limit - start) / delta));
  const inputs = [g.constant(start, dtype), g.constant(limit, dtype), g.constant(delta, dtype)];
  return g.node({ op: 'Range', inputs, outputs: [{ dtype, shape: [n] }] })[0]!;
}

/** CumSum along `axis` (given as an int32 constant input). */
export function CumSum(g: GraphBuilder, x: Value, axis: number, opts: { exclusive?: boolean; reverse?: boolean } = {}): Value {
  checkDtype('CumSum', x, NUMERIC_TYPES);
  const a = normAxis('CumSum', axis, x.shape.length);
  const attrs = { exclusive: attr.int(opts.exclusive ? 1 : 0), reverse: attr.int(opts.reverse ? 1 : 0) };
  return g.node({ op: 'CumSum', inputs: [x, g.constant(a, 'int32')], attrs, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/** Pad-21, constant mode with zeros: `pads` is [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] (non-negative). */
export function Pad(g: GraphBuilder, x: Value, pads: readonly number[]): Value {
  const r = x.shape.length;
  if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`Pad: pads [${pads.join(', ')}] must be ${2 * r} non-negative integers for ${shapeToString(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  return g.node({ op: 'Pad', inputs: [x, ints(g, pads)], attrs: { mode: attr.string('constant') }, outputs: [{ dtype: x.dtype, shape }] })[0]!;
}
