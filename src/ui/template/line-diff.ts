// A line diff (longest common subsequence) between two template sources, for "what does this template do differently
// from the model's own". Templates are a few hundred lines at most; past MAX_CELLS the table would be too large, so
// the diff gives up and says so rather than freezing the page.

export type DiffLine = { kind: 'same' | 'added' | 'removed'; text: string };

/** Largest LCS table (lines × lines) computed. */
const MAX_CELLS = 4_000_000;

/** The edit script turning `before` into `after`, line by line; null when the sources are too long to compare. */
export function lineDiff(before: string, after: string): DiffLine[] | null {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  // lcs[i * (m + 1) + j] = length of the LCS of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j]
        ? (lcs[(i + 1) * (m + 1) + j + 1] ?? 0) + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j] ?? 0, lcs[i * (m + 1) + j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] ?? '' });
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[(i + 1) * (m + 1) + j] ?? 0) >= (lcs[i * (m + 1) + j + 1] ?? 0))) {
      out.push({ kind: 'removed', text: a[i] ?? '' });
      i++;
    } else {
      out.push({ kind: 'added', text: b[j] ?? '' });
      j++;
    }
  }
  return out;
}
