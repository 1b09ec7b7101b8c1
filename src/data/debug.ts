// The axolotl-style debug view (`axolotl preprocess --debug`, sft-conventions §13) as a pure function: each token
// decoded alone followed by `(label, id)`, joined by spaces; red when the label is -100, yellow when 0, green
// otherwise; then `Total input len: N` and `Count of labels: M` (M = positions with a label other than -100).
import type { Tokenizer } from './tokenizer.ts';
import { IGNORE_INDEX } from './types.ts';

const ANSI = { red: '\u001b[31m', yellow: '\u001b[33m', green: '\u001b[32m', white: '\u001b[37m', reset: '\u001b[0m' } as const;

export interface DebugOptions {
  /** ANSI colours (a terminal); false gives plain text (files, --no-color). */
  color: boolean;
}

function paint(text: string, colour: keyof typeof ANSI, on: boolean): string {
  return on ? `${ANSI[colour]}${text}${ANSI.reset}` : text;
}

export function formatDebug(ids: ArrayLike<number>, labels: ArrayLike<number>, tok: Tokenizer, opts: DebugOptions): string {
  const parts: string[] = [];
  let trained = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] ?? 0;
    const label = labels[i] ?? IGNORE_INDEX;
    if (label !== IGNORE_INDEX) trained++;
    const colour = label === IGNORE_INDEX ? 'red' : label === 0 ? 'yellow' : 'green';
    parts.push(paint(tok.tokenText(id), colour, opts.color) + paint(`(${label}, ${id})`, 'white', opts.color));
  }
  return `${parts.join(' ')}\n\nTotal input len: ${ids.length}\nCount of labels: ${trained}\n`;
}
