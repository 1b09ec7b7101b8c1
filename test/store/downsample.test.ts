// Chart thinning (src/store/selectors.ts downsample): long runs are drawn from at most MAX_CHART_POINTS rows, keeping
// each bucket's extremes, the ends and every eval point.
import { describe, expect, it } from 'vitest';
import { downsample, MAX_CHART_POINTS } from '../../src/store/selectors';

type Row = { step: number; loss: number; evalLoss?: number };

describe('downsample', () => {
  it('returns short series unchanged', () => {
    const rows: Row[] = [{ step: 1, loss: 2 }, { step: 2, loss: 1 }];
    expect(downsample(rows, 300, 'loss')).toBe(rows);
  });

  it('thins a long series to the bound and keeps extremes, ends and eval points', () => {
    const rows: Row[] = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, loss: 5 - i / 2000 + (i % 7) * 0.01 }));
    rows[2345]!.loss = 40; // a spike
    rows[4100]!.loss = -3; // the best value
    for (let i = 499; i < 5000; i += 500) rows[i]!.evalLoss = 1 + i / 1e4;
    const out = downsample(rows, MAX_CHART_POINTS, 'loss', 'evalLoss');
    expect(out.length).toBeLessThanOrEqual(MAX_CHART_POINTS + 10);
    expect(out.length).toBeGreaterThan(MAX_CHART_POINTS / 2);
    const steps = out.map((r) => r.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps[0]).toBe(1);
    expect(steps.at(-1)).toBe(5000);
    expect(steps).toContain(2346);
    expect(steps).toContain(4101);
    expect(out.filter((r) => r.evalLoss !== undefined)).toHaveLength(10);
    expect(Math.max(...out.map((r) => r.loss))).toBe(40);
    expect(Math.min(...out.map((r) => r.loss))).toBe(-3);
  });
});
