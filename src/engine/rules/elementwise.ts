// Gradient rules for element-wise ops. Each reuses the forward output y where that saves nodes (Exp, Sqrt, Tanh,
// Sigmoid, Div, Reciprocal). Only ops that run on WebGPU appear in the rules (no Sign, no Or): see ort-webgpu.md.
import type { Value } from '../ir.ts';
import type { GraphBuilder } from '../graph.ts';
import * as O from '../ops.ts';
import type { OpGrad, RuleContext } from './context.ts';

const g1 = (f: (c: RuleContext, x: Value, y: Value, dy: Value) => Value): OpGrad => ({ rule: (c) => [f(c, c.in(0), c.y[0]!, c.dy0())] });
const only = <T>(need: boolean, f: () => T): T | null => (need ? f() : null);

/** GELU's tanh form: 0.5 x (1 + tanh(k (x + 0.044715 x^3))), k = sqrt(2/pi). Returns d/dx. */
function geluTanhDerivative(c: RuleContext, x: Value): Value {
  const { g } = c;
  const k = Math.sqrt(2 / Math.PI);
  const x2 = O.Mul(g, x, x);
  const inner = O.Mul(g, O.Mul(g, x, O.Add(g, O.Mul(g, x2, 0.044715), 1)), k);
  const t = O.Tanh(g, inner);
  const dInner = O.Mul(g, O.Add(g, O.Mul(g, x2, 3 * 0.044715), 1), k);
  const sech2 = O.Sub(g, 1, O.Mul(g, t, t));
  // 0.5 (1 + t) + 0.5 x sech^2 dInner
  return O.Add(g, O.Mul(g, O.Add(g, t, 1), 0.5), O.Mul(g, O.Mul(g, O.Mul(g, x, sech2), dInner), 0.5));
}

export const ELEMENTWISE_RULES: Readonly<Record<string, OpGrad>> = {
  Add: { rule: (c) => [c.dy0(), c.dy0()] },
  Sub: { rule: (c) => [c.dy0(), only(c.needs[1]!, () => O.Neg(c.g, c.dy0()))] },
  Mul: { rule: (c) => [only(c.needs[0]!, () => O.Mul(c.g, c.dy0(), c.in(1))), only(c.needs[1]!, () => O.Mul(c.g, c.dy0(), c.in(0)))] },
  // d(a/b)/da = 1/b; d(a/b)/db = -y/b.
  Div: {
    rule: (c) => [
      only(c.needs[0]!, () => O.Div(c.g, c.dy0(), c.in(1))),
      only(c.needs[1]!, () => O.Neg(c.g, O.Div(c.g, O.Mul(c.g, c.dy0(), c.y[0]!), c.in(1)))),
    ],
  },
  // d(a^b)/da = b a^(b-1); d(a^b)/db = y log a.
  Pow: {
    rule: (c) => [
      only(c.needs[0]!, () => O.Mul(c.g, c.dy0(), O.Mul(c.g, c.in(1), O.Pow(c.g, c.in(0), O.Sub(c.g, c.in(1), 1))))),
      only(c.needs[1]!, () => O.Mul(c.g, c.dy0(), O.Mul(c.g, c.y[0]!, O.Log(c.g, c.in(0))))),
    ],
  },
  Sqrt: g1((c, _x, y, dy) => O.Div(c.g, O.Mul(c.g, dy, 0.5), y)),
  Reciprocal: g1((c, _x, y, dy) => O.Neg(c.g, O.Mul(c.g, dy, O.Mul(c.g, y, y)))),
  Exp: g1((c, _x, y, dy) => O.Mul(c.g, dy, y)),
  Log: g1((c, x, _y, dy) => O.Div(c.g, dy, x)),
  Tanh: g1((c, _x, y, dy) => O.Mul(c.g, dy, O.Sub(c.g, 1, O.Mul(c.g, y, y)))),
  Sigmoid: g1((c, _x, y, dy) => O.Mul(c.g, dy, O.Mul(c.g, y, O.Sub(c.g, 1, y)))),
  // d erf(x)/dx = 2/sqrt(pi) exp(-x^2).
  Erf: g1((c, x, _y, dy) => O.Mul(c.g, dy, O.Mul(c.g, O.Exp(c.g, O.Neg(c.g, O.Mul(c.g, x, x))), 2 / Math.sqrt(Math.PI)))),
  Neg: g1((c, _x, _y, dy) => O.Neg(c.g, dy)),
  // Sign is not a WebGPU op; select instead. At x = 0 the subgradient +1 is used.
  Abs: g1((c, x, _y, dy) => O.Where(c.g, O.Less(c.g, x, 0), O.Neg(c.g, dy), dy)),
  Relu: g1((c, x, _y, dy) => O.Where(c.g, O.Greater(c.g, x, 0), dy, 0)),
  Identity: g1((_c, _x, _y, dy) => dy),
  // Ties go to the first input, so exactly one input receives the gradient.
  Max: {
    rule: (c) => {
      const takeB = O.Less(c.g, c.in(0), c.in(1));
      return [only(c.needs[0]!, () => O.Where(c.g, takeB, 0, c.dy0())), only(c.needs[1]!, () => O.Where(c.g, takeB, c.dy0(), 0))];
    },
  },
  Min: {
    rule: (c) => {
      const takeB = O.Greater(c.g, c.in(0), c.in(1));
      return [only(c.needs[0]!, () => O.Where(c.g, takeB, 0, c.dy0())), only(c.needs[1]!, () => O.Where(c.g, takeB, c.dy0(), 0))];
    },
  },
  // Gradient passes where min <= x <= max; the bounds themselves are treated as constants.
  Clip: {
    nondiff: [1, 2],
    rule: (c) => {
      let d = c.dy0();
      const x = c.in(0);
      if (c.x[2]) d = O.Where(c.g, O.Greater(c.g, x, c.x[2]), 0, d);
      if (c.x[1]) d = O.Where(c.g, O.Less(c.g, x, c.x[1]), 0, d);
      return [d];
    },
  },
  Where: {
    nondiff: [0],
    rule: (c) => [null, only(c.needs[1]!, () => O.Where(c.g, c.in(0), c.dy0(), 0)), only(c.needs[2]!, () => O.Where(c.g, c.in(0), 0, c.dy0()))],
  },
  // Only float-to-float casts are on a gradient path (the walk stops at integer outputs).
  Cast: g1((c, x, _y, dy) => O.Cast(c.g, dy, x.dtype)),
  Gelu: g1((c, x, _y, dy) => {
    if (c.str('approximate', 'none') === 'tanh') return O.Mul(c.g, dy, geluTanhDerivative(c, x));
    // d/dx x Phi(x) = Phi(x) + x phi(x), with Phi from Erf and phi the standard normal density.
    const cdf = O.Mul(c.g, O.Add(c.g, O.Erf(c.g, O.Mul(c.g, x, Math.SQRT1_2)), 1), 0.5);
    const pdf = O.Mul(c.g, O.Exp(c.g, O.Mul(c.g, O.Mul(c.g, x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return O.Mul(c.g, dy, O.Add(c.g, cdf, O.Mul(c.g, x, pdf)));
  }),
  // A rotation is orthogonal: dx = R(θ)ᵀ dy = R(-θ) dy, i.e. the same op with the sin cache negated (one Neg per cache
  // and graph, shared by every layer). Positions are indices; the caches are built from constants and positions.
  'com.microsoft.RotaryEmbedding': {
    nondiff: [1],
    rule: (c) => {
      if (c.needs[2] || c.needs[3]) throw new Error(`${c.node.name}: RotaryEmbedding has no gradient rule for its cos/sin caches; build them from constants and positions`);
      return [O.RotaryEmbedding(c.g, c.dy0(), c.in(1), c.in(2), negated(c.g, c.in(3))), null, null, null];
    },
  },
  // y = x·s, s = sigmoid(a·x): dy/dx = s + a·y·(1 - s), with s recomputed (one node) from x.
  'com.microsoft.QuickGelu': g1((c, x, y, dy) => {
    const a = c.float('alpha', 1.702);
    const s = O.Sigmoid(c.g, a === 1 ? x : O.Mul(c.g, x, a));
    const ay = a === 1 ? y : O.Mul(c.g, y, a);
    return O.Mul(c.g, dy, O.Add(c.g, s, O.Mul(c.g, ay, O.Sub(c.g, 1, s))));
  }),
  'com.microsoft.FastGelu': {
    rule: (c) => {
      const u = c.x[1] ? O.Add(c.g, c.in(0), c.in(1)) : c.in(0);
      const d = O.Mul(c.g, c.dy0(), geluTanhDerivative(c, u));
      return [d, c.x[1] ? d : null];
    },
  },
};

const negatedMemo = new WeakMap<GraphBuilder, Map<number, Value>>();

/** -v, built once per graph and value. */
function negated(g: GraphBuilder, v: Value): Value {
  let memo = negatedMemo.get(g);
  if (!memo) {
    memo = new Map();
    negatedMemo.set(g, memo);
  }
  let n = memo.get(v.id);
  if (!n) {
    n = O.Neg(g, v);
    memo.set(v.id, n);
  }
  return n;
}
