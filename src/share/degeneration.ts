// The degeneration detector for samples (shared: the page flags live samples, the worker flags the ones it saves): flags outputs a person would call broken — empty, one token repeated in a
// run, or a phrase (n-gram) looping. Pure functions over generated token ids and their text; the Samples panel shows
// the flags beside each sample.

export type DegenerationFlag = 'empty' | 'repeated-token' | 'repeated-ngram';

/** A token repeated this many times in a row is a loop, not emphasis. */
const TOKEN_RUN = 4;
/** An n-gram (2 ≤ n ≤ 4) seen this many times without overlap is a loop. */
const NGRAM_REPEATS = 3;

function longestRun(tokens: readonly number[]): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < tokens.length; i++) {
    run = i > 0 && tokens[i] === tokens[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

/** Non-overlapping occurrences of the most frequent n-gram (so "a a a a" is not also counted as a 2-gram loop). */
function maxNgramRepeats(tokens: readonly number[], n: number): number {
  const lastEnd = new Map<string, number>();
  const counts = new Map<string, number>();
  let best = 0;
  for (let i = 0; i + n <= tokens.length; i++) {
    const gram = tokens.slice(i, i + n);
    if (gram.every((t) => t === gram[0])) continue; // a single repeated token is the run check's business
    const key = gram.join(',');
    if ((lastEnd.get(key) ?? -1) > i) continue;
    lastEnd.set(key, i + n);
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    best = Math.max(best, c);
  }
  return best;
}

export function detectDegeneration(tokens: readonly number[], text: string): DegenerationFlag[] {
  const flags: DegenerationFlag[] = [];
  if (tokens.length === 0 || text.trim() === '') flags.push('empty');
  if (longestRun(tokens) >= TOKEN_RUN) flags.push('repeated-token');
  if ([2, 3, 4].some((n) => maxNgramRepeats(tokens, n) >= NGRAM_REPEATS)) flags.push('repeated-ngram');
  return flags;
}

export const FLAG_TEXT: Record<DegenerationFlag, string> = {
  empty: 'empty output',
  'repeated-token': `one token ${TOKEN_RUN}+ times in a row`,
  'repeated-ngram': `a phrase repeated ${NGRAM_REPEATS}+ times`,
};
