// Einsum in the explicit form the builders use: one or two operands, lowercase subscripts, an explicit output
// ("bskd,btkd->bkts"), no ellipsis and no repeated subscript within one operand (no traces or diagonals). One node
// does what a Transpose + MatMul + Transpose chain does, so attention reads its operands in the layout the
// projections write them. Runs on the CPU/WASM and WebGPU EPs.
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { shapeToString } from '../ir.ts';
import { FLOAT_TYPES, attr, checkDtype, checkSameDtype } from './common.ts';

/** An equation split into its operands' subscripts and the output's. */
export interface EinsumSpec {
  readonly inputs: readonly string[];
  readonly output: string;
}

export function parseEinsum(equation: string, operands: number): EinsumSpec {
  const m = /^([a-z]+(?:,[a-z]+)?)->([a-z]*)$/.exec(equation);
  if (!m) throw new Error(`Einsum: "${equation}" must be explicit ("ab,bc->ac"), lowercase, without spaces or "..."`);
  const inputs = m[1]!.split(',');
  const output = m[2]!;
  if (inputs.length !== operands) throw new Error(`Einsum: "${equation}" names ${inputs.length} operand(s), ${operands} given`);
  for (const s of [...inputs, output]) {
    if (new Set(s).size !== s.length) throw new Error(`Einsum: "${equation}" repeats a subscript within "${s}" (traces and diagonals are not supported)`);
  }
  const seen = new Set(inputs.join(''));
  for (const c of output) if (!seen.has(c)) throw new Error(`Einsum: output subscript "${c}" of "${equation}" is in no operand`);
  return { inputs, output };
}

/** Einsum over one or two float operands; each subscript's size must agree across operands (no broadcasting). */
export function Einsum(g: GraphBuilder, equation: string, operands: readonly Value[]): Value {
  const spec = parseEinsum(equation, operands.length);
  operands.forEach((x) => checkDtype('Einsum', x, FLOAT_TYPES));
  checkSameDtype('Einsum', operands);
  const size = new Map<string, number>();
  spec.inputs.forEach((s, i) => {
    const x = operands[i]!;
    if (x.shape.length !== s.length) throw new Error(`Einsum: operand ${i} ${shapeToString(x.shape)} has rank ${x.shape.length}, "${s}" has ${s.length}`);
    [...s].forEach((c, k) => {
      const d = x.shape[k]!;
      const known = size.get(c);
      if (known !== undefined && known !== d) throw new Error(`Einsum: subscript "${c}" of "${equation}" is ${known} in one operand and ${d} in another`);
      size.set(c, d);
    });
  });
  const shape = [...spec.output].map((c) => size.get(c)!);
  return g.node({ op: 'Einsum', inputs: operands, attrs: { equation: attr.string(equation) }, outputs: [{ dtype: operands[0]!.dtype, shape }] })[0]!;
}
