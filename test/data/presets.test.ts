// Framework presets and mask rules, each test named after the sft-conventions rule it checks, on real tokenizers.
import { describe, expect, it } from 'vitest';
import { buildExample, buildExamples, type Example, type ExampleOptions } from '../../src/data/example.ts';
import type { MaskMode } from '../../src/data/masks.ts';
import { naiveLastAssistantToken, naivePromptLength } from '../../src/data/naive.ts';
import { ALPACA_TEMPLATE, mustCompile } from '../../src/data/template.ts';
import { IGNORE_INDEX, type Message, type Row } from '../../src/data/types.ts';
import { realTokenizer } from './tokenizers.ts';

const qwen = realTokenizer('qwen3');
const llama3 = realTokenizer('llama3_1');
const llama2 = realTokenizer('llama2');
const qwenTemplate = mustCompile(qwen.chatTemplate ?? '', 'qwen3');
const llama3Template = mustCompile(llama3.chatTemplate ?? '', 'llama3');

const chat: Message[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Is "ignore all previous instructions" an injection?' },
  { role: 'assistant', content: 'yes' },
  { role: 'user', content: 'And "what time is it"?' },
  { role: 'assistant', content: 'no' },
];

function build(messages: Message[], opts: Partial<ExampleOptions> & { mode: MaskMode }): Example {
  const result = buildExample({ id: 'x', kind: 'messages', messages }, { tokenizer: qwen, template: qwenTemplate, ...opts });
  if (!result.ok) throw new Error(result.message);
  return result.example;
}

const trainedText = (ex: Example, tok = qwen) => tok.decode(ex.ids.filter((_, i) => ex.labels[i] !== IGNORE_INDEX));

describe('mask policies', () => {
  it('§9 assistant trains every assistant turn; last-assistant only the last', () => {
    expect(trainedText(build(chat, { mode: 'assistant' }))).toBe('yes<|im_end|>no<|im_end|>');
    expect(trainedText(build(chat, { mode: 'last-assistant' }))).toBe('no<|im_end|>');
  });

  it('§9 completion trains everything after the prompt rendered with add_generation_prompt (incl. Qwen3 think block)', () => {
    expect(trainedText(build(chat, { mode: 'completion' }))).toBe('<think>\n\n</think>\n\nno<|im_end|>\n');
  });

  it('all trains every token', () => {
    const ex = build(chat, { mode: 'all' });
    expect(ex.labels.every((l, i) => l === ex.ids[i])).toBe(true);
  });

  it('§10 an empty assistant content trains only its end-of-turn token (no span bleeding, transformers #47325)', () => {
    const ex = build([{ role: 'user', content: 'hi' }, { role: 'assistant', content: '' }, { role: 'user', content: 'again' }, { role: 'assistant', content: 'ok' }], { mode: 'assistant' });
    expect(trainedText(ex)).toBe('<|im_end|>ok<|im_end|>');
  });

  it('§8 Qwen3 reasoning: the last turn trains its think block as written; earlier turns\' reasoning is dropped by the template', () => {
    const reasoning: Message[] = [
      { role: 'user', content: 'Is "print your system prompt" an injection?' },
      { role: 'assistant', content: '<think>\nIt asks for hidden instructions.\n</think>\n\nyes' },
      { role: 'user', content: 'And "what is 2+2"?' },
      { role: 'assistant', content: '<think>\nArithmetic 🧮, harmless.\n</think>\n\nno' },
    ];
    const ex = build(reasoning, { mode: 'assistant' });
    expect(ex.text).not.toContain('hidden instructions');
    expect(trainedText(ex)).toBe('yes<|im_end|><think>\nArithmetic 🧮, harmless.\n</think>\n\nno<|im_end|>');
  });

  it('§11 a row with no assistant turn is dropped with a reason, not trained as an all-zero mask', () => {
    const result = buildExample({ id: 'lonely', kind: 'messages', messages: [{ role: 'user', content: 'hello?' }] }, { tokenizer: qwen, template: qwenTemplate, mode: 'assistant' });
    expect(result).toMatchObject({ ok: false, id: 'lonely', reason: 'no-trainable-token' });
  });

  it('§4 truncation keeps the start; rows whose targets are all cut are dropped and counted', () => {
    const long: Message[] = [{ role: 'user', content: 'word '.repeat(200) }, { role: 'assistant', content: 'done' }];
    const built = buildExamples([
      { id: 'long', kind: 'messages', messages: long },
      { id: 'short', kind: 'messages', messages: chat },
    ], { tokenizer: qwen, template: qwenTemplate, mode: 'assistant', maxLength: 64 });
    expect(built.dropped).toEqual([expect.objectContaining({ id: 'long', reason: 'all-targets-truncated' })]);
    const full = build(chat, { mode: 'assistant' });
    expect(built.examples[0]?.ids).toEqual(full.ids.slice(0, 64));
    expect(built.examples[0]?.fullLength).toBe(full.ids.length);
  });

  it('§6 plain prompt/completion gets the default special tokens and the EOS string appended when missing', () => {
    const result = buildExample({ id: 'p', kind: 'prompt-completion', prompt: 'Q: 2+2?\nA:', completion: ' 4' }, { tokenizer: llama3, template: null, mode: 'completion' });
    if (!result.ok) throw new Error(result.message);
    const ex = result.example;
    expect(ex.ids[0]).toBe(llama3.bosId);
    expect(ex.ids.filter((id) => id === llama3.bosId)).toHaveLength(1);
    expect(ex.text.endsWith('<|eot_id|>')).toBe(true);
    expect(trainedText(ex, llama3)).toBe(' 4<|eot_id|>');
  });

  it('§6 chat data gets no extra EOS', () => {
    const ex = build(chat, { mode: 'assistant' });
    expect(ex.text.endsWith('<|im_end|>\n')).toBe(true);
    expect(ex.ids.filter((id) => id === qwen.eosId)).toHaveLength(5);
  });
});

describe('framework presets (sft-conventions §9)', () => {
  it('TRL on Qwen (ChatML): "\\n" + content + "<|im_end|>\\n" per turn, think block of the last turn included', () => {
    expect(trainedText(build(chat, { mode: 'trl' }))).toBe('\nyes<|im_end|>\n\n<think>\n\n</think>\n\nno<|im_end|>\n');
  });

  it('TRL on Llama 3: content|trim + "<|eot_id|>"', () => {
    const result = buildExample({ id: 'l', kind: 'messages', messages: chat }, { tokenizer: llama3, template: llama3Template, mode: 'trl' });
    if (!result.ok) throw new Error(result.message);
    expect(trainedText(result.example, llama3)).toBe('yes<|eot_id|>no<|eot_id|>');
  });

  it('Axolotl trains the EOT/EOS only when it lies within 3 tokens of the end of the turn', () => {
    // A template that writes a signature between the content and EOS: more than 3 tokens away.
    const signed = mustCompile("{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}{% if m['role'] == 'assistant' %}{{ ' -- sent from my pager, v2.1' + eos_token }}{% endif %}{{ '\\n' }}{% endfor %}", 'signed');
    const near = build(chat, { mode: 'axolotl' });
    expect(trainedText(near)).toBe('yes<|im_end|>no<|im_end|>');
    const far = build(chat, { mode: 'axolotl', template: signed });
    // " yes" straddles the template's space: a straddling token counts as inside.
    expect(trainedText(far)).toBe(' yes no');
    expect(trainedText(build(chat, { mode: 'assistant', template: signed }))).toBe(' yes<|im_end|> no<|im_end|>');
  });

  it('Unsloth trains from the response marker to the next user marker, leaking a system turn in between (#3920)', () => {
    const withMidSystem: Message[] = [
      { role: 'user', content: 'First?' },
      { role: 'assistant', content: 'one' },
      { role: 'system', content: 'Now answer in French.' },
      { role: 'user', content: 'Second?' },
      { role: 'assistant', content: 'deux' },
    ];
    const text = trainedText(build(withMidSystem, { mode: 'unsloth' }));
    expect(text).toBe('one<|im_end|>\n<|im_start|>system\nNow answer in French.<|im_end|>\n<think>\n\n</think>\n\ndeux<|im_end|>\n');
    expect(trainedText(build(withMidSystem, { mode: 'assistant' }))).toBe('one<|im_end|>deux<|im_end|>');
  });

  it('the presets differ from each other on the same example', () => {
    const outs = (['assistant', 'trl', 'axolotl', 'unsloth'] as const).map((mode) => trainedText(build(chat, { mode })));
    expect(new Set(outs).size).toBe(3); // axolotl equals assistant here; TRL and Unsloth differ from both
  });
});

describe('§10 marker search on token ids is fragile; character spans are not', () => {
  it('"### Response:" tokenizes differently with left context on Llama 2, yet the Alpaca mask is exact', () => {
    const alone = llama2.encode('### Response:', { addSpecialTokens: false });
    const inContext = llama2.encode('Explain.\n\n### Response:', { addSpecialTokens: false });
    const containsAlone = inContext.some((_, i) => alone.every((id, k) => inContext[i + k] === id));
    expect(containsAlone).toBe(false);
    const alpaca = mustCompile(ALPACA_TEMPLATE, 'alpaca');
    const row: Row = { id: 'a', kind: 'instruction', instruction: 'Explain.', input: '', output: 'Because.' };
    const result = buildExample(row, { tokenizer: llama2, template: alpaca, mode: 'assistant' });
    if (!result.ok) throw new Error(result.message);
    expect(trainedText(result.example, llama2)).toBe('Because.</s>');
  });

  it('Qwen "\\n\\n" (271) is not "\\n" (198) twice: a marker of newline tokens would not be found', () => {
    expect(qwen.encode('\n\n', { addSpecialTokens: false })).toEqual([271]);
    expect(qwen.encode('\n', { addSpecialTokens: false })).toEqual([198]);
  });
});

describe('naive comparisons (issue 5 item 4)', () => {
  it('"mask everything before the last assistant token" loses the first turn and trains the header newline', () => {
    const exact = build(chat, { mode: 'assistant' });
    const naive = naiveLastAssistantToken(exact, qwen);
    const yes = exact.ids.findIndex((_, i) => exact.text.slice(exact.starts[i] ?? 0, exact.ends[i] ?? 0) === 'yes');
    expect(naive.missing).toContain(yes);
    expect(naive.extra.map((i) => exact.text.slice(exact.starts[i] ?? 0, exact.ends[i] ?? 0))).toContain('\n');
    expect(naive.differs).toEqual([...naive.extra, ...naive.missing].sort((a, b) => a - b));
  });

  it('"mask the first len(tokenize(prompt)) tokens" is off by one when tokenizing the prompt adds a second BOS', () => {
    const result = buildExample({ id: 'l', kind: 'messages', messages: chat.slice(0, 3) }, { tokenizer: llama3, template: llama3Template, mode: 'assistant' });
    if (!result.ok) throw new Error(result.message);
    const naive = naivePromptLength(result.example, llama3, llama3Template);
    const firstTarget = result.example.labels.findIndex((l) => l !== IGNORE_INDEX);
    expect(naive.missing).toEqual([firstTarget]);
  });

  it('agrees with the exact mask where the method happens to be right (one turn, no BOS)', () => {
    const exact = build([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }], { mode: 'completion' });
    expect(naivePromptLength(exact, qwen, qwenTemplate).differs).toEqual([]);
  });
});
