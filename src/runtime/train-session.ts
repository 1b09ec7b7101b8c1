// TrainSession: runs the engine's step graphs (engine/step.ts) on one backend with trainable parameters and AdamW
// moments resident on the device between steps. Each `X.next` output is fed back as the next run's `X` and the
// superseded tensor disposed; frozen weights are uploaded once (GPU buffers on WebGPU; on WASM initializers the
// sessions hold, read once from one packed buffer, so no run copies them into the heap again). One optimizer step =
// k micro-batch runs (k − 1 on the accumulate graph, the last on the train graph) and exactly one readback: the
// 3-float metrics tensor.
import type { StepGraphs, TensorSpec } from '../engine/step.ts';
import { COPYING_OPS, STEP_IO } from '../engine/step.ts';
import type { Graph } from '../engine/graph.ts';
import { serializeGraph } from '../engine/onnx.ts';
import { ADAMW_INPUTS, adamwHostScalars } from '../engine/optim.ts';
import type { Backend, HostTensor, OrtTensor, RuntimeSession, SessionConfig } from './backend.ts';
import { elementCount } from './backend.ts';
import { CaptureBuffers } from './capture.ts';
import { HeldWeights } from './held-weights.ts';

export interface StepMetrics {
  /** Σ token NLL over the window's micro-batches. */
  readonly nllSum: number;
  /** Target tokens in the window (after the label shift). */
  readonly targetTokens: number;
  /** nllSum / targetTokens: the loss HF Trainer logs for this step. */
  readonly loss: number;
  /** Global L2 norm of the normalised gradients, before clipping. */
  readonly gradNorm: number;
  /** The 1-based step number this update used (bias correction). */
  readonly step: number;
}

export interface EvalResult {
  readonly nllSum: number;
  readonly targetTokens: number;
  /** [B × T] per-position NLL (position t predicts token t + 1; 0 where no target). */
  readonly tokenNll: Float32Array;
}

/** Optimizer state in host memory, for checkpoints and resume. */
export interface TrainState {
  /** Optimizer steps already taken. */
  readonly step: number;
  readonly params: Readonly<Record<string, Float32Array>>;
  readonly m: Readonly<Record<string, Float32Array>>;
  readonly v: Readonly<Record<string, Float32Array>>;
}

export interface TrainSessionInit {
  readonly backend: Backend;
  readonly graphs: StepGraphs;
  /** Initial trainable values, by name (float32). */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** Frozen weights and any other constant model inputs, by name. */
  readonly frozen: Readonly<Record<string, HostTensor>>;
  /** Resume from a checkpoint: overrides `params` and restores moments and the step counter. */
  readonly state?: TrainState;
  /**
   * true: record the train and accumulate graphs and replay them (browser WebGPU only; cuts per-node host time).
   * ORT 1.30 replays compute dispatches only, never a kernel's buffer copy, so the graphs must be built with
   * buildStepGraphs(..., { computedOutputs: true }) (checked here); then 50 captured steps match uncaptured ones bit for
   * bit (test/runtime/browser.test.ts, which also reproduces the ORT fault). gradients() is not available on a captured
   * session. 'fixed-buffers': the binding scheme capture needs (every input a fixed device buffer, data written or
   * copied into it) without asking ORT to capture.
   */
  readonly graphCapture?: boolean | 'fixed-buffers';
  /**
   * Where frozen weights live on backends with `sessionWeights` (WASM, CPU): 'session' (default, up to
   * HELD_WEIGHTS_LIMIT_BYTES in all) makes them initializers the sessions read once; 'feeds' feeds them on every run
   * like WebGPU does (the old path, kept for benchmarks).
   */
  readonly frozenIn?: 'session' | 'feeds';
}

/** A micro-batch: host tensors for every data input of the graphs (input_ids, labels, ...). */
export type Batch = Readonly<Record<string, HostTensor>>;

function checkSpec(spec: TensorSpec, t: HostTensor, what: string): void {
  const shapeOk = t.dims.length === spec.shape.length && t.dims.every((d, i) => d === spec.shape[i]);
  if (t.dtype !== spec.dtype || !shapeOk || t.data.length !== elementCount(t.dims)) {
    throw new Error(
      `${what} "${spec.name}": expected ${spec.dtype} [${spec.shape.join(', ')}], got ${t.dtype} [${t.dims.join(', ')}] with ${t.data.length} elements`,
    );
  }
}

const f32 = (shape: readonly number[], data?: Float32Array): HostTensor => ({ dtype: 'float32', dims: shape, data: data ?? new Float32Array(elementCount(shape)) });

export class TrainSession {
  /** Optimizer steps taken so far. */
  stepCount: number;
  private disposed = false;

  private constructor(
    readonly backend: Backend,
    readonly graphs: StepGraphs,
    private readonly train: RuntimeSession,
    /** The accumulate and eval sessions, created on first use where they hold their own copy of the frozen weights. */
    private readonly accumulateSession: () => Promise<RuntimeSession>,
    private readonly evalSession: () => Promise<RuntimeSession>,
    /** Frozen weights (unless the sessions hold them) and the zero accumulators: uploaded once, never replaced. */
    private readonly fixed: Record<string, OrtTensor>,
    /** Parameters and moments: replaced after every optimizer step. */
    private state: Record<string, OrtTensor>,
    step: number,
    private readonly capture: CaptureBuffers | null,
    /** True when the sessions hold the frozen weights (they are initializers, not feeds). */
    private readonly held: boolean,
    private readonly created: () => RuntimeSession[],
  ) {
    this.stepCount = step;
  }

  static async create(init: TrainSessionInit): Promise<TrainSession> {
    const { backend, graphs } = init;
    const capture = init.graphCapture === true || init.graphCapture === 'fixed-buffers';
    const ortCapture = init.graphCapture === true;
    if (capture && (!backend.supportsGraphCapture || !backend.device)) {
      throw new Error(`graph capture is not available on ${backend.label}; it needs browser WebGPU (leave graphCapture off)`);
    }
    if (ortCapture) checkCapturable(graphs);
    const names = (graph: { outputs: readonly { value: { name: string } }[] }) => graph.outputs.map((o) => o.value.name);
    // State outputs stay on the device; only the metrics (train) and the eval outputs come back to the host. A captured
    // graph must have every output on the device, metrics included.
    const trainOuts = names(graphs.train).filter((n) => capture || n !== STEP_IO.metrics);
    for (const spec of graphs.frozen) {
      const t = init.frozen[spec.name];
      if (!t) throw new Error(`frozen input "${spec.name}" has no value; pass it in TrainSessionInit.frozen`);
      checkSpec(spec, t, 'frozen input');
    }
    // On WASM the frozen weights become initializers of each session, read once from one packed buffer; the sessions
    // other than train are then made on first use, so a run without accumulation or eval keeps one copy, not three.
    const held = capture ? null : HeldWeights.forBackend(backend, graphs.frozen, init.frozen, init.frozenIn === 'feeds');
    const make = (graph: Graph, config: SessionConfig) => (held ? held.createSession(backend, graph, config) : backend.createSession(serializeGraph(graph), config));
    const created: RuntimeSession[] = [];
    const once = (graph: Graph, config: SessionConfig): (() => Promise<RuntimeSession>) => {
      let session: Promise<RuntimeSession> | undefined;
      return () => (session ??= make(graph, config).then((s) => (created.push(s), s)));
    };
    const train = await make(graphs.train, { deviceOutputs: trainOuts, graphCapture: ortCapture });
    created.push(train);
    const accumulate = once(graphs.accumulate, { deviceOutputs: names(graphs.accumulate), graphCapture: ortCapture });
    const evaluator = once(graphs.eval, {});
    if (!held) {
      await accumulate();
      await evaluator();
    }

    const fixed: Record<string, OrtTensor> = {};
    if (!held) for (const spec of graphs.frozen) fixed[spec.name] = await backend.upload(init.frozen[spec.name]!);
    for (const group of graphs.groups) fixed[STEP_IO.gradAcc(group.id)] = await backend.upload(f32([group.size]));
    fixed[STEP_IO.nllAcc] = await backend.upload(f32([]));
    fixed[STEP_IO.countAcc] = await backend.upload(f32([]));

    const state: Record<string, OrtTensor> = {};
    const src = init.state;
    for (const spec of graphs.trainable) {
      const p = src ? src.params[spec.name] : init.params[spec.name];
      if (!p) throw new Error(`trainable input "${spec.name}" has no initial value`);
      const host = f32(spec.shape, p);
      checkSpec(spec, host, 'trainable input');
      state[spec.name] = await backend.upload(host);
    }
    for (const group of graphs.groups) {
      // Moments are stored flat per group; a checkpoint keeps them per tensor so it survives regrouping.
      const m = new Float32Array(group.size);
      const v = new Float32Array(group.size);
      for (const slot of group.params) {
        const ms = src?.m[slot.name];
        const vs = src?.v[slot.name];
        if (src && (!ms || !vs || ms.length !== slot.size || vs.length !== slot.size)) {
          throw new Error(`resume state has no AdamW moments of ${slot.size} values for "${slot.name}"`);
        }
        if (ms) m.set(ms, slot.offset);
        if (vs) v.set(vs, slot.offset);
      }
      state[STEP_IO.m(group.id)] = await backend.upload(f32([group.size], m));
      state[STEP_IO.v(group.id)] = await backend.upload(f32([group.size], v));
    }
    const buffers = capture ? new CaptureBuffers(backend.device!, (t) => backend.upload(t)) : null;
    return new TrainSession(backend, graphs, train, accumulate, evaluator, fixed, state, src?.step ?? 0, buffers, held !== null, () => created);
  }

  /**
   * One optimizer step over `microBatches` (gradient accumulation when more than one): the loss is normalised by the
   * target tokens of all of them together. `lr` comes from the host schedule. Reads back 12 bytes.
   */
  async step(microBatches: readonly Batch[], lr: number): Promise<StepMetrics> {
    this.alive();
    if (microBatches.length === 0) throw new Error('step: no micro-batches given');
    if (!Number.isFinite(lr)) throw new Error(`step: learning rate ${lr} is not a finite number`);
    const t = this.stepCount + 1;
    if (this.capture) return this.stepCaptured(this.capture, microBatches, lr, t);
    let acc: Record<string, OrtTensor> | null = null; // device tensors owned by this step
    const accFeeds = (): Record<string, OrtTensor> => {
      const feeds: Record<string, OrtTensor> = {};
      for (const group of this.graphs.groups) {
        const n = STEP_IO.gradAcc(group.id);
        feeds[n] = acc?.[STEP_IO.next(n)] ?? this.fixed[n]!;
      }
      feeds[STEP_IO.nllAcc] = acc?.[STEP_IO.next(STEP_IO.nllAcc)] ?? this.fixed[STEP_IO.nllAcc]!;
      feeds[STEP_IO.countAcc] = acc?.[STEP_IO.next(STEP_IO.countAcc)] ?? this.fixed[STEP_IO.countAcc]!;
      return feeds;
    };
    for (const batch of microBatches.slice(0, -1)) {
      const out = await (await this.accumulateSession()).run({ ...this.batchFeeds(batch, this.graphs.accumulate), ...this.modelFeeds(), ...accFeeds() });
      disposeAll(acc);
      acc = out;
    }
    const host = adamwHostScalars(lr, t, this.graphs.adamw);
    const scalars = {
      [ADAMW_INPUTS.lr]: this.scalar(host.lr),
      [ADAMW_INPUTS.stepSize]: this.scalar(host.stepSize),
      [ADAMW_INPUTS.bc2Sqrt]: this.scalar(host.bc2Sqrt),
    };
    const moments: Record<string, OrtTensor> = {};
    for (const group of this.graphs.groups) {
      moments[STEP_IO.m(group.id)] = this.state[STEP_IO.m(group.id)]!;
      moments[STEP_IO.v(group.id)] = this.state[STEP_IO.v(group.id)]!;
    }
    const out = await this.train.run({ ...this.batchFeeds(microBatches[microBatches.length - 1]!, this.graphs.train), ...this.modelFeeds(), ...moments, ...accFeeds(), ...scalars });
    disposeAll(acc);
    const old = this.state;
    const next: Record<string, OrtTensor> = {};
    for (const name of Object.keys(old)) {
      const t2 = out[STEP_IO.next(name)];
      if (!t2) throw new Error(`train graph did not return "${STEP_IO.next(name)}"`);
      next[name] = t2;
    }
    this.state = next;
    disposeAll(old);
    const metrics = out[STEP_IO.metrics];
    if (!metrics) throw new Error(`train graph did not return "${STEP_IO.metrics}"`);
    const m = (await this.backend.read(metrics)).data as Float32Array;
    this.stepCount = t;
    const nllSum = m[0]!;
    const targetTokens = m[1]!;
    return { nllSum, targetTokens, loss: targetTokens > 0 ? nllSum / targetTokens : Number.NaN, gradNorm: m[2]!, step: t };
  }

  /** step() for captured sessions: same graphs and arithmetic, but every input is a fixed device buffer. */
  private async stepCaptured(c: CaptureBuffers, microBatches: readonly Batch[], lr: number, t: number): Promise<StepMetrics> {
    const ops = c.ops;
    const accNames = [...this.graphs.groups.map((g) => STEP_IO.gradAcc(g.id)), STEP_IO.nllAcc, STEP_IO.countAcc];
    const acc: Record<string, OrtTensor> = {};
    for (const name of accNames) {
      const zero = this.graphs.groups.find((g) => STEP_IO.gradAcc(g.id) === name);
      acc[name] = await c.write(name, f32(zero ? [zero.size] : []));
    }
    const batchFeeds = async (batch: Batch) => {
      const feeds: Record<string, OrtTensor> = {};
      for (const spec of this.dataOf(this.graphs.train)) { // the accumulate graph takes the same
        const host = batch[spec.name];
        if (!host) throw new Error(`batch has no "${spec.name}" (the graphs take ${this.graphs.data.map((d) => d.name).join(', ')})`);
        checkSpec(spec, host, 'batch input');
        feeds[spec.name] = await c.write(spec.name, host);
      }
      return feeds;
    };
    for (const batch of microBatches.slice(0, -1)) {
      const out = await (await this.accumulateSession()).run({ ...(await batchFeeds(batch)), ...this.modelFeeds(), ...acc });
      for (const name of accNames) ops.copy(acc[name]!, out[STEP_IO.next(name)]!);
      c.settle('accumulate', out);
    }
    const host = adamwHostScalars(lr, t, this.graphs.adamw);
    const feeds: Record<string, OrtTensor> = { ...(await batchFeeds(microBatches[microBatches.length - 1]!)), ...this.modelFeeds(), ...acc };
    feeds[ADAMW_INPUTS.lr] = await c.write(ADAMW_INPUTS.lr, f32([], Float32Array.of(host.lr)));
    feeds[ADAMW_INPUTS.stepSize] = await c.write(ADAMW_INPUTS.stepSize, f32([], Float32Array.of(host.stepSize)));
    feeds[ADAMW_INPUTS.bc2Sqrt] = await c.write(ADAMW_INPUTS.bc2Sqrt, f32([], Float32Array.of(host.bc2Sqrt)));
    for (const name of Object.keys(this.state)) if (!(name in feeds)) feeds[name] = this.state[name]!;
    const out = await this.train.run(feeds);
    for (const name of Object.keys(this.state)) ops.copy(this.state[name]!, out[STEP_IO.next(name)]!);
    const m = (await this.backend.read(out[STEP_IO.metrics]!)).data as Float32Array;
    c.settle('train', out);
    this.stepCount = t;
    return { nllSum: m[0]!, targetTokens: m[1]!, loss: m[1]! > 0 ? m[0]! / m[1]! : Number.NaN, gradNorm: m[2]!, step: t };
  }

  /** Forward + loss on one batch with the current parameters (no state change). */
  async evaluate(batch: Batch): Promise<EvalResult> {
    this.alive();
    const out = await (await this.evalSession()).run({ ...this.batchFeeds(batch, this.graphs.eval), ...this.modelFeeds() });
    const m = (await this.backend.read(out[STEP_IO.evalMetrics]!)).data as Float32Array;
    const tokenNll = (await this.backend.read(out[STEP_IO.tokenNll]!)).data as Float32Array;
    return { nllSum: m[0]!, targetTokens: m[1]!, tokenNll };
  }

  /**
   * Gradients of the mean token NLL over `batch` for every trainable tensor, without an update ("one batch by hand").
   * Runs the accumulate graph from zero and reads every gradient back: for inspection, not for the training loop.
   */
  async gradients(batch: Batch): Promise<{ nllSum: number; targetTokens: number; grads: Record<string, Float32Array> }> {
    this.alive();
    // A captured accumulate graph replays on the buffers bound when it was recorded; feeding others would be ignored.
    if (this.capture) throw new Error('gradients() needs a TrainSession created without graphCapture');
    const feeds: Record<string, OrtTensor> = { ...this.batchFeeds(batch, this.graphs.accumulate), ...this.modelFeeds() };
    for (const group of this.graphs.groups) feeds[STEP_IO.gradAcc(group.id)] = this.fixed[STEP_IO.gradAcc(group.id)]!;
    feeds[STEP_IO.nllAcc] = this.fixed[STEP_IO.nllAcc]!;
    feeds[STEP_IO.countAcc] = this.fixed[STEP_IO.countAcc]!;
    const out = await (await this.accumulateSession()).run(feeds);
    try {
      const nllSum = ((await this.backend.read(out[STEP_IO.next(STEP_IO.nllAcc)]!)).data as Float32Array)[0]!;
      const targetTokens = ((await this.backend.read(out[STEP_IO.next(STEP_IO.countAcc)]!)).data as Float32Array)[0]!;
      const grads: Record<string, Float32Array> = {};
      for (const group of this.graphs.groups) {
        const sum = (await this.backend.read(out[STEP_IO.next(STEP_IO.gradAcc(group.id))]!)).data as Float32Array;
        for (const slot of group.params) grads[slot.name] = sum.slice(slot.offset, slot.offset + slot.size).map((x) => x / Math.max(1, targetTokens));
      }
      return { nllSum, targetTokens, grads };
    } finally {
      disposeAll(out);
    }
  }

  /** Reads parameters, moments and the step counter back to the host (checkpoints, adapter export). */
  async exportState(): Promise<TrainState> {
    this.alive();
    const read = async (name: string) => (await this.backend.read(this.state[name]!)).data as Float32Array;
    const params: Record<string, Float32Array> = {};
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const spec of this.graphs.trainable) params[spec.name] = await read(spec.name);
    for (const group of this.graphs.groups) {
      const mFlat = await read(STEP_IO.m(group.id));
      const vFlat = await read(STEP_IO.v(group.id));
      for (const slot of group.params) {
        m[slot.name] = mFlat.slice(slot.offset, slot.offset + slot.size);
        v[slot.name] = vFlat.slice(slot.offset, slot.offset + slot.size);
      }
    }
    return { step: this.stepCount, params, m, v };
  }

  async release(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.state);
    disposeAll(this.fixed);
    this.capture?.release();
    for (const session of this.created()) await session.release();
  }

  private alive(): void {
    if (this.disposed) throw new Error('TrainSession was released; create a new one');
  }

  private scalar(x: number): OrtTensor {
    return this.backend.tensor({ dtype: 'float32', dims: [], data: Float32Array.of(x) });
  }

  private modelFeeds(): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = {};
    if (!this.held) for (const spec of this.graphs.frozen) feeds[spec.name] = this.fixed[spec.name]!;
    for (const spec of this.graphs.trainable) feeds[spec.name] = this.state[spec.name]!;
    return feeds;
  }

  /** The batch inputs `graph` takes (graphs.data lists every graph's: labels for eval, trained rows for training). */
  private dataOf(graph: Graph): readonly TensorSpec[] {
    let specs = this.dataByGraph.get(graph);
    if (!specs) {
      const names = new Set(graph.inputs.map((i) => i.value.name));
      specs = this.graphs.data.filter((d) => names.has(d.name));
      this.dataByGraph.set(graph, specs); // once per graph, not per step
    }
    return specs;
  }

  private readonly dataByGraph = new Map<Graph, readonly TensorSpec[]>();

  private batchFeeds(batch: Batch, graph: Graph): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = {};
    for (const spec of this.dataOf(graph)) {
      const t = batch[spec.name];
      if (!t) throw new Error(`batch has no "${spec.name}" (the graphs take ${this.graphs.data.map((d) => d.name).join(', ')})`);
      checkSpec(spec, t, 'batch input');
      feeds[spec.name] = this.backend.tensor(t);
    }
    return feeds;
  }
}


/** Refuses step graphs whose outputs a captured replay would leave stale (see StepConfig.computedOutputs). */
function checkCapturable(graphs: StepGraphs): void {
  for (const graph of [graphs.train, graphs.accumulate]) {
    const outputs = new Set(graph.outputs.map((o) => o.value.id));
    const bad = graph.nodes.find((n) => COPYING_OPS.has(n.op) && n.outputs.some((v) => outputs.has(v.id)));
    if (bad) {
      const out = bad.outputs.find((v) => outputs.has(v.id))!;
      throw new Error(
        `graph capture: output "${out.name}" of ${graph.name} is made by ${bad.op}, whose buffer copy ` +
          'ORT 1.30 does not replay (the output would keep its capture-time value). Build the graphs with buildStepGraphs(..., { computedOutputs: true }).',
      );
    }
  }
}

function disposeAll(tensors: Record<string, OrtTensor> | null): void {
  if (!tensors) return;
  for (const t of Object.values(tensors)) if (t.location === 'gpu-buffer') t.dispose();
}
