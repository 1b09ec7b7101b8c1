// LR schedules against values of transformers' get_scheduler lambdas (optimization.py), worked out by hand.
import { describe, expect, it } from 'vitest';
import { learningRate, scheduleFactor, warmupStepsFromRatio } from '../../src/engine/schedule.ts';

describe('learning-rate schedules', () => {
  it('constant: flat, or linear warmup from 0 then flat (HF constant_with_warmup)', () => {
    expect([0, 1, 99].map((s) => learningRate({ kind: 'constant', peakLr: 2e-4 }, s))).toEqual([2e-4, 2e-4, 2e-4]);
    const c = { kind: 'constant', peakLr: 1, warmupSteps: 4 } as const;
    expect([0, 1, 2, 3, 4, 50].map((s) => scheduleFactor(c, s))).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it('linear: warmup then straight down to 0 at totalSteps', () => {
    const c = { kind: 'linear', peakLr: 1, warmupSteps: 2, totalSteps: 10 } as const;
    expect([0, 1, 2, 6, 10, 12].map((s) => scheduleFactor(c, s))).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  it('cosine: warmup then a half cosine to 0 at totalSteps', () => {
    const c = { kind: 'cosine', peakLr: 3e-4, warmupSteps: 10, totalSteps: 110 } as const;
    expect(learningRate(c, 5)).toBeCloseTo(1.5e-4, 12);
    expect(learningRate(c, 10)).toBeCloseTo(3e-4, 12);
    expect(learningRate(c, 60)).toBeCloseTo(1.5e-4, 12); // half-way: cos(π/2) = 0 → factor 0.5
    expect(learningRate(c, 35)).toBeCloseTo(3e-4 * 0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(learningRate(c, 110)).toBeCloseTo(0, 12);
  });

  it('warmup from a ratio rounds up like HF get_warmup_steps', () => {
    expect(warmupStepsFromRatio(0.03, 100)).toBe(3);
    expect(warmupStepsFromRatio(0.1, 15)).toBe(2);
    expect(() => warmupStepsFromRatio(1.5, 10)).toThrow(/warmup ratio must be in \[0, 1\]/);
  });

  it('rejects configurations it cannot honour, saying which field is wrong', () => {
    expect(() => learningRate({ kind: 'linear', peakLr: 1 }, 0)).toThrow(/linear schedule needs totalSteps/);
    expect(() => learningRate({ kind: 'constant', peakLr: Number.NaN }, 0)).toThrow(/learning rate must be a finite number/);
    expect(() => learningRate({ kind: 'constant', peakLr: 1, warmupSteps: 1.5 }, 0)).toThrow(/warmupSteps must be a whole number/);
    expect(() => learningRate({ kind: 'constant', peakLr: 1 }, -1)).toThrow(/step must be a whole number/);
  });
});
