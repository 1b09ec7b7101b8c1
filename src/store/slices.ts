// The app store's core slices: their shapes (combined into AppState) and the small functions that create their
// initial state and setters. Plain data only — no tensors, no sessions, no class instances — so the state can be
// logged, compared in tests and exposed to e2e as JSON. Feature modules (run, share, checkpoints, model panel) hold
// their own slice next to their actions.
import type { StateCreator } from 'zustand/vanilla';
import type { RunSlice } from './run'; // run config, examples, batch inspection, training
import type { ShareSlice } from './share'; // share links, run export/import
import type { CheckpointsSlice } from './checkpoints'; // saved runs, resume
import type { ModelPanelSlice } from './model-panel'; // model panel: download, tokenizer, cache
import type {
  BundledDataset, Capability, DatasetMapping, DatasetPreview, ModelSummary,
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
  /** The last model load that failed while an earlier model stayed loaded (null once one succeeds). */
  modelLoadFailure: LoadFailure | null;
  setModelLoadFailure(failure: LoadFailure | null): void;
}

/** A load that failed and left the previous working choice in place: what was asked, and why it failed. */
interface LoadFailure {
  /** What the user asked for (`org/name@revision`, a file name). */
  asked: string;
  message: string;
  /** The server could not be reached at all (offline, wrong endpoint), as opposed to an answer refusing the request. */
  unreachable: boolean;
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
  /** The last dataset load that failed while an earlier dataset stayed loaded (null once one succeeds). */
  datasetLoadFailure: LoadFailure | null;
  setDatasetLoadFailure(failure: LoadFailure | null): void;
}

export type AppState = RunSlice & ConfigSlice & RunStatusSlice & MetricsSlice & SamplesSlice & CapabilitySlice & ModelSlice & DataSlice
  // share links, run export/import
  & ShareSlice
  // saved runs, resume
  & CheckpointsSlice
  // model panel: download, tokenizer, cache
  & ModelPanelSlice;

type Slice<T> = StateCreator<AppState, [], [], T>;

export const PUBLIC_HUB = 'https://huggingface.co';
export const DEMO_REPO = 'tabtune/tiny-storyteller';

/** Metrics kept in memory for the charts; older points are thinned, never the latest (bounded memory in long runs). */
export const MAX_METRIC_POINTS = 5000;

export function createConfigSlice(origin: string): Slice<ConfigSlice> {
  return (set) => ({
    origin,
    hubEndpoint: PUBLIC_HUB,
    modelChoice: { kind: 'bundled' },
    datasetChoice: null,
    theme: 'system',
    setHubEndpoint: (endpoint) => set({ hubEndpoint: endpoint.trim().replace(/\/+$/, '') }),
    chooseModel: (modelChoice) => set({ modelChoice }),
    chooseDataset: (datasetChoice) => set({ datasetChoice, datasetMapping: null }), // a mapping by hand belongs to one file
    setTheme: (theme) => set({ theme }),
  });
}

export const createRunStatusSlice: Slice<RunStatusSlice> = (set) => {
  let nextErrorId = 1;
  return {
    phase: 'idle',
    step: 0,
    errors: [],
    reportError: (source, message) =>
      set((s) => ({ errors: [...s.errors, { id: nextErrorId++, source, message }] })),
    dismissError: (id) => set((s) => ({ errors: s.errors.filter((e) => e.id !== id) })),
    setPhase: (phase) => set({ phase }),
  };
};

export const createMetricsSlice: Slice<MetricsSlice> = (set) => ({
  metrics: [],
  appendMetric: (point) =>
    set((s) => {
      const last = s.metrics.at(-1);
      if (last?.step === point.step) return { metrics: [...s.metrics.slice(0, -1), { ...last, ...point }], step: point.step };
      const metrics = [...s.metrics, point];
      // Halve the older history (every other point) instead of dropping it, so the whole curve stays visible.
      if (metrics.length > MAX_METRIC_POINTS) {
        const last = metrics.pop() as typeof point;
        return { metrics: [...metrics.filter((_, i) => i % 2 === 0), last], step: point.step };
      }
      return { metrics, step: point.step };
    }),
  resetMetrics: () => set({ metrics: [], step: 0 }),
});

export const createSamplesSlice: Slice<SamplesSlice> = (set) => ({
  samples: [],
  addSample: (sample) => set((s) => ({ samples: [...s.samples, sample] })),
  resetSamples: () => set({ samples: [] }),
});

export const createCapabilitySlice: Slice<CapabilitySlice> = (set) => ({
  capability: null,
  capabilityState: { status: 'idle' },
  setCapability: (capability) => set({ capability, capabilityState: { status: 'ready' } }),
  setCapabilityState: (capabilityState) => set({ capabilityState }),
});

export const createModelSlice: Slice<ModelSlice> = (set) => ({
  model: null,
  modelState: { status: 'idle' },
  setModel: (model) => set({ model }),
  setModelState: (modelState) => set({ modelState }),
  modelLoadFailure: null,
  setModelLoadFailure: (modelLoadFailure) => set({ modelLoadFailure }),
});

export const createDataSlice: Slice<DataSlice> = (set) => ({
  bundledDatasets: [],
  dataset: null,
  datasetState: { status: 'idle' },
  setBundledDatasets: (bundledDatasets) => set({ bundledDatasets }),
  setDataset: (dataset) => set({ dataset }),
  setDatasetState: (datasetState) => set({ datasetState }),
  // field mapping by hand
  datasetMapping: null,
  setDatasetMapping: (datasetMapping) => set({ datasetMapping }),
  datasetLoadFailure: null,
  setDatasetLoadFailure: (datasetLoadFailure) => set({ datasetLoadFailure }),
});
