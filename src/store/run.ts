// The run: its slice (the run config the panels edit, the prepared examples, one example, the batch inspection, the
// trainer and how the run ended) and its actions — prepare the examples (tokenizer + dataset + mask policy), show one
// example, inspect one batch, and start / pause / resume / stop training, turning the worker's streamed events into
// store updates. Metric points are buffered and written at most every FLUSH_MS so a fast GPU cannot make the charts
// re-render on every step.
import { WorkerRequestError, type RequestOptions, type WorkerClient } from '../worker/client';
import type {
  BackendChoice, BatchInspection, CheckpointFiles, ExampleDetail, LessonRunInfo, PreparedRun, TemplateCheck, TrainerInfo, TrainOutcome, WorkerEvent,
} from '../worker/protocol';
import { errorMessage } from '../share/labels';
import { detectDegeneration } from '../share/degeneration';
import { createCheckpointActions, runSaveInfo, type CheckpointActions } from './checkpoints'; // saved runs
import { selectModelLocation } from './selectors';
import type { StateCreator } from 'zustand/vanilla';
import type { AppStore } from './store';
import { dataKey, defaultRunConfig, type RunConfig } from '../share/run-config';
import type { AppState, LoadState, MetricPoint, RunPhase } from './slices';

/** Longest delay between a step finishing in the worker and its point reaching the charts. */
const FLUSH_MS = 1000;
/** Edits to a data setting settle for this long before the examples are rebuilt. */
export const PREPARE_DEBOUNCE_MS = 300;

export interface RunSlice {
  /** The run configuration the panels edit (mask, max length, LoRA, hyperparameters, seed), schema defaults first. */
  runConfig: RunConfig;
  /** WebGPU when available (`auto`) or the CPU (`wasm`); not part of the run config: it changes speed, not results. */
  backendChoice: BackendChoice;
  prepared: PreparedRun | null;
  preparedState: LoadState;
  exampleIndex: number;
  example: ExampleDetail | null;
  exampleState: LoadState;
  inspection: BatchInspection | null;
  inspectionState: LoadState;
  trainer: TrainerInfo | null;
  /** Progress of building the trainer (weights download, graphs, sessions) while phase is `starting`. */
  trainerState: LoadState;
  outcome: TrainOutcome | null;
  /** The inputs of the run started last, frozen at its start: what exports and links describe while the run's adapter
   * exists. Null before a run, and once new data ends it. */
  trained: TrainedInputs | null;
  setRunConfig(config: RunConfig): void;
  setBackendChoice(choice: BackendChoice): void;
  setPrepared(prepared: PreparedRun | null, state: LoadState): void;
  setExample(index: number, example: ExampleDetail | null, state: LoadState): void;
  setInspection(inspection: BatchInspection | null, state: LoadState): void;
  setTrainer(info: TrainerInfo | null): void;
  setTrainerState(state: LoadState): void;
  setOutcome(outcome: TrainOutcome | null): void;
  setTrained(trained: TrainedInputs | null): void;
}

interface TrainedInputs {
  readonly config: RunConfig;
  readonly dataName: string;
  /** Content hash of the rows trained on, as the worker prepared them. */
  readonly dataHash: string;
}

export const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set) => ({
  runConfig: defaultRunConfig(),
  backendChoice: 'auto',
  prepared: null,
  preparedState: { status: 'idle' },
  exampleIndex: 0,
  example: null,
  exampleState: { status: 'idle' },
  inspection: null,
  inspectionState: { status: 'idle' },
  trainer: null,
  trainerState: { status: 'idle' },
  outcome: null,
  trained: null,
  setRunConfig: (runConfig) => set({ runConfig }),
  setBackendChoice: (backendChoice) => set({ backendChoice }),
  setPrepared: (prepared, preparedState) => set({ prepared, preparedState }),
  setExample: (exampleIndex, example, exampleState) => set({ exampleIndex, example, exampleState }),
  setInspection: (inspection, inspectionState) => set({ inspection, inspectionState }),
  setTrainer: (trainer) => set({ trainer }),
  setTrainerState: (trainerState) => set({ trainerState }),
  setOutcome: (outcome) => set({ outcome }),
  setTrained: (trained) => set({ trained }),
});

export interface RunActions {
  /** Re-renders and re-masks the dataset with the current model, dataset and run config (no weights needed). */
  prepare(): Promise<void>;
  /** prepare() once edits have settled for PREPARE_DEBOUNCE_MS (typing a number); a direct prepare() supersedes it. */
  prepareSoon(): void;
  showExample(index: number): Promise<void>;
  /** Checks an edited chat template in the worker (parse, then the first rows rendered); never throws. */
  checkTemplate(source: string): Promise<TemplateCheck>;
  inspectBatch(): Promise<void>;
  /** A fresh run; with `lesson`, the worker also measures the lesson's metric (lessons). */
  start(lesson?: LessonRunInfo): Promise<void>;
  resume(): Promise<void>;
  /** The page is going away: the worker writes a checkpoint after the step under way. */
  flush(): Promise<void>;
  pause(): Promise<void>;
  stop(): Promise<void>;
  // saved runs
  /** Continues a run saved in IndexedDB from its latest checkpoint (after a reload); keeps the metrics shown. */
  resumeStored(runId: string): Promise<void>;
  checkpoints: CheckpointActions;
  // run import
  /** Continues from checkpoint files (an imported run zip's), on the prepared examples; keeps the metrics shown. */
  resumeFrom(checkpoint: CheckpointFiles): Promise<void>;
  /** Loads a saved checkpoint (any of a run's, the best one included) on the prepared examples: its history up to that
   * step comes back, the model samples from it at once, and the run is paused there (Resume goes on from it; export
   * and push write its adapter). The run's data settings are applied first when they differ. Never throws. */
  openCheckpoint(runId: string, checkpointId: string): Promise<void>;
}


function isCancel(err: unknown): boolean {
  return err instanceof WorkerRequestError && err.cancelled;
}

const PHASE_AFTER: Record<TrainOutcome['reason'], RunPhase> = {
  completed: 'completed',
  paused: 'paused',
  stopped: 'stopped',
  'non-finite': 'failed',
  'device-lost': 'failed', // 'paused' when a checkpoint or the trainer is left to resume from (phaseAfter)
  failed: 'failed',
};

/** The phase a run ends in: a device loss with something to resume from is a pause, said by the outcome's message. */
function phaseAfter(outcome: TrainOutcome): RunPhase {
  return outcome.reason === 'device-lost' && outcome.recoverable ? 'paused' : PHASE_AFTER[outcome.reason];
}

export function isTraining(phase: RunPhase): boolean {
  return phase === 'starting' || phase === 'running' || phase === 'pausing';
}

/** Re-prepares the examples when a data setting of the run config changes (template, mask, max length, split, data);
 * hyperparameters (LoRA, optimizer, steps) travel with Start and the batch inspector and never re-tokenise. Returns the
 * unsubscribe function. */
export function reprepareOnDataChange(store: AppStore, run: Pick<RunActions, 'prepareSoon'>): () => void {
  return store.subscribe((state, previous) => {
    if (state.runConfig === previous.runConfig || dataKey(state.runConfig) === dataKey(previous.runConfig)) return;
    // Mark the examples stale at once, so nothing (Start, the batch inspector, a test) acts on the old settings.
    if (state.dataset) state.setPrepared(state.prepared, { status: 'loading', stage: 'Applying the new settings', loaded: 0, total: null });
    run.prepareSoon();
  });
}

export function createRunActions(store: AppStore, client: WorkerClient): RunActions {
  let prepareCall: AbortController | null = null;
  let prepareTimer: ReturnType<typeof setTimeout> | null = null;
  let pending: MetricPoint[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const checkpoints = createCheckpointActions(store, client); // saved runs

  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const points = pending;
    pending = [];
    for (const p of points) store.getState().appendMetric(p);
  };
  const queue = (point: MetricPoint): void => {
    pending.push(point);
    timer ??= setTimeout(flush, FLUSH_MS);
  };

  const onTrainEvent = (e: WorkerEvent): void => {
    const s = store.getState();
    switch (e.type) {
      case 'progress':
        s.setTrainerState({ status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
        return;
      case 'trainer':
        s.setTrainer(e.info);
        s.setTrainerState({ status: 'ready' });
        if (s.phase === 'starting') s.setPhase('running');
        return;
      case 'step':
        queue({
          step: e.step, trainLoss: e.loss, learningRate: e.lr, gradNorm: e.gradNorm, ms: e.ms,
          tokensPerSecond: e.ms > 0 ? (1000 * e.targetTokens) / e.ms : undefined,
        } as MetricPoint);
        return;
      case 'eval':
        queue({ step: e.step, evalLoss: e.loss });
        return;
      case 'samples':
        e.samples.forEach((sample, promptIndex) => {
          s.addSample({ step: e.step, promptIndex, prompt: sample.prompt, completion: sample.completion, flags: detectDegeneration(sample.tokens, sample.completion) });
        });
        return;
      case 'lesson-metric': // lessons
        queue({ step: e.measurement.step, lessonMetric: e.measurement.value });
        return;
      case 'log':
        return;
      case 'checkpoint': // saved runs
      case 'storage-error':
        checkpoints.onTrainEvent(e);
        return;
    }
  };

  const trainOptions: RequestOptions = { onEvent: onTrainEvent };

  const finish = (outcome: TrainOutcome): void => {
    flush();
    const s = store.getState();
    s.setOutcome(outcome);
    s.setPhase(phaseAfter(outcome));
    void checkpoints.refresh(); // saved runs: the run's status changed with the outcome
  };
  const fail = (err: unknown): void => {
    flush();
    const s = store.getState();
    s.setTrainerState({ status: 'error', message: errorMessage(err) });
    s.setOutcome({ reason: 'failed', step: s.step, totalSteps: s.trainer?.totalSteps ?? 0, message: errorMessage(err), recoverable: false });
    s.setPhase('failed');
  };

  const showExample = async (index: number): Promise<void> => {
    const s = store.getState();
    s.setExample(index, s.example, { status: 'loading', stage: `Example ${index + 1}`, loaded: 0, total: null });
    try {
      const example = await client.request('example.get', { index });
      if (store.getState().exampleIndex === index) store.getState().setExample(index, example, { status: 'ready' });
    } catch (err) {
      store.getState().setExample(index, null, { status: 'error', message: errorMessage(err) });
    }
  };

  const actions: RunActions = {
    prepareSoon() {
      if (prepareTimer !== null) clearTimeout(prepareTimer);
      prepareTimer = setTimeout(() => void actions.prepare(), PREPARE_DEBOUNCE_MS);
    },

    async prepare() {
      if (prepareTimer !== null) clearTimeout(prepareTimer);
      prepareTimer = null;
      const s = store.getState();
      const dataset = s.dataset;
      if (!dataset || isTraining(s.phase)) return;
      prepareCall?.abort();
      const controller = new AbortController();
      prepareCall = controller;
      s.setPrepared(s.prepared, { status: 'loading', stage: 'Preparing examples', loaded: 0, total: null });
      s.setInspection(null, { status: 'idle' });
      try {
        const prepared = await client.request('run.prepare', {
          location: selectModelLocation(s),
          dataset: { kind: 'previewed', hash: dataset.hash, name: dataset.name },
          config: s.runConfig,
        }, {
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'progress' && prepareCall === controller) {
              store.getState().setPrepared(store.getState().prepared, { status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
            }
          },
        });
        const now = store.getState();
        // New data ends the run that trained on the old (it stays in saved runs): its charts and samples go with it.
        if (now.trained && (dataKey(now.trained.config) !== dataKey(now.runConfig) || now.trained.dataHash !== prepared.dataHash)) {
          now.setTrained(null);
          now.resetMetrics();
          now.resetSamples();
          now.setOutcome(null);
          now.setTrainer(null);
          now.setPhase('idle');
        }
        store.getState().setPrepared(prepared, { status: 'ready' });
        if (prepared.examples.length > 0) await showExample(Math.min(store.getState().exampleIndex, prepared.examples.length - 1));
        else store.getState().setExample(0, null, { status: 'idle' });
      } catch (err) {
        if (isCancel(err)) return;
        // The worker keeps the examples it prepared last when a preparation fails: so does the page, while they are of
        // the dataset still loaded (Start refuses them if the data settings differ: "prepare the examples again").
        const now = store.getState();
        const kept = now.prepared && now.dataset && now.prepared.dataHash === now.dataset.hash ? now.prepared : null;
        now.setPrepared(kept, { status: 'error', message: errorMessage(err) });
      } finally {
        if (prepareCall === controller) prepareCall = null;
      }
    },

    showExample,

    async checkTemplate(source) {
      try {
        return await client.request('template.check', { source, kwargs: store.getState().runConfig.template.kwargs });
      } catch (err) {
        return { ok: false, message: errorMessage(err), line: null, column: null };
      }
    },

    async inspectBatch() {
      const s = store.getState();
      s.setInspection(null, { status: 'loading', stage: 'Running one batch through the step graph', loaded: 0, total: null });
      try {
        const inspection = await client.request('batch.inspect', { backend: s.backendChoice, config: s.runConfig }, {
          onEvent: (e) => {
            if (e.type === 'trainer') store.getState().setTrainer(e.info);
            if (e.type === 'progress') store.getState().setInspection(null, { status: 'loading', stage: e.stage, loaded: e.loaded, total: e.total });
          },
        });
        store.getState().setInspection(inspection, { status: 'ready' });
      } catch (err) {
        store.getState().setInspection(null, { status: 'error', message: errorMessage(err) });
      }
    },

    async start(lesson) {
      const s = store.getState();
      if (isTraining(s.phase)) return;
      s.resetMetrics();
      s.resetSamples();
      s.setOutcome(null);
      s.setTrainerState({ status: 'loading', stage: 'Preparing the trainer', loaded: 0, total: null });
      s.setPhase('starting');
      try {
        const save = runSaveInfo(s); // saved runs: the worker records the run and checkpoints it
        s.setTrained({ config: s.runConfig, dataName: s.prepared?.dataName ?? '', dataHash: s.prepared?.dataHash ?? '' });
        finish(await client.request('train.start', { backend: s.backendChoice, config: s.runConfig, ...(save ? { save } : {}), ...(lesson ? { lesson } : {}) }, trainOptions));
      } catch (err) {
        fail(err);
      }
    },

    async resume() {
      const s = store.getState();
      if (isTraining(s.phase)) return;
      const from = s.outcome;
      // After a device loss the run continues from its checkpoint: points past it will be logged again.
      if (from?.reason === 'device-lost') {
        const kept = s.metrics.filter((m) => m.step <= from.step);
        s.resetMetrics();
        kept.forEach((m) => store.getState().appendMetric(m));
      }
      s.setOutcome(null);
      s.setPhase('starting');
      try {
        finish(await client.request('train.resume', {}, trainOptions));
      } catch (err) {
        fail(err);
      }
    },

    // saved runs
    async resumeStored(runId) {
      const s = store.getState();
      if (isTraining(s.phase)) return;
      s.setOutcome(null);
      s.setTrainerState({ status: 'loading', stage: 'Rebuilding the trainer from the saved checkpoint', loaded: 0, total: null });
      s.setPhase('starting');
      try {
        s.setTrained({ config: s.runConfig, dataName: s.prepared?.dataName ?? '', dataHash: s.prepared?.dataHash ?? '' });
        finish(await client.request('train.resume', { runId, backend: s.backendChoice, config: s.runConfig }, trainOptions));
      } catch (err) {
        fail(err);
      }
    },

    checkpoints,

    // run import
    async resumeFrom(checkpoint) {
      const s = store.getState();
      if (isTraining(s.phase)) return;
      s.setOutcome(null);
      s.setTrainerState({ status: 'loading', stage: `Rebuilding the trainer from the checkpoint at step ${checkpoint.step}`, loaded: 0, total: null });
      s.setPhase('starting');
      try {
        s.setTrained({ config: s.runConfig, dataName: s.prepared?.dataName ?? '', dataHash: s.prepared?.dataHash ?? '' });
        finish(await client.request('train.resume', { checkpoint, backend: s.backendChoice, config: s.runConfig }, trainOptions));
      } catch (err) {
        fail(err);
      }
    },

    async flush() {
      if (isTraining(store.getState().phase)) await client.request('train.flush', {}).catch(() => undefined);
    },

    async openCheckpoint(runId, checkpointId) {
      const s = store.getState();
      if (isTraining(s.phase)) return;
      s.setOutcome(null);
      s.setTrainerState({ status: 'loading', stage: 'Reading the checkpoint', loaded: 0, total: null });
      try {
        const history = await client.request('storage.load', { runId, which: checkpointId });
        if (!history) throw new Error('That checkpoint was deleted meanwhile.');
        const { run } = history;
        const now = store.getState();
        const modelSha = now.prepared?.sha ?? now.model?.sha;
        if (!now.dataset || now.dataset.hash.replace(/^sha256:/, '') !== run.manifest.dataset.hash || (modelSha && modelSha !== run.manifest.model.sha)) {
          throw new Error(`${run.name} trained ${run.manifest.model.repo} on a dataset with hash ${run.manifest.dataset.hash.slice(0, 12)}…; load that model and dataset first (or reload the page and accept the offer to resume it).`);
        }
        // The run's own data settings and hyperparameters: the checkpoint's tensors fit only its LoRA shape.
        if (dataKey(run.config) !== dataKey(now.runConfig) || now.preparedState.status !== 'ready') {
          now.setRunConfig(run.config);
          await actions.prepare();
          if (store.getState().preparedState.status !== 'ready') throw new Error('Its examples could not be prepared again.');
        } else if (JSON.stringify(run.config) !== JSON.stringify(now.runConfig)) {
          now.setRunConfig(run.config);
        }
        const after = store.getState();
        after.resetMetrics();
        after.resetSamples();
        history.metrics.forEach((m) => store.getState().appendMetric(m));
        const perStep = new Map<number, number>();
        for (const sample of history.samples) {
          if (sample.step === history.files.step) continue; // sampled again from the checkpoint below
          const promptIndex = perStep.get(sample.step) ?? 0;
          perStep.set(sample.step, promptIndex + 1);
          store.getState().addSample({ step: sample.step, promptIndex, prompt: sample.prompt, completion: sample.completion, flags: sample.flags });
        }
        store.getState().setTrained({ config: run.config, dataName: after.prepared?.dataName ?? '', dataHash: after.prepared?.dataHash ?? '' });
        const info = await client.request('checkpoint.open', { checkpoint: history.files, backend: after.backendChoice, config: run.config }, trainOptions);
        const done = store.getState();
        done.setTrainer(info);
        done.setTrainerState({ status: 'ready' });
        done.setPhase('paused');
        done.setOutcome({
          reason: 'paused', step: info.step, totalSteps: info.totalSteps, recoverable: true,
          message: `Loaded the checkpoint at step ${info.step} of ${run.name}; its samples are in the Samples panel. Resume trains on from it; export and push write its adapter.`,
        });
      } catch (err) {
        store.getState().setTrainerState({ status: 'error', message: `Could not load the checkpoint: ${errorMessage(err)}` });
      }
    },

    async pause() {
      if (store.getState().phase !== 'running') return;
      store.getState().setPhase('pausing');
      await client.request('train.pause', {});
    },

    async stop() {
      const phase = store.getState().phase;
      await client.request('train.stop', {});
      // A running loop answers its own request with `stopped`; a paused run has no request left to answer.
      if (!isTraining(phase)) {
        flush();
        store.getState().setPhase('stopped');
      }
    },
  };
  return actions;
}
