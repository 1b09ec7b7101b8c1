// The trainer inside the worker: builds src/train's Trainer for the prepared examples (weights, LoRA step graphs and
// sessions stay here, on the GPU when there is one), runs "one batch by hand" through the same step graph, and drives
// start / pause / resume / stop while streaming step, eval and sample events. A NaN/Inf loss or a lost WebGPU device
// ends the loop with a message; the last checkpoint stays in memory so `train.resume` can continue from it.
import type { Example } from '../../data/index.ts';
import { IGNORE_INDEX } from '../../data/index.ts';
import { GREEDY } from '../../models/sampling.ts';
import { collate, DataOrder, paddingId } from '../../train/dataset.ts';
import { defaultTargetModules } from '../../train/peft.ts';
import { CHECKPOINT_STATE, CHECKPOINT_TENSORS, checkpointFiles, parseCheckpoint, type TrainerCheckpoint } from '../../train/state.ts';
import { Trainer, type SampleRecord, type SampleSpec } from '../../train/trainer.ts';
import type { BackendChoice, BatchInspection, CheckpointFiles, GeneratedSample, RunSaveInfo, TrainOutcome, TrainerInfo } from '../protocol';
import { RunPersistence } from './persist'; // saved runs
import type { HandlerContext } from './context';
import type { Playground, Prepared } from './playground';

/** New tokens per sample: enough to see a phrase form, few enough to keep sampling cheap on slow adapters. */
export const SAMPLE_NEW_TOKENS = 16;
/** Fixed prompts sampled before training and every `sampleEvery` steps. */
export const SAMPLE_PROMPTS = 2;

const DEVICE_LOST = /device (is |was )?lost|lost (the )?device|GPUDevice.*(lost|destroyed)|DeviceLost|context lost/i;

/** The backend's device went away while the loop ran (Backend.lost settled): the loop stops without waiting on it. */
class DeviceLostError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'DeviceLostError';
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The prompt of an example for samples: its tokens before the first trained one (what the model is asked). */
function promptIds(e: Example): number[] {
  const first = Array.from(e.labels).findIndex((l) => l !== IGNORE_INDEX);
  const cut = first > 0 ? first : Math.max(1, Math.min(8, Math.floor(e.ids.length / 2)));
  return e.ids.slice(0, cut);
}

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

function rows(data: ArrayLike<number>, batch: number, seqLen: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from({ length: seqLen }, (_, t) => data[b * seqLen + t] ?? 0));
}

export class TrainingHost {
  private trainer: Trainer | null = null;
  private builtFor: Prepared | null = null;
  private builtOn: BackendChoice = 'auto';
  private info: TrainerInfo | null = null;
  private prompts: number[][] = [];
  private flag = { aborted: false };
  private running = false;
  private stopRequested = false;
  private stopped = false;
  private lastCheckpoint: TrainerCheckpoint | null = null;
  /** Settles when the current trainer's GPU device is lost (from its backend; absent on WASM). */
  private deviceLost: Promise<string> | null = null;
  /** An imported PEFT adapter the next trainer starts from, for the model (source id) it was checked against. */
  private adopted: { modelKey: string; params: Record<string, Float32Array> } | null = null;

  /** Saved runs: records runs and writes their checkpoints to IndexedDB (./persist.ts). */
  readonly persist: RunPersistence;

  constructor(private readonly pg: Playground, persist?: RunPersistence) {
    this.persist = persist ?? new RunPersistence();
  }

  private async build(ctx: HandlerContext, choice: BackendChoice, resume?: TrainerCheckpoint): Promise<Trainer> {
    const p = this.pg.requirePrepared();
    await this.release();
    const model = await this.pg.loadedModel(ctx);
    ctx.emit({ type: 'progress', stage: 'Starting the backend', loaded: 0, total: null });
    const { backend, fallbackReason } = await this.pg.openedBackend(choice);
    const tok = p.tokenizer.tokenizer;
    let config = p.config;
    // The schema's default LoRA targets name Llama-family modules; GPT-2 gets PEFT's default for its family.
    if (model.config.family === 'gpt2' && config.lora.targets.some((t) => t.endsWith('_proj'))) {
      config = { ...config, lora: { ...config.lora, targets: defaultTargetModules(model.config) } };
    }
    const sampleFrom = p.eval.length > 0 ? p.eval : p.train;
    this.prompts = sampleFrom.slice(0, SAMPLE_PROMPTS).map(promptIds);
    const samples: SampleSpec = {
      prompts: this.prompts,
      maxNewTokens: SAMPLE_NEW_TOKENS,
      sampling: GREEDY,
      stopIds: [...tok.endOfTurnIds, ...model.config.eosTokenIds],
    };
    ctx.emit({ type: 'progress', stage: 'Building the step graphs and sessions', loaded: 0, total: null });
    const initialAdapter = !resume && this.adopted?.modelKey === p.source.id ? { initialAdapter: this.adopted.params } : {};
    const trainer = await Trainer.create({
      backend, model, config, train: p.train, eval: p.eval, padId: paddingId(tok), samples, ...(resume ? { resume } : {}), ...initialAdapter,
    });
    this.trainer = trainer;
    this.builtFor = p;
    this.builtOn = choice;
    this.deviceLost = backend.lost ?? null;
    this.stopped = false;
    this.info = {
      backend: backend.kind === 'webgpu' ? 'webgpu' : 'wasm',
      backendLabel: backend.label,
      fallbackReason: fallbackReason ?? null,
      batch: trainer.shape.batch,
      seqLen: trainer.shape.seqLen,
      trainableTensors: trainer.graphs.trainable.length,
      trainableParameters: trainer.graphs.trainable.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
      totalSteps: trainer.totalSteps,
      step: trainer.step,
    };
    ctx.emit({ type: 'trainer', info: this.info });
    return trainer;
  }

  /** A trainer for the current preparation that has not taken a step yet, or a new one. */
  private async fresh(ctx: HandlerContext, choice: BackendChoice): Promise<Trainer> {
    const current = this.trainer;
    if (current && this.builtFor === this.pg.prepared && this.builtOn === choice && current.step === 0 && !this.stopped) {
      if (this.info) ctx.emit({ type: 'trainer', info: this.info });
      return current;
    }
    this.lastCheckpoint = null;
    return this.build(ctx, choice);
  }

  private notRunning(what: string): void {
    if (this.running) throw new Error(`Cannot ${what} while training runs: pause or stop the run first.`);
  }

  async inspect(ctx: HandlerContext, choice: BackendChoice): Promise<BatchInspection> {
    this.notRunning('inspect a batch');
    const current = this.trainer && this.builtFor === this.pg.prepared && this.builtOn === choice ? this.trainer : null;
    const trainer = current ?? (await this.fresh(ctx, choice));
    const p = this.pg.requirePrepared();
    const { batch, seqLen } = trainer.shape;
    // The trainer's first batch: epoch 0 of the seeded data order.
    const examples = new DataOrder(p.train.length, p.config.seed).next(batch).map((i) => p.train[i]!);
    const started = performance.now();
    const g = await trainer.gradients(examples);
    const ms = performance.now() - started;
    const tok = p.tokenizer.tokenizer;
    const tensors = collate(examples, batch, seqLen, paddingId(tok));
    const ids = tensors['input_ids']!.data;
    return {
      batch,
      seqLen,
      exampleIds: examples.map((e) => e.id),
      inputIds: rows(ids as Int32Array, batch, seqLen),
      attentionMask: rows(tensors['attention_mask']!.data as Int32Array, batch, seqLen),
      labels: rows(tensors['labels']!.data as Int32Array, batch, seqLen),
      tokenTexts: rows(ids as Int32Array, batch, seqLen).map((r) => r.map((id) => tok.tokenText(id))),
      loss: g.loss,
      targetTokens: g.targetTokens,
      tokenNll: rows(g.tokenNll, batch, seqLen),
      gradNorms: Object.entries(g.grads).map(([name, values]) => ({ name, size: values.length, norm: l2(values) })),
      ms,
      backendLabel: this.info?.backendLabel ?? 'unknown',
      fallbackReason: this.info?.fallbackReason ?? null,
    };
  }

  async start(ctx: HandlerContext, choice: BackendChoice, save?: RunSaveInfo): Promise<TrainOutcome> {
    this.notRunning('start another run');
    this.running = true; // claimed before the first await so a second start is refused
    try {
      const trainer = await this.fresh(ctx, choice);
      await this.persist.begin(this.pg.requirePrepared(), save, this.info?.backend ?? 'unknown', ctx);
      ctx = this.persist.observe(ctx);
      await this.emitSamples(ctx, await trainer.sample());
      return await this.loop(ctx, trainer);
    } finally {
      this.running = false;
    }
  }

  /** The latest checkpoint as the two files src/train writes, or null before the first one. */
  checkpointFiles(): CheckpointFiles | null {
    const c = this.lastCheckpoint;
    return c ? { step: c.step, files: Object.fromEntries(checkpointFiles(c)) } : null;
  }

  async resume(ctx: HandlerContext, saved?: CheckpointFiles, choice?: BackendChoice, runId?: string): Promise<TrainOutcome> {
    this.notRunning('resume');
    if (this.stopped && !saved && !runId) throw new Error('This run was stopped; press Start for a new run.');
    this.running = true;
    try {
      let trainer = this.trainer;
      ctx = this.persist.observe(ctx);
      if (runId) {
        // A run saved in IndexedDB (after a reload): its latest checkpoint, and it goes on being saved there.
        this.lastCheckpoint = (await this.persist.attach(runId)).checkpoint;
        trainer = await this.build(ctx, choice ?? this.builtOn, this.lastCheckpoint);
      } else if (saved) {
        this.persist.detach();
        const tensors = saved.files[CHECKPOINT_TENSORS];
        const state = saved.files[CHECKPOINT_STATE];
        if (!tensors || !state) throw new Error(`A checkpoint needs ${CHECKPOINT_TENSORS} and ${CHECKPOINT_STATE}; got ${Object.keys(saved.files).join(', ') || 'no files'}.`);
        this.lastCheckpoint = parseCheckpoint(tensors, state, 'the saved checkpoint');
        trainer = await this.build(ctx, choice ?? this.builtOn, this.lastCheckpoint);
      } else if (!trainer) {
        if (!this.lastCheckpoint) throw new Error('There is no paused run or checkpoint to resume; press Start.');
        trainer = await this.build(ctx, this.builtOn, this.lastCheckpoint);
      } else if (this.info) {
        ctx.emit({ type: 'trainer', info: { ...this.info, step: trainer.step } });
      }
      return await this.loop(ctx, trainer);
    } finally {
      this.running = false;
    }
  }

  pause(): { step: number } {
    this.flag.aborted = true;
    return { step: this.trainer?.step ?? 0 };
  }

  stop(): { step: number } {
    this.stopRequested = true;
    this.flag.aborted = true;
    if (!this.running) this.stopped = true;
    return { step: this.trainer?.step ?? 0 };
  }

  private async emitSamples(ctx: HandlerContext, r: SampleRecord): Promise<void> {
    const tok = this.pg.requirePrepared().tokenizer.tokenizer;
    const samples: GeneratedSample[] = r.tokens.map((tokens, i) => ({
      prompt: tok.decode(this.prompts[i] ?? []),
      completion: tok.decode(tokens),
      tokens,
    }));
    ctx.emit({ type: 'samples', step: r.step, samples });
  }

  private outcome(reason: TrainOutcome['reason'], step: number, text: string | null): TrainOutcome {
    return { reason, step, totalSteps: this.info?.totalSteps ?? 0, message: text, recoverable: this.lastCheckpoint !== null || this.trainer !== null };
  }

  private async loop(ctx: HandlerContext, trainer: Trainer): Promise<TrainOutcome> {
    const flag = { aborted: false };
    let storageFull = false;
    this.flag = flag;
    this.stopRequested = false;
    // Cancelling the request (the page went away, or the client aborted it) pauses the loop like the Pause button.
    ctx.signal.addEventListener('abort', () => (flag.aborted = true), { once: true });
    // Once the device is lost nothing the abandoned run still reports (a step finishing on dead buffers) counts.
    let live = true;
    try {
      const running = trainer.run({
        signal: flag,
        onStep: (r) => live && ctx.emit({ type: 'step', step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, targetTokens: r.targetTokens, ms: r.ms, epoch: r.epoch }),
        onEval: (r) => live && ctx.emit({ type: 'eval', step: r.step, loss: r.loss, targetTokens: r.targetTokens }),
        onSample: async (r) => { if (live) await this.emitSamples(ctx, r); },
        onCheckpoint: async (c) => {
          if (!live) return;
          this.lastCheckpoint = c;
          // Storage full: pause rather than train steps that could not be saved (saved runs).
          if (!(await this.persist.save(c, 'interval', ctx, c.step >= trainer.totalSteps))) storageFull = true;
          if (storageFull) flag.aborted = true;
        },
      });
      // A lost device can leave ORT's pending GPU work unsettled forever: the loss itself ends the loop. The abandoned
      // run is told to stop and its eventual rejection (buffers gone) is expected, so it is swallowed.
      const lost = this.deviceLost;
      if (lost) running.catch(() => undefined);
      const result = lost
        ? await Promise.race([running, lost.then((why) => {
          live = false;
          flag.aborted = true;
          throw new DeviceLostError(why);
        })])
        : await running;
      if (result.reason === 'stopped') {
        this.lastCheckpoint = await trainer.checkpoint();
        await this.persist.save(this.lastCheckpoint, this.stopRequested ? 'stop' : 'pause', ctx);
        await this.persist.setStatus(this.stopRequested ? 'stopped' : 'paused');
        if (this.stopRequested) {
          this.stopped = true;
          return this.outcome('stopped', result.step, `Stopped at step ${result.step}. Press Start for a new run.`);
        }
        return this.outcome('paused', result.step, storageFull
          ? `Paused at step ${result.step}: browser storage is full, so the checkpoint was not saved. Delete old runs or checkpoints in the Checkpoints panel, then press Resume.`
          : null);
      }
      if (result.reason === 'non-finite') {
        await this.persist.setStatus('failed');
        return this.outcome('non-finite', result.step,
          `Step ${result.badStep ?? '?'} produced a NaN/Inf loss or gradient norm, so training stopped and kept the last good checkpoint (step ${result.step}). ` +
          'Lower the learning rate or set a max gradient norm, then start again.');
      }
      this.lastCheckpoint = await trainer.checkpoint();
      // A final checkpoint that did not fit leaves the run resumable from its last saved one.
      const kept = !storageFull && (await this.persist.save(this.lastCheckpoint, 'complete', ctx, true));
      await this.persist.setStatus(kept ? 'finished' : 'paused');
      return this.outcome('completed', result.step, null);
    } catch (err) {
      if (!(err instanceof DeviceLostError) && !DEVICE_LOST.test(message(err))) throw err;
      // The GPU device is gone with every buffer on it: drop the trainer and backend; resume rebuilds from the checkpoint.
      this.trainer = null;
      this.pg.dropBackend(this.builtOn);
      await this.persist.setStatus('paused'); // a reload offers to resume it from the saved checkpoint
      const at = this.lastCheckpoint?.step;
      return this.outcome('device-lost', at ?? 0,
        `The WebGPU device was lost (${message(err)}). ` +
        (at !== undefined ? `Press Resume to continue from the checkpoint at step ${at} on a new device.` : 'Press Start to begin again on a new device.'));
    }
  }

  // run export / adapter import -------------------------------------------------------------------------------
  /** What host/export.ts writes into a run zip: the latest checkpoint, the LoRA plan of the trainer that made it
   * (null once the trainer is gone, e.g. after a device loss) and whether the loop is running. */
  exportable(): { checkpoint: TrainerCheckpoint | null; plan: Trainer['plan'] | null; running: boolean; info: TrainerInfo | null } {
    return { checkpoint: this.lastCheckpoint, plan: this.trainer?.plan ?? null, running: this.running, info: this.info };
  }

  /** Makes an imported adapter (already checked against the prepared model) the one samples, the batch inspector and
   * the next run start from; the current trainer is dropped so the next request builds one with it. */
  async adoptAdapter(params: Record<string, Float32Array>): Promise<void> {
    this.notRunning('import an adapter');
    this.adopted = { modelKey: this.pg.requirePrepared().source.id, params };
    this.lastCheckpoint = null;
    this.stopped = false;
    await this.release();
  }

  async release(): Promise<void> {
    const t = this.trainer;
    this.trainer = null;
    this.builtFor = null;
    await t?.release();
  }
}
