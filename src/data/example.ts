// One dataset row → one training example: render (chat template, or plain text + EOS), tokenize with offsets,
// label under a mask mode, truncate (keeping the start). Rows left without targets are dropped with a reason
// (sft-conventions §4, §6, §11) rather than trained as loss 0.
import { computeLabels, countTargets, type MaskMode } from './masks.ts';
import { renderWithSpans, SpanError } from './spans.ts';
import { renderChat, TemplateRenderError, type CompiledTemplate, type RenderOptions } from './template.ts';
import type { Offsets, Tokenizer } from './tokenizer.ts';
import type { Message, Row, TurnSpan } from './types.ts';
import { withArticle } from '../share/wording.ts';

export interface ExampleOptions {
  tokenizer: Tokenizer;
  /** The chat template for conversational rows; plain text and plain prompt/completion rows do not use one. */
  template: CompiledTemplate | null;
  mode: MaskMode;
  maxLength?: number;
  /** Template kwargs and the frozen date. */
  render?: Pick<RenderOptions, 'kwargs' | 'date'>;
  /** Render plain prompt/completion rows through `template` too, as a user turn and an assistant turn (a template
   * picked by hand, e.g. the plain one with its separator); otherwise they are concatenated, as TRL does. */
  templatePlainRows?: boolean;
  /** Wall-clock time the whole dataset may spend in the template, ms (DATASET_TEMPLATE_MS): each render has its own
   * budget, and this one caps a template that spends just under it on every row. */
  datasetTimeMs?: number;
}

/** Default for ExampleOptions.datasetTimeMs: ordinary templates render ten thousand rows in a few seconds. */
const DATASET_TEMPLATE_MS = 20_000;

export interface Example {
  id: string;
  text: string;
  ids: number[];
  labels: Int32Array;
  /** UTF-16 offsets of each token in `text` (BOS added by the tokenizer has start = end = 0). */
  starts: Int32Array;
  ends: Int32Array;
  /** Message contents in `text`; empty for plain text rows. */
  turns: TurnSpan[];
  /** The messages rendered (conversational rows; prompt/completion as user/assistant). */
  messages: Message[];
  /** Where the completion starts, for prompt/completion rows and the `completion` policy. */
  completionStart?: number;
  /** Rendered by a chat template (conversational rows) rather than concatenated (text, plain prompt/completion). */
  templated: boolean;
  /** Token count before truncation (equals ids.length when nothing was cut). */
  fullLength: number;
  /** Per-example notes for the linter (e.g. the prompt render is not a token prefix of the full render). */
  notes: string[];
}

type DropReason = 'no-trainable-token' | 'all-targets-truncated' | 'render-error';

export type BuildResult = { ok: true; example: Example } | { ok: false; id: string; reason: DropReason; message: string };

/** The conversation a row stands for, and where its prompt ends (in messages) when it has one. */
function rowMessages(row: Row, plainToo = false): { messages: Message[]; promptCount: number | null } | null {
  switch (row.kind) {
    case 'prompt-completion':
      return plainToo ? { messages: [{ role: 'user', content: row.prompt }, { role: 'assistant', content: row.completion }], promptCount: 1 } : null;
    case 'messages':
      return { messages: row.messages, promptCount: null };
    case 'prompt-completion-chat':
      return { messages: [...row.prompt, ...row.completion], promptCount: row.prompt.length };
    case 'instruction': {
      const user = row.input.trim() ? `${row.instruction}\n\n${row.input}` : row.instruction;
      return { messages: [{ role: 'user', content: user }, { role: 'assistant', content: row.output }], promptCount: null };
    }
    default:
      return null;
  }
}

function withBos(tok: Tokenizer, tokens: Offsets): Offsets {
  if (!tok.addsBos || tok.bosId === null) return tokens;
  const starts = new Int32Array(tokens.starts.length + 1);
  const ends = new Int32Array(tokens.ends.length + 1);
  starts.set(tokens.starts, 1);
  ends.set(tokens.ends, 1);
  return { ids: [tok.bosId, ...tokens.ids], starts, ends };
}

function withEos(tok: Tokenizer, text: string): string {
  const eos = tok.eosToken;
  return eos && !text.endsWith(eos) ? text + eos : text;
}

interface Rendered {
  text: string;
  tokens: Offsets;
  turns: TurnSpan[];
  messages: Message[];
  completionStart?: number;
  notes: string[];
}

function renderConversation(row: Row, messages: Message[], promptCount: number | null, opts: ExampleOptions): Rendered {
  const tok = opts.tokenizer;
  if (!opts.template) throw new TemplateRenderError(`Row ${row.id} is a conversation but no chat template is selected; pick the tokenizer's template, a built-in one, or write one.`);
  const normalized = messages.map((m) => ({ role: m.role, content: tok.normalize(m.content) }));
  const base = { bosToken: tok.bosToken, eosToken: tok.eosToken, ...opts.render };
  const rendered = renderWithSpans(opts.template, normalized, base);
  const tokens = tok.encodeWithOffsets(rendered.text);
  const notes: string[] = [];
  let completionStart: number | undefined;
  // The prompt is everything before the completion messages, or before the last assistant turn.
  const lastAssistant = normalized.map((m) => m.role).lastIndexOf('assistant');
  const cut = promptCount ?? (opts.mode === 'completion' && lastAssistant >= 0 ? lastAssistant : null);
  if (cut !== null) {
    const prompt = renderChat(opts.template, normalized.slice(0, cut), { ...base, addGenerationPrompt: true });
    const promptIds = tok.encode(prompt, { addSpecialTokens: false });
    const isTokenPrefix = promptIds.every((id, i) => tokens.ids[i] === id);
    if (rendered.text.startsWith(prompt)) completionStart = prompt.length;
    else completionStart = tokens.ends[Math.max(0, promptIds.length - 1)] ?? 0;
    if (!isTokenPrefix) notes.push('prompt-not-token-prefix');
  }
  return { text: rendered.text, tokens, turns: rendered.turns, messages: normalized, completionStart, notes };
}

function renderPlain(row: Row, tok: Tokenizer): Rendered {
  if (row.kind === 'text') {
    const text = withEos(tok, tok.normalize(row.text));
    return { text, tokens: withBos(tok, tok.encodeWithOffsets(text)), turns: [], messages: [], completionStart: 0, notes: [] };
  }
  if (row.kind !== 'prompt-completion') throw new Error(`renderPlain got ${withArticle(row.kind)} row`);
  const prompt = tok.normalize(row.prompt);
  const completion = tok.normalize(row.completion);
  const text = withEos(tok, prompt + completion);
  const turns: TurnSpan[] = [
    { message: 0, role: 'user', start: 0, end: prompt.length },
    { message: 1, role: 'assistant', start: prompt.length, end: prompt.length + completion.length },
  ];
  const messages: Message[] = [{ role: 'user', content: prompt }, { role: 'assistant', content: completion }];
  return { text, tokens: withBos(tok, tok.encodeWithOffsets(text)), turns, messages, completionStart: prompt.length, notes: [] };
}

/** Builds one example, or says why the row is dropped. Never throws for a bad row. */
export function buildExample(row: Row, opts: ExampleOptions): BuildResult {
  let rendered: Rendered;
  try {
    const conversation = rowMessages(row, opts.templatePlainRows === true && opts.template !== null);
    rendered = conversation ? renderConversation(row, conversation.messages, conversation.promptCount, opts) : renderPlain(row, opts.tokenizer);
  } catch (error) {
    if (error instanceof TemplateRenderError || error instanceof SpanError) {
      return { ok: false, id: row.id, reason: 'render-error', message: error.message };
    }
    throw error;
  }
  // Plain text is language modelling: every token is a target whatever the mode.
  const mode = row.kind === 'text' ? 'all' : opts.mode;
  const labels = computeLabels({ ...rendered }, opts.tokenizer, mode);
  if (countTargets(labels) === 0) {
    return { ok: false, id: row.id, reason: 'no-trainable-token', message: `Row ${row.id}: the "${mode}" mask leaves no trainable token (is there an assistant turn?).` };
  }
  const fullLength = rendered.tokens.ids.length;
  const keep = opts.maxLength !== undefined ? Math.min(opts.maxLength, fullLength) : fullLength;
  const kept = labels.slice(0, keep);
  if (countTargets(kept) === 0) {
    return { ok: false, id: row.id, reason: 'all-targets-truncated', message: `Row ${row.id}: all targets lie beyond max length ${keep} (the row has ${fullLength} tokens).` };
  }
  return {
    ok: true,
    example: {
      id: row.id,
      text: rendered.text,
      ids: rendered.tokens.ids.slice(0, keep),
      labels: kept,
      starts: rendered.tokens.starts.slice(0, keep),
      ends: rendered.tokens.ends.slice(0, keep),
      turns: rendered.turns,
      messages: rendered.messages,
      completionStart: rendered.completionStart,
      templated: rowMessages(row, opts.templatePlainRows === true && opts.template !== null) !== null,
      fullLength,
      notes: rendered.notes,
    },
  };
}

export interface BuiltDataset {
  examples: Example[];
  dropped: { id: string; reason: DropReason; message: string }[];
}

export function buildExamples(rows: readonly Row[], opts: ExampleOptions): BuiltDataset {
  const out: BuiltDataset = { examples: [], dropped: [] };
  const limit = opts.datasetTimeMs ?? DATASET_TEMPLATE_MS;
  const deadline = performance.now() + limit;
  for (const [i, row] of rows.entries()) {
    // Checked between rows: one render is bounded by its own budget, so the whole stops at most one render late.
    if (opts.template && i > 0 && performance.now() > deadline) {
      throw new TemplateRenderError(
        `The chat template took more than ${limit / 1000} s to render ${i} of ${rows.length} rows, so preparing stopped. ` +
          'Templates are limited so that a slow one cannot hold up the run; simplify the template (loops over large ranges, repeated filters) or use fewer rows.',
      );
    }
    const result = buildExample(row, opts);
    if (result.ok) out.examples.push(result.example);
    else out.dropped.push({ id: result.id, reason: result.reason, message: result.message });
  }
  return out;
}
