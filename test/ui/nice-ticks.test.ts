// Chart tick values are computed by TabTune (recharts would measure every label in the DOM to place its own).
import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../src/ui/panels/MetricChart';

describe('niceTicks', () => {
  it('picks the finest 1/2/5 spacing with at most `count` intervals inside the range', () => {
    expect(niceTicks(11.1, 11.9, 5, false)).toEqual([11.2, 11.4, 11.6, 11.8]);
    expect(niceTicks(0, 0.0021, 5, false)).toEqual([0, 0.0005, 0.001, 0.0015, 0.002]);
    expect(niceTicks(-3, 7, 5, false)).toEqual([-2, 0, 2, 4, 6]);
  });

  it('keeps steps whole on the step axis', () => {
    expect(niceTicks(1, 20, 5, true)).toEqual([5, 10, 15, 20]);
    expect(niceTicks(1, 3, 5, true)).toEqual([1, 2, 3]);
    expect(niceTicks(0, 1000, 5, true)).toEqual([0, 200, 400, 600, 800, 1000]);
  });

  it('copes with a flat or non-finite range', () => {
    expect(niceTicks(2, 2, 5, false)).toEqual([2]);
    expect(niceTicks(Number.NaN, 1, 5, false)).toEqual([]);
  });
});
