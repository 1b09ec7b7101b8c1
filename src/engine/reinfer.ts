// Re-derivation of a recorded node through the same op constructors that built it, on a scratch builder. The verifier
// uses it to prove each node's dtypes, shapes and attributes are self-consistent (one source of truth for inference).
import type { Attr, ConstTensor, Node, Value } from './ir.ts';
import { GraphBuilder } from './graph.ts';
import * as O from './ops.ts';
import type { ScatterReduction } from './ops.ts';

type Args = {
  readonly s: GraphBuilder;
  readonly x: readonly (Value | null)[];
  readonly node: Node;
  /** The constant data feeding input i (shape/axes arguments); throws if that input is not a constant. */
  readonly ints: (i: number) => number[];
  readonly has: (i: number) => boolean;
};

const int = (n: Node, k: string, d: number): number => attrValue(n.attrs[k], 'int', d);
const float = (n: Node, k: string, d: number): number => attrValue(n.attrs[k], 'float', d);
const str = (n: Node, k: string, d: string): string => attrValue(n.attrs[k], 'string', d);
const intList = (n: Node, k: string): number[] | undefined => {
  const a = n.attrs[k];
  return a?.kind === 'ints' ? [...a.value] : undefined;
};

function attrValue<T extends number | string>(a: Attr | undefined, kind: 'int' | 'float' | 'string', d: T): T {
  if (!a) return d;
  if (a.kind !== kind) throw new Error(`attribute is ${a.kind}, expected ${kind}`);
  return a.value as T;
}

const one = (v: Value): Value[] => [v];
const req = (x: readonly (Value | null)[], i: number): Value => {
  const v = x[i];
  if (!v) throw new Error(`input ${i} is required`);
  return v;
};
const bin = (f: (g: GraphBuilder, a: Value, b: Value) => Value) => (a: Args) => one(f(a.s, req(a.x, 0), req(a.x, 1)));
const un = (f: (g: GraphBuilder, a: Value) => Value) => (a: Args) => one(f(a.s, req(a.x, 0)));
const reduce = (f: typeof O.ReduceSum) => (a: Args) =>
  one(f(a.s, req(a.x, 0), a.has(1) ? a.ints(1) : [], { keepdims: int(a.node, 'keepdims', 1) === 1 }));

const DTYPE_BY_CODE = Object.fromEntries(Object.entries(O.ONNX_DTYPE).map(([k, v]) => [v, k])) as Record<number, keyof typeof O.ONNX_DTYPE>;

/** One entry per op the engine emits, keyed `domain:op` ('' for the default domain). */
const REINFER: Readonly<Record<string, (a: Args) => Value[]>> = {
  ':Add': bin(O.Add),
  ':Sub': bin(O.Sub),
  ':Mul': bin(O.Mul),
  ':Div': bin(O.Div),
  ':Pow': bin(O.Pow),
  ':Max': bin(O.Max),
  ':Min': bin(O.Min),
  ':Equal': bin(O.Equal),
  ':Greater': bin(O.Greater),
  ':Less': bin(O.Less),
  ':And': bin(O.And),
  ':MatMul': bin(O.MatMul),
  ':Einsum': (a) => one(O.Einsum(a.s, str(a.node, 'equation', ''), a.x.map((_, i) => req(a.x, i)))),
  ':Sqrt': un(O.Sqrt),
  ':Reciprocal': un(O.Reciprocal),
  ':Exp': un(O.Exp),
  ':Log': un(O.Log),
  ':Tanh': un(O.Tanh),
  ':Sigmoid': un(O.Sigmoid),
  ':Erf': un(O.Erf),
  ':Neg': un(O.Neg),
  ':Abs': un(O.Abs),
  ':Relu': un(O.Relu),
  ':Not': un(O.Not),
  ':Identity': un(O.Identity),
  ':Gelu': (a) => one(O.Gelu(a.s, req(a.x, 0), str(a.node, 'approximate', 'none') as 'none' | 'tanh')),
  ':Where': (a) => one(O.Where(a.s, req(a.x, 0), req(a.x, 1), req(a.x, 2))),
  ':Clip': (a) => one(O.Clip(a.s, req(a.x, 0), a.x[1] ?? undefined, a.x[2] ?? undefined)),
  ':Cast': (a) => {
    const to = DTYPE_BY_CODE[int(a.node, 'to', -1)];
    if (!to) throw new Error(`Cast to unsupported type code ${int(a.node, 'to', -1)}`);
    return one(O.Cast(a.s, req(a.x, 0), to));
  },
  ':ReduceSum': reduce(O.ReduceSum),
  ':ReduceMean': reduce(O.ReduceMean),
  ':ReduceMax': reduce(O.ReduceMax),
  ':ReduceLogSumExp': reduce(O.ReduceLogSumExp),
  ':ReduceSumSquare': reduce(O.ReduceSumSquare),
  ':Softmax': (a) => one(O.Softmax(a.s, req(a.x, 0), int(a.node, 'axis', -1))),
  ':Gemm': (a) =>
    one(
      O.Gemm(a.s, req(a.x, 0), req(a.x, 1), a.x[2] ?? null, {
        transA: int(a.node, 'transA', 0) === 1,
        transB: int(a.node, 'transB', 0) === 1,
        alpha: float(a.node, 'alpha', 1),
        beta: float(a.node, 'beta', 1),
      }),
    ),
  ':SimplifiedLayerNormalization': (a) =>
    one(O.SimplifiedLayerNormalization(a.s, req(a.x, 0), req(a.x, 1), float(a.node, 'epsilon', 1e-5), int(a.node, 'axis', -1))),
  ':LayerNormalization': (a) =>
    one(O.LayerNormalization(a.s, req(a.x, 0), req(a.x, 1), a.x[2] ?? null, float(a.node, 'epsilon', 1e-5), int(a.node, 'axis', -1))),
  'com.microsoft:RotaryEmbedding': (a) => one(O.RotaryEmbedding(a.s, req(a.x, 0), req(a.x, 1), req(a.x, 2), req(a.x, 3))),
  'com.microsoft:SkipSimplifiedLayerNormalization': (a) => {
    const { y, sum } = O.SkipSimplifiedLayerNormalization(a.s, req(a.x, 0), req(a.x, 1), req(a.x, 2), float(a.node, 'epsilon', 1e-5));
    const p = a.s.producer(y)!;
    return [y, p.outputs[1]!, p.outputs[2]!, sum];
  },
  'com.microsoft:QuickGelu': (a) => one(O.QuickGelu(a.s, req(a.x, 0), float(a.node, 'alpha', 1.702))),
  'com.microsoft:FastGelu': (a) => one(O.FastGelu(a.s, req(a.x, 0), a.x[1] ?? undefined)),
  ':Reshape': (a) => one(O.Reshape(a.s, req(a.x, 0), a.ints(1))),
  ':Transpose': (a) => one(O.Transpose(a.s, req(a.x, 0), intList(a.node, 'perm'))),
  ':Slice': (a) =>
    one(
      O.Slice(a.s, req(a.x, 0), {
        starts: a.ints(1),
        ends: a.ints(2),
        ...(a.has(3) ? { axes: a.ints(3) } : {}),
        ...(a.has(4) ? { steps: a.ints(4) } : {}),
      }),
    ),
  ':Concat': (a) => one(O.Concat(a.s, a.x.map((_, i) => req(a.x, i)), int(a.node, 'axis', 0))),
  ':Split': (a) => O.Split(a.s, req(a.x, 0), a.ints(1), int(a.node, 'axis', 0)),
  ':Pad': (a) => {
    if (str(a.node, 'mode', 'constant') !== 'constant' || a.has(2) || a.has(3)) throw new Error('only zero constant padding over all axes is supported');
    return one(O.Pad(a.s, req(a.x, 0), a.ints(1)));
  },
  ':Expand': (a) => one(O.Expand(a.s, req(a.x, 0), a.ints(1))),
  ':Tile': (a) => one(O.Tile(a.s, req(a.x, 0), a.ints(1))),
  ':Unsqueeze': (a) => one(O.Unsqueeze(a.s, req(a.x, 0), a.ints(1))),
  ':Squeeze': (a) => one(O.Squeeze(a.s, req(a.x, 0), a.ints(1))),
  ':Gather': (a) => one(O.Gather(a.s, req(a.x, 0), req(a.x, 1), int(a.node, 'axis', 0))),
  ':GatherElements': (a) => one(O.GatherElements(a.s, req(a.x, 0), req(a.x, 1), int(a.node, 'axis', 0))),
  ':ScatterElements': (a) =>
    one(O.ScatterElements(a.s, req(a.x, 0), req(a.x, 1), req(a.x, 2), int(a.node, 'axis', 0), str(a.node, 'reduction', 'none') as ScatterReduction)),
  ':ScatterND': (a) => one(O.ScatterND(a.s, req(a.x, 0), req(a.x, 1), req(a.x, 2), str(a.node, 'reduction', 'none') as ScatterReduction)),
  ':CumSum': (a) =>
    one(O.CumSum(a.s, req(a.x, 0), a.ints(1)[0]!, { exclusive: int(a.node, 'exclusive', 0) === 1, reverse: int(a.node, 'reverse', 0) === 1 })),
  ':Range': (a) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => a.ints(i)[0]!) as [number, number, number];
    return one(O.Range(a.s, start, limit, delta, req(a.x, 0).dtype));
  },
};

/**
 * Re-runs the constructor of `node` on a scratch builder. `constantOf` returns the data of a constant input.
 * Returns the outputs the constructor infers; throws the constructor's own message when the node is inconsistent.
 */
export function reinferNode(node: Node, constantOf: (v: Value) => ConstTensor | undefined): Value[] {
  const f = REINFER[`${node.domain}:${node.op}`];
  if (!f) throw new Error(`unknown op ${node.domain ? `${node.domain}.` : ''}${node.op}: the engine has no constructor for it (add one to ops.ts)`);
  const s = new GraphBuilder('reinfer');
  const x = node.inputs.map((v, i) => {
    if (!v) return null;
    const c = constantOf(v);
    return c ? s.constant(c) : s.input(`in${i}`, v.dtype, v.shape);
  });
  const ints = (i: number): number[] => {
    const v = node.inputs[i];
    const c = v ? constantOf(v) : undefined;
    if (!c) throw new Error(`input ${i} must be a constant (static shapes only): got "${v?.name ?? '(omitted)'}"`);
    return Array.from(c.data as ArrayLike<number | bigint>, (d) => Number(d));
  };
  return f({ s, x, node, ints, has: (i) => !!node.inputs[i] });
}
