// Shared data-layer types: chat messages, normalised dataset rows, and the tokenized example every later stage
// (masks, lint, batches, the inspector) reads. Pure types only.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface Message {
  role: Role;
  content: string;
}

/** One dataset row after format detection and field mapping. `id` is stable (source line/row based). */
export type Row =
  | { id: string; kind: 'messages'; messages: Message[] }
  | { id: string; kind: 'prompt-completion'; prompt: string; completion: string }
  | { id: string; kind: 'prompt-completion-chat'; prompt: Message[]; completion: Message[] }
  | { id: string; kind: 'instruction'; instruction: string; input: string; output: string }
  | { id: string; kind: 'text'; text: string };

export type RowKind = Row['kind'];

/** A half-open range [start, end) of UTF-16 code units in a rendered string. */
export interface CharSpan {
  start: number;
  end: number;
}

/** Where one message's content landed in the rendered text. */
export interface TurnSpan extends CharSpan {
  /** Index into the row's message list (prompt messages first for conversational prompt/completion). */
  message: number;
  role: Role;
}

/** Label value that means "no loss at this position" (one constant, defined by the loss graph). */
export { IGNORE_INDEX } from '../share/labels.ts';
