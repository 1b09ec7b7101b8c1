// Terminal output: the axolotl `preprocess --debug` view of an example (sft-conventions §13, formatted by src/data),
// the linter's warnings, per-token loss offenders, and a one-line progress bar with loss, tokens/s and ETA.
import type { Example } from '../data/example.ts';
import type { LintWarning } from '../data/lint.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { formatDebug } from '../train/sources.ts';
import { IGNORE_INDEX } from '../share/labels.ts';
import { count } from '../share/wording.ts';

/** The axolotl debug view of one example (src/data's formatter: the same text the browser's batch inspector copies). */
export function debugExample(e: Example, tok: Tokenizer, color: boolean): string {
  return formatDebug(e.ids, e.labels, tok, { color });
}

export function formatWarnings(warnings: readonly LintWarning[]): string {
  if (warnings.length === 0) return 'Linter: no warnings.\n';
  return warnings.map((w) => `warning [${w.code}] ${w.message}${rowsNote(w)}`).join('\n') + '\n';
}

/** ` (3 rows, e.g. a, b)` for a warning about rows; nothing for one about the whole dataset (it names no rows). */
function rowsNote(w: LintWarning): string {
  if (w.exampleIds.length === 0) return '';
  return ` (${count(w.count, 'row')}, e.g. ${w.exampleIds.join(', ')})`;
}

export interface Offender {
  readonly row: number;
  /** Position of the predicted token (labels are unshifted: position t + 1 of the row). */
  readonly position: number;
  readonly id: number;
  readonly nll: number;
}

/** Top-k target tokens by NLL. tokenNll[b, t] scores the prediction of token t + 1 from position t. */
export function topOffenders(tokenNll: Float32Array, examples: readonly Example[], seqLen: number, k: number): Offender[] {
  const all: Offender[] = [];
  examples.forEach((e, b) => {
    for (let t = 0; t + 1 < Math.min(seqLen, e.ids.length); t++) {
      if ((e.labels[t + 1] ?? IGNORE_INDEX) === IGNORE_INDEX) continue;
      all.push({ row: b, position: t + 1, id: e.ids[t + 1]!, nll: tokenNll[b * seqLen + t]! });
    }
  });
  return all.sort((x, y) => y.nll - x.nll || x.row - y.row || x.position - y.position).slice(0, k);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** `[#####.....] step 5/30 loss 9.8123 lr 1.0e-3 312 tok/s ETA 12s` */
export function progressLine(step: number, total: number, loss: number, lr: number, tokensPerSecond: number, etaSeconds: number, width = 20): string {
  const filled = Math.round((step / Math.max(1, total)) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  return `[${bar}] step ${step}/${total} loss ${loss.toFixed(4)} lr ${lr.toExponential(1)} ${tokensPerSecond.toFixed(0)} tok/s ETA ${formatDuration(etaSeconds)}`;
}
