// Lowering of the composite ops (ops/composite.ts) into standard ONNX nodes, which GraphBuilder.build() runs before
// pruning: StopGradient disappears (its consumers read its input), LoraLinear becomes two Gemms. Value ids and names
// stay those of the composite's outputs, so every consumer, forward or backward, is unchanged.
import type { Attr, Node, Value } from './ir.ts';

/** Domain of the composite ops; build() lowers every node of it, so no serialised graph contains it. */
export const TABTUNE_DOMAIN = 'ai.tabtune';

const int = (value: number): Attr => ({ kind: 'int', value });
const float = (value: number): Attr => ({ kind: 'float', value });

/**
 * `nodes` with the composites lowered. `outputs`: ids of the graph's outputs (a StopGradient whose value is one becomes
 * an Identity, since an alias cannot carry the output's name). `nextId`: the first free node id.
 */
export function lowerComposites(nodes: readonly Node[], outputs: ReadonlySet<number>, nextId: number): Node[] {
  if (!nodes.some((n) => n.domain === TABTUNE_DOMAIN)) return [...nodes];
  const alias = new Map<number, Value>();
  const resolve = (v: Value | null): Value | null => (v ? (alias.get(v.id) ?? v) : null);
  let id = nextId;
  const out: Node[] = [];
  for (const n0 of nodes) {
    const n: Node = n0.inputs.some((v) => v && alias.has(v.id)) ? { ...n0, inputs: n0.inputs.map(resolve) } : n0;
    if (n.domain !== TABTUNE_DOMAIN) {
      out.push(n);
      continue;
    }
    if (n.op === 'StopGradient') {
      const [x] = n.inputs;
      const [y] = n.outputs;
      if (!x || !y) throw new Error(`${n.name}: StopGradient needs one input and one output`);
      if (outputs.has(y.id)) out.push({ ...n, op: 'Identity', domain: '', attrs: {} });
      else alias.set(y.id, x);
      continue;
    }
    if (n.op === 'LoraLinear') {
      out.push(...lowerLoraLinear(n, id));
      id += 1;
      continue;
    }
    throw new Error(`${n.name}: no lowering for composite op ${n.domain}.${n.op}`);
  }
  return out;
}

/** w' = w + scale · B A (Conv1D: w + scale · Aᵀ Bᵀ) and y = x w'ᵀ + bias (Conv1D: x w' + bias). */
function lowerLoraLinear(n: Node, mergeId: number): Node[] {
  const [x, w, a, b, , bias] = n.inputs;
  const [y, merged] = n.outputs;
  if (!x || !w || !a || !b || !y || !merged) throw new Error(`${n.name}: LoraLinear needs x, w, a, b, down and two outputs`);
  const scale = n.attrs['scale']?.kind === 'float' ? (n.attrs['scale'].value as number) : 1;
  const conv1d = n.attrs['conv1d']?.kind === 'int' && n.attrs['conv1d'].value === 1;
  const merge: Node = {
    id: mergeId,
    op: 'Gemm',
    domain: '',
    name: `${n.name}/merge`,
    inputs: conv1d ? [a, b, w] : [b, a, w],
    outputs: [merged],
    attrs: { alpha: float(scale), beta: float(1), transA: int(conv1d ? 1 : 0), transB: int(conv1d ? 1 : 0) },
    phase: n.phase,
  };
  const product: Node = {
    id: n.id,
    op: 'Gemm',
    domain: '',
    name: `${n.name}/linear`,
    inputs: bias ? [x, merged, bias] : [x, merged],
    outputs: [y],
    attrs: { alpha: float(1), beta: float(1), transA: int(0), transB: int(conv1d ? 0 : 1) },
    phase: n.phase,
  };
  return [merge, product];
}
