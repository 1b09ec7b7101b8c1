// Small builders the gradient walk and several rules share.
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import { Expand } from '../ops.ts';

/** A tensor of `x` shaped like `like`, built as an Expand of a scalar so no large constant is ever inlined. */
export function filledLike(g: GraphBuilder, like: Value, x: number): Value {
  const c = g.constant(x, like.dtype);
  return like.shape.length === 0 ? c : Expand(g, c, like.shape);
}

export const zerosLike = (g: GraphBuilder, like: Value): Value => filledLike(g, like, 0);
