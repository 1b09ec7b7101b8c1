// The Data panel's pure summaries: histogram binning (nice widths, range, truncated counts, median) and dropped
// rows grouped by reason.
import { describe, expect, it } from 'vitest';
import { binLengths, groupDropped, niceWidth } from '../../src/ui/data/summary';

const ex = (tokens: number, truncated = false) => ({ tokens, truncated });

describe('niceWidth', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect([0.3, 1, 1.1, 2.5, 7, 10, 13, 240].map(niceWidth)).toEqual([0.5, 1, 2, 5, 10, 10, 20, 500]);
  });
});

describe('binLengths', () => {
  it('ends the range at the max length when examples were truncated, and counts them in the last bin', () => {
    const h = binLengths([ex(10), ex(50), ex(64, true), ex(64, true), ex(63)], 64, 8);
    expect(h.width).toBe(10);
    expect([h.lower, h.upper]).toEqual([10, 64]);
    expect(h.bins.map((b) => [b.start, b.end])).toEqual([[10, 20], [20, 30], [30, 40], [40, 50], [50, 60], [60, 64]]);
    expect(h.bins.map((b) => b.count)).toEqual([1, 0, 0, 0, 1, 3]);
    expect(h.bins.at(-1)?.truncated).toBe(2);
    expect(h.truncated).toBe(2);
    expect(h.bins.reduce((n, b) => n + b.count, 0)).toBe(5);
    expect([h.shortest, h.longest, h.median]).toEqual([10, 64, 63]);
  });

  it('bins the original lengths of truncated examples past the max length, so the cut shows where they really ended', () => {
    const cut = (full: number) => ({ tokens: 64, truncated: true, fullTokens: full });
    const h = binLengths([{ ...ex(10), fullTokens: 10 }, ex(50), cut(90), cut(130)], 64, 8);
    expect(h.width).toBe(20);
    expect([h.lower, h.upper]).toEqual([0, 140]);
    expect(h.bins.map((b) => b.count)).toEqual([1, 0, 1, 0, 1, 0, 1]);
    expect(h.bins.map((b) => b.truncated)).toEqual([0, 0, 0, 0, 1, 0, 1]);
    expect([h.shortest, h.longest, h.truncated, h.maxLength]).toEqual([10, 130, 2, 64]);
  });

  it('draws the cut when every example is longer than the max length (the range starts at the cut)', () => {
    const cut = (full: number) => ({ tokens: 120, truncated: true, fullTokens: full });
    const h = binLengths([cut(160), cut(170), cut(304)], 120, 24);
    expect(h.lower).toBeLessThanOrEqual(120);
    expect(h.upper).toBeGreaterThan(304);
    expect(h.bins.reduce((n, b) => n + b.count, 0)).toBe(3);
  });

  it('spans only the lengths seen: from the shortest rounded down to just past the longest', () => {
    const h = binLengths([ex(20), ex(31), ex(45), ex(47)], 4096, 10);
    expect(h.width).toBe(5);
    expect([h.lower, h.upper]).toEqual([20, 50]);
    expect(h.bins.map((b) => b.count)).toEqual([1, 0, 1, 0, 0, 2]);
    expect(h.bins[5]).toEqual({ start: 45, end: 50, count: 2, truncated: 0 });
    expect(h.median).toBe(38);
  });

  it('puts a length on a bin edge into the bin that starts there', () => {
    const h = binLengths([ex(0), ex(5), ex(10)], 100, 4);
    expect(h.width).toBe(5);
    expect(h.bins.map((b) => [b.start, b.count])).toEqual([[0, 1], [5, 1], [10, 1]]);
  });

  it('gives one bin when every example has the same length', () => {
    const h = binLengths([ex(7), ex(7)], 256);
    expect(h.bins).toEqual([{ start: 7, end: 8, count: 2, truncated: 0 }]);
  });

  it('handles no examples', () => {
    const h = binLengths([], 256);
    expect(h.examples).toBe(0);
    expect(h.bins.every((b) => b.count === 0)).toBe(true);
    expect([h.shortest, h.longest, h.median, h.truncated]).toEqual([0, 0, 0, 0]);
  });
});

describe('groupDropped', () => {
  it('groups by reason, most frequent first, keeping the first ids in order', () => {
    const rows = [
      { id: 'line 1', reason: 'render-error', message: 'bad template' },
      ...Array.from({ length: 7 }, (_, i) => ({ id: `line ${i + 2}`, reason: 'all-targets-truncated', message: 'cut' })),
    ];
    const groups = groupDropped(rows, 3);
    expect(groups.map((g) => [g.reason, g.count])).toEqual([['all-targets-truncated', 7], ['render-error', 1]]);
    expect(groups[0]?.ids).toEqual(['line 2', 'line 3', 'line 4']);
    expect(groups[1]?.message).toBe('bad template');
  });
});
