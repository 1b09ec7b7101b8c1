// The store's slices: each a small function returning its initial state and actions. Actions set plain data only.
import type { StateCreator } from 'zustand/vanilla';
import { defaultRunConfig } from '../share/run-config';
import type {
  AppState, CapabilitySlice, ConfigSlice, DataSlice, MetricsSlice, ModelSlice, RunSlice, RunStatusSlice, SamplesSlice,
} from './types';

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
});

export const createRunSlice: Slice<RunSlice> = (set) => ({
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
