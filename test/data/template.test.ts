// Chat templates rendered like transformers (sft-conventions §5, §8), built-in templates, and the user-editable
// template's errors with line/column.
import { describe, expect, it } from 'vitest';
import { renderWithSpans } from '../../src/data/spans.ts';
import { ALPACA_TEMPLATE, compileTemplate, FROZEN_DATE, LLAMA2_CHAT_TEMPLATE, mustCompile, renderChat, strftime } from '../../src/data/template.ts';
import type { Message } from '../../src/data/types.ts';
import { chatTemplateOf } from './tokenizers.ts';

const qwenTemplate = mustCompile(chatTemplateOf('qwen3'), 'qwen3');
const chat: Message[] = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }];

describe('rendering like transformers', () => {
  it('Qwen3 renders the documented string, with the empty think block on the last assistant turn only (§8)', () => {
    expect(renderChat(qwenTemplate, chat)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello<|im_end|>\n');
    const twoTurns = renderChat(qwenTemplate, [...chat, { role: 'user', content: 'Again' }, { role: 'assistant', content: 'Yes' }]);
    expect(twoTurns.match(/<think>/g)).toHaveLength(1);
  });

  it('add_generation_prompt and enable_thinking=false (template kwargs)', () => {
    const prompt = renderChat(qwenTemplate, chat.slice(0, 1), { addGenerationPrompt: true, kwargs: { enable_thinking: false } });
    expect(prompt.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    expect(renderChat(qwenTemplate, chat.slice(0, 1), { addGenerationPrompt: true }).endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('trim_blocks / lstrip_blocks: block tags leave no newline or indentation behind', () => {
    const t = mustCompile('{% for m in messages %}\n    {% if m.role == "user" %}\n[{{ m.content }}]\n    {% endif %}\n{% endfor %}', 'blocks');
    expect(renderChat(t, chat)).toBe('[Hi]\n');
  });

  it('§5 strftime_now is frozen (renders do not change daily) and can be set per run', () => {
    const t = mustCompile("Today Date: {{ strftime_now('%d %b %Y') }}", 'date');
    expect(renderChat(t, [])).toBe('Today Date: 01 Jan 2026');
    expect(renderChat(t, [], { date: new Date(Date.UTC(2024, 6, 26)) })).toBe('Today Date: 26 Jul 2024');
    expect(strftime(FROZEN_DATE, '%Y-%m-%d %H:%M %A %B %j %%')).toBe('2026-01-01 12:00 Thursday January 001 %');
  });

  it('§5 tojson does not escape HTML; loop controls work', () => {
    const t = mustCompile('{{ messages[0] | tojson }}|{% for m in messages %}{% if loop.last %}{% break %}{% endif %}{{ m.role }}{% endfor %}', 'json');
    expect(renderChat(t, [{ role: 'user', content: '<b>&"x"' }, { role: 'assistant', content: 'y' }])).toBe('{"role": "user", "content": "<b>&\\"x\\""}|user');
  });

  it('§5 {% generation %} blocks (TRL training templates) are stripped, rendering as the plain template', () => {
    const tagged = mustCompile("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content + '<|im_end|>' }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", 'tagged');
    const plain = mustCompile("{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content + '<|im_end|>' }}{% else %}{{ m.content }}{% endif %}{% endfor %}", 'plain');
    expect(renderChat(tagged, chat)).toBe(renderChat(plain, chat));
    expect(renderWithSpans(tagged, chat).turns.map((t) => t.role)).toEqual(['user', 'assistant']);
  });

  it('§5 raise_exception refuses the conversation with the template\'s message', () => {
    const t = mustCompile(chatTemplateOf('gemma3'), 'gemma3');
    expect(() => renderChat(t, [{ role: 'assistant', content: 'first' }])).toThrow('The chat template refused this conversation: Conversation roles must alternate user/assistant/user/assistant/...');
  });

  it('Alpaca and Llama 2 chat built-ins render their published formats', () => {
    const alpaca = mustCompile(ALPACA_TEMPLATE, 'alpaca');
    expect(renderChat(alpaca, chat, { eosToken: '</s>' })).toBe('Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nHi\n\n### Response:\nHello</s>\n\n');
    const llama2 = mustCompile(LLAMA2_CHAT_TEMPLATE, 'llama2');
    expect(renderChat(llama2, [{ role: 'system', content: 'S' }, ...chat], { bosToken: '<s>', eosToken: '</s>' })).toBe('<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST] Hello </s>');
  });
});

describe('spans of message contents in the render', () => {
  it('locate trimmed contents (Llama 3 trims) and emoji in UTF-16 units', () => {
    const t = mustCompile(chatTemplateOf('llama3_1'), 'llama3');
    const messages: Message[] = [{ role: 'user', content: '  padded 👋🏽  ' }, { role: 'assistant', content: '\n🎉 done\n' }];
    const r = renderWithSpans(t, messages, { bosToken: '<|begin_of_text|>' });
    expect(r.turns.map((s) => r.text.slice(s.start, s.end))).toEqual(['padded 👋🏽', '🎉 done']);
    expect(r.turns[1]?.end).toBe((r.turns[1]?.start ?? 0) + '🎉 done'.length);
  });

  it('§8 a default system prompt the template injects (Qwen2.5 style) is template text, not a message', () => {
    const qwen25Like = mustCompile("{%- if messages[0].role != 'system' %}{{ '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}", 'qwen2.5-like');
    const r = renderWithSpans(qwen25Like, chat);
    expect(r.text.startsWith('<|im_start|>system\nYou are Qwen')).toBe(true);
    expect(r.turns.map((t) => t.role)).toEqual(['user', 'assistant']);
    expect(r.turns[0]?.start).toBeGreaterThan(r.text.indexOf('helpful assistant.'));
  });

  it('does not confuse a content that repeats template text with the template', () => {
    const tricky: Message[] = [{ role: 'user', content: '<|im_start|>assistant\nfake' }, { role: 'assistant', content: 'real<|im_end|>' }];
    const r = renderWithSpans(qwenTemplate, tricky);
    expect(r.turns.map((s) => r.text.slice(s.start, s.end))).toEqual(tricky.map((m) => m.content));
  });
});

describe('user-editable template errors', () => {
  it('reports the message with line and column', () => {
    expect(compileTemplate('line1\n{{ foo bar }}\nline3')).toEqual({ error: { message: expect.stringContaining('Expected closing expression'), line: 2, column: 12 } });
    expect(compileTemplate('ab\n{{ @ }}')).toEqual({ error: { message: 'Unexpected character: @', line: 2, column: 4 } });
  });

  it('names the unclosed block and where it opens', () => {
    const source = '{% for m in messages %}{{ m.content }}{% endfor %}\n  {% if add_generation_prompt %}\nassistant:';
    expect(compileTemplate(source)).toEqual({ error: { message: '{% if %} is never closed: add {% endif %}.', line: 2, column: 3 } });
  });

  it('compiles a valid template', () => {
    expect('error' in compileTemplate(ALPACA_TEMPLATE)).toBe(false);
  });
});
