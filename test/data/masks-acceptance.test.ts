// Acceptance (issue 5): on the real Qwen3, Llama 3.1, Gemma 3 and Llama 2 tokenizers, multi-turn chats with a
// system prompt, emoji and non-Latin text are masked exactly: trained spans decode to the assistant contents plus
// their end-of-turn token, one BOS, no user/system token trained, first response token trained.
import { describe, expect, it } from 'vitest';
import { buildExample, type Example } from '../../src/data/example.ts';
import { LLAMA2_CHAT_TEMPLATE, mustCompile } from '../../src/data/template.ts';
import { IGNORE_INDEX, type Message } from '../../src/data/types.ts';
import { realTokenizer, type TokenizerName } from './tokenizers.ts';

const conversation: Message[] = [
  { role: 'system', content: 'You are a terse on-call assistant. Réponds en français si on te parle français.' },
  { role: 'user', content: 'Summarise: the DB went down 😬 at 03:00, failover took 4 min.' },
  { role: 'assistant', content: '🔥 Database outage at 03:00; service restored after a 4-minute failover.' },
  { role: 'user', content: '日本語で一言お願いします。И по-русски тоже.' },
  { role: 'assistant', content: 'データベースが停止しました 🙇‍♀️ — Сервис восстановлен. 👍' },
];

const cases: { name: TokenizerName; eot: string; template?: string }[] = [
  { name: 'qwen3', eot: '<|im_end|>' },
  { name: 'llama3_1', eot: '<|eot_id|>' },
  { name: 'gemma3', eot: '<end_of_turn>' },
  // Llama 2 base ships no chat template: Meta's chat format is built in.
  { name: 'llama2', eot: '</s>', template: LLAMA2_CHAT_TEMPLATE },
];

function trainedIds(ex: Example): number[] {
  return ex.ids.filter((_, i) => ex.labels[i] !== IGNORE_INDEX);
}

describe.each(cases)('assistant mask on the real $name tokenizer', ({ name, eot, template }) => {
  const tok = realTokenizer(name);
  const compiled = mustCompile(template ?? tok.chatTemplate ?? '', `${name} template`);
  const result = buildExample({ id: 'chat-1', kind: 'messages', messages: conversation }, { tokenizer: tok, template: compiled, mode: 'assistant' });
  if (!result.ok) throw new Error(result.message);
  const ex = result.example;
  const assistantTurns = ex.turns.filter((t) => t.role === 'assistant');

  it('finds every content at its UTF-16 span (emoji are two code units)', () => {
    for (const turn of ex.turns) {
      const content = conversation[turn.message]?.content ?? '';
      // Gemma and Llama 3 trim contents; ours have no outer whitespace, so the span holds the exact content.
      expect(ex.text.slice(turn.start, turn.end)).toBe(content);
    }
    expect(assistantTurns).toHaveLength(2);
  });

  it('decodes the trained tokens to exactly the assistant contents, each followed by its end-of-turn token', () => {
    const expected = assistantTurns.map((t) => (conversation[t.message]?.content ?? '') + eot).join('');
    expect(tok.decode(trainedIds(ex))).toBe(expected);
    expect(tok.endOfTurnIds.has(tok.idOf(eot) ?? -1)).toBe(true);
  });

  it('trains no user or system token: every target lies in an assistant content or is its end-of-turn token', () => {
    for (let i = 0; i < ex.ids.length; i++) {
      if (ex.labels[i] === IGNORE_INDEX) continue;
      const s = ex.starts[i] ?? 0;
      const e = ex.ends[i] ?? 0;
      const inAssistant = assistantTurns.some((t) => s < t.end && e > t.start);
      expect(inAssistant || ex.ids[i] === tok.idOf(eot), `token ${i} ${JSON.stringify(ex.text.slice(s, e))}`).toBe(true);
      expect(ex.turns.filter((t) => t.role !== 'assistant').some((t) => s < t.end && e > t.start)).toBe(false);
    }
  });

  it('trains the first response token of every assistant turn (no off-by-one, OpenRLHF #973)', () => {
    for (const turn of assistantTurns) {
      const first = ex.ids.findIndex((_, i) => (ex.ends[i] ?? 0) > turn.start);
      expect(ex.labels[first]).toBe(ex.ids[first]);
      // ...and that token really holds the content's first character.
      expect(ex.starts[first] ?? 0).toBeLessThanOrEqual(turn.start);
      expect(ex.labels[first - 1]).toBe(IGNORE_INDEX);
    }
  });

  it('has exactly one BOS where the template writes one (rendered chats are tokenized without special tokens, §6)', () => {
    const bos = tok.bosToken;
    const bosInText = bos ? ex.text.split(bos).length - 1 : 0;
    const bosIds = ex.ids.filter((id) => id === tok.bosId).length;
    expect(bosIds).toBe(bosInText);
    if (bosInText > 0) {
      expect(ex.ids[0]).toBe(tok.bosId);
      expect(ex.ids[1]).not.toBe(tok.bosId);
    }
  });

  it('labels are unshifted and carry the token ids they train (§1)', () => {
    expect(ex.labels).toHaveLength(ex.ids.length);
    ex.labels.forEach((label, i) => {
      if (label !== IGNORE_INDEX) expect(label).toBe(ex.ids[i]);
    });
  });
});
