// Label masks from character spans (sft-conventions §1, §9–11): which token positions are targets under each policy
// and framework preset. Token i is inside a character span when its [start, end) overlaps it (a token straddling
// the boundary counts as inside, as transformers' generation tracker does). Labels are unshifted: labels[i] = ids[i]
// or IGNORE_INDEX; the loss shifts.
import type { Tokenizer, Offsets } from './tokenizer.ts';
import { IGNORE_INDEX, type CharSpan, type TurnSpan } from './types.ts';

/** Mask policies of the run config: four of TabTune's own, then three framework presets. */
export type MaskMode = 'assistant' | 'last-assistant' | 'assistant-no-eot' | 'completion' | 'all' | 'trl' | 'axolotl' | 'unsloth';

/** What the mask needs from a rendered, tokenized example. */
export interface MaskInput {
  text: string;
  tokens: Offsets;
  turns: readonly TurnSpan[];
  /** For `completion`: the character where the completion starts (end of the prompt render). */
  completionStart?: number;
}

function overlaps(tokenStart: number, tokenEnd: number, span: CharSpan): boolean {
  // Zero-width tokens (BOS added by the post-processor) never fall inside a span.
  return tokenStart < span.end && tokenEnd > span.start && tokenEnd > tokenStart;
}

function markSpan(labels: Int32Array, input: MaskInput, span: CharSpan): number {
  const { ids, starts, ends } = input.tokens;
  let last = -1;
  for (let i = 0; i < ids.length; i++) {
    if (overlaps(starts[i] ?? 0, ends[i] ?? 0, span)) {
      labels[i] = ids[i] ?? 0;
      last = i;
    }
  }
  return last;
}

function firstTokenAtOrAfter(input: MaskInput, char: number): number {
  const { starts, ends } = input.tokens;
  for (let i = 0; i < starts.length; i++) {
    if ((ends[i] ?? 0) > char || (starts[i] ?? 0) >= char) return i;
  }
  return starts.length;
}

/** Index of the end-of-turn token closing a turn: the first end-of-turn/EOS token from token `from` on, starting
 * before `limit` (the next content's start) and at most `maxDistance` tokens on. -1 when there is none. */
function turnEndToken(input: MaskInput, tok: Tokenizer, from: number, limit: number, maxDistance = Infinity): number {
  const { ids, starts } = input.tokens;
  for (let i = from; i < ids.length && (starts[i] ?? 0) < limit && i - from < maxDistance; i++) {
    if (tok.endOfTurnIds.has(ids[i] ?? -1)) return i;
  }
  return -1;
}

function nextTurnStart(turns: readonly TurnSpan[], k: number, textLength: number): number {
  return turns[k + 1]?.start ?? textLength;
}

function assistantTurns(turns: readonly TurnSpan[]): number[] {
  const out: number[] = [];
  turns.forEach((t, k) => {
    if (t.role === 'assistant') out.push(k);
  });
  return out;
}

/** `assistant` / `last-assistant`: content of each (or the last) assistant turn plus its end-of-turn token;
 * `assistant-no-eot` leaves the end-of-turn token out (the classic bug the end-of-turn lesson shows). */
function maskAssistant(input: MaskInput, tok: Tokenizer, onlyLast: boolean, labels: Int32Array, withEot = true): void {
  const chosen = assistantTurns(input.turns);
  for (const k of onlyLast ? chosen.slice(-1) : chosen) {
    const turn = input.turns[k];
    if (!turn) continue;
    markSpan(labels, input, turn);
    if (!withEot) continue;
    const eot = turnEndToken(input, tok, firstTokenAtOrAfter(input, turn.end), nextTurnStart(input.turns, k, input.text.length));
    if (eot >= 0) labels[eot] = input.tokens.ids[eot] ?? 0;
  }
}

/** Axolotl (`roles_to_train: [assistant]`, `train_on_eos: turn`): content tokens, plus the EOT/EOS token when it
 * lies within 3 tokens of the end of the turn's content. */
function maskAxolotl(input: MaskInput, tok: Tokenizer, labels: Int32Array): void {
  for (const k of assistantTurns(input.turns)) {
    const turn = input.turns[k];
    if (!turn) continue;
    const last = markSpan(labels, input, turn);
    const from = last >= 0 ? last + 1 : firstTokenAtOrAfter(input, turn.end);
    const eot = turnEndToken(input, tok, from, nextTurnStart(input.turns, k, input.text.length), 3);
    if (eot >= 0) labels[eot] = input.tokens.ids[eot] ?? 0;
  }
}

/** TRL `assistant_only_loss`: the characters inside its training templates' `{% generation %}` blocks. ChatML
 * (Qwen): `'\n' + content + '<|im_end|>\n'` (everything after `<|im_start|>assistant`, including an injected think
 * block); Llama 3: `content|trim + '<|eot_id|>'`. Families TRL ships no training template for use content + EOT. */
function maskTrl(input: MaskInput, tok: Tokenizer, labels: Int32Array): void {
  const chatml = input.text.includes('<|im_start|>');
  for (const k of assistantTurns(input.turns)) {
    const turn = input.turns[k];
    if (!turn) continue;
    if (!chatml) {
      markSpan(labels, input, turn);
      const eot = turnEndToken(input, tok, firstTokenAtOrAfter(input, turn.end), nextTurnStart(input.turns, k, input.text.length));
      if (eot >= 0) labels[eot] = input.tokens.ids[eot] ?? 0;
      continue;
    }
    const header = '<|im_start|>assistant';
    const headerAt = input.text.lastIndexOf(header, turn.start);
    const start = headerAt >= 0 ? headerAt + header.length : turn.start;
    const close = input.text.indexOf('<|im_end|>', turn.end);
    let end = close >= 0 ? close + '<|im_end|>'.length : turn.end;
    if (input.text[end] === '\n') end += 1;
    markSpan(labels, input, { start, end });
  }
}

/** The instruction/response markers `train_on_responses_only` is called with for each template family. */
function unslothMarkers(text: string): { instruction: string; response: string } | null {
  if (text.includes('<|im_start|>')) return { instruction: '<|im_start|>user\n', response: '<|im_start|>assistant\n' };
  if (text.includes('<|start_header_id|>')) {
    return { instruction: '<|start_header_id|>user<|end_header_id|>\n\n', response: '<|start_header_id|>assistant<|end_header_id|>\n\n' };
  }
  if (text.includes('<start_of_turn>')) return { instruction: '<start_of_turn>user\n', response: '<start_of_turn>model\n' };
  if (text.includes('[/INST]')) return { instruction: '[INST]', response: '[/INST]' };
  if (text.includes('### Response:')) return { instruction: '### Instruction:\n', response: '### Response:\n' };
  return null;
}

/** Unsloth `train_on_responses_only`: from the end of each response marker to the start of the next instruction
 * marker (or the end). Whatever lies between (a system or tool turn) is trained too: the known leak (#3920). */
function maskUnsloth(input: MaskInput, labels: Int32Array): void {
  const markers = unslothMarkers(input.text);
  if (!markers) return;
  let at = input.text.indexOf(markers.response);
  while (at >= 0) {
    const start = at + markers.response.length;
    const next = input.text.indexOf(markers.instruction, start);
    const end = next >= 0 ? next : input.text.length;
    markSpan(labels, input, { start, end });
    at = input.text.indexOf(markers.response, end);
  }
}

/** Labels for one example under a mask mode. All-IGNORE_INDEX output means "no trainable token" (§11). */
export function computeLabels(input: MaskInput, tok: Tokenizer, mode: MaskMode): Int32Array {
  const labels = new Int32Array(input.tokens.ids.length).fill(IGNORE_INDEX);
  switch (mode) {
    case 'all':
      labels.set(input.tokens.ids);
      break;
    case 'assistant':
    case 'last-assistant':
      maskAssistant(input, tok, mode === 'last-assistant', labels);
      break;
    case 'assistant-no-eot':
      maskAssistant(input, tok, false, labels, false);
      break;
    case 'completion': {
      const start = input.completionStart ?? input.text.length;
      markSpan(labels, input, { start, end: input.text.length });
      break;
    }
    case 'trl':
      if (input.completionStart !== undefined && !input.turns.some((t) => t.role === 'assistant')) {
        markSpan(labels, input, { start: input.completionStart, end: input.text.length });
      } else {
        maskTrl(input, tok, labels);
      }
      break;
    case 'axolotl':
      maskAxolotl(input, tok, labels);
      break;
    case 'unsloth':
      maskUnsloth(input, labels);
      break;
  }
  return labels;
}

export function countTargets(labels: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}
