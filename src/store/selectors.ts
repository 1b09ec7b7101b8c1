// Selectors: the only way the UI reads the store. Derived values (the demo's Hub location, the fallback banner)
// live here so components stay dumb and tests can check the derivations without React.
import type { HubLocation } from '../worker/protocol';
import { DEMO_REPO } from './slices';
import type { AppState, LoadState } from './types';

export const selectTheme = (s: AppState) => s.theme;
export const selectHubEndpoint = (s: AppState) => s.hubEndpoint;
export const selectModelChoice = (s: AppState) => s.modelChoice;
export const selectDatasetChoice = (s: AppState) => s.datasetChoice;
export const selectCapability = (s: AppState) => s.capability;
export const selectCapabilityState = (s: AppState) => s.capabilityState;
export const selectModel = (s: AppState) => s.model;
export const selectModelState = (s: AppState) => s.modelState;
export const selectDataset = (s: AppState) => s.dataset;
export const selectBundledDatasets = (s: AppState) => s.bundledDatasets;
export const selectDatasetState = (s: AppState) => s.datasetState;
export const selectMetrics = (s: AppState) => s.metrics;
export const selectSamples = (s: AppState) => s.samples;
export const selectErrors = (s: AppState) => s.errors;
export const selectPhase = (s: AppState) => s.phase;
export const selectStep = (s: AppState) => s.step;

/** The bundled demo's static Hub mirror, served by the app itself. */
export function demoEndpoint(origin: string): string {
  return `${origin.replace(/\/+$/, '')}/hub`;
}

/** Where the chosen model is fetched from: the bundled demo under `${origin}/hub`, or the configured Hub endpoint. */
export function selectModelLocation(s: AppState): HubLocation {
  const choice = s.modelChoice;
  if (choice.kind === 'bundled') return { endpoint: demoEndpoint(s.origin), repo: DEMO_REPO, revision: 'main' };
  return { endpoint: s.hubEndpoint, repo: choice.repo, revision: choice.revision };
}

/** URL of a bundled dataset file. */
export function bundledDatasetUrl(origin: string, file: string): string {
  return `${origin.replace(/\/+$/, '')}/datasets/${encodeURIComponent(file)}`;
}

/** The banner shown when training cannot use WebGPU; null while probing or when WebGPU works. */
export function selectFallbackBanner(s: AppState): string | null {
  const cap = s.capability;
  if (!cap || cap.webgpu.available) return null;
  return `WebGPU is not available, so TabTune will train on the CPU with WebAssembly (slower). ` +
    `Why: ${cap.webgpu.reason} What to try: ${cap.webgpu.hint}`;
}

export function isLoading(state: LoadState): boolean {
  return state.status === 'loading';
}
