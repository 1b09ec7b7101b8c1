// Teaching comparisons (issue 5 item 4): what two common hand-rolled collators would train on an example, and the
// token positions where they disagree with TabTune's exact mask.
//  - "last-assistant-token": mask everything up to and including the last token spelled `assistant` (TRL's old
//    DataCollatorForCompletionOnlyLM with response_template="assistant"); no such token → nothing trained.
//  - "prompt-length": mask the first len(tokenize(prompt)) tokens, with the prompt tokenized on its own the default
//    way (special tokens added: a second BOS shifts the mask by one; left context changes the count).
import type { Example } from './example.ts';
import { renderChat, type CompiledTemplate, type RenderOptions } from './template.ts';
import type { Tokenizer } from './tokenizer.ts';
import { IGNORE_INDEX } from './types.ts';

type NaiveMethod = 'last-assistant-token' | 'prompt-length';

export interface NaiveComparison {
  method: NaiveMethod;
  labels: Int32Array;
  /** Positions where the naive method trains a token the exact mask does not, or the reverse. */
  differs: number[];
  /** Of `differs`: trained by the naive method only / by the exact mask only. */
  extra: number[];
  missing: number[];
  note: string;
}

function compare(method: NaiveMethod, exact: Example, labels: Int32Array, note: string): NaiveComparison {
  const differs: number[] = [];
  const extra: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < exact.ids.length; i++) {
    const naiveTrained = labels[i] !== IGNORE_INDEX;
    const exactTrained = exact.labels[i] !== IGNORE_INDEX;
    if (naiveTrained === exactTrained) continue;
    differs.push(i);
    (naiveTrained ? extra : missing).push(i);
  }
  return { method, labels, differs, extra, missing, note };
}

function trainFrom(ids: readonly number[], from: number): Int32Array {
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let i = Math.max(0, from); i < ids.length; i++) labels[i] = ids[i] ?? 0;
  return labels;
}

export function naiveLastAssistantToken(exact: Example, tok: Tokenizer): NaiveComparison {
  const marker = tok.encode('assistant', { addSpecialTokens: false });
  const first = marker[0];
  const at = first === undefined || marker.length !== 1 ? -1 : exact.ids.lastIndexOf(first);
  if (at < 0) {
    return compare('last-assistant-token', exact, trainFrom(exact.ids, exact.ids.length),
      'No single token spells "assistant" here (the template names the role differently, or it splits into pieces): the naive collator trains nothing.');
  }
  return compare('last-assistant-token', exact, trainFrom(exact.ids, at + 1),
    `Trains everything after token ${at}: earlier assistant turns are lost and the header's newline is trained.`);
}

export function naivePromptLength(exact: Example, tok: Tokenizer, template: CompiledTemplate | null, render: Pick<RenderOptions, 'kwargs' | 'date'> = {}): NaiveComparison {
  let prompt = exact.text.slice(0, exact.completionStart ?? 0);
  if (exact.templated && template) {
    const lastAssistant = exact.messages.map((m) => m.role).lastIndexOf('assistant');
    const cut = lastAssistant >= 0 ? lastAssistant : exact.messages.length;
    prompt = renderChat(template, exact.messages.slice(0, cut), { bosToken: tok.bosToken, eosToken: tok.eosToken, addGenerationPrompt: true, ...render });
  }
  const n = tok.encode(prompt, { addSpecialTokens: true }).length;
  return compare('prompt-length', exact, trainFrom(exact.ids, n),
    `Masks the first ${n} tokens (the prompt tokenized alone, with default special tokens).`);
}

export function naiveComparisons(exact: Example, tok: Tokenizer, template: CompiledTemplate | null, render?: Pick<RenderOptions, 'kwargs' | 'date'>): NaiveComparison[] {
  return [naiveLastAssistantToken(exact, tok), naivePromptLength(exact, tok, template, render)];
}
