// Reverse-mode autodiff over the builder's nodes. The walk finds the nodes between `wrt` and `loss`, visits them in
// reverse, asks the op's rule (rules/) for one gradient per input, undoes broadcasting in one place (here), and sums
// the contributions per value. Gradient nodes go into the same builder, so the caller can keep building on them.
import type { Node, Shape, Value } from './ir.ts';
import { shapeToString } from './ir.ts';
import type { GraphBuilder } from './graph.ts';
import { Add, ReduceSum, Reshape } from './ops.ts';
import { isFloat } from './ops/common.ts';
import { sameShape } from './shape.ts';
import { GRAD_TABLE, opKey } from './rules/index.ts';
import type { RuleContext } from './rules/context.ts';
import { makeContext } from './rules/context.ts';
import { filledLike, zerosLike } from './rules/util.ts';

/**
 * Gradients of `loss` with respect to each of `wrt`, added to `g`. `seed` is d(final)/d(loss) and defaults to ones.
 * Only nodes on a path from some `wrt` to `loss` are differentiated. A `wrt` value that `loss` does not depend on gets
 * zeros. Throws at build time, naming the node, for an op on the path with no rule.
 */
export function grad(g: GraphBuilder, loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  if (!isFloat(loss.dtype)) throw new Error(`grad: loss "${loss.name}" has dtype ${loss.dtype}; it must be floating point`);
  for (const w of wrt) if (!isFloat(w.dtype)) throw new Error(`grad: cannot differentiate with respect to "${w.name}" of dtype ${w.dtype}`);
  if (seed && (seed.dtype !== loss.dtype || !sameShape(seed.shape, loss.shape))) {
    throw new Error(`grad: seed ${seed.dtype}${shapeToString(seed.shape)} must match loss ${loss.dtype}${shapeToString(loss.shape)}`);
  }
  const nodes = g.nodes;
  const lossNode = g.producer(loss);
  const end = lossNode ? lossNode.id + 1 : 0;

  // Forward pass: values that depend (through differentiable inputs) on some wrt.
  const active = new Set<number>(wrt.map((w) => w.id));
  for (let i = 0; i < end; i++) {
    const n = nodes[i]!;
    const entry = GRAD_TABLE[opKey(n)];
    const nondiff = entry?.nondiff ?? [];
    if (!n.inputs.some((v, k) => v && active.has(v.id) && !nondiff.includes(k))) continue;
    for (const v of n.outputs) if (isFloat(v.dtype)) active.add(v.id);
  }
  // Backward pass: nodes whose outputs reach the loss.
  const needed = new Set<number>([loss.id]);
  const path: Node[] = [];
  for (let i = end - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((v) => needed.has(v.id) && active.has(v.id))) continue;
    path.push(n);
    for (const v of n.inputs) if (v && active.has(v.id)) needed.add(v.id);
  }

  const adjoints = new Map<number, Value[]>();
  const contribute = (v: Value, d: Value): void => {
    const list = adjoints.get(v.id);
    if (list) list.push(d);
    else adjoints.set(v.id, [d]);
  };
  const replace = (v: Value, d: Value): void => {
    adjoints.set(v.id, [d]);
  };
  const total = (v: Value): Value | null => {
    const list = adjoints.get(v.id);
    if (!list) return null;
    let sum = list[0]!;
    for (const d of list.slice(1)) sum = Add(g, sum, d);
    adjoints.set(v.id, [sum]);
    return sum;
  };

  return g.phase('backward', () => {
    contribute(loss, seed ?? filledLike(g, loss, 1));
    if (active.has(loss.id)) {
      // Each node's gradient nodes are named inside the forward node's own scope (`/grad/layers.3/attn/MatMul_812`), so a
      // summary can charge backward work to the layer whose forward caused it.
      g.scope('grad', () => {
        for (const n of path) withScopeOf(g, n, () => backprop(g, n, active, total, contribute, replace));
      });
    }
    return wrt.map((w) => total(w) ?? zerosLike(g, w));
  });
}

/** Runs `fn` inside the scopes of the forward node `n`'s name (`/layers.0/attn/MatMul_12` → layers.0, attn). */
function withScopeOf(g: GraphBuilder, n: Node, fn: () => void): void {
  const parts = n.name.split('/').filter((p) => p !== '' && p !== 'grad').slice(0, -1);
  const run = (i: number): void => (i === parts.length ? fn() : g.scope(parts[i]!, () => run(i + 1)));
  run(0);
}

function backprop(
  g: GraphBuilder,
  n: Node,
  active: ReadonlySet<number>,
  total: (v: Value) => Value | null,
  contribute: (v: Value, d: Value) => void,
  replace: (v: Value, d: Value) => void,
): void {
  const key = opKey(n);
  const entry = GRAD_TABLE[key];
  const where = `grad: node ${n.name} (${key})`;
  if (!entry) throw new Error(`${where} is on the path from the parameters to the loss but has no gradient rule; add one in src/engine/rules/`);
  if (entry.unsupported) throw new Error(`${where} is not differentiable: ${entry.unsupported}`);
  const nondiff = entry.nondiff ?? [];
  const needs = n.inputs.map((v, i) => !!v && active.has(v.id) && !nondiff.includes(i));
  if (!needs.some(Boolean)) return;
  const dy = n.outputs.map((v) => total(v));
  // Inputs whose partial adjoint the rule folded into its own gradient (ctx.partial): that gradient replaces the sum.
  const taken = new Set<number>();
  const partial = (i: number): Value | null => {
    const v = n.inputs[i];
    if (!v || !needs[i] || taken.has(i) || n.inputs.some((u, k) => k !== i && u?.id === v.id)) return null;
    const sum = total(v);
    if (!sum || sum.dtype !== v.dtype || !sameShape(sum.shape, v.shape)) return null;
    taken.add(i);
    return sum;
  };
  const ctx: RuleContext = makeContext(g, n, dy, needs, partial);
  const grads = entry.rule!(ctx);
  n.inputs.forEach((v, i) => {
    if (!v || !needs[i]) return;
    const d = grads[i];
    if (!d) throw new Error(`${where}: the rule returned no gradient for input ${i} ("${v.name}")`);
    if (d.dtype !== v.dtype) throw new Error(`${where}: gradient for input ${i} is ${d.dtype}, input is ${v.dtype}`);
    if (taken.has(i)) {
      if (!sameShape(d.shape, v.shape)) throw new Error(`${where}: the rule took input ${i}'s partial adjoint but returned shape ${shapeToString(d.shape)}`);
      replace(v, d);
    } else contribute(v, unbroadcast(g, d, v.shape, where));
  });
}

/** Sums a gradient over the axes numpy broadcasting added or stretched, then reshapes to the input's shape. */
export function unbroadcast(g: GraphBuilder, d: Value, target: Shape, where = 'unbroadcast'): Value {
  if (sameShape(d.shape, target)) return d;
  const lead = d.shape.length - target.length;
  const axes: number[] = [];
  let ok = lead >= 0;
  d.shape.forEach((dim, i) => {
    if (i < lead) axes.push(i);
    else if (target[i - lead] === 1 && dim !== 1) axes.push(i);
    else if (target[i - lead] !== dim) ok = false;
  });
  if (!ok) throw new Error(`${where}: gradient shape ${shapeToString(d.shape)} is not a broadcast of input shape ${shapeToString(target)}`);
  const summed = axes.length ? ReduceSum(g, d, axes, { keepdims: false }) : d;
  return sameShape(summed.shape, target) ? summed : Reshape(g, summed, target);
}

