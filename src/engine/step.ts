// Train-step assembly: forward → masked causal-LM loss → reverse-mode gradients → token-count normalisation → global
// norm clipping → AdamW, as one graph; plus the gradient-accumulation graph for earlier micro-batches of a window and
// the eval graph. Graphs are pure data; src/runtime runs them. Names of state inputs/outputs are fixed (STEP_IO) so the
// runtime can feed each `X.next` output back as next step's `X` input. The optimizer works on flat per-group vectors.
import type { DType, Shape, Value } from './ir.ts';
import { numel } from './ir.ts';
import type { Graph, InputRole } from './graph.ts';
import { GraphBuilder } from './graph.ts';
import { grad } from './autodiff.ts';
import { causalLmLoss, chunkedHeadLoss, trainedRowsLoss } from './loss.ts';
import { Add, Concat, Div, Gemm, Max, Mul, Reshape, Split, Tanh } from './ops.ts';
import type { AdamWConfig, ResolvedAdamW } from './optim.ts';
import { adamwScalarInputs, adamwUpdate, clipFactor, globalNorm, normaliseByCount, resolveAdamW } from './optim.ts';

/**
 * The forward pass stopped before the LM head, for vocabularies whose [B·T, V] logits are too large to keep: the loss
 * and the gradient into `hidden` are then computed chunk by chunk (chunkedHeadLoss). The head must be frozen.
 */
interface ChunkedHead {
  /** Final-normed hidden states [B·T, H]. */
  readonly hidden: Value;
  /** LM head weight [V, H]. */
  readonly head: Value;
  readonly softcap: number | null;
  readonly batch: number;
  readonly seqLen: number;
  readonly chunkRows: number;
}

/**
 * The forward pass stopped before the LM head, for batches in which few positions are trained: train and accumulate
 * graphs compute the head and loss on `rows` trained positions only (trainedRowsLoss; data inputs label_rows and
 * label_targets, from trainedRows), the eval graph on every position (it reports per-token NLL). The head must be frozen.
 */
interface TrainedRowsHead {
  readonly hidden: Value;
  readonly head: Value;
  readonly softcap: number | null;
  readonly batch: number;
  readonly seqLen: number;
  /** K: the most target tokens a batch of this run can hold. */
  readonly trainedRows: number;
}

/**
 * Builds the model's forward pass into `g` and returns logits [B, T, V] float32, a ChunkedHead or a TrainedRowsHead. It declares its own
 * inputs: batch tensors with role 'data', frozen weights 'frozen', trainable tensors 'trainable'. It must build the
 * same graph every time it is called (it is called once per graph).
 */
export type ForwardFn = (g: GraphBuilder) => Value | ChunkedHead | TrainedRowsHead;

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** Where one trainable tensor sits inside its group's flat vector. */
interface ParamSlot extends TensorSpec {
  readonly offset: number;
  readonly size: number;
}

/**
 * Trainable tensors updated together as one flat float32 vector: gradient accumulators and AdamW moments are stored
 * flat per group, so the optimizer is ~20 nodes per group instead of ~20 per tensor (LoRA on 7 linears × N layers is
 * hundreds of tensors, and every node costs host time per run). `decay` holds tensors with weight decay.
 */
interface OptimGroup {
  readonly id: 'decay' | 'no_decay';
  readonly size: number;
  readonly params: readonly ParamSlot[];
}

export interface StepConfig {
  readonly adamw?: AdamWConfig;
  /** Trainable tensors exempt from weight decay. Default: HF Trainer's rule (biases and norm weights). */
  readonly noDecay?: (name: string) => boolean;
  /**
   * Every parameter output made by a compute kernel (for WebGPU graph capture). ORT 1.30's capture replays dispatches
   * only: a Reshape that makes a graph output fills it with a buffer copy that runs once, at capture, so replays return
   * the capture-time value. With this set, each unflattened parameter that such a copy would make (COPYING_OPS)
   * passes through Max(p, p) (exact: the same value) so that its output is written by a dispatch on every replay; the
   * Split outputs that most parameters are need nothing.
   */
  readonly computedOutputs?: boolean;
}

/** Ops whose WebGPU kernels write their output with a buffer copy, which ORT 1.30's graph capture never replays. */
export const COPYING_OPS: ReadonlySet<string> = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity', 'ScatterElements']);

/** Fixed names of the step graphs' non-model inputs and outputs (the AdamW scalars are ADAMW_INPUTS). */
export const STEP_IO = {
  labels: 'labels',
  /** Flat AdamW moments of a group, float32 [group.size]. */
  m: (group: string) => `optim.m.${group}`,
  v: (group: string) => `optim.v.${group}`,
  /** Flat gradient-sum accumulator of a group, float32 [group.size]. */
  gradAcc: (group: string) => `accum.grad.${group}`,
  nllAcc: 'accum.nll_sum',
  countAcc: 'accum.target_count',
  /** Output that replaces input `name` at the next run. */
  next: (name: string) => `${name}.next`,
  /** train graph: float32 [3] = [Σ NLL of the window, target tokens of the window, global grad norm before clipping]. */
  metrics: 'metrics',
  /** eval graph: float32 [2] = [Σ NLL, target tokens]. */
  evalMetrics: 'eval_metrics',
  /** eval graph: float32 [B, T], the NLL of predicting token t+1 at position t (0 where no target). */
  tokenNll: 'token_nll',
  /** Train and accumulate graphs with a TrainedRowsHead: int32 [K] flat positions b·T + t, and their targets. */
  labelRows: 'label_rows',
  labelTargets: 'label_targets',
} as const;

export interface StepGraphs {
  /** The optimizer step: last micro-batch of a window + normalise + clip + AdamW. */
  readonly train: Graph;
  /** Earlier micro-batches of a window: adds NLL-sum gradients, NLL and target count to the accumulators. */
  readonly accumulate: Graph;
  /** Forward + loss only. */
  readonly eval: Graph;
  readonly data: readonly TensorSpec[];
  readonly frozen: readonly TensorSpec[];
  /** Trainable tensors in forward declaration order. */
  readonly trainable: readonly TensorSpec[];
  readonly groups: readonly OptimGroup[];
  /** The resolved optimizer settings baked into `train` (the runtime needs betas for adamwHostScalars). */
  readonly adamw: ResolvedAdamW;
}

/** HF Trainer's decay rule (`get_decay_parameter_names`): no weight decay on biases and normalisation weights. */
export function defaultNoDecay(name: string): boolean {
  return /(^|\.)bias$|norm/i.test(name);
}

interface Built {
  readonly g: GraphBuilder;
  /** The graph's data inputs: the batch tensors the forward declared, then the loss's (labels, or trained rows). */
  readonly data: readonly Value[];
  readonly frozen: readonly Value[];
  readonly trainable: readonly Value[];
  readonly nllSum: Value;
  readonly targetCount: Value;
  /** Null in train/accumulate graphs with a TrainedRowsHead (the eval graph always has it). */
  readonly tokenNll: Value | null;
  /**
   * Where autodiff starts: with a ChunkedHead, `hidden` seeded with d nllSum / d hidden; otherwise the logits seeded
   * with causalLmLoss's fused d nllSum / d logits (so the loss itself is never differentiated node by node).
   */
  readonly seeded: { readonly hidden: Value; readonly dHidden: Value } | null;
}

function buildForward(name: string, forward: ForwardFn, gradient: boolean): Built {
  const g = new GraphBuilder(name);
  const out = forward(g);
  const byRole: Record<InputRole, Value[]> = { data: [], frozen: [], trainable: [], state: [] };
  for (const v of g.inputs) byRole[g.inputRole(v)!].push(v);
  if (byRole.state.length > 0) throw new Error(`forward declared state inputs (${byRole.state.map((v) => v.name).join(', ')}); state belongs to the step graph`);
  if (byRole.trainable.length === 0) throw new Error('forward declared no trainable inputs: nothing to train (declare LoRA/full tensors with role "trainable")');
  for (const p of byRole.trainable) {
    if (p.dtype !== 'float32') throw new Error(`trainable input "${p.name}" is ${p.dtype}; trainable tensors must be float32`);
  }
  const dataInputs = (...added: Value[]): Pick<Built, 'g' | 'data' | 'frozen' | 'trainable'> => ({ g, data: [...byRole.data, ...added], frozen: byRole.frozen, trainable: byRole.trainable });
  if ('hidden' in out && g.inputRole(out.head) === 'trainable') {
    throw new Error('an LM head computed by chunks or on trained rows must be frozen: its gradient is not computed (train it with full logits)');
  }
  if ('trainedRows' in out) {
    if (gradient) {
      const rows = g.input(STEP_IO.labelRows, 'int32', [out.trainedRows], 'data');
      const targets = g.input(STEP_IO.labelTargets, 'int32', [out.trainedRows], 'data');
      const loss = trainedRowsLoss(g, out.hidden, out.head, rows, targets, { softcap: out.softcap, gradient });
      return { ...dataInputs(rows, targets), nllSum: loss.nllSum, targetCount: loss.targetCount, tokenNll: null, seeded: loss.dHidden ? { hidden: out.hidden, dHidden: loss.dHidden } : null };
    }
    // eval: the head on every position, for the per-token NLL that evaluation and the inspector report.
    const z = Reshape(g, Gemm(g, out.hidden, out.head, null, { transB: true }), [out.batch, out.seqLen, out.head.shape[0]!]);
    return logitsLoss(g, out.softcap === null ? z : Mul(g, Tanh(g, Div(g, z, out.softcap)), out.softcap), gradient, dataInputs);
  }
  if ('hidden' in out) {
    const labels = g.input(STEP_IO.labels, 'int32', [out.batch, out.seqLen], 'data');
    const loss = chunkedHeadLoss(g, out.hidden, out.head, labels, { chunkRows: out.chunkRows, softcap: out.softcap, gradient });
    return { ...dataInputs(labels), ...loss, seeded: loss.dHidden ? { hidden: out.hidden, dHidden: loss.dHidden } : null };
  }
  if (out.dtype !== 'float32' || out.shape.length !== 3) {
    throw new Error(`forward must return float32 logits [batch, seq, vocab], got ${out.dtype} [${out.shape.join(', ')}]`);
  }
  return logitsLoss(g, out, gradient, dataInputs);
}

function logitsLoss(g: GraphBuilder, logits: Value, gradient: boolean, dataInputs: (...added: Value[]) => Pick<Built, 'g' | 'data' | 'frozen' | 'trainable'>): Built {
  const labels = g.input(STEP_IO.labels, 'int32', [logits.shape[0]!, logits.shape[1]!], 'data');
  const loss = causalLmLoss(g, logits, labels, { gradient });
  return { ...dataInputs(labels), ...loss, seeded: loss.dLogits ? { hidden: logits, dHidden: loss.dLogits } : null };
}

/** d nllSum / d params: through autodiff from the loss, or from `hidden` seeded with the chunked head's gradient. */
function nllGrads(b: Built, params: readonly Value[]): Value[] {
  return b.seeded ? grad(b.g, b.seeded.hidden, params, b.seeded.dHidden) : grad(b.g, b.nllSum, params);
}

const spec = (v: Value): TensorSpec => ({ name: v.name, dtype: v.dtype, shape: v.shape });

/** Columns of a tensor's row view: the last dim (a scalar counts as one column). */
const colsOf = (shape: Shape): number => shape[shape.length - 1] ?? 1;

/**
 * Tensors that share their last dim sit next to each other (in declaration order within each run of equal widths,
 * runs in order of first appearance): a run is then one axis-0 Concat of the tensors' row views, and its flat layout
 * is exactly that of the flat vector, with no per-tensor Reshape (LoRA A [r, in] and B [out, r] of every layer fall
 * into three runs). The runtime reads slots by name and offset, so the order is free.
 */
function byColumns<T extends { readonly shape: Shape }>(members: readonly T[]): T[] {
  const runs = new Map<number, T[]>();
  for (const m of members) {
    const c = colsOf(m.shape);
    const run = runs.get(c);
    if (run) run.push(m);
    else runs.set(c, [m]);
  }
  return [...runs.values()].flat();
}

function makeGroups(params: readonly Value[], noDecay: (name: string) => boolean): OptimGroup[] {
  const groups: OptimGroup[] = [];
  for (const id of ['decay', 'no_decay'] as const) {
    const members = byColumns(params.filter((p) => noDecay(p.name) === (id === 'no_decay')));
    let offset = 0;
    const slots = members.map((p) => {
      const size = numel(p.shape);
      const slot = { ...spec(p), offset, size };
      offset += size;
      return slot;
    });
    if (slots.length > 0) groups.push({ id, size: offset, params: slots });
  }
  return groups;
}

/**
 * Widest Concat/Split emitted here. The WebGPU EP binds each Concat input / Split output as a storage buffer, adapters
 * may allow only 8 per shader stage, and ORT 1.30 fails a 56-way Split with "Too many storage buffers in shader"
 * (SwiftShader's limit is 12): wide ones are built as trees instead.
 */
export const MAX_FAN = 6;

function concatTree(g: GraphBuilder, parts: readonly Value[]): Value {
  let level = [...parts];
  while (level.length > MAX_FAN) {
    const next: Value[] = [];
    for (let i = 0; i < level.length; i += MAX_FAN) {
      const chunk = level.slice(i, i + MAX_FAN);
      next.push(chunk.length === 1 ? chunk[0]! : Concat(g, chunk, 0));
    }
    level = next;
  }
  return level.length === 1 ? level[0]! : Concat(g, level, 0);
}

function splitTree(g: GraphBuilder, x: Value, sizes: readonly number[]): Value[] {
  if (sizes.length === 1) return [x];
  if (sizes.length <= MAX_FAN) return Split(g, x, sizes, 0);
  const per = Math.ceil(sizes.length / MAX_FAN);
  const chunks: number[][] = [];
  for (let i = 0; i < sizes.length; i += per) chunks.push(sizes.slice(i, i + per));
  const parts = Split(g, x, chunks.map((c) => c.reduce((a, b) => a + b, 0)), 0);
  return chunks.flatMap((c, i) => splitTree(g, parts[i]!, c));
}

/** Consecutive slots of a group with the same column count: one [rows, cols] block of the flat vector. */
interface Run {
  readonly cols: number;
  readonly slots: readonly ParamSlot[];
}

function runsOf(group: OptimGroup): Run[] {
  const runs: { cols: number; slots: ParamSlot[] }[] = [];
  for (const s of group.params) {
    const cols = colsOf(s.shape);
    const last = runs[runs.length - 1];
    if (last && last.cols === cols) last.slots.push(s);
    else runs.push({ cols, slots: [s] });
  }
  return runs;
}

const rowsOf = (s: ParamSlot, cols: number): number => s.size / cols;

/** A tensor as its [rows, cols] row view (no node for a 2-D tensor). */
function rowView(g: GraphBuilder, v: Value, cols: number): Value {
  return v.shape.length === 2 ? v : Reshape(g, v, [numel(v.shape) / cols, cols]);
}

/**
 * The tensors of one group as a flat [size] vector: per run of equal widths, an axis-0 Concat of the row views, one
 * Reshape to 1-D, then a Concat of the runs.
 */
function flatten(g: GraphBuilder, group: OptimGroup, byName: ReadonlyMap<string, Value>): Value {
  const runs = runsOf(group).map((run) => {
    const block = concatTree(g, run.slots.map((s) => rowView(g, byName.get(s.name)!, run.cols)));
    return Reshape(g, block, [numel(block.shape)]);
  });
  return concatTree(g, runs);
}

/** A flat [size] vector back into the group's tensors: Split into runs, each viewed [rows, cols] and Split by rows. */
function unflatten(g: GraphBuilder, group: OptimGroup, flat: Value): Value[] {
  const runs = runsOf(group);
  const blocks = splitTree(g, flat, runs.map((run) => run.slots.reduce((n, s) => n + s.size, 0)));
  return runs.flatMap((run, i) => {
    const rows = run.slots.map((s) => rowsOf(s, run.cols));
    const block = Reshape(g, blocks[i]!, [rows.reduce((a, b) => a + b, 0), run.cols]);
    return splitTree(g, block, rows).map((part, k) => {
      const s = run.slots[k]!;
      return s.shape.length === 2 ? part : Reshape(g, part, s.shape);
    });
  });
}

/** Builds the train, accumulate and eval graphs for one forward pass (fixed batch shape). Deterministic. */
export function buildStepGraphs(forward: ForwardFn, config: StepConfig = {}): StepGraphs {
  const adamw = resolveAdamW(config.adamw);
  const noDecay = config.noDecay ?? defaultNoDecay;

  // ---- eval: forward + loss
  const ev = buildForward('eval', forward, false);
  const evalMetrics = Concat(ev.g, [Reshape(ev.g, ev.nllSum, [1]), Reshape(ev.g, ev.targetCount, [1])], 0);
  ev.g.output(evalMetrics, STEP_IO.evalMetrics);
  if (!ev.tokenNll) throw new Error('the eval graph has no per-token NLL; this is a bug');
  ev.g.output(ev.tokenNll, STEP_IO.tokenNll);
  const groups = makeGroups(ev.trainable, noDecay);

  // ---- accumulate: gradients of the NLL *sum*, added to running sums (sft-conventions §3: normalise once per window)
  const ac = buildForward('accumulate', forward, true);
  const acGradList = nllGrads(ac, ac.trainable);
  const acByName = new Map(ac.trainable.map((p, i) => [p.name, acGradList[i]!] as const));
  // Accumulation is optimizer bookkeeping: tagged so, and named under /optim/ (summaries count it apart from backward).
  ac.g.phase('optimizer', () => ac.g.scope('optim', () => {
    for (const group of groups) {
      const acc = ac.g.input(STEP_IO.gradAcc(group.id), 'float32', [group.size], 'state');
      ac.g.output(Add(ac.g, acc, flatten(ac.g, group, acByName)), STEP_IO.next(acc.name));
    }
    const acNll = ac.g.input(STEP_IO.nllAcc, 'float32', [], 'state');
    const acCount = ac.g.input(STEP_IO.countAcc, 'float32', [], 'state');
    ac.g.output(Add(ac.g, acNll, ac.nllSum), STEP_IO.next(STEP_IO.nllAcc));
    ac.g.output(Add(ac.g, acCount, ac.targetCount), STEP_IO.next(STEP_IO.countAcc));
  }));

  // ---- train: the last micro-batch, then the optimizer update of the whole window
  const tr = buildForward('train-step', forward, true);
  const g = tr.g;
  const params = tr.trainable;
  const stepGrads = nllGrads(tr, params);
  const gradByName = new Map(params.map((p, i) => [p.name, stepGrads[i]!] as const));
  const paramByName = new Map(params.map((p) => [p.name, p] as const));
  g.phase('optimizer', () => g.scope('optim', () => {
    const sums = groups.map((group) => Add(g, g.input(STEP_IO.gradAcc(group.id), 'float32', [group.size], 'state'), flatten(g, group, gradByName)));
    const nll = Add(g, g.input(STEP_IO.nllAcc, 'float32', [], 'state'), tr.nllSum);
    const count = Add(g, g.input(STEP_IO.countAcc, 'float32', [], 'state'), tr.targetCount);
    const grads = normaliseByCount(g, sums, count);
    const norm = globalNorm(g, grads);
    const factor = adamw.maxGradNorm === null ? null : clipFactor(g, norm, adamw.maxGradNorm);
    const clipped = factor === null ? grads : grads.map((x) => Mul(g, x, factor));
    const scalars = adamwScalarInputs(g, adamw); // optim.lr, optim.step_size, optim.bc2_sqrt (adamwHostScalars)
    groups.forEach((group, i) => {
      const m = g.input(STEP_IO.m(group.id), 'float32', [group.size], 'state');
      const v = g.input(STEP_IO.v(group.id), 'float32', [group.size], 'state');
      const u = adamwUpdate(g, flatten(g, group, paramByName), clipped[i]!, m, v, scalars, adamw, group.id === 'decay');
      unflatten(g, group, u.param).forEach((p, k) => g.output(config.computedOutputs && COPYING_OPS.has(g.producer(p)?.op ?? '') ? Max(g, p, p) : p, STEP_IO.next(group.params[k]!.name)));
      g.output(u.m, STEP_IO.next(m.name));
      g.output(u.v, STEP_IO.next(v.name));
    });
    g.output(Concat(g, [Reshape(g, nll, [1]), Reshape(g, count, [1]), Reshape(g, norm, [1])], 0), STEP_IO.metrics);
  }));

  return {
    train: g.build(),
    accumulate: ac.g.build(),
    eval: ev.g.build(),
    // Every graph's data inputs (the eval graph takes labels where a trained-rows head gives the others label rows).
    data: [...new Map([...tr.data, ...ev.data].map((v) => [v.name, spec(v)] as const)).values()],
    frozen: tr.frozen.map(spec),
    trainable: params.map(spec),
    groups,
    adamw,
  };
}
