// Format detection and field mapping: plain records → typed Rows. Recognises conversational `messages`, ShareGPT
// `conversations` (from/value, human→user, gpt→assistant), prompt/completion (plain and conversational),
// instruction/input/output and plain `text`. A record that does not fit gives an error naming its line/row and
// field; the other records are kept.
import type { ParseIssue, SourceRecord } from './formats.ts';
import type { Message, Role, Row, RowKind } from './types.ts';
import { withArticle } from '../share/wording.ts';

export interface FieldMapping {
  kind: RowKind;
  /** Column names in the source, by role in the row. Conversations use `messages`. */
  fields: Partial<Record<'messages' | 'prompt' | 'completion' | 'instruction' | 'input' | 'output' | 'text', string>>;
  /** ShareGPT-style message objects use these keys instead of role/content. */
  messageKeys?: { role: string; content: string };
}

const SHAREGPT_ROLES: Record<string, Role> = {
  human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', model: 'assistant', chatgpt: 'assistant',
  system: 'system', tool: 'tool', function_response: 'tool', observation: 'tool',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `record[key]` for a key that comes from data or a user's mapping: own properties only, so "constructor",
 * "toString" or "__proto__" never reach Object.prototype. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A value from data quoted in a message: at most 80 characters, so a megabyte-long role does not make a megabyte error. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value === undefined) return 'nothing';
  return withArticle(typeof value);
}

/** Picks the mapping from the keys of the first records. null when no known layout fits. */
function detectMapping(records: readonly SourceRecord[]): FieldMapping | null {
  const sample = records.slice(0, 20).map((r) => r.value).filter(isObject);
  const has = (key: string) => sample.some((r) => Object.hasOwn(r, key));
  const first = sample[0];
  if (!first) return null;
  if (has('messages')) return { kind: 'messages', fields: { messages: 'messages' } };
  if (has('conversations')) {
    const conv = sample.map((r) => own(r, 'conversations')).find(Array.isArray) as unknown[] | undefined;
    const probe = conv?.find(isObject);
    const sharegpt = probe ? Object.hasOwn(probe, 'from') && Object.hasOwn(probe, 'value') : true;
    return { kind: 'messages', fields: { messages: 'conversations' }, ...(sharegpt ? { messageKeys: { role: 'from', content: 'value' } } : {}) };
  }
  if (has('prompt') && has('completion')) {
    const chat = sample.some((r) => Array.isArray(own(r, 'prompt')));
    return { kind: chat ? 'prompt-completion-chat' : 'prompt-completion', fields: { prompt: 'prompt', completion: 'completion' } };
  }
  if (has('instruction') && has('output')) return { kind: 'instruction', fields: { instruction: 'instruction', input: 'input', output: 'output' } };
  if (has('text')) return { kind: 'text', fields: { text: 'text' } };
  return null;
}

/** Content may be a string or a list of `{type: "text", text}` parts (multimodal layout): text parts are joined. */
function contentText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((p) => isObject(p) && typeof own(p, 'text') === 'string')) {
    return value.map((p) => (p as { text: string }).text).join('');
  }
  return null;
}

function toMessages(value: unknown, field: string, keys: { role: string; content: string }): Message[] | string {
  if (!Array.isArray(value)) return `field "${field}" must be a list of messages, got ${typeName(value)}`;
  if (value.length === 0) return `field "${field}" is an empty list`;
  const messages: Message[] = [];
  for (let i = 0; i < value.length; i++) {
    const m: unknown = value[i];
    if (!isObject(m)) return `${field}[${i}] must be an object with "${keys.role}" and "${keys.content}", got ${typeName(m)}`;
    const rawRole = own(m, keys.role);
    if (typeof rawRole !== 'string') return `${field}[${i}].${keys.role} must be a string, got ${typeName(rawRole)}`;
    const lower = rawRole.toLowerCase();
    const role = Object.hasOwn(SHAREGPT_ROLES, lower) ? SHAREGPT_ROLES[lower] : undefined;
    if (!role) return `${field}[${i}].${keys.role} is "${clip(rawRole)}"; expected one of system, user, assistant, tool (or ShareGPT human, gpt)`;
    const content = contentText(own(m, keys.content));
    if (content === null) return `${field}[${i}].${keys.content} must be a string, got ${typeName(own(m, keys.content))}`;
    messages.push({ role, content });
  }
  return messages;
}

function stringField(record: Record<string, unknown>, column: string | undefined, optional = false): string | { error: string } {
  if (!column) return optional ? '' : { error: 'no column is mapped for a required field' };
  const value = own(record, column);
  if (value === undefined || value === null) return optional ? '' : { error: `field "${clip(column)}" is missing` };
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return { error: `field "${clip(column)}" must be a string, got ${typeName(value)}` };
}

function mapOne(record: Record<string, unknown>, id: string, mapping: FieldMapping): Row | string {
  const f = mapping.fields;
  const keys = mapping.messageKeys ?? { role: 'role', content: 'content' };
  switch (mapping.kind) {
    case 'messages': {
      const messages = toMessages(own(record, f.messages ?? 'messages'), f.messages ?? 'messages', keys);
      return typeof messages === 'string' ? messages : { id, kind: 'messages', messages };
    }
    case 'prompt-completion-chat': {
      const prompt = toMessages(own(record, f.prompt ?? 'prompt'), f.prompt ?? 'prompt', keys);
      if (typeof prompt === 'string') return prompt;
      const completion = toMessages(own(record, f.completion ?? 'completion'), f.completion ?? 'completion', keys);
      if (typeof completion === 'string') return completion;
      return { id, kind: 'prompt-completion-chat', prompt, completion };
    }
    case 'prompt-completion': {
      const prompt = stringField(record, f.prompt);
      const completion = stringField(record, f.completion);
      if (typeof prompt !== 'string') return prompt.error;
      if (typeof completion !== 'string') return completion.error;
      return { id, kind: 'prompt-completion', prompt, completion };
    }
    case 'instruction': {
      const instruction = stringField(record, f.instruction);
      const input = stringField(record, f.input, true);
      const output = stringField(record, f.output);
      for (const v of [instruction, input, output]) if (typeof v !== 'string') return v.error;
      return { id, kind: 'instruction', instruction: instruction as string, input: input as string, output: output as string };
    }
    case 'text': {
      const text = stringField(record, f.text);
      return typeof text === 'string' ? { id, kind: 'text', text } : text.error;
    }
  }
}

export interface MappedRows {
  mapping: FieldMapping | null;
  rows: Row[];
  errors: ParseIssue[];
}

/** Maps records to rows with the given (or detected) mapping. Row ids are the records' locations ("line 12"). */
export function mapRecords(records: readonly SourceRecord[], mapping?: FieldMapping): MappedRows {
  const chosen = mapping ?? detectMapping(records);
  if (!chosen) {
    const keys = records.map((r) => r.value).find(isObject);
    const names = keys ? Object.keys(keys) : [];
    const seen = keys ? `${names.slice(0, 20).map(clip).join(', ')}${names.length > 20 ? `, … (${names.length} in all)` : ''}` : 'no objects at all';
    return {
      mapping: null,
      rows: [],
      errors: [{ where: 'the dataset', message: `has no known layout (found fields: ${seen}). Expected messages, conversations, prompt/completion, instruction/output or text; map the fields by hand.` }],
    };
  }
  const out: MappedRows = { mapping: chosen, rows: [], errors: [] };
  for (const record of records) {
    if (!isObject(record.value)) {
      out.errors.push({ where: record.where, message: `must be an object, got ${typeName(record.value)}` });
      continue;
    }
    const row = mapOne(record.value, record.where, chosen);
    if (typeof row === 'string') out.errors.push({ where: record.where, message: row });
    else out.rows.push(row);
  }
  return out;
}
