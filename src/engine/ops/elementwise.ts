// Element-wise ONNX ops: broadcasting binary arithmetic and comparisons, unary math, Where, Clip, Cast.
// A plain number operand becomes a scalar constant of the other operand's dtype, so rules can write Mul(g, x, 0.5).
import type { DType, Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { broadcastShapes } from '../shape.ts';
import { FLOAT_TYPES, NUMERIC_TYPES, ONNX_DTYPE, attr, checkDtype, checkSameDtype, checkScalarLike } from './common.ts';

export type Operand = Value | number;

function operands(g: GraphBuilder, op: string, a: Operand, b: Operand): [Value, Value] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a Value`);
  const av = typeof a === 'number' ? g.constant(a, (b as Value).dtype) : a;
  const bv = typeof b === 'number' ? g.constant(b, av.dtype) : b;
  return [av, bv];
}

function binary(g: GraphBuilder, op: string, a: Operand, b: Operand, allowed: readonly DType[], outDtype?: DType): Value {
  const [av, bv] = operands(g, op, a, b);
  checkDtype(op, av, allowed);
  checkSameDtype(op, [av, bv]);
  const shape = broadcastShapes(op, av.shape, bv.shape);
  return g.node({ op, inputs: [av, bv], outputs: [{ dtype: outDtype ?? av.dtype, shape }] })[0]!;
}

function unary(g: GraphBuilder, op: string, x: Value, allowed: readonly DType[] = FLOAT_TYPES): Value {
  checkDtype(op, x, allowed);
  return g.node({ op, inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

export const Add = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Add', a, b, NUMERIC_TYPES);
export const Sub = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Sub', a, b, NUMERIC_TYPES);
export const Mul = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Mul', a, b, NUMERIC_TYPES);
export const Div = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Div', a, b, NUMERIC_TYPES);
/** Pow with a same-dtype exponent (ONNX allows mixed types; the WebGPU EP wants them equal). */
export const Pow = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Pow', a, b, FLOAT_TYPES);
/** Two-input Max / Min (ONNX takes a variadic list; two is all the engine emits). */
export const Max = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Max', a, b, NUMERIC_TYPES);
export const Min = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Min', a, b, NUMERIC_TYPES);
export const Equal = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Equal', a, b, [...NUMERIC_TYPES, 'bool'], 'bool');
export const Greater = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Greater', a, b, NUMERIC_TYPES, 'bool');
export const Less = (g: GraphBuilder, a: Operand, b: Operand): Value => binary(g, 'Less', a, b, NUMERIC_TYPES, 'bool');
export const And = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'And', a, b, ['bool']);

export const Sqrt = (g: GraphBuilder, x: Value): Value => unary(g, 'Sqrt', x);
export const Reciprocal = (g: GraphBuilder, x: Value): Value => unary(g, 'Reciprocal', x);
export const Exp = (g: GraphBuilder, x: Value): Value => unary(g, 'Exp', x);
export const Log = (g: GraphBuilder, x: Value): Value => unary(g, 'Log', x);
export const Tanh = (g: GraphBuilder, x: Value): Value => unary(g, 'Tanh', x);
export const Sigmoid = (g: GraphBuilder, x: Value): Value => unary(g, 'Sigmoid', x);
export const Erf = (g: GraphBuilder, x: Value): Value => unary(g, 'Erf', x);
export const Neg = (g: GraphBuilder, x: Value): Value => unary(g, 'Neg', x, NUMERIC_TYPES);
export const Abs = (g: GraphBuilder, x: Value): Value => unary(g, 'Abs', x, NUMERIC_TYPES);
export const Relu = (g: GraphBuilder, x: Value): Value => unary(g, 'Relu', x, NUMERIC_TYPES);
export const Not = (g: GraphBuilder, x: Value): Value => unary(g, 'Not', x, ['bool']);
export const Identity = (g: GraphBuilder, x: Value): Value =>
  g.node({ op: 'Identity', inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;

/** Where(condition, x, y): three-way broadcasting; condition must be bool. */
export function Where(g: GraphBuilder, condition: Value, x: Operand, y: Operand): Value {
  const [xv, yv] = operands(g, 'Where', x, y);
  checkDtype('Where', condition, ['bool'], 'condition');
  checkSameDtype('Where', [xv, yv]);
  const shape = broadcastShapes('Where', condition.shape, xv.shape, yv.shape);
  return g.node({ op: 'Where', inputs: [condition, xv, yv], outputs: [{ dtype: xv.dtype, shape }] })[0]!;
}

/** Clip-13 with optional scalar bounds given as inputs (a number becomes a constant of x's dtype). */
export function Clip(g: GraphBuilder, x: Value, min?: Operand, max?: Operand): Value {
  checkDtype('Clip', x, NUMERIC_TYPES);
  const bound = (b: Operand | undefined, what: string): Value | null => {
    if (b === undefined) return null;
    const v = typeof b === 'number' ? g.constant(b, x.dtype) : b;
    checkSameDtype('Clip', [x, v]);
    checkScalarLike('Clip', v, what);
    return v;
  };
  const lo = bound(min, 'min');
  const hi = bound(max, 'max');
  const inputs = hi ? [x, lo, hi] : lo ? [x, lo] : [x];
  return g.node({ op: 'Clip', inputs, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}

/** Cast to another dtype. Casts from int64 do not run on WebGPU; the verifier rejects them. */
export function Cast(g: GraphBuilder, x: Value, to: DType): Value {
  return g.node({ op: 'Cast', inputs: [x], attrs: { to: attr.int(ONNX_DTYPE[to]) }, outputs: [{ dtype: to, shape: x.shape }] })[0]!;
}

/** Gelu-20 (`approximate` 'none' or 'tanh'). */
export function Gelu(g: GraphBuilder, x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
  checkDtype('Gelu', x, FLOAT_TYPES);
  return g.node({ op: 'Gelu', inputs: [x], attrs: { approximate: attr.string(approximate) }, outputs: [{ dtype: x.dtype, shape: x.shape }] })[0]!;
}
