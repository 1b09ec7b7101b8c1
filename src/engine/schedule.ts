// Learning-rate schedules, computed on the host and fed to the step graph as a scalar. Pure functions that follow
// transformers' `get_scheduler` lambdas (optimization.py) so a run here and an HF Trainer run see the same lr per step.

/** `constant` with warmup is HF's `constant_with_warmup`; `linear` and `cosine` decay to 0 after the warmup. */
type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleConfig {
  readonly kind: ScheduleKind;
  /** The learning rate reached at the end of warmup. */
  readonly peakLr: number;
  /** Optimizer steps of linear warmup from 0 (HF `warmup_steps`). Default 0. */
  readonly warmupSteps?: number;
  /** Total optimizer steps of the run; required by `linear` and `cosine`. */
  readonly totalSteps?: number;
}

/** HF `get_warmup_steps`: ceil(total × ratio). */
export function warmupStepsFromRatio(ratio: number, totalSteps: number): number {
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`warmup ratio must be in [0, 1], got ${ratio}`);
  return Math.ceil(totalSteps * ratio);
}

function check(c: ScheduleConfig): void {
  if (!(c.peakLr >= 0) || !Number.isFinite(c.peakLr)) throw new Error(`learning rate must be a finite number ≥ 0, got ${c.peakLr}`);
  const w = c.warmupSteps ?? 0;
  if (!Number.isInteger(w) || w < 0) throw new Error(`warmupSteps must be a whole number ≥ 0, got ${w}`);
  if (c.kind !== 'constant') {
    const t = c.totalSteps;
    if (t === undefined || !Number.isInteger(t) || t <= 0) {
      throw new Error(`the ${c.kind} schedule needs totalSteps (a whole number > 0), got ${String(t)}`);
    }
  }
}

/**
 * The multiplier of `peakLr` at optimizer step `step` (0-based: the number of updates already applied, which is how
 * torch's LambdaLR counts; the first update therefore uses factor(0), which is 0 when there is a warmup, as in HF).
 */
export function scheduleFactor(c: ScheduleConfig, step: number): number {
  check(c);
  if (!Number.isInteger(step) || step < 0) throw new Error(`step must be a whole number ≥ 0, got ${step}`);
  const warmup = c.warmupSteps ?? 0;
  if (step < warmup) return step / Math.max(1, warmup);
  if (c.kind === 'constant') return 1;
  const total = c.totalSteps!;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  if (c.kind === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warmup));
  // HF cosine with num_cycles = 0.5: a half cosine from 1 down to 0 at totalSteps (HF does not clamp progress, so
  // steps past the end rise again; the trainer never asks for them).
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** The learning rate for the update at 0-based optimizer step `step`. */
export function learningRate(c: ScheduleConfig, step: number): number {
  return c.peakLr * scheduleFactor(c, step);
}
