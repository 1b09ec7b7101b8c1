// The gradient table: every op the engine can emit is listed as differentiable (a rule), non-differentiable (its
// outputs are never float, so gradient cannot flow) or unsupported (with the reason). autodiff.ts looks ops up here.
import type { Node } from '../ir.ts';
import type { OpGrad } from './context.ts';
import { ELEMENTWISE_RULES } from './elementwise.ts';
import { LINALG_RULES } from './linalg.ts';
import { LAYOUT_RULES } from './layout.ts';

/** Table key: the op name, prefixed with its domain for contrib ops (`com.microsoft.FastGelu`). */
export const opKey = (n: Pick<Node, 'op' | 'domain'>): string => (n.domain ? `${n.domain}.${n.op}` : n.op);

/** Comparisons and boolean logic produce bool: the walk never reaches them, but they are listed for completeness. */
const NON_DIFFERENTIABLE: Readonly<Record<string, OpGrad>> = {
  Equal: { nondiff: [0, 1] },
  Greater: { nondiff: [0, 1] },
  Less: { nondiff: [0, 1] },
  And: { nondiff: [0, 1] },
  Not: { nondiff: [0] },
  Range: { nondiff: [0, 1, 2] },
};

const UNSUPPORTED: Readonly<Record<string, OpGrad>> = {
  'com.microsoft.SkipSimplifiedLayerNormalization': {
    unsupported: 'GraphBuilder.build() fuses it from Add + SimplifiedLayerNormalization after autodiff; build those two instead',
  },
  ScatterND: { unsupported: 'its gradient needs GatherND; use ScatterElements (differentiable) instead' },
};

export const GRAD_TABLE: Readonly<Record<string, OpGrad>> = {
  ...ELEMENTWISE_RULES,
  ...LINALG_RULES,
  ...LAYOUT_RULES,
  ...NON_DIFFERENTIABLE,
  ...UNSUPPORTED,
};
