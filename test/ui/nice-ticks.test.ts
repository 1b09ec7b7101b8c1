// Chart tick values are computed by TabTune (recharts would measure every label in the DOM to place its own).
import { describe, expect, it } from 'vitest';
import { formatTicks, niceTicks } from '../../src/ui/panels/MetricChart';

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

  it('ends on a span below the values\' float resolution (a learning rate flat to the last bit)', () => {
    // The step (5e-17) cannot move 1.0: adding it in a loop never ended and grew the array until "Invalid array length".
    const ticks = niceTicks(1, 1 + 2 ** -52, 5, false);
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThanOrEqual(7);
    expect(ticks.every((v) => v >= 1 && v <= 1 + 2 ** -52)).toBe(true);
  });
});

describe('formatTicks', () => {
  it('puts a whole axis in one notation: never "0.01" beside "9.8e-3"', () => {
    expect(formatTicks([0, 0.0005, 0.001, 0.0015, 0.002])).toEqual(['0', '5.0e-4', '1.0e-3', '1.5e-3', '2.0e-3']);
    expect(formatTicks([0.0098, 0.01])).toEqual(['0.0098', '0.0100']);
    expect(formatTicks([0.0094, 0.0098])).toEqual(['9.4e-3', '9.8e-3']);
    expect(formatTicks([0, 0.005, 0.01, 0.015])).toEqual(['0', '0.005', '0.010', '0.015']);
  });

  it('uses the fewest decimals that keep every tick exact and distinct', () => {
    expect(formatTicks([11.2, 11.4, 11.6, 11.8])).toEqual(['11.2', '11.4', '11.6', '11.8']);
    expect(formatTicks([5, 10, 15, 20])).toEqual(['5', '10', '15', '20']);
    expect(formatTicks([-2, 0, 2.5])).toEqual(['-2.0', '0', '2.5']);
    expect(formatTicks([20000, 40000])).toEqual(['2e+4', '4e+4']);
  });
});
