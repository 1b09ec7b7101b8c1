// What a gradient rule sees: the builder, the forward node (inputs x, outputs y, attributes), the adjoints dy of its
// outputs (null where nothing downstream used an output) and which inputs need a gradient. Rules return one gradient
// (or null) per input; the walk in autodiff.ts undoes broadcasting, so a rule may return a broadcast-shaped gradient.
import type { Node, Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';

export interface RuleContext {
  readonly g: GraphBuilder;
  readonly node: Node;
  readonly x: readonly (Value | null)[];
  readonly y: readonly Value[];
  readonly dy: readonly (Value | null)[];
  readonly needs: readonly boolean[];
  /** Input i, which must be present. */
  in(i: number): Value;
  /** Adjoint of output 0, which the walk guarantees for single-output ops on the path. */
  dy0(): Value;
  int(name: string, fallback: number): number;
  float(name: string, fallback: number): number;
  str(name: string, fallback: string): string;
  ints(name: string): number[] | undefined;
  /** Data of constant input i (axes, shapes, slice bounds) as numbers. */
  constInts(i: number): number[];
  /**
   * The gradient that other consumers of input i have contributed so far, when it has exactly input i's shape (null
   * otherwise, or when nothing came yet). A rule that takes it must return the sum of it and its own gradient for
   * input i (e.g. as Gemm's C, which saves the Add the walk would emit); the walk then replaces the partial sum.
   */
  partial(i: number): Value | null;
}

type GradRule = (c: RuleContext) => readonly (Value | null | undefined)[];

/** One table entry: a rule, the inputs that carry no gradient (indices, masks, shapes), or why the op is unsupported. */
export interface OpGrad {
  readonly rule?: GradRule;
  readonly nondiff?: readonly number[];
  readonly unsupported?: string;
}

export function makeContext(
  g: GraphBuilder,
  node: Node,
  dy: readonly (Value | null)[],
  needs: readonly boolean[],
  partial: (i: number) => Value | null = () => null,
): RuleContext {
  const attr = node.attrs;
  return {
    g,
    node,
    x: node.inputs,
    y: node.outputs,
    dy,
    needs,
    in(i) {
      const v = node.inputs[i];
      if (!v) throw new Error(`${node.name}: input ${i} is missing`);
      return v;
    },
    dy0() {
      const d = dy[0];
      if (!d) throw new Error(`${node.name}: output 0 has no adjoint`);
      return d;
    },
    int: (name, fallback) => (attr[name]?.kind === 'int' ? (attr[name].value as number) : fallback),
    float: (name, fallback) => (attr[name]?.kind === 'float' ? (attr[name].value as number) : fallback),
    str: (name, fallback) => (attr[name]?.kind === 'string' ? (attr[name].value as string) : fallback),
    ints: (name) => (attr[name]?.kind === 'ints' ? [...(attr[name].value as number[])] : undefined),
    constInts(i) {
      const v = node.inputs[i];
      const t = v ? g.constantData(v) : undefined;
      if (!t) throw new Error(`${node.name}: input ${i} must be a constant to differentiate this op`);
      return Array.from(t.data as ArrayLike<number | bigint>, (d) => Number(d));
    },
    partial,
  };
}
