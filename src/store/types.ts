// The app store's shape: one interface per slice, combined into AppState. Plain data only — no tensors, no
// sessions, no class instances — so the state can be logged, compared in tests and exposed to e2e as JSON.
import type { BundledDataset, Capability, DatasetPreview, ModelSummary } from '../worker/protocol';

export type ThemeChoice = 'system' | 'light' | 'dark';

/** Which model the app shows: the bundled demo (served by the app itself) or a repo on the configured Hub. */
export type ModelChoice = { kind: 'bundled' } | { kind: 'hub'; repo: string; revision: string };

/** Which dataset the Data panel shows: a bundled sample file (under /datasets/) or a file the user uploaded. */
export type DatasetChoice = { kind: 'bundled'; file: string } | { kind: 'upload'; name: string };

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

export type RunPhase = 'idle' | 'running' | 'paused' | 'stopped' | 'failed';

export interface AppError {
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
}

export interface MetricsSlice {
  metrics: MetricPoint[];
  appendMetric(point: MetricPoint): void;
  resetMetrics(): void;
}

export interface Sample {
  step: number;
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
}

export type AppState = ConfigSlice & RunStatusSlice & MetricsSlice & SamplesSlice & CapabilitySlice & ModelSlice & DataSlice;
