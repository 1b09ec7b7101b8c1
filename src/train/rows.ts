// Dataset file → normalised rows (src/data/types.ts Row) for the trainer and the CLI: JSON Lines or a JSON array, with
// format detection (messages, ShareGPT conversations, prompt/completion plain or conversational, instruction/input/
// output, text) or a forced --format. Every unusable row is reported by line with the reason; usable rows are kept.
// The data layer owns the full reader set (CSV, Parquet, Hub datasets); this is the subset the CLI needs today.
import type { Message, Role, Row } from '../data/types.ts';

export const ROW_FORMATS = ['messages', 'sharegpt', 'prompt-completion', 'instruction', 'text'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export interface RowProblem {
  /** 1-based line (JSONL) or array index + 1 (JSON). */
  readonly line: number;
  readonly message: string;
}

export interface ParsedRows {
  readonly rows: Row[];
  readonly format: RowFormat;
  readonly problems: RowProblem[];
}

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);
const SHAREGPT_ROLES: Readonly<Record<string, Role>> = { system: 'system', human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', tool: 'tool' };

export function detectFormat(row: unknown): RowFormat | null {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return null;
  const keys = new Set(Object.keys(row));
  if (keys.has('messages')) return 'messages';
  if (keys.has('conversations')) return 'sharegpt';
  if (keys.has('prompt') && keys.has('completion')) return 'prompt-completion';
  if (keys.has('instruction') && keys.has('output')) return 'instruction';
  if (keys.has('text')) return 'text';
  return null;
}

function messages(value: unknown, field: string, sharegpt: boolean): Message[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`"${field}" must be a non-empty list of messages`);
  return value.map((m: unknown, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    const rawRole = sharegpt ? o['from'] : o['role'];
    const content = sharegpt ? o['value'] : o['content'];
    const role = sharegpt ? SHAREGPT_ROLES[String(rawRole)] : ROLES.has(String(rawRole)) ? (rawRole as Role) : undefined;
    if (!role) throw new Error(`${field}[${i}] has ${sharegpt ? 'from' : 'role'} ${JSON.stringify(rawRole)}; expected ${sharegpt ? Object.keys(SHAREGPT_ROLES).join('/') : [...ROLES].join('/')}`);
    if (typeof content !== 'string') throw new Error(`${field}[${i}].${sharegpt ? 'value' : 'content'} must be a string`);
    return { role, content };
  });
}

function str(o: Record<string, unknown>, key: string, optional = false): string {
  const v = o[key];
  if (v === undefined || v === null) {
    if (optional) return '';
    throw new Error(`missing field "${key}"`);
  }
  if (typeof v !== 'string') throw new Error(`field "${key}" must be a string, got ${typeof v}`);
  return v;
}

/** One raw JSON value → Row in the given format (throws with the reason when it does not fit). */
export function toRow(value: unknown, format: RowFormat, id: string): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a row must be a JSON object');
  const o = value as Record<string, unknown>;
  switch (format) {
    case 'messages':
      return { id, kind: 'messages', messages: messages(o['messages'], 'messages', false) };
    case 'sharegpt':
      return { id, kind: 'messages', messages: messages(o['conversations'], 'conversations', true) };
    case 'prompt-completion':
      if (Array.isArray(o['prompt'])) {
        return { id, kind: 'prompt-completion-chat', prompt: messages(o['prompt'], 'prompt', false), completion: messages(o['completion'], 'completion', false) };
      }
      return { id, kind: 'prompt-completion', prompt: str(o, 'prompt'), completion: str(o, 'completion') };
    case 'instruction':
      return { id, kind: 'instruction', instruction: str(o, 'instruction'), input: str(o, 'input', true), output: str(o, 'output') };
    case 'text':
      return { id, kind: 'text', text: str(o, 'text') };
  }
}

/** Parses a dataset file's text. `name` picks JSON (`.json`) or JSON Lines (anything else). */
export function parseRows(name: string, text: string, forced?: RowFormat): ParsedRows {
  const raw: { line: number; value: unknown }[] = [];
  const problems: RowProblem[] = [];
  if (text.trim() === '') throw new Error(`${name} is empty: a dataset needs at least one row. HINT: one JSON object per line, e.g. {"messages": [...]}`);
  if (/\.json$/i.test(name)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${name} is not valid JSON (${(e as Error).message}). HINT: use a JSON array of rows, or JSON Lines (.jsonl).`, { cause: e });
    }
    if (!Array.isArray(parsed)) throw new Error(`${name} must hold a JSON array of rows. HINT: or save it as JSON Lines (.jsonl), one row per line.`);
    parsed.forEach((value, i) => raw.push({ line: i + 1, value }));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        raw.push({ line: i + 1, value: JSON.parse(line) });
      } catch (e) {
        problems.push({ line: i + 1, message: `not valid JSON (${(e as Error).message})` });
      }
    });
  }
  const format = forced ?? raw.map((r) => detectFormat(r.value)).find((f) => f !== null);
  if (!format) {
    throw new Error(`${name}: cannot tell the dataset format from its rows. HINT: rows need "messages", "conversations", "prompt"+"completion", "instruction"+"output" or "text"; or pass --format.`);
  }
  const rows: Row[] = [];
  for (const { line, value } of raw) {
    try {
      rows.push(toRow(value, format, `line-${line}`));
    } catch (e) {
      problems.push({ line, message: (e as Error).message });
    }
  }
  if (rows.length === 0) {
    const first = problems[0];
    throw new Error(`${name} has no usable ${format} rows${first ? ` (line ${first.line}: ${first.message})` : ''}. HINT: check the file format or pass --format.`);
  }
  return { rows, format, problems };
}
