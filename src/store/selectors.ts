// Selectors: the only way the UI reads the store. Derived values (the demo's Hub location, the fallback banner)
// live here so components stay dumb and tests can check the derivations without React.
import type { HubLocation } from '../worker/protocol';
import { DEMO_REPO } from './slices';
import type { AppState } from './slices';

/** A run exists that has not ended (starting, running, pausing or paused): its inputs — model, tokenizer, dataset and
 * the data settings — are frozen until it is stopped. */
export const selectInputsLocked = (s: AppState) => s.phase === 'starting' || s.phase === 'running' || s.phase === 'pausing' || s.phase === 'paused';

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


/** Steps averaged for the speed and ETA shown while training. */
const SPEED_WINDOW = 10;

export interface Progress {
  step: number;
  totalSteps: number;
  /** Mean target tokens per second over the last SPEED_WINDOW steps; null before the first step. */
  tokensPerSecond: number | null;
  /** Seconds left at the recent step time; null before the first step. */
  etaSeconds: number | null;
}

/** Step, speed and ETA. Returns primitives only, so components can compare it shallowly. */
export function selectProgress(s: AppState): Progress {
  const totalSteps = s.trainer?.totalSteps ?? s.runConfig.train.steps;
  const recent = s.metrics.filter((m) => m.ms !== undefined).slice(-SPEED_WINDOW);
  if (recent.length === 0) return { step: s.step, totalSteps, tokensPerSecond: null, etaSeconds: null };
  const ms = recent.reduce((a, m) => a + (m.ms ?? 0), 0) / recent.length;
  const tps = recent.reduce((a, m) => a + (m.tokensPerSecond ?? 0), 0) / recent.length;
  return { step: s.step, totalSteps, tokensPerSecond: tps, etaSeconds: (Math.max(0, totalSteps - s.step) * ms) / 1000 };
}

/** Exponential moving average of a metric (the smoothed curve beside the raw one), bias-corrected like TensorBoard. */
export function smooth(values: readonly (number | undefined)[], weight: number): (number | undefined)[] {
  let avg = 0;
  let n = 0;
  return values.map((v) => {
    if (v === undefined || !Number.isFinite(v)) return undefined;
    avg = avg * weight + (1 - weight) * v;
    n += 1;
    return avg / (1 - weight ** n);
  });
}

/** Points per chart series: more than a chart a few hundred pixels wide can show, few enough to redraw in one frame. */
export const MAX_CHART_POINTS = 300;

/**
 * Thins a long series of rows (ordered by step) to about `max` rows for drawing. Each bucket of consecutive rows keeps
 * the rows holding the minimum and maximum of `key` (so spikes and the best loss survive), the first and last rows are
 * always kept, and so is every row where `keep` is defined (eval points are rare and must not vanish).
 */
export function downsample<T extends Record<string, unknown>>(rows: readonly T[], max: number, key: keyof T, keep?: keyof T): T[] {
  if (rows.length <= max) return rows as T[];
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const size = (rows.length - 2) / buckets;
  const picked = new Set<number>([0, rows.length - 1]);
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor(b * size);
    const to = Math.min(rows.length - 1, 1 + Math.floor((b + 1) * size));
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const v = rows[i]![key];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (lo < 0 || v < (rows[lo]![key] as number)) lo = i;
      if (hi < 0 || v > (rows[hi]![key] as number)) hi = i;
    }
    if (lo >= 0) picked.add(lo);
    if (hi >= 0) picked.add(hi);
  }
  if (keep !== undefined) rows.forEach((r, i) => r[keep] !== undefined && picked.add(i));
  return [...picked].sort((a, b) => a - b).map((i) => rows[i]!);
}
