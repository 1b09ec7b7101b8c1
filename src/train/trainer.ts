// The training loop shared by the browser worker and the CLI: LoRA step graphs on a runtime backend, the host LR
// schedule fed as a scalar, gradient accumulation normalised by the target tokens of the whole optimizer step (in the
// graph), eval and samples at a cadence, non-finite loss detection that restores the last good state, pause/stop
// through an abort flag, and checkpoints that resume bit-exactly (adapter, AdamW moments, step, RNG, data cursor).
import type { Example } from '../data/example.ts';
import { learningRate, type ScheduleConfig } from '../engine/schedule.ts';
import { STEP_IO, type StepGraphs } from '../engine/step.ts';
import { initLoraWeights, type LoraPlan } from '../models/lora.ts';
import { Rng } from '../models/rng.ts';
import type { SamplingOptions } from '../models/sampling.ts';
import type { Backend } from '../runtime/backend.ts';
import { TrainSession, type Batch, type StepMetrics, type TrainState } from '../runtime/train-session.ts';
import { errorMessage } from '../share/labels.ts';
import type { RunConfig } from '../share/run-config.ts';
import { collate, DataOrder, mostTargetsPerBatch, sequenceLength } from './dataset.ts';
import { Generator } from './generation.ts';
import { buildTrainGraphs, frozenTensors, graphBuildFor, withDropoutMasks, withTrainedRows, type GraphBuild, type GraphShape } from './graphs.ts';
import type { LoadedModel } from './model-source.ts';
import type { LogEntry, TrainerCheckpoint } from './state.ts';

/** Anything with an `aborted` flag: an AbortSignal, or a plain object the worker flips on "pause". */
export interface StopFlag {
  readonly aborted: boolean;
}

export interface SampleSpec {
  /** Prompt token ids (rendered with the generation prompt). */
  readonly prompts: readonly (readonly number[])[];
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  readonly stopIds: readonly number[];
}

/** What a run trains beside its frozen base: the LoRA plan (modules, shapes, scale) and the base tensors trained in
 * full. The session resolves it from the run config once; the trainer and its graphs only read shapes from it. */
export interface TrainedSubset {
  readonly plan: LoraPlan;
  readonly fullTensors: readonly string[];
}

export interface TrainerInit {
  readonly backend: Backend;
  readonly model: LoadedModel;
  readonly config: RunConfig;
  readonly train: readonly Example[];
  readonly eval: readonly Example[];
  readonly padId: number;
  /** The LoRA plan and the full tensors, resolved from the config by the session (`resolveSubset`). */
  readonly subset: TrainedSubset;
  /** Total optimizer steps of the run (defaults to config.train.steps). */
  readonly totalSteps?: number;
  /** Start from these adapter values instead of PEFT's init (e.g. an imported adapter). */
  readonly initialAdapter?: Readonly<Record<string, Float32Array>>;
  readonly resume?: TrainerCheckpoint;
  readonly samples?: SampleSpec;
  /**
   * Record the step graphs once and replay them (WebGPU graph capture: one submission instead of a dispatch per node),
   * where the backend supports it; the graphs are then built for it (StepConfig.computedOutputs). The browser asks for
   * it on training runs. Trainer.graphCapture says what was decided, and why not where it was asked for.
   */
  readonly graphCapture?: boolean;
}

/** Whether a trainer replays captured step graphs; `note` says why not when capture was asked for on WebGPU. */
interface CaptureState {
  readonly on: boolean;
  readonly note: string | null;
}

/** What a request for graph capture gets on `backend`: host backends have no dispatches to save and say nothing. */
function captureFor(backend: Backend, wanted: boolean): CaptureState {
  if (!wanted || backend.kind !== 'webgpu') return { on: false, note: null };
  if (!backend.supportsGraphCapture || !backend.device) {
    return { on: false, note: `graph capture off: ${backend.label} cannot record graphs (it needs the browser's GPUDevice to write inputs into fixed buffers)` };
  }
  return { on: true, note: null };
}

interface StepRecord extends StepMetrics {
  readonly lr: number;
  readonly epoch: number;
  readonly ms: number;
}

export interface EvalRecord {
  readonly step: number;
  readonly loss: number;
  readonly targetTokens: number;
}

export interface SampleRecord {
  readonly step: number;
  /** Generated token ids per prompt. */
  readonly tokens: number[][];
}

export interface RunCallbacks {
  readonly signal?: StopFlag;
  readonly onStep?: (r: StepRecord) => void;
  readonly onEval?: (r: EvalRecord) => void;
  readonly onSample?: (r: SampleRecord) => void | Promise<void>;
  readonly onCheckpoint?: (c: TrainerCheckpoint) => void | Promise<void>;
  /** Asked after every step that is not a `checkpointEvery` step: true takes a checkpoint there too, handed to
   * `onAutosave` (the browser keeps one so a closed tab loses as little as possible). */
  readonly autosave?: (step: number) => boolean;
  readonly onAutosave?: (c: TrainerCheckpoint) => void | Promise<void>;
  /** Awaited between two optimizer steps: work that needs the trainer's state at a step boundary (a lesson metric, a
   * prompt the user asked about) runs here, never during a step. */
  readonly between?: () => Promise<void>;
}

type StopReason = 'completed' | 'stopped' | 'non-finite';

export interface RunResult {
  readonly reason: StopReason;
  /** Optimizer steps in the returned state (after a non-finite loss: the last good checkpoint's step). */
  readonly step: number;
  /** For 'non-finite': the step whose loss or gradient norm was not finite. */
  readonly badStep?: number;
}

export class Trainer {
  private readonly log: LogEntry[];
  private order: DataOrder;
  private dropoutRng: Rng;
  private sampleRng: Rng;
  private lastGood: TrainerCheckpoint | null = null;
  private generator: Generator | null = null;
  /** Whether the captured session has run once (recorded its graphs); see optimizerStep. */
  private captureRecorded = false;

  private constructor(
    private readonly init: TrainerInit,
    readonly plan: LoraPlan,
    /** Base tensors trained in full beside the adapter (weight-table names; empty for LoRA only). */
    readonly fullTensors: readonly string[],
    readonly graphs: StepGraphs,
    readonly shape: GraphShape,
    private session: TrainSession,
    readonly totalSteps: number,
    private readonly schedule: ScheduleConfig,
    private capture: CaptureState,
  ) {
    const r = init.resume;
    this.log = r ? [...r.logHistory] : [];
    this.order = new DataOrder(init.train.length, init.config.seed, r?.cursor);
    this.dropoutRng = r ? Rng.fromState(r.rng.dropout) : Rng.fromSeed(`${init.config.seed}:dropout`);
    this.sampleRng = r ? Rng.fromState(r.rng.sample) : Rng.fromSeed(`${init.config.seed}:sample`);
  }

  static async create(init: TrainerInit): Promise<Trainer> {
    const { config, model } = init;
    if (init.train.length === 0) throw new Error('no training examples: every row was dropped or the dataset is empty. HINT: run `tabtune inspect` to see why.');
    const t = config.train;
    const batch = Math.min(t.batchSize, init.train.length);
    const seqLen = sequenceLength([...init.train, ...init.eval], config.maxLength);
    // Training batches come from the training split only; the eval graph runs the head on every position anyway.
    const shape: GraphShape = { batch, seqLen, trainedRows: mostTargetsPerBatch(init.train, batch, seqLen) };
    const { plan, fullTensors } = init.subset;
    let capture = captureFor(init.backend, init.graphCapture === true);
    const graphs = buildTrainGraphs(model.config, plan, shape, {
      beta1: t.beta1, beta2: t.beta2, eps: t.eps, weightDecay: t.weightDecay, maxGradNorm: t.maxGradNorm > 0 ? t.maxGradNorm : null,
    }, fullTensors, graphBuildFor(init.backend.kind, capture.on));
    // Full tensors start from the checkpoint's own values (a copy: the base weights stay as loaded for generation).
    const base = Object.fromEntries(fullTensors.map((n) => [n, Float32Array.from(model.weights.get(n) ?? [])]));
    const params = { ...(init.initialAdapter ?? Object.fromEntries(initLoraWeights(plan, config.seed))), ...base };
    const sessionInit = {
      backend: init.backend,
      graphs,
      params,
      frozen: frozenTensors(model, graphs),
      ...(init.resume ? { state: { step: init.resume.step, params: init.resume.params, m: init.resume.m, v: init.resume.v } } : {}),
    };
    let session: TrainSession;
    try {
      session = await TrainSession.create({ ...sessionInit, graphCapture: capture.on });
    } catch (err) {
      if (!capture.on) throw err;
      // ORT refused to set up capture for these graphs: the same graphs train uncaptured (Max(p, p) is exact).
      capture = { on: false, note: `graph capture off: ${err instanceof Error ? err.message : String(err)}` };
      session = await TrainSession.create(sessionInit);
    }
    const totalSteps = init.totalSteps ?? t.steps;
    const schedule: ScheduleConfig = { kind: t.schedule, peakLr: t.lr, warmupSteps: Math.min(t.warmupSteps, totalSteps), totalSteps };
    const trainer = new Trainer(init, plan, fullTensors, graphs, shape, session, totalSteps, schedule, capture);
    trainer.lastGood = await trainer.checkpoint();
    return trainer;
  }

  get step(): number {
    return this.session.stepCount;
  }

  /** Rows the training graphs compute the LM head on, or null when they compute it on every position. */
  get headRows(): number | null {
    return this.graphs.data.some((d) => d.name === STEP_IO.labelRows) ? (this.shape.trainedRows ?? null) : null;
  }

  /** How the step graphs were built for this backend (the generation graphs that go with them are built alike). */
  get graphBuild(): GraphBuild {
    return graphBuildFor(this.init.backend.kind, this.capture.on);
  }

  /** Whether the step graphs are captured and replayed (WebGPU), and why not where that was asked for. */
  get graphCapture(): CaptureState {
    return this.capture;
  }

  /** The backend's label with the capture state: "WebGPU (onnxruntime-web), graph capture". */
  get backendLabel(): string {
    const label = this.init.backend.label;
    return this.capture.on ? `${label}, graph capture` : this.capture.note ? `${label}, ${this.capture.note}` : label;
  }

  get logHistory(): readonly LogEntry[] {
    return this.log;
  }

  /** Fractional epochs of training data consumed, as HF logs `epoch`. */
  get epoch(): number {
    const c = this.order.position;
    return c.epoch + c.index / this.init.train.length;
  }

  /** Runs until totalSteps, a stop request, or a non-finite loss. Resumable: call again after a stop. */
  async run(cb: RunCallbacks = {}): Promise<RunResult> {
    const t = this.init.config.train;
    while (this.step < this.totalSteps) {
      // A step is a chain of promise resolutions that never returns to the event loop; yield once per step so a pause
      // message (worker) or Ctrl-C (CLI) can be delivered and set the stop flag.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await cb.between?.();
      if (cb.signal?.aborted) return { reason: 'stopped', step: this.step };
      const started = Date.now();
      const micro: Batch[] = [];
      for (let k = 0; k < t.gradAccum; k++) micro.push(this.nextBatch());
      const lr = learningRate(this.schedule, this.step);
      const m = await this.optimizerStep(micro, lr);
      if (!Number.isFinite(m.loss) || !Number.isFinite(m.gradNorm)) {
        await this.restore(this.lastGood!);
        return { reason: 'non-finite', step: this.step, badStep: m.step };
      }
      const epoch = this.epoch;
      this.log.push({ step: m.step, epoch, loss: m.loss, learning_rate: lr, grad_norm: m.gradNorm, num_tokens: m.targetTokens });
      cb.onStep?.({ ...m, lr, epoch, ms: Date.now() - started });
      if (t.evalEvery > 0 && m.step % t.evalEvery === 0 && this.init.eval.length > 0) cb.onEval?.(await this.evaluate());
      if (t.sampleEvery > 0 && m.step % t.sampleEvery === 0 && this.init.samples) await cb.onSample?.(await this.sample());
      if (t.checkpointEvery > 0 && m.step % t.checkpointEvery === 0) {
        this.lastGood = await this.checkpoint();
        await cb.onCheckpoint?.(this.lastGood);
      } else if (cb.autosave?.(m.step)) {
        this.lastGood = await this.checkpoint();
        await cb.onAutosave?.(this.lastGood);
      }
    }
    return { reason: 'completed', step: this.step };
  }

  /** Loss over the whole eval split with the current adapter (Σ NLL ÷ Σ target tokens); logged as eval_loss. */
  async evaluate(): Promise<EvalRecord> {
    let nll = 0;
    let tokens = 0;
    const B = this.shape.batch;
    for (let i = 0; i < this.init.eval.length; i += B) {
      const batch = collate(this.init.eval.slice(i, i + B), B, this.shape.seqLen, this.init.padId);
      const r = await this.session.evaluate(withDropoutMasks(batch, this.init.model.config, this.plan, this.shape, null));
      nll += r.nllSum;
      tokens += r.targetTokens;
    }
    const loss = tokens > 0 ? nll / tokens : Number.NaN;
    this.log.push({ step: this.step, epoch: this.epoch, eval_loss: loss, eval_tokens: tokens });
    return { step: this.step, loss, targetTokens: tokens };
  }

  /** The KV-cache graphs' shape for the sample prompts (what `sample` builds); null without sample prompts. */
  get sampleShape(): { batch: number; promptLen: number; maxLen: number } | null {
    const spec = this.init.samples;
    if (!spec || spec.prompts.length === 0) return null;
    const promptLen = Math.max(...spec.prompts.map((p) => p.length));
    return { batch: spec.prompts.length, promptLen, maxLen: promptLen + spec.maxNewTokens };
  }

  /** Generates continuations of the sample prompts with the current adapter. */
  async sample(): Promise<SampleRecord> {
    const spec = this.init.samples;
    if (!spec || spec.prompts.length === 0) return { step: this.step, tokens: [] };
    this.generator ??= await Generator.create(this.init.backend, this.init.model.config, this.init.model.weights, this.plan, this.sampleShape!, { replaceable: this.fullTensors });
    const state = await this.session.exportState();
    const tokens = await this.generator.generate({
      prompts: spec.prompts,
      maxNewTokens: spec.maxNewTokens,
      sampling: spec.sampling,
      stopIds: spec.stopIds,
      rng: spec.sampling.doSample ? this.sampleRng : null,
      padId: this.init.padId,
      adapter: state.params,
      weights: Object.fromEntries(this.fullTensors.map((n) => [n, state.params[n]!])),
    });
    return { step: this.step, tokens };
  }

  /** Everything needed to resume exactly, in host memory. */
  async checkpoint(): Promise<TrainerCheckpoint> {
    const s = await this.session.exportState();
    return {
      version: 1,
      step: s.step,
      params: s.params,
      m: s.m,
      v: s.v,
      rng: { dropout: this.dropoutRng.state, sample: this.sampleRng.state },
      cursor: this.order.position,
      logHistory: [...this.log],
    };
  }

  /**
   * Gradients of one batch (no optimizer step), normalised by its target tokens: `tabtune step`, the batch inspector.
   * They are read from the accumulate graph's outputs, which a captured graph would replay on its recorded buffers: a
   * captured trainer answers from an uncaptured session of the same graphs and state, made for the question.
   */
  async gradients(examples: readonly Example[]): Promise<{ loss: number; targetTokens: number; grads: Record<string, Float32Array>; tokenNll: Float32Array }> {
    const batch = this.batchOf(examples, null);
    const session = this.capture.on ? await this.uncapturedSession(await this.session.exportState()) : this.session;
    try {
      const g = await session.gradients(batch);
      const e = await session.evaluate(batch);
      return { loss: g.nllSum / Math.max(1, g.targetTokens), targetTokens: g.targetTokens, grads: g.grads, tokenNll: e.tokenNll };
    } finally {
      if (session !== this.session) await session.release();
    }
  }

  private uncapturedSession(state: TrainState): Promise<TrainSession> {
    return TrainSession.create({ backend: this.init.backend, graphs: this.graphs, params: state.params, frozen: frozenTensors(this.init.model, this.graphs), state });
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.generator?.release();
    this.generator = null;
  }

  /**
   * What the next optimizer step will be fed, without taking it: its 1-based number, learning rate, micro-batches
   * (dropout masks included) and the state before it. Copies of the data order and dropout RNG are advanced, not the
   * trainer's own (ONNX export: the replayed step is the one `run` takes next).
   */
  async nextStep(): Promise<{ step: number; lr: number; microBatches: Batch[]; state: TrainState }> {
    const order = new DataOrder(this.init.train.length, this.init.config.seed, this.order.position);
    const rng = Rng.fromState(this.dropoutRng.state);
    const microBatches = Array.from({ length: this.init.config.train.gradAccum }, () => this.nextBatch(order, rng));
    return { step: this.step + 1, lr: learningRate(this.schedule, this.step), microBatches, state: await this.session.exportState() };
  }

  private nextBatch(order = this.order, rng = this.dropoutRng): Batch {
    return this.batchOf(order.next(this.shape.batch).map((i) => this.init.train[i]!), rng);
  }

  /** Examples as the step graphs take them: collated, with dropout masks (drawn from `rng`, none when null) and the
   * trained-rows inputs where the graphs have that head. */
  private batchOf(examples: readonly Example[], rng: Rng | null): Batch {
    const batch = collate(examples, this.shape.batch, this.shape.seqLen, this.init.padId);
    return withTrainedRows(withDropoutMasks(batch, this.init.model.config, this.plan, this.shape, rng), this.shape, this.fullTensors);
  }

  /**
   * One optimizer step. A captured session records its graphs on its first run; a fault there that creating the
   * session did not show (a driver, or ORT) leaves the run to go on uncaptured, as a capture refused at creation does:
   * the session is rebuilt from the state before this step (`lastGood`, taken after every rebuild and checkpoint) and
   * the same micro-batches are run again. Later faults are the run's own.
   */
  private async optimizerStep(micro: Batch[], lr: number): Promise<StepMetrics> {
    if (!this.capture.on || this.captureRecorded) return this.session.step(micro, lr);
    const before = this.lastGood;
    try {
      const m = await this.session.step(micro, lr);
      this.captureRecorded = true;
      return m;
    } catch (err) {
      if (!before || before.step !== this.step) throw err;
      this.capture = { on: false, note: `graph capture off: its first replay failed (${errorMessage(err)})` };
      await this.rebuildSession(before);
      return this.session.step(micro, lr);
    }
  }

  private async rebuildSession(c: TrainerCheckpoint): Promise<void> {
    await this.session.release();
    this.captureRecorded = false;
    this.session = await TrainSession.create({
      backend: this.init.backend,
      graphs: this.graphs,
      params: c.params,
      frozen: frozenTensors(this.init.model, this.graphs),
      state: { step: c.step, params: c.params, m: c.m, v: c.v },
      graphCapture: this.capture.on,
    });
  }

  /** Replaces the device state with a host checkpoint (after a non-finite loss). */
  private async restore(c: TrainerCheckpoint): Promise<void> {
    await this.rebuildSession(c);
    this.order = new DataOrder(this.init.train.length, this.init.config.seed, c.cursor);
    this.dropoutRng = Rng.fromState(c.rng.dropout);
    this.sampleRng = Rng.fromState(c.rng.sample);
    this.log.length = 0;
    this.log.push(...c.logHistory);
  }
}
