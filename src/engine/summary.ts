// What a built graph costs, for people: nodes by op type, by phase (forward / backward / optimizer, as tagged by
// GraphBuilder.phase) and by layer (from the scopes in node names; autodiff names a node's gradient inside the forward
// node's scope), and the largest tensors it holds or makes. The batch inspector shows it; the benches count nodes
// through it, so the two agree by construction. Pure: reads a Graph, runs nothing.
import type { DType, Phase, Value } from './ir.ts';
import { numel } from './ir.ts';
import type { Graph, InputRole } from './graph.ts';
import { MS_DOMAIN } from './graph.ts';

const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, float16: 2, int32: 4, int64: 8, bool: 1, uint8: 1 };

type PhaseCounts = Record<Phase, number>;

interface LayerCount extends PhaseCounts {
  /** `layers.3` / `h.3` for a transformer block, `prelude` (masks, rotary tables), `top` for nodes outside any scope
   * (embedding, final norm, LM head, loss), or another scope name. */
  readonly layer: string;
  readonly total: number;
}

interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: number;
  /** A graph input (with its role), a small constant, or a value a node makes (with its op and phase). */
  readonly kind: 'input' | 'constant' | 'node';
  readonly role?: InputRole;
  readonly op?: string;
  readonly phase?: Phase;
}

export interface GraphSummary {
  readonly graph: string;
  /** Every node of the graph: what the runtime dispatches per run (the benches report this number). */
  readonly nodes: number;
  /** Nodes from the com.microsoft domain (fused contrib ops such as SimplifiedLayerNormalization). */
  readonly fusedNodes: number;
  /** Node count per op type, most frequent first (ties by name). */
  readonly byOp: readonly { readonly op: string; readonly count: number }[];
  readonly byPhase: PhaseCounts;
  /** Per layer in model order: prelude, the blocks by index, then the rest by name. */
  readonly byLayer: readonly LayerCount[];
  /** Bytes of the graph inputs per role (frozen weights, trainable tensors, optimizer state, batch data). */
  readonly inputBytes: Readonly<Record<InputRole, number>>;
  /** Sum of every node output's bytes: an upper bound on the activations a run materialises. */
  readonly intermediateBytes: number;
  /** The `top` largest values (inputs and node outputs), largest first (ties by name). */
  readonly largest: readonly TensorInfo[];
}

const tensorBytes = (v: Pick<Value, 'dtype' | 'shape'>): number => numel(v.shape) * DTYPE_BYTES[v.dtype];

const zero = (): PhaseCounts => ({ forward: 0, backward: 0, optimizer: 0 });

/** The layer a node is charged to: its first scope, leaving out the `grad` and `optim` wrappers. */
export function layerOf(nodeName: string): string {
  const scopes = nodeName.split('/').filter((p) => p !== '').slice(0, -1).filter((p) => p !== 'grad' && p !== 'optim');
  return scopes[0] ?? 'top';
}

const BLOCK = /^(?:layers|h)\.(\d+)$/;

function layerOrder(a: string, b: string): number {
  const rank = (s: string) => (s === 'prelude' ? 0 : BLOCK.test(s) ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return Number(BLOCK.exec(a)![1]) - Number(BLOCK.exec(b)![1]);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function summarizeGraph(graph: Graph, opts: { readonly top?: number } = {}): GraphSummary {
  const top = opts.top ?? 10;
  const ops = new Map<string, number>();
  const byPhase = zero();
  const layers = new Map<string, PhaseCounts>();
  const tensors: TensorInfo[] = [];
  let intermediateBytes = 0;
  let fusedNodes = 0;
  for (const n of graph.nodes) {
    const op = n.domain === '' ? n.op : `${n.domain}.${n.op}`;
    ops.set(op, (ops.get(op) ?? 0) + 1);
    if (n.domain === MS_DOMAIN) fusedNodes += 1;
    byPhase[n.phase] += 1;
    const layer = layerOf(n.name);
    const counts = layers.get(layer) ?? zero();
    counts[n.phase] += 1;
    layers.set(layer, counts);
    for (const v of n.outputs) {
      const bytes = tensorBytes(v);
      intermediateBytes += bytes;
      tensors.push({ name: v.name, dtype: v.dtype, shape: v.shape, bytes, kind: 'node', op, phase: n.phase });
    }
  }
  const inputBytes: Record<InputRole, number> = { data: 0, frozen: 0, trainable: 0, state: 0 };
  for (const i of graph.inputs) {
    const bytes = tensorBytes(i.value);
    inputBytes[i.role] += bytes;
    tensors.push({ name: i.value.name, dtype: i.value.dtype, shape: i.value.shape, bytes, kind: 'input', role: i.role });
  }
  for (const c of graph.initializers) tensors.push({ name: c.value.name, dtype: c.value.dtype, shape: c.value.shape, bytes: tensorBytes(c.value), kind: 'constant' });
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    graph: graph.name,
    nodes: graph.nodes.length,
    fusedNodes,
    byOp: [...ops].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || (a.op < b.op ? -1 : 1)),
    byPhase,
    byLayer: [...layers]
      .sort(([a], [b]) => layerOrder(a, b))
      .map(([layer, c]) => ({ layer, ...c, total: c.forward + c.backward + c.optimizer })),
    inputBytes,
    intermediateBytes,
    largest: tensors.sort((a, b) => b.bytes - a.bytes || byName(a, b)).slice(0, top),
  };
}
