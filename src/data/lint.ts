// The mask linter (issue 5 item 5): per-dataset warnings, each with a count and example ids, for the ways a mask
// silently trains the wrong tokens (sft-conventions §2, §4, §6–9, §11).
import type { BuiltDataset, Example } from './example.ts';
import type { MaskMode } from './masks.ts';
import type { Tokenizer } from './tokenizer.ts';
import { IGNORE_INDEX, type Message } from './types.ts';
import { count } from '../share/wording.ts';

export type LintCode =
  | 'no-trainable-token'
  | 'non-assistant-trained'
  | 'end-of-turn-never-trained'
  | 'bos-doubled'
  | 'template-injected-trained'
  | 'all-targets-truncated'
  | 'no-chat-template'
  | 'pad-equals-eos'
  | 'vocab-exceeds-embeddings'
  | 'prompt-not-token-prefix'
  | 'ends-on-user-turn'
  | 'starts-with-assistant'
  | 'empty-assistant-reply'
  | 'no-prompt-separator';

export interface LintWarning {
  code: LintCode;
  message: string;
  count: number;
  /** Up to 5 offending example (row) ids. */
  exampleIds: string[];
}

export interface LintContext {
  tokenizer: Tokenizer;
  mode: MaskMode;
  /** Whether conversational rows use the tokenizer's own chat template (as opposed to a built-in or custom one). */
  usesTokenizerTemplate: boolean;
  /** The model's embedding rows (`vocab_size` in config.json), when a model is chosen. */
  embeddingRows?: number;
}

const ASSISTANT_MODES: ReadonlySet<MaskMode> = new Set(['assistant', 'last-assistant', 'assistant-no-eot', 'trl', 'axolotl', 'unsloth', 'completion']);
const EXAMPLE_IDS = 5;

class Tally {
  readonly ids: string[] = [];
  count = 0;
  add(id: string): void {
    this.count++;
    if (this.ids.length < EXAMPLE_IDS) this.ids.push(id);
  }
}

function trained(example: Example, i: number): boolean {
  return example.labels[i] !== IGNORE_INDEX;
}

/** A trained token that lies in a user/system/tool content span. */
function trainsNonAssistant(example: Example): boolean {
  for (const turn of example.turns) {
    if (turn.role === 'assistant') continue;
    for (let i = 0; i < example.ids.length; i++) {
      if (trained(example, i) && (example.starts[i] ?? 0) < turn.end && (example.ends[i] ?? 0) > turn.start) return true;
    }
  }
  return false;
}

/** Trained text the template wrote itself (outside every message content), other than end-of-turn tokens and
 * whitespace: an empty think block, a date header, a default system prompt. */
function injectedTrainedText(example: Example, tok: Tokenizer): string | null {
  let found = '';
  for (let i = 0; i < example.ids.length; i++) {
    if (!trained(example, i) || tok.endOfTurnIds.has(example.ids[i] ?? -1)) continue;
    const start = example.starts[i] ?? 0;
    const end = example.ends[i] ?? 0;
    if (end <= start) continue;
    if (example.turns.some((t) => start < t.end && end > t.start)) continue;
    const piece = example.text.slice(start, end);
    if (piece.trim()) found += piece;
  }
  return found ? found : null;
}

/** The conversation's turns other than system ones (a system prompt may open any conversation). */
function dialogue(example: Example): Message[] {
  return example.messages.filter((m) => m.role !== 'system');
}

/** A plain prompt/completion row (concatenated, no template) whose prompt and completion meet with no whitespace
 * between them: `…sea level?100 degrees Celsius.` The model cannot tell where the question ends. */
function gluedPrompt(example: Example): boolean {
  if (example.templated || example.turns.length !== 2 || example.completionStart === undefined) return false;
  const at = example.completionStart;
  if (at <= 0 || at >= example.text.length) return false;
  return /\S/.test(example.text.charAt(at - 1)) && /\S/.test(example.text.charAt(at));
}

function describeInjected(text: string): string {
  if (/<think>\s*<\/think>/.test(text) || text.includes('<think>')) return 'an empty think block';
  if (/Cutting Knowledge Date|Today Date/i.test(text)) return 'a date header';
  if (/You are\b/i.test(text)) return 'a default system prompt';
  return 'template text';
}

export function lintDataset(data: BuiltDataset, ctx: LintContext): LintWarning[] {
  const tok = ctx.tokenizer;
  const warnings: LintWarning[] = [];
  const push = (code: LintCode, tally: Tally, message: string) => {
    if (tally.count > 0) warnings.push({ code, message, count: tally.count, exampleIds: tally.ids });
  };

  const dropped = { 'no-trainable-token': new Tally(), 'all-targets-truncated': new Tally() };
  for (const d of data.dropped) if (d.reason in dropped) dropped[d.reason as keyof typeof dropped].add(d.id);
  push('no-trainable-token', dropped['no-trainable-token'], `Rows with no trainable token under "${ctx.mode}" were dropped (a template that yields no target is an error, not an all-zero mask).`);
  push('all-targets-truncated', dropped['all-targets-truncated'], 'Rows whose targets all lie beyond the max length were dropped (truncation keeps the start). Raise the max length or shorten prompts.');

  const nonAssistant = new Tally();
  const noEot = new Tally();
  const doubledBos = new Tally();
  const injected = new Tally();
  const notPrefix = new Tally();
  const endsOnUser = new Tally();
  const startsWithAssistant = new Tally();
  const emptyReply = new Tally();
  const glued = new Tally();
  let injectedKind = '';
  let withAssistant = 0;
  for (const ex of data.examples) {
    if (ex.templated) {
      const turns = dialogue(ex);
      if (turns[turns.length - 1]?.role === 'user') endsOnUser.add(ex.id);
      if (turns[0]?.role === 'assistant') startsWithAssistant.add(ex.id);
    }
    if (ex.messages.some((m) => m.role === 'assistant' && m.content.trim() === '')) emptyReply.add(ex.id);
    if (gluedPrompt(ex)) glued.add(ex.id);
    if (ASSISTANT_MODES.has(ctx.mode) && trainsNonAssistant(ex)) nonAssistant.add(ex.id);
    if (ex.turns.some((t) => t.role === 'assistant') || !ex.templated) {
      withAssistant++;
      const eotTrained = ex.ids.some((id, i) => trained(ex, i) && tok.endOfTurnIds.has(id));
      if (!eotTrained) noEot.add(ex.id);
    }
    if (tok.bosId !== null && ex.ids[0] === tok.bosId && ex.ids[1] === tok.bosId) doubledBos.add(ex.id);
    // Under `all` every header token is a target by design; injected text matters for assistant-style masks.
    const injectedText = ASSISTANT_MODES.has(ctx.mode) ? injectedTrainedText(ex, tok) : null;
    if (injectedText !== null) {
      injected.add(ex.id);
      injectedKind ||= describeInjected(injectedText);
    }
    if (ex.notes.includes('prompt-not-token-prefix')) notPrefix.add(ex.id);
  }
  push('non-assistant-trained', nonAssistant, `User, system or tool tokens are trained under "${ctx.mode}" (Unsloth's marker range leaks into turns between a response and the next user turn).`);
  push('end-of-turn-never-trained', noEot, `The end-of-turn/EOS token is not trained in ${noEot.count} of ${withAssistant} examples: the model will not learn to stop (axolotl #3754).`);
  push('bos-doubled', doubledBos, 'Two BOS tokens at the start: the rendered chat already holds BOS and the tokenizer added another (tokenize rendered chats without special tokens).');
  push('template-injected-trained', injected, `Text the template wrote, not the data (${injectedKind}), is trained.`);
  push('prompt-not-token-prefix', notPrefix, 'The prompt rendered with add_generation_prompt is not a token prefix of the full render, so the completion boundary falls inside a token.');

  push('ends-on-user-turn', endsOnUser, 'Conversations end on a user turn: nothing answers the last question, so it is context only and never trained. Drop the trailing user message or add the reply.');
  push('starts-with-assistant', startsWithAssistant, 'Conversations start with an assistant turn (after any system prompt): many chat templates refuse this or render a reply to nothing. Start with the user turn.');
  push('empty-assistant-reply', emptyReply, 'An assistant reply is empty: the model is trained to answer with only an end-of-turn token. Fill in or remove the empty replies.');
  push('no-prompt-separator', glued, 'Prompt and completion are glued together with nothing between them (e.g. "sea level?100"): the model cannot tell where the prompt ends. Pick the plain prompt/completion template (it writes a visible separator), or end each prompt with a newline.');

  const once = (code: LintCode, message: string) => warnings.push({ code, message, count: 1, exampleIds: [] });
  // Only rows rendered by a chat template need one: plain prompt/completion and text rows are concatenated.
  if (tok.chatTemplate === null && ctx.usesTokenizerTemplate && data.examples.some((e) => e.templated)) {
    once('no-chat-template', 'The tokenizer has no chat template (a base model?). Pick a built-in template (Alpaca, Llama 2 chat) or write one.');
  }
  if (tok.padId === null || tok.padId === tok.eosId) {
    once('pad-equals-eos', `${tok.padId === null ? 'The tokenizer names no pad token, and most tools fall back to EOS' : 'The pad token is the EOS token'}: a collator that masks labels by comparing ids with pad_token_id deletes every EOS from the loss. TabTune masks padding by position.`);
  }
  if (ctx.embeddingRows !== undefined && tok.vocabSize > ctx.embeddingRows) {
    const beyond = new Tally();
    for (const ex of data.examples) if (ex.ids.some((id) => id >= (ctx.embeddingRows ?? Infinity))) beyond.add(ex.id);
    warnings.push({
      code: 'vocab-exceeds-embeddings',
      message: `The tokenizer has ${tok.vocabSize} tokens but the model has ${ctx.embeddingRows} embedding rows; ${count(beyond.count, 'example')} use${beyond.count === 1 ? 's' : ''} ids past the table (wrong tokenizer for this model?).`,
      count: Math.max(1, beyond.count),
      exampleIds: beyond.ids,
    });
  }
  return warnings;
}
