// Helpers the op constructors share: typed attribute makers, dtype classes and checks that name the op at fault.
import type { Attr, DType, Value } from '../ir.ts';
import { shapeToString } from '../ir.ts';

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value: [...value] }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value: [...value] }),
};

/** ONNX TensorProto.DataType codes, used by Cast's `to` attribute and by serialisation. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export const FLOAT_TYPES: readonly DType[] = ['float32', 'float64', 'float16'];
/** Types arithmetic may run on. int64 is excluded on purpose: the WebGPU EP has no int64 arithmetic (ort-webgpu.md). */
export const NUMERIC_TYPES: readonly DType[] = ['float32', 'float64', 'float16', 'int32'];
export const INDEX_TYPES: readonly DType[] = ['int32', 'int64'];

export function isFloat(dtype: DType): boolean {
  return FLOAT_TYPES.includes(dtype);
}

export function checkDtype(op: string, v: Value, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(v.dtype)) {
    const hint = v.dtype === 'int64' ? ' (int64 is for index inputs only: compute in int32 and Cast, see docs/architecture.md)' : '';
    throw new Error(`${op}: ${what} "${v.name}" has dtype ${v.dtype}; expected one of ${allowed.join(', ')}${hint}`);
  }
}

export function checkSameDtype(op: string, values: readonly Value[]): void {
  const first = values[0];
  for (const v of values) {
    if (first && v.dtype !== first.dtype) {
      throw new Error(`${op}: dtypes differ (${values.map((x) => `"${x.name}": ${x.dtype}`).join(', ')}); insert a Cast`);
    }
  }
}

export function checkRank(op: string, v: Value, rank: number): void {
  if (v.shape.length !== rank) throw new Error(`${op}: "${v.name}" must have rank ${rank}, got ${shapeToString(v.shape)}`);
}

export function checkScalarLike(op: string, v: Value, what: string): void {
  if (v.shape.reduce((a, b) => a * b, 1) !== 1) throw new Error(`${op}: ${what} "${v.name}" must be a scalar, got ${shapeToString(v.shape)}`);
}
