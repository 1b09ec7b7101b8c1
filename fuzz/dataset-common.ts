// Shared by the dataset targets: loadDataset must never throw, every problem it reports must be a sentence about the
// input (no raw engine message), and every row it returns must be well-formed (roles from the fixed set, strings
// where strings belong) whatever keys the data used.
import { loadDataset } from '../src/data/dataset.ts';
import type { FileFormat } from '../src/data/formats.ts';
import { RAW_ENGINE_MESSAGE } from './judge.ts';
import { ReportedProblems } from './target.ts';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

function checkMessages(messages: unknown, id: string): void {
  if (!Array.isArray(messages)) throw new Error(`row ${id}: messages is not a list`);
  for (const m of messages as { role: unknown; content: unknown }[]) {
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw new Error(`row ${id}: role ${String(m.role).slice(0, 40)} is not one of the four roles`);
    if (typeof m.content !== 'string') throw new Error(`row ${id}: content is ${typeof m.content}`);
  }
}

export async function runDataset(name: string, input: Uint8Array, format?: FileFormat): Promise<void> {
  const ds = await loadDataset(name, input, format ? { format } : {});
  for (const e of ds.errors) {
    if (typeof e.where !== 'string' || typeof e.message !== 'string') throw new Error('an error entry is not {where, message} strings');
    if (RAW_ENGINE_MESSAGE.test(e.message)) throw new Error(`raw engine message reported for ${e.where}: ${e.message.slice(0, 300)}`);
  }
  for (const row of ds.rows) {
    switch (row.kind) {
      case 'messages': checkMessages(row.messages, row.id); break;
      case 'prompt-completion-chat': checkMessages(row.prompt, row.id); checkMessages(row.completion, row.id); break;
      case 'prompt-completion': if (typeof row.prompt !== 'string' || typeof row.completion !== 'string') throw new Error(`row ${row.id}: prompt/completion not strings`); break;
      case 'instruction': if (typeof row.instruction !== 'string' || typeof row.input !== 'string' || typeof row.output !== 'string') throw new Error(`row ${row.id}: instruction fields not strings`); break;
      case 'text': if (typeof row.text !== 'string') throw new Error(`row ${row.id}: text not a string`); break;
      default: throw new Error(`row of unknown kind ${String((row as { kind: unknown }).kind)}`);
    }
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(ds.hash)) throw new Error('hash missing');
  if (ds.rows.length === 0) throw new ReportedProblems(ds.errors.map((e) => `${e.where} ${e.message}`).join('\n').slice(0, 2000) || 'no rows');
}

const utf8 = new TextEncoder();
export const text = (s: string): Uint8Array => utf8.encode(s);

/** Records in every layout detect.ts knows, used as the content of the JSONL/JSON/CSV seeds. */
export const RECORDS: unknown[][] = [
  [
    { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi 👋' }, { role: 'assistant', content: 'Hello.' }] },
    { messages: [{ role: 'user', content: [{ type: 'text', text: 'multi' }, { type: 'text', text: 'part' }] }, { role: 'assistant', content: 'ok' }] },
  ],
  [{ conversations: [{ from: 'human', value: 'q' }, { from: 'gpt', value: 'a' }] }, { conversations: [{ from: 'system', value: 's' }, { from: 'human', value: 'q2' }, { from: 'gpt', value: 'a2' }] }],
  [{ prompt: 'What is 2+2?', completion: ' 4' }, { prompt: 'Capital of France?', completion: ' Paris', extra: 1 }],
  [{ prompt: [{ role: 'user', content: 'q' }], completion: [{ role: 'assistant', content: 'a' }] }],
  [{ instruction: 'Translate', input: 'chat', output: 'cat' }, { instruction: 'Sum', output: '3', input: null }],
  [{ text: 'plain document one' }, { text: 'two\nlines' }, { text: 42 }],
];
