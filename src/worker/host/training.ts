// The trainer inside the worker: builds src/train's run session's trainer for the prepared examples (weights, LoRA
// step graphs and sessions stay here, on the GPU when there is one), runs "one batch by hand" through the same step
// graph, and drives start / pause / resume / stop while streaming step, eval and sample events. A NaN/Inf loss or a
// lost WebGPU device ends the loop with a message; the last checkpoint stays in memory so `train.resume` can continue.
// A run's inputs are frozen when it starts (`run`): exports describe what was trained, whatever the page shows later.
import type { RunConfig } from '../../share/run-config.ts';
import { CHECKPOINT_STATE, CHECKPOINT_TENSORS, checkpointFiles, parseCheckpoint, type TrainerCheckpoint } from '../../train/state.ts';
import { dataKey, type RunSession } from '../../train/session.ts';
import type { SampleRecord, Trainer } from '../../train/trainer.ts';
import { summarizeGraph } from '../../engine/summary.ts';
import { exportRunOnnx } from '../../train/onnx-export.ts';
import type { GraphExportResult } from '../protocol-graph';
import { zipParts } from './zip-parts';
import { LessonProbe } from '../../train/lessons.ts';
import type { BackendChoice, BatchInspection, CheckpointFiles, GeneratedSample, LessonRunInfo, RunSaveInfo, TrainOutcome, TrainerInfo } from '../protocol';
import { RunPersistence } from './persist'; // saved runs
import { batchInspection } from './inspection';
import { StepGate } from './step-gate';
import type { HandlerContext } from './context';
import type { Playground, Prepared } from './playground';
import { AutosaveBudget } from './autosave';
import { DeviceLostError, lossOf, lostWithinGrace } from './device-lost';

/** The inputs of a run, frozen when it starts: the prepared examples and the session (config) it trains. */
export interface RunInputs {
  readonly prepared: Prepared;
  readonly session: RunSession;
}

/** Where the host's run is: no trainer yet, a loop running, a loop paused with a trainer, or a run that was stopped. */
type HostPhase = 'idle' | 'running' | 'paused' | 'stopped';

export class TrainingHost {
  private trainer: Trainer | null = null;
  private builtFor: RunSession | null = null;
  private builtOn: BackendChoice = 'auto';
  /** Whether the current trainer was built to train (graph capture asked for) rather than to inspect or export. */
  private builtToTrain = false;
  /** The current trainer's backend label without its capture state (the batch inspector never replays a capture). */
  private builtLabel = '';
  private info: TrainerInfo | null = null;
  private flag = { aborted: false };
  private phase: HostPhase = 'idle';
  private stopRequested = false;
  private lastCheckpoint: TrainerCheckpoint | null = null;
  /** The run started last (null before the first start, and after the prepared data changed). */
  private run: RunInputs | null = null;
  /** Settles when the current trainer's GPU device is lost (from its backend; absent on WASM). */
  private deviceLost: Promise<string> | null = null;
  /** Set by train.flush: the next step ends with a checkpoint. */
  private flushRequested = false;
  /** An imported PEFT adapter the next trainer starts from, for the model (source id) it was checked against. */
  private adopted: { modelKey: string; params: Record<string, Float32Array>; lora: RunConfig['lora'] } | null = null;
  /** Lessons: the metric the run measures on held-out prompts, and the step it was last measured at. */
  private lesson: { info: LessonRunInfo; probe: LessonProbe; measuredAt: number } | null = null;
  /** Work waiting for the loop's next step boundary (a prompt the user asked about while training). */
  private boundary: (() => Promise<void>)[] = [];

  /** Saved runs: records runs and writes their checkpoints to IndexedDB (./persist.ts). */
  readonly persist: RunPersistence;

  constructor(private readonly pg: Playground, persist?: RunPersistence) {
    this.persist = persist ?? new RunPersistence();
  }

  /** The prepared examples under the hyperparameters of `config` (data settings must match the preparation). */
  private sessionFor(config: RunConfig): { prepared: Prepared; session: RunSession } {
    const prepared = this.pg.requirePrepared();
    return { prepared, session: prepared.session.withConfig(config) };
  }

  /**
   * A trainer for `inputs` on the chosen backend. `toTrain`: it will run the training loop, so it asks for WebGPU graph
   * capture (used where the backend supports it; the label says so). The batch inspector and graph export build
   * without: the inspector reads the accumulate graph's outputs, which a replay would leave on its recorded buffers.
   */
  private async build(ctx: HandlerContext, choice: BackendChoice, inputs: RunInputs, toTrain: boolean, resume?: TrainerCheckpoint): Promise<Trainer> {
    await this.release();
    const model = await this.pg.loadedModel(ctx, inputs.prepared);
    ctx.emit({ type: 'progress', stage: 'Starting the backend', loaded: 0, total: null });
    const { backend, fallbackReason } = await this.pg.openedBackend(choice);
    ctx.emit({ type: 'progress', stage: 'Building the step graphs and sessions', loaded: 0, total: null });
    const adopted = !resume && this.adopted?.modelKey === inputs.prepared.source.id ? { initialAdapter: this.adopted.params } : {};
    const trainer = await inputs.session.createTrainer({ backend, model, ...(resume ? { resume } : {}), ...adopted, graphCapture: toTrain });
    this.trainer = trainer;
    this.builtFor = inputs.session;
    this.builtOn = choice;
    this.builtToTrain = toTrain;
    this.builtLabel = backend.label;
    this.deviceLost = backend.lost ?? null;
    this.info = {
      backend: backend.kind === 'webgpu' ? 'webgpu' : 'wasm',
      backendLabel: trainer.backendLabel,
      fallbackReason: fallbackReason ?? null,
      batch: trainer.shape.batch,
      seqLen: trainer.shape.seqLen,
      headRows: trainer.headRows,
      trainableTensors: trainer.graphs.trainable.length,
      trainableParameters: trainer.graphs.trainable.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
      totalSteps: trainer.totalSteps,
      step: trainer.step,
    };
    ctx.emit({ type: 'trainer', info: this.info });
    return trainer;
  }

  /** Whether the current trainer was built for these examples and hyperparameters on this backend. */
  private builtMatches(session: RunSession, choice: BackendChoice): boolean {
    const b = this.builtFor;
    return this.trainer !== null && b !== null && b.dataset === session.dataset && this.builtOn === choice && JSON.stringify(b.config) === JSON.stringify(session.config);
  }

  private notRunning(what: string): void {
    if (this.phase === 'running') throw new Error(`Cannot ${what} while training runs: pause or stop the run first.`);
  }

  /** Refuses new data while a run is running or paused on other data: its inputs are frozen until it ends. */
  checkDataChange(config: RunConfig, dataHash: string | null): void {
    const run = this.run;
    if (!run || (this.phase !== 'running' && this.phase !== 'paused')) return;
    if (dataKey(config) === dataKey(run.session.config) && (dataHash === null || dataHash === run.session.data.hash)) return;
    throw new Error(`A run is ${this.phase === 'running' ? 'training' : 'paused'} on ${run.session.data.name}: its data settings are fixed until it ends. Stop the run to change the dataset, template, mask, max length or split.`);
  }

  /** New examples were prepared: a run that trained on other data is over (it stays in saved runs); its trainer goes. */
  async prepared(p: Prepared): Promise<void> {
    const run = this.run;
    if (run && dataKey(run.session.config) === dataKey(p.session.config) && run.session.data.hash === p.session.data.hash) return;
    this.run = null;
    this.lastCheckpoint = null;
    this.phase = 'idle';
    await this.release();
  }

  async inspect(ctx: HandlerContext, choice: BackendChoice, config: RunConfig): Promise<BatchInspection> {
    this.notRunning('inspect a batch');
    const inputs = this.sessionFor(config);
    const trainer = this.builtMatches(inputs.session, choice) ? this.trainer! : await this.build(ctx, choice, inputs, false);
    if (this.info) ctx.emit({ type: 'trainer', info: { ...this.info, step: trainer.step } });
    const started = performance.now();
    const r = await inputs.session.inspect(trainer);
    const ms = performance.now() - started;
    // A captured trainer answers from an uncaptured session (Trainer.gradients): the label names what ran.
    const backendLabel = trainer.graphCapture.on ? `${this.builtLabel}, uncaptured for the inspection` : (this.info?.backendLabel ?? 'unknown');
    return batchInspection(r, inputs.prepared.tokenizer.tokenizer, summarizeGraph(trainer.graphs.train, { top: 12 }), trainer.headRows, ms, backendLabel, this.info?.fallbackReason ?? null);
  }

  /** `graph.export`: the trainer's graphs as ONNX files, zipped; the replayable step is the trainer's next one. */
  async exportGraphs(ctx: HandlerContext, choice: BackendChoice, config: RunConfig): Promise<GraphExportResult> {
    this.notRunning('export the graphs');
    const inputs = this.sessionFor(config);
    const trainer = this.builtMatches(inputs.session, choice) ? this.trainer! : await this.build(ctx, choice, inputs, false);
    const model = await this.pg.loadedModel(ctx, inputs.prepared);
    ctx.emit({ type: 'progress', stage: 'Writing the ONNX files', loaded: 0, total: null });
    const source = inputs.prepared.source;
    const out = await exportRunOnnx(trainer, model, { model: source.id, backend: this.info?.backendLabel ?? 'unknown', config: inputs.session.config });
    const stem = `${source.id.replace(/[^A-Za-z0-9._-]+/g, '_')}-step${trainer.step + 1}-onnx`;
    return { fileName: `${stem}.zip`, zip: zipParts(stem, out.files), files: out.files.map((f) => ({ path: f.path, bytes: f.bytes })) };
  }

  /** Runs `fn` with the current trainer (null before any run) at a step boundary: at once when no loop runs, else
   * between two steps of the running one, so it never reads the adapter mid-step or shares the device with a step. */
  atBoundary<T>(fn: (trainer: Trainer | null) => Promise<T>): Promise<T> {
    if (this.phase !== 'running') return fn(this.trainer);
    return new Promise<T>((resolve, reject) => this.boundary.push(() => fn(this.trainer).then(resolve, reject)));
  }

  /** Whether the current trainer was built on these prepared examples (its adapter fits their model). */
  trainedOn(p: Prepared): boolean {
    return this.trainer !== null && this.builtFor?.dataset === p.session.dataset;
  }

  private async drainBoundary(): Promise<void> {
    for (const job of this.boundary.splice(0)) await job();
  }

  /** Lessons: measures the run's lesson metric with the trainer's current adapter (once per step) and streams it. */
  private async measureLesson(ctx: HandlerContext, trainer: Trainer): Promise<void> {
    const l = this.lesson;
    if (!l || l.measuredAt === trainer.step) return;
    const m = await l.probe.measure(trainer);
    l.measuredAt = trainer.step;
    ctx.emit({ type: 'lesson-metric', measurement: { lesson: l.info.name, step: trainer.step, value: m.value, rows: m.rows.map((r) => ({ ...r })) } });
  }

  private async startLesson(ctx: HandlerContext, inputs: RunInputs, choice: BackendChoice, lesson: LessonRunInfo | undefined): Promise<void> {
    await this.lesson?.probe.release();
    this.lesson = null;
    if (!lesson) return;
    const model = await this.pg.loadedModel(ctx, inputs.prepared);
    const { backend } = await this.pg.openedBackend(choice);
    this.lesson = { info: lesson, probe: LessonProbe.create(lesson.metric, inputs.session, backend, model), measuredAt: -1 };
  }

  async start(ctx: HandlerContext, choice: BackendChoice, config: RunConfig, save?: RunSaveInfo, lesson?: LessonRunInfo): Promise<TrainOutcome> {
    this.notRunning('start another run');
    this.phase = 'running'; // claimed before the first await so a second start is refused
    try {
      const inputs = this.sessionFor(config);
      // A trainer that has not taken a step for exactly this run is reused (the batch inspector built it), unless it
      // was built without the graph capture a WebGPU run trains with.
      const captureFits = this.builtToTrain || this.info?.backend !== 'webgpu';
      const reuse = this.builtMatches(inputs.session, choice) && this.trainer!.step === 0 && this.run === null && captureFits;
      this.lastCheckpoint = null;
      const trainer = reuse ? this.trainer! : await this.build(ctx, choice, inputs, true);
      if (reuse && this.info) ctx.emit({ type: 'trainer', info: this.info });
      this.run = inputs;
      await this.persist.begin(inputs.prepared, inputs.session, save, this.info?.backend ?? 'unknown', ctx);
      const gate = new StepGate(ctx);
      ctx = this.persist.observe(gate.ctx);
      await this.emitSamples(ctx, await trainer.sample());
      await this.startLesson(ctx, inputs, choice, lesson);
      await this.measureLesson(ctx, trainer);
      return await this.loop(ctx, trainer, gate);
    } finally {
      if (this.phase === 'running') this.phase = 'paused';
      void this.drainBoundary(); // asked for during the run's last step: answered now
    }
  }

  /** The latest checkpoint as the two files src/train writes, or null before the first one. */
  checkpointFiles(): CheckpointFiles | null {
    const c = this.lastCheckpoint;
    return c ? { step: c.step, files: Object.fromEntries(checkpointFiles(c)) } : null;
  }

  /** Continues the paused run, or rebuilds one from a checkpoint (saved in IndexedDB, or files) on the prepared
   * examples under `config` (the saved run's config, which the page restored before preparing). */
  async resume(ctx: HandlerContext, saved?: CheckpointFiles, choice?: BackendChoice, runId?: string, config?: RunConfig): Promise<TrainOutcome> {
    this.notRunning('resume');
    if (this.phase === 'stopped' && !saved && !runId) throw new Error('This run was stopped; press Start for a new run.');
    const previous = this.phase;
    this.phase = 'running';
    try {
      let trainer = this.trainer;
      const gate = new StepGate(ctx);
      ctx = this.persist.observe(gate.ctx);
      const rebuild = async (checkpoint: TrainerCheckpoint, on: BackendChoice): Promise<Trainer> => {
        const baseConfig = config ?? this.run?.session.config;
        if (!baseConfig) throw new Error('There is no run configuration to resume with; press Start.');
        this.run = this.sessionFor(baseConfig);
        this.lastCheckpoint = checkpoint;
        return this.build(ctx, on, this.run, true, checkpoint);
      };
      if (runId) {
        // A run saved in IndexedDB (after a reload): its latest checkpoint, and it goes on being saved there.
        trainer = await rebuild((await this.persist.attach(runId)).checkpoint, choice ?? this.builtOn);
      } else if (saved) {
        this.persist.detach();
        const tensors = saved.files[CHECKPOINT_TENSORS];
        const state = saved.files[CHECKPOINT_STATE];
        if (!tensors || !state) throw new Error(`A checkpoint needs ${CHECKPOINT_TENSORS} and ${CHECKPOINT_STATE}; got ${Object.keys(saved.files).join(', ') || 'no files'}.`);
        trainer = await rebuild(parseCheckpoint(tensors, state, 'the saved checkpoint'), choice ?? this.builtOn);
      } else if (!trainer || previous === 'idle') {
        if (!this.lastCheckpoint || !this.run) throw new Error('There is no paused run or checkpoint to resume; press Start.');
        trainer = await this.build(ctx, this.builtOn, this.run, true, this.lastCheckpoint);
      } else if (this.info) {
        ctx.emit({ type: 'trainer', info: { ...this.info, step: trainer.step } });
      }
      return await this.loop(ctx, trainer, gate);
    } finally {
      if (this.phase === 'running') this.phase = 'paused';
      void this.drainBoundary(); // asked for during the run's last step: answered now
    }
  }

  /** `train.handoff`: the port to the checkpoint service worker; recovery points are handed to it from now on. */
  handOffTo(port: MessagePort): { connected: true } {
    this.persist.connectHandoff(port);
    return { connected: true };
  }

  /** The page is going away: the loop writes a checkpoint after the step under way (without a service worker). */
  flush(): { step: number } {
    this.flushRequested = true;
    return { step: this.trainer?.step ?? 0 };
  }

  /** Loads checkpoint files into a trainer for the prepared examples under `config` (the saved run's), paused at
   * the checkpoint's step, and samples from it. Resume continues from it; export and push write its adapter. Later
   * checkpoints of the continued run stay in memory (the saved run keeps the ones it has). */
  async open(ctx: HandlerContext, saved: CheckpointFiles, choice: BackendChoice, config: RunConfig): Promise<TrainerInfo> {
    this.notRunning('load a checkpoint');
    const tensors = saved.files[CHECKPOINT_TENSORS];
    const state = saved.files[CHECKPOINT_STATE];
    if (!tensors || !state) throw new Error(`A checkpoint needs ${CHECKPOINT_TENSORS} and ${CHECKPOINT_STATE}; got ${Object.keys(saved.files).join(', ') || 'no files'}.`);
    const checkpoint = parseCheckpoint(tensors, state, `the checkpoint at step ${saved.step}`);
    this.persist.detach();
    const inputs = this.sessionFor(config);
    const trainer = await this.build(ctx, choice, inputs, true, checkpoint);
    this.run = inputs;
    this.lastCheckpoint = checkpoint;
    this.phase = 'paused';
    ctx.emit({ type: 'progress', stage: `Sampling from the checkpoint at step ${trainer.step}`, loaded: 0, total: null });
    await this.emitSamples(ctx, await trainer.sample());
    if (!this.info) throw new Error('The trainer was built without its description; this is a bug.');
    return { ...this.info, step: trainer.step };
  }

  pause(): { step: number } {
    this.flag.aborted = true;
    return { step: this.trainer?.step ?? 0 };
  }

  stop(): { step: number } {
    this.stopRequested = true;
    this.flag.aborted = true;
    if (this.phase !== 'running') this.phase = 'stopped';
    return { step: this.trainer?.step ?? 0 };
  }

  private async emitSamples(ctx: HandlerContext, r: SampleRecord): Promise<void> {
    const session = this.run?.session ?? this.pg.requirePrepared().session;
    const tok = session.tokenizer.tokenizer;
    const prompts = session.samplePrompts();
    const samples: GeneratedSample[] = r.tokens.map((tokens, i) => ({
      prompt: tok.decode(prompts[i] ?? []),
      completion: tok.decode(tokens),
      tokens,
    }));
    ctx.emit({ type: 'samples', step: r.step, samples });
  }

  private outcome(reason: TrainOutcome['reason'], step: number, text: string | null): TrainOutcome {
    return { reason, step, totalSteps: this.info?.totalSteps ?? 0, message: text, recoverable: this.lastCheckpoint !== null || this.trainer !== null };
  }

  /** Why the device was lost, when an error of the loop was its symptom: a destroyed device fails ORT's pending work
   * (a buffer read "unmapped before mapping was resolved") before, or just after, GPUDevice.lost settles. Null when
   * the device is still there after a short wait, so the error is the run's own. */

  private async loop(ctx: HandlerContext, trainer: Trainer, gate: StepGate): Promise<TrainOutcome> {
    const flag = { aborted: false };
    let storageFull = false;
    this.flag = flag;
    this.stopRequested = false;
    // Cancelling the request (the page went away, or the client aborted it) pauses the loop like the Pause button.
    ctx.signal.addEventListener('abort', () => (flag.aborted = true), { once: true });
    // Once the device is lost nothing the abandoned run still reports (a step finishing on dead buffers) counts.
    let live = true;
    const autosaves = new AutosaveBudget();
    let autosaveOff = false;
    // With the checkpoint service worker, recovery points are handed to it, and the page hears of a step only once a
    // state at or past it was handed over or written: steps whose hand-off the time budget skipped are shown with the
    // next one that is handed off. Without one (or after a failed write there) the worker autosaves itself within the
    // same budget and the page hears of every step at once, as the loss of a few steps is then possible anyway.
    this.persist.retryHandoff();
    gate.hold(this.persist.handingOff);
    try {
      const running = trainer.run({
        signal: flag,
        onStep: (r) => live && ctx.emit({ type: 'step', step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, targetTokens: r.targetTokens, ms: r.ms, epoch: r.epoch }),
        onEval: (r) => live && ctx.emit({ type: 'eval', step: r.step, loss: r.loss, targetTokens: r.targetTokens }),
        onSample: async (r) => {
          if (!live) return;
          await this.emitSamples(ctx, r);
          await this.measureLesson(ctx, trainer);
        },
        between: () => {
          if (!this.persist.handingOff) gate.hold(false); // the service worker failed a write: back to autosaves
          return this.drainBoundary();
        },
        onCheckpoint: async (c) => {
          if (!live) return;
          this.lastCheckpoint = c;
          // Storage full: pause rather than train steps that could not be saved (saved runs).
          if (!(await autosaves.timed(() => this.persist.save(c, 'interval', ctx, c.step >= trainer.totalSteps)))) storageFull = true;
          if (storageFull) flag.aborted = true;
          gate.pass();
        },
        autosave: () => {
          const now = (this.flushRequested || autosaves.due()) && live && !autosaveOff && this.persist.saving;
          this.flushRequested = false;
          if (now) autosaves.begin();
          return now;
        },
        onAutosave: async (c) => {
          if (!live) return;
          this.lastCheckpoint = c;
          if (this.persist.handingOff) {
            await autosaves.timed(() => Promise.resolve(this.persist.handOff(c)));
            gate.pass();
            return;
          }
          // A failed autosave (storage full, or failing) turns autosaves off for this loop; the run's own checkpoints
          // still report and handle the failure.
          if (!(await autosaves.timed(() => this.persist.save(c, 'autosave', ctx)))) autosaveOff = true;
        },
      });
      // A lost device can leave ORT's pending GPU work unsettled forever: the loss itself ends the loop. The abandoned
      // run is told to stop and its eventual rejection (buffers gone) is expected, so it is swallowed.
      const lost = this.deviceLost;
      if (lost) running.catch(() => undefined);
      const result = await (lost
        ? Promise.race([running, lost.then((why) => {
          live = false;
          flag.aborted = true;
          throw new DeviceLostError(why);
        })])
        : running).catch((e: unknown) => {
        gate.hold(false);
        throw e;
      });
      if (result.reason === 'stopped') {
        this.lastCheckpoint = await trainer.checkpoint();
        await this.persist.save(this.lastCheckpoint, this.stopRequested ? 'stop' : 'pause', ctx);
        await this.persist.setStatus(this.stopRequested ? 'stopped' : 'paused');
        gate.hold(false); // the steps not handed off are in the checkpoint just written
        if (this.stopRequested) {
          this.phase = 'stopped';
          return this.outcome('stopped', result.step, `Stopped at step ${result.step}. Press Start for a new run.`);
        }
        return this.outcome('paused', result.step, storageFull
          ? `Paused at step ${result.step}: browser storage is full, so the checkpoint was not saved. Delete old runs or checkpoints in the Checkpoints panel, then press Resume.`
          : null);
      }
      if (result.reason === 'non-finite') {
        gate.hold(false);
        await this.persist.setStatus('failed');
        return this.outcome('non-finite', result.step,
          `Step ${result.badStep ?? '?'} produced a NaN/Inf loss or gradient norm, so training stopped and kept the last good checkpoint (step ${result.step}). ` +
          'Lower the learning rate or set a max gradient norm, then start again.');
      }
      // Every run ends with samples from its final adapter, whatever the cadence (sample every 0, or a step count the
      // cadence does not divide), so the Samples panel always shows where training arrived.
      const every = this.run?.session.config.train.sampleEvery ?? 0;
      if (live && (every === 0 || result.step % every !== 0)) await this.emitSamples(ctx, await trainer.sample());
      await this.measureLesson(ctx, trainer);
      this.lastCheckpoint = await trainer.checkpoint();
      // A final checkpoint that did not fit leaves the run resumable from its last saved one.
      const kept = !storageFull && (await this.persist.save(this.lastCheckpoint, 'complete', ctx, true));
      gate.hold(false);
      await this.persist.setStatus(kept ? 'finished' : 'paused');
      return this.outcome('completed', result.step, null);
    } catch (err) {
      gate.hold(false);
      const why = lossOf(err) ?? await lostWithinGrace(this.deviceLost);
      if (why === null) throw err;
      // The GPU device is gone with every buffer on it: drop the trainer and backend; resume rebuilds from the checkpoint.
      this.trainer = null;
      this.pg.dropBackend(this.builtOn);
      await this.persist.setStatus('paused'); // a reload offers to resume it from the saved checkpoint
      const at = this.lastCheckpoint?.step;
      return this.outcome('device-lost', at ?? 0,
        `The WebGPU device was lost (${why}). ` +
        (at !== undefined ? `Press Resume to continue from the checkpoint at step ${at} on a new device.` : 'Press Start to begin again on a new device.'));
    }
  }

  // run export / adapter import -------------------------------------------------------------------------------
  /** What host/export.ts writes into a run zip: the latest checkpoint, the LoRA plan of the trainer that made it
   * (null once the trainer is gone, e.g. after a device loss) and whether the loop is running. */
  exportable(): { checkpoint: TrainerCheckpoint | null; plan: Trainer['plan'] | null; running: boolean; info: TrainerInfo | null; run: RunInputs | null } {
    return { checkpoint: this.lastCheckpoint, plan: this.trainer?.plan ?? null, running: this.phase === 'running', info: this.info, run: this.run };
  }

  /** Makes an imported adapter (already checked against the prepared model) the one samples, the batch inspector and
   * the next run start from; the current trainer is dropped so the next request builds one with it. */
  async adoptAdapter(params: Record<string, Float32Array>, lora: RunConfig['lora']): Promise<void> {
    this.notRunning('import an adapter');
    this.adopted = { modelKey: this.pg.requirePrepared().source.id, params, lora };
    this.lastCheckpoint = null;
    this.run = null;
    this.phase = 'idle';
    await this.release();
  }

  /** Before any training, an imported adapter is what export and push write: a trainer is built on it (under the
   * adapter's LoRA settings) and its step-0 state becomes the checkpoint they read. False when there is none. */
  async checkpointAdopted(ctx: HandlerContext): Promise<boolean> {
    const adopted = this.adopted;
    const prepared = this.pg.prepared;
    if (this.lastCheckpoint || !adopted || !prepared || adopted.modelKey !== prepared.source.id) return false;
    this.notRunning('export the imported adapter');
    // The page's config under the adapter's LoRA settings, pinned to the commit the model loaded from (exports say it).
    const base = prepared.session.config;
    const sha = prepared.summary.sha;
    const inputs = this.sessionFor({ ...base, model: { ...base.model, ...(sha ? { sha } : {}) }, lora: adopted.lora });
    const trainer = this.builtMatches(inputs.session, this.builtOn) && this.trainer!.step === 0 ? this.trainer! : await this.build(ctx, this.builtOn, inputs, false);
    this.run = inputs;
    this.lastCheckpoint = await trainer.checkpoint();
    return true;
  }

  async release(): Promise<void> {
    const t = this.trainer;
    this.trainer = null;
    this.builtFor = null;
    await t?.release();
  }
}
