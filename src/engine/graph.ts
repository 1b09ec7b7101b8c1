// GraphBuilder: the one mutable object of the engine. It hands out Values, records Nodes in insertion order (which is a
// topological order, since a node can only consume values that already exist) and freezes into an immutable Graph.
// Names are derived from counters and scopes only, so the same construction always yields the same graph.
import type { Attr, ConstTensor, DType, Node, Phase, Shape, Value } from './ir.ts';
import { numel, shapeToString } from './ir.ts';

/** What a graph input is for. The runtime binds `frozen` weights to GPU buffers and feeds `state` back each step. */
export type InputRole = 'data' | 'frozen' | 'trainable' | 'state';

interface GraphInput {
  readonly value: Value;
  readonly role: InputRole;
}

/** Small constants only (shapes, axes, scalars); large tensors must be graph inputs. */
interface Initializer {
  readonly value: Value;
  readonly tensor: ConstTensor;
}

interface GraphOutput {
  readonly value: Value;
}

interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

/** A frozen graph: inputs, small initializers, nodes in topological order, outputs. Value names are final. */
export interface Graph {
  readonly name: string;
  readonly opset: readonly OpsetImport[];
  readonly inputs: readonly GraphInput[];
  readonly initializers: readonly Initializer[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

/** Default-domain opset: 21 is the newest opset whose kernels ORT 1.30's WebGPU EP registers for every op we emit. */
const DEFAULT_OPSET = 21;
/** com.microsoft contrib ops are versioned 1. */
export const MS_DOMAIN = 'com.microsoft';
/** Largest constant build() accepts as an initializer; bigger data belongs in a graph input (never inline weights). */
export const MAX_CONSTANT_ELEMENTS = 1 << 16;

interface OutputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

export interface NodeSpec {
  readonly op: string;
  readonly domain?: string;
  readonly inputs: readonly (Value | null)[];
  readonly attrs?: Readonly<Record<string, Attr>>;
  readonly outputs: readonly OutputSpec[];
}

export interface BuildOptions {
  /** Drop nodes whose outputs do not reach a graph output (default true). Inputs are always kept. */
  readonly prune?: boolean;
  /**
   * Fuse each Add whose sum feeds a SimplifiedLayerNormalization (a residual then the next norm) into one
   * com.microsoft SkipSimplifiedLayerNormalization that makes both values (default true). Exact: the same sum and norm.
   */
  readonly fuse?: boolean;
}

type Origin =
  | { readonly kind: 'input'; readonly role: InputRole }
  | { readonly kind: 'constant'; readonly tensor: ConstTensor }
  | { readonly kind: 'node'; readonly node: Node; readonly index: number };

export class GraphBuilder {
  readonly name: string;
  private readonly values: Value[] = [];
  private readonly origins: Origin[] = [];
  private readonly nodeList: Node[] = [];
  private readonly inputList: Value[] = [];
  private readonly constantList: Value[] = [];
  private readonly constantKeys = new Map<string, Value>();
  private readonly outputList: { value: Value; name: string }[] = [];
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private currentPhase: Phase = 'forward';

  constructor(name = 'tabtune') {
    this.name = name;
  }

  /** Declares a graph input. `role` tells autodiff and the runtime what it is (default 'data'). */
  input(name: string, dtype: DType, shape: Shape, role: InputRole = 'data'): Value {
    if (name.startsWith('/')) throw new Error(`input name "${name}" must not start with "/": that prefix is reserved for generated names`);
    checkShape(shape, `input "${name}"`);
    const v = this.newValue(name, dtype, shape, { kind: 'input', role });
    this.inputList.push(v);
    return v;
  }

  /**
   * A small constant: a number (scalar), a number array (1-D) or a ConstTensor. Identical constants are shared.
   * `dtype` applies to numbers and arrays (default float32); use 'int64' for shapes and axes.
   */
  constant(x: ConstTensor | number | readonly number[], dtype: DType = 'float32'): Value {
    const tensor = typeof x === 'number' ? makeTensor(dtype, [], [x]) : isConstTensor(x) ? x : makeTensor(dtype, [x.length], x);
    if (tensor.data.length !== numel(tensor.shape)) {
      throw new Error(`constant of shape ${shapeToString(tensor.shape)} has ${tensor.data.length} elements; expected ${numel(tensor.shape)}`);
    }
    if (numel(tensor.shape) > MAX_CONSTANT_ELEMENTS) {
      throw new Error(`constant with ${numel(tensor.shape)} elements is too large to inline; declare it with input(..., 'frozen') instead`);
    }
    const key = constantKey(tensor);
    const found = this.constantKeys.get(key);
    if (found) return found;
    const v = this.newValue(`/Constant_${this.constantList.length}`, tensor.dtype, tensor.shape, { kind: 'constant', tensor });
    this.constantList.push(v);
    this.constantKeys.set(key, v);
    return v;
  }

  /** Adds one node. Op constructors (ops.ts) call this after inferring output shapes; it returns the new outputs. */
  node(spec: NodeSpec): Value[] {
    for (const [i, v] of spec.inputs.entries()) {
      if (v !== null && this.values[v.id] !== v) {
        throw new Error(`${spec.op}: input ${i} ("${v.name}") does not belong to graph "${this.name}"`);
      }
    }
    const domain = spec.domain ?? '';
    const name = this.uniqueName(`${this.scopePrefix()}${spec.op}_${this.nodeList.length}`);
    const outputs: Value[] = [];
    const node: Node = { id: this.nodeList.length, op: spec.op, domain, name, inputs: [...spec.inputs], outputs, attrs: { ...spec.attrs }, phase: this.currentPhase };
    spec.outputs.forEach((o, index) => {
      checkShape(o.shape, `${name} output ${index}`);
      outputs.push(this.newValue(`${name}_output_${index}`, o.dtype, o.shape, { kind: 'node', node, index }));
    });
    Object.freeze(outputs);
    this.nodeList.push(node);
    return outputs;
  }

  /** Marks `value` as a graph output, named `name` (default: its current name). Returns the output value. */
  output(value: Value, name?: string): Value {
    this.owned(value, 'output');
    const outName = name ?? value.name;
    if (this.outputList.some((o) => o.name === outName)) throw new Error(`duplicate graph output "${outName}"`);
    const origin = this.originOf(value);
    const taken = this.outputList.some((o) => o.value === value);
    // A node output can simply be renamed; inputs, constants and values already exported need an Identity copy.
    if (origin.kind === 'node' && !taken) {
      if (outName !== value.name) this.claimName(outName);
      this.outputList.push({ value, name: outName });
      return value;
    }
    if (outName === value.name) throw new Error(`"${outName}" is already a graph input, constant or output; pass a new name to output()`);
    const [copy] = this.node({ op: 'Identity', inputs: [value], outputs: [{ dtype: value.dtype, shape: value.shape }] });
    this.claimName(outName);
    this.outputList.push({ value: copy!, name: outName });
    return copy!;
  }

  /** Runs `fn` with `prefix` added to generated node names (`/layers.0/attn/MatMul_12`), for readable graphs. */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Runs `fn` with every node it adds tagged `phase` (autodiff: 'backward'; step assembly: 'optimizer'). Nests. */
  phase<T>(phase: Phase, fn: () => T): T {
    const outer = this.currentPhase;
    this.currentPhase = phase;
    try {
      return fn();
    } finally {
      this.currentPhase = outer;
    }
  }

  /** The node that computes `value`, or undefined for inputs and constants. */
  producer(value: Value): Node | undefined {
    const o = this.originOf(value);
    return o.kind === 'node' ? o.node : undefined;
  }

  /** The data of a constant value, or undefined when the value is not a constant. */
  constantData(value: Value): ConstTensor | undefined {
    const o = this.originOf(value);
    return o.kind === 'constant' ? o.tensor : undefined;
  }

  /** The role of a graph input, or undefined when the value is not an input. */
  inputRole(value: Value): InputRole | undefined {
    const o = this.originOf(value);
    return o.kind === 'input' ? o.role : undefined;
  }

  /** Nodes added so far, in insertion (topological) order. */
  get nodes(): readonly Node[] {
    return this.nodeList;
  }

  get inputs(): readonly Value[] {
    return this.inputList;
  }

  /** Freezes the graph. Output renames are applied to the returned graph's values; the builder stays usable. */
  build(options: BuildOptions = {}): Graph {
    if (this.outputList.length === 0) throw new Error(`graph "${this.name}" has no outputs; call output() before build()`);
    const live = options.prune === false ? null : this.liveNodes();
    const rename = new Map<number, string>();
    for (const o of this.outputList) if (o.name !== o.value.name) rename.set(o.value.id, o.name);
    const remapped = new Map<number, Value>();
    const map = (v: Value): Value => {
      const newName = rename.get(v.id);
      if (newName === undefined) return v;
      let r = remapped.get(v.id);
      if (!r) {
        r = Object.freeze({ id: v.id, name: newName, dtype: v.dtype, shape: v.shape });
        remapped.set(v.id, r);
      }
      return r;
    };
    const kept = this.nodeList.filter((n) => live === null || live.has(n.id));
    const nodes = (options.fuse === false ? kept : fuseSkipNorms(kept, this.values.length))
      .map((n) => Object.freeze({ ...n, inputs: Object.freeze(n.inputs.map((v) => (v ? map(v) : null))), outputs: Object.freeze(n.outputs.map(map)) }));
    const usedConstants = new Set<number>();
    for (const n of nodes) for (const v of n.inputs) if (v) usedConstants.add(v.id);
    for (const o of this.outputList) usedConstants.add(o.value.id);
    const opset: OpsetImport[] = [{ domain: '', version: DEFAULT_OPSET }];
    if (nodes.some((n) => n.domain === MS_DOMAIN)) opset.push({ domain: MS_DOMAIN, version: 1 });
    return Object.freeze({
      name: this.name,
      opset: Object.freeze(opset),
      inputs: Object.freeze(this.inputList.map((value) => Object.freeze({ value, role: (this.originOf(value) as { role: InputRole }).role }))),
      initializers: Object.freeze(
        this.constantList.filter((v) => usedConstants.has(v.id)).map((value) => Object.freeze({ value, tensor: this.constantData(value)! })),
      ),
      nodes: Object.freeze(nodes),
      outputs: Object.freeze(this.outputList.map((o) => Object.freeze({ value: map(o.value) }))),
    });
  }

  private liveNodes(): Set<number> {
    const live = new Set<number>();
    const needed = new Set<number>(this.outputList.map((o) => o.value.id));
    for (let i = this.nodeList.length - 1; i >= 0; i--) {
      const n = this.nodeList[i]!;
      if (!n.outputs.some((v) => needed.has(v.id))) continue;
      live.add(n.id);
      for (const v of n.inputs) if (v) needed.add(v.id);
    }
    return live;
  }

  private newValue(name: string, dtype: DType, shape: Shape, origin: Origin): Value {
    this.claimName(name);
    const v: Value = Object.freeze({ id: this.values.length, name, dtype, shape: Object.freeze([...shape]) });
    this.values.push(v);
    this.origins.push(origin);
    return v;
  }

  private claimName(name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate value name "${name}" in graph "${this.name}"`);
    this.names.add(name);
  }

  private uniqueName(base: string): string {
    return this.names.has(base) ? this.uniqueName(`${base}_`) : base;
  }

  private scopePrefix(): string {
    return this.scopes.length === 0 ? '/' : `/${this.scopes.join('/')}/`;
  }

  private owned(value: Value, what: string): void {
    if (this.values[value.id] !== value) throw new Error(`${what}: value "${value.name}" does not belong to graph "${this.name}"`);
  }

  private originOf(value: Value): Origin {
    this.owned(value, 'lookup');
    return this.origins[value.id]!;
  }
}

/**
 * Add + SimplifiedLayerNormalization of its sum → one SkipSimplifiedLayerNormalization at the Add's place, whose
 * outputs 0 and 3 are the norm's and the Add's own values (so every consumer, forward or backward, is unchanged).
 * Only 2-D/3-D same-shape float32 sums normalised over the last axis, with a scale defined before the Add. `nextId`:
 * first free value id (for the two statistics outputs, which nothing reads).
 */
function fuseSkipNorms(nodes: readonly Node[], nextId: number): Node[] {
  const index = new Map<number, number>(); // value id → index of its producer in `nodes`
  nodes.forEach((n, i) => n.outputs.forEach((v) => index.set(v.id, i)));
  const replace = new Map<number, Node>(); // Add node index → fused node
  const drop = new Set<number>(); // SimplifiedLayerNormalization node indices
  let id = nextId;
  nodes.forEach((n, i) => {
    if (n.op !== 'SimplifiedLayerNormalization' || n.domain !== '' || n.outputs.length !== 1) return;
    const [x, scale] = n.inputs;
    if (!x || !scale || x.dtype !== 'float32' || (x.shape.length !== 2 && x.shape.length !== 3)) return;
    const axis = n.attrs['axis']?.kind === 'int' ? (n.attrs['axis'].value as number) : -1;
    if (axis !== -1 && axis !== x.shape.length - 1) return;
    const ai = index.get(x.id);
    if (ai === undefined || replace.has(ai)) return;
    const add = nodes[ai]!;
    const [a, b] = add.inputs;
    if (add.op !== 'Add' || add.domain !== '' || !a || !b || a.shape.join() !== x.shape.join() || b.shape.join() !== x.shape.join()) return;
    if ((index.get(scale.id) ?? -1) > ai || scale.shape.length !== 1) return;
    const stat = Object.freeze([...x.shape.slice(0, -1), 1]);
    const name = n.name.replace(/SimplifiedLayerNormalization_(\d+)$/, 'SkipSimplifiedLayerNormalization_$1');
    const statValue = (what: string): Value => Object.freeze({ id: id++, name: `${name}_${what}`, dtype: x.dtype, shape: stat });
    const epsilon = n.attrs['epsilon'] ?? { kind: 'float', value: 1e-5 };
    replace.set(ai, {
      id: n.id,
      op: 'SkipSimplifiedLayerNormalization',
      domain: MS_DOMAIN,
      name,
      inputs: [a, b, scale],
      outputs: [n.outputs[0]!, statValue('mean'), statValue('inv_std_var'), x],
      attrs: { epsilon },
      phase: add.phase,
    });
    drop.add(i);
  });
  return nodes.flatMap((n, i) => (drop.has(i) ? [] : [replace.get(i) ?? n]));
}

function checkShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${where}: shape ${shapeToString(shape)} must hold non-negative integers (static shapes only)`);
  }
}

function isConstTensor(x: ConstTensor | readonly number[]): x is ConstTensor {
  return !Array.isArray(x) && typeof x === 'object' && 'data' in x;
}

/** Builds a ConstTensor from plain numbers, checking that integer types get integers. */
export function makeTensor(dtype: DType, shape: Shape, values: readonly number[]): ConstTensor {
  const ints = dtype === 'int32' || dtype === 'int64' || dtype === 'uint8' || dtype === 'bool';
  if (ints && values.some((x) => !Number.isInteger(x))) throw new Error(`${dtype} constant given non-integer values ${values.join(', ')}`);
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from(values) };
    case 'float64':
      return { dtype, shape, data: Float64Array.from(values) };
    case 'int32':
      return { dtype, shape, data: Int32Array.from(values) };
    case 'int64':
      return { dtype, shape, data: BigInt64Array.from(values, (x) => BigInt(x)) };
    case 'bool':
    case 'uint8':
      return { dtype, shape, data: Uint8Array.from(values) };
    case 'float16':
      throw new Error('float16 constants are not supported: build them in float32 and Cast');
  }
}

function constantKey(t: ConstTensor): string {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `${t.dtype}|${t.shape.join(',')}|${hex}`;
}
