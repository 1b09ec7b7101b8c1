// The app store's shape: one interface per slice, combined into AppState. Plain data only — no tensors, no
// sessions, no class instances — so the state can be logged, compared in tests and exposed to e2e as JSON.
import type { RunConfig } from '../share/run-config';
import type { ShareSlice } from './share-slice'; // share links, run export/import
import type { CheckpointsSlice } from './checkpoints-slice'; // saved runs, resume
import type { ModelPanelSlice } from './model-panel'; // model panel: download, tokenizer, cache
import type {
  BackendChoice, BatchInspection, BundledDataset, Capability, DatasetMapping, DatasetPreview, ExampleDetail, ModelSummary, PreparedRun, TrainerInfo, TrainOutcome,
} from '../worker/protocol';

export type ThemeChoice = 'system' | 'light' | 'dark';

/** Which model the app shows: the bundled demo (served by the app itself) or a repo on the configured Hub. */
export type ModelChoice = { kind: 'bundled' } | { kind: 'hub'; repo: string; revision: string };

/** Which dataset the Data panel shows: a bundled sample file (under /datasets/) or a file the user uploaded. */
export type DatasetChoice = { kind: 'bundled'; file: string } | { kind: 'upload'; name: string }
  // Data panel: a dataset repo on the configured Hub, one file or the train split; `name` is what the panel shows.
  | { kind: 'hub'; name: string; repo: string; revision: string; file?: string };

export interface ConfigSlice {
  /** Origin the app is served from; the bundled demo's Hub endpoint is `${origin}/hub`. */
  origin: string;
  /** Hub endpoint for non-bundled models, like HF_ENDPOINT. Default: the public Hub. */
  hubEndpoint: string;
  modelChoice: ModelChoice;
  /** null until the bundled list arrives (then its first entry) or the user picks a file. */
  datasetChoice: DatasetChoice | null;
  theme: ThemeChoice;
  setHubEndpoint(endpoint: string): void;
  chooseModel(choice: ModelChoice): void;
  chooseDataset(choice: DatasetChoice): void;
  setTheme(theme: ThemeChoice): void;
}

export type LoadState =
  | { status: 'idle' }
  | { status: 'loading'; stage: string; loaded: number; total: number | null }
  | { status: 'ready' }
  | { status: 'error'; message: string };

/** `starting`: weights loading and graphs building before the first step; `completed`: every step done. */
export type RunPhase = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopped' | 'completed' | 'failed';

interface AppError {
  id: number;
  /** What was being done (`model`, `dataset`, `capability`, `worker`). */
  source: string;
  message: string;
}

export interface RunStatusSlice {
  phase: RunPhase;
  /** Last optimizer step finished; 0 before training. */
  step: number;
  errors: AppError[];
  reportError(source: string, message: string): void;
  dismissError(id: number): void;
  setPhase(phase: RunPhase): void;
}

/** One logged optimizer step; fields absent when not measured at that step (eval runs every N steps). */
export interface MetricPoint {
  step: number;
  trainLoss?: number;
  evalLoss?: number;
  learningRate?: number;
  gradNorm?: number;
  tokensPerSecond?: number;
  /** Wall time of the step in the worker. */
  ms?: number;
  /** Lessons: the lesson's metric (stop rate, held-out accuracy, …) measured at this step. */
  lessonMetric?: number;
}

export interface MetricsSlice {
  metrics: MetricPoint[];
  /** Adds a point, or merges it into the last one when it has the same step (eval after train at step N). */
  appendMetric(point: MetricPoint): void;
  resetMetrics(): void;
}

export interface Sample {
  step: number;
  /** Which fixed prompt (0-based); samples of one prompt line up across steps. */
  promptIndex: number;
  prompt: string;
  completion: string;
  /** Degeneration flags (`repeated-ngram`, `empty`, ...); empty when the sample looks fine. */
  flags: string[];
}

export interface SamplesSlice {
  samples: Sample[];
  addSample(sample: Sample): void;
  resetSamples(): void;
}

export interface CapabilitySlice {
  capability: Capability | null;
  capabilityState: LoadState;
  setCapability(capability: Capability): void;
  setCapabilityState(state: LoadState): void;
}

export interface ModelSlice {
  model: ModelSummary | null;
  modelState: LoadState;
  setModel(model: ModelSummary | null): void;
  setModelState(state: LoadState): void;
}

export interface DataSlice {
  /** The sample datasets this app ships, as the worker listed them. */
  bundledDatasets: BundledDataset[];
  dataset: DatasetPreview | null;
  datasetState: LoadState;
  setBundledDatasets(list: BundledDataset[]): void;
  setDataset(dataset: DatasetPreview | null): void;
  setDatasetState(state: LoadState): void;
  // Data panel: a field mapping chosen by hand for the shown dataset; null = the detected one. Choosing another
  // dataset resets it.
  datasetMapping: DatasetMapping | null;
  setDatasetMapping(mapping: DatasetMapping | null): void;
}

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

export type AppState = RunSlice & ConfigSlice & RunStatusSlice & MetricsSlice & SamplesSlice & CapabilitySlice & ModelSlice & DataSlice
  // share links, run export/import
  & ShareSlice
  // saved runs, resume
  & CheckpointsSlice
  // model panel: download, tokenizer, cache
  & ModelPanelSlice;
