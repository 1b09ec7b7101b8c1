// Pure summaries the Data panel draws from a prepared run: the token-length histogram (bins of a "nice" width over
// the lengths actually seen, truncated examples counted apart) and dropped rows grouped by reason. No React here, so
// the binning is unit-tested on its own.
import type { DroppedRow, ExampleSummary } from '../../worker/protocol';

interface LengthBin {
  /** Lengths in [start, end) fall in the bin; the last bin also holds `end` itself (the max length). */
  start: number;
  end: number;
  count: number;
  /** Examples in the bin that were cut at the max length. */
  truncated: number;
}

export interface LengthHistogram {
  bins: LengthBin[];
  /** Bin width in tokens: 1, 2 or 5 × a power of ten. */
  width: number;
  /** Left edge of the chart: the shortest example rounded down to a bin edge. */
  lower: number;
  /** Right edge of the chart: just past the longest example (before truncation), or the max length when that is
   * where the longest one ends. */
  upper: number;
  maxLength: number;
  examples: number;
  truncated: number;
  shortest: number;
  longest: number;
  median: number;
}

/** Smallest of 1, 2, 5 × 10^k that is at least `x` (x > 0). */
export function niceWidth(x: number): number {
  const exp = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * exp >= x) return m * exp;
  return 10 * exp;
}

/**
 * Bins token lengths into at most about `maxBins` bins of one nice width. Lengths are the examples' original ones
 * (`fullTokens`, before the max length cut them) when given, so a truncated example shows where it really ended, past
 * the max-length marker. The range spans the lengths seen (from the shortest, rounded down to a bin edge) so a
 * dataset of similar lengths is not squeezed into a corner; it ends just past the longest example, or at the max
 * length when that is where the longest stops, so short datasets under a generous max length do not collapse into one bar.
 */
export function binLengths(examples: readonly (Pick<ExampleSummary, 'tokens' | 'truncated'> & { fullTokens?: number })[], maxLength: number, maxBins = 24): LengthHistogram {
  const lengthOf = (e: { tokens: number; fullTokens?: number }) => e.fullTokens ?? e.tokens;
  const lengths = examples.map(lengthOf).sort((a, b) => a - b);
  const truncated = examples.filter((e) => e.truncated).length;
  const shortest = lengths[0] ?? 0;
  const longest = lengths.at(-1) ?? 0;
  const beyond = lengths.length > 0 && longest > maxLength;
  const reaches = lengths.length > 0 && longest === maxLength;
  // The range starts at the shortest example, or at the max length when every example is longer: the cut is always
  // drawn. Lengths are whole tokens: a bin is at least one token wide.
  const from = beyond ? Math.min(shortest, maxLength) : shortest;
  const width = Math.max(1, niceWidth(Math.max(1, (reaches ? maxLength : longest + 1) - from) / maxBins));
  const lower = Math.floor(from / width) * width;
  const upper = reaches ? maxLength : beyond ? Math.ceil((longest + 1) / width) * width : Math.min(maxLength, Math.ceil((longest + 1) / width) * width);
  const count = Math.max(1, Math.ceil((upper - lower) / width));
  const bins: LengthBin[] = Array.from({ length: count }, (_, i) => ({
    start: lower + i * width, end: Math.min(upper, lower + (i + 1) * width), count: 0, truncated: 0,
  }));
  for (const e of examples) {
    const bin = bins[Math.min(count - 1, Math.floor((lengthOf(e) - lower) / width))];
    if (!bin) continue;
    bin.count += 1;
    if (e.truncated) bin.truncated += 1;
  }
  const mid = lengths.length >> 1;
  const median = lengths.length === 0 ? 0 : lengths.length % 2 ? (lengths[mid] ?? 0) : ((lengths[mid - 1] ?? 0) + (lengths[mid] ?? 0)) / 2;
  return { bins, width, lower, upper, maxLength, examples: examples.length, truncated, shortest, longest, median };
}

export interface DropGroup {
  reason: string;
  /** The worker's message for the first row of this reason (they share the cause). */
  message: string;
  count: number;
  /** The first row ids, in file order. */
  ids: string[];
}

/** Dropped rows grouped by reason, most frequent first, each with its first `firstIds` row ids. */
export function groupDropped(dropped: readonly DroppedRow[], firstIds = 5): DropGroup[] {
  const groups = new Map<string, DropGroup>();
  for (const d of dropped) {
    let g = groups.get(d.reason);
    if (!g) {
      g = { reason: d.reason, message: d.message, count: 0, ids: [] };
      groups.set(d.reason, g);
    }
    g.count += 1;
    if (g.ids.length < firstIds) g.ids.push(d.id);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** What a drop reason means, in the words the panel uses. */
export const DROP_REASONS: Record<string, string> = {
  'no-trainable-token': 'no trainable token under this mask policy',
  'all-targets-truncated': 'every target token was cut by the max length',
  'render-error': 'the template could not render the row',
};
