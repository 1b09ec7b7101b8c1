// Issue 15: user templates render under explicit budgets, and hostile ones are refused with a message that says
// which limit they hit, before they allocate what they ask for.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATE_BUDGET } from '../../src/data/template-budget.ts';
import { ALPACA_TEMPLATE, compileTemplate, mustCompile, renderChat, TemplateCompileError, TemplateRenderError } from '../../src/data/template.ts';
import type { Message, Row } from '../../src/data/types.ts';
import { buildExamples } from '../../src/data/example.ts';
import { chatTemplateOf, realTokenizer } from './tokenizers.ts';

const chat: Message[] = [{ role: 'user', content: 'Hi\nthere' }, { role: 'assistant', content: 'Hello' }];

function refusal(source: string, messages: readonly Message[] = chat, budget = {}): string {
  const compiled = mustCompile(source, 'test');
  try {
    renderChat(compiled, messages, { budget });
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateRenderError);
    return (error as Error).message;
  }
  throw new Error(`rendered: ${source}`);
}

describe('template budgets', () => {
  it('refuses huge ranges before building them', () => {
    expect(refusal('{% for i in range(10**9) %}x{% endfor %}')).toMatch(/range\(\) of 1000000000 numbers \(limit 100000\)/);
    expect(refusal('{{ range(2**53)|length }}')).toMatch(/range\(\) of 9007199254740992 numbers/);
    expect(refusal('{% for i in range(5, -100000000, -1) %}{% endfor %}')).toMatch(/range\(\) of 100000005 numbers/);
  });

  it('range() takes whole numbers like Python, and still counts down and steps', () => {
    expect(refusal('{% for i in range(0, 10, 0.5) %}x{% endfor %}')).toBe('range() takes whole numbers, got 0.5');
    expect(refusal('{{ range(1.5)|length }}')).toBe('range() takes whole numbers, got 1.5');
    expect(renderChat(mustCompile('{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}{{ range(3)|join("") }}', 't'), chat)).toBe('10,7,4,1,012');
  });

  it('caps loop iterations across nested loops', () => {
    expect(refusal('{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}')).toMatch(/more than 100000 loop iterations/);
    expect(refusal('{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}', chat, { maxLoopIterations: 5000 })).toMatch(/more than 5000 loop iterations/);
  });

  it('sizes indent, tojson, replace and join before they allocate', () => {
    expect(refusal('{{ "a\\nb"|indent(10**9) }}')).toMatch(/indent\(\) result of about 2000000003 characters/);
    expect(refusal('{{ messages|tojson(indent=10**6) }}')).toMatch(/tojson for an indent of 1000000 \(limit 64\)/);
    expect(refusal(`{% set s = "${'x'.repeat(1000)}" %}{{ s.replace("x", "${'y'.repeat(10_000)}") }}`)).toMatch(/replace\(\) result/);
    expect(refusal(`{% set s = "${'x'.repeat(1000)}" %}{{ s|replace("", "${'y'.repeat(10_000)}") }}`)).toMatch(/replace\(\) result/);
    expect(refusal(`{% set ns = namespace(l=["${'x'.repeat(1000)}"]) %}{% for i in range(12) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|join("${'-'.repeat(1000)}") }}`))
      .toMatch(/join\(\) result/);
  });

  it('caps strings and lists that double in a loop', () => {
    expect(refusal('{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}')).toMatch(/string of 4194304 characters \(limit 4000000\)/);
    expect(refusal('{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}')).toMatch(/list of 131072 items \(limit 100000\)/);
  });

  it('bounds recursion and evaluation steps, and the wall clock', () => {
    expect(refusal('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}')).toMatch(/nests expressions or macro calls more than 400 deep/);
    expect(refusal('{% for i in range(50000) %}{{ i * 2 + 1 }}{% endfor %}', chat, { maxSteps: 10_000 })).toMatch(/more than 10000 evaluation steps/);
    expect(refusal('{% for i in range(100000) %}{{ i * 2 + 1 }}{% endfor %}', chat, { timeMs: 0 })).toMatch(/took longer than 0 ms/);
  });

  it('leaves room for long conversations: the output cap is at least twice their text', () => {
    const long: Message[] = [{ role: 'user', content: 'a'.repeat(DEFAULT_TEMPLATE_BUDGET.maxOutputChars) }, { role: 'assistant', content: 'ok' }];
    expect(renderChat(mustCompile(ALPACA_TEMPLATE, 'alpaca'), long, { eosToken: '</s>' }).length).toBeGreaterThan(DEFAULT_TEMPLATE_BUDGET.maxOutputChars);
  });

  it('real chat templates render unchanged under the budgets', () => {
    const qwen = renderChat(mustCompile(chatTemplateOf('qwen3'), 'qwen3'), chat, { addGenerationPrompt: true });
    expect(qwen).toBe('<|im_start|>user\nHi\nthere<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello<|im_end|>\n<|im_start|>assistant\n');
  });

  it('names what went wrong instead of passing engine messages through', () => {
    expect(refusal('{{ nothing() }}')).toMatch(/calls something that cannot be called \(an undefined name/);
    const bad = compileTemplate('{{ messages[0].content.');
    expect('error' in bad && bad.error.message).not.toMatch(/Cannot read properties/);
  });
});

describe('template compile errors', () => {
  it('locates an error in a 16 KB template (binary search over prefixes, not every prefix)', () => {
    const source = `${'{{ messages[0].content }}\n'.repeat(620)}{{ foo bar }}\n`;
    expect(source.length).toBeGreaterThan(16_000);
    const result = compileTemplate(source);
    expect(result).toEqual({ error: { message: expect.stringContaining('Expected closing expression'), line: 621, column: 12 } });
  });

  it('rejects templates over the 32 KB schema cap and nesting too deep to parse, with a message', () => {
    expect(compileTemplate('x'.repeat(40_000))).toEqual({ error: { message: expect.stringMatching(/40000 characters long; the limit is 32768/), line: 1, column: 1 } });
    const deep = compileTemplate(`{{ ${'('.repeat(8000)}1${')'.repeat(8000)} }}`);
    expect('error' in deep && deep.error.message).toMatch(/nests expressions or blocks too deeply|Shorten it/);
    expect(() => mustCompile('{% if x %}', 'my template')).toThrow(TemplateCompileError);
  });
});

describe('lists made from long strings', () => {
  const long: Message[] = [{ role: 'user', content: 'a b '.repeat(60_000) }, { role: 'assistant', content: 'ok' }];
  it('split() and |list are counted before they build the list', () => {
    expect(refusal('{{ messages[0].content.split()|length }}', long)).toMatch(/split a string into more than 100000 pieces/);
    expect(refusal('{{ messages[0].content.split(" ")|length }}', long)).toMatch(/split a string into more than 100000 pieces/);
    expect(refusal('{{ messages[0].content|list|length }}', long)).toMatch(/turn a string of 240000 characters into a list/);
    expect(renderChat(mustCompile('{{ messages[0].content.split("b")|length }}', 't'), long)).toBe('60001');
  });
});

describe('the dataset-wide template budget', () => {
  // Each render stays far under its own 1 s budget (a 20,000-iteration loop), but together the rows exceed a dataset
  // budget of 50 ms: preparing stops with a message that counts the rows, instead of grinding on row after row.
  const slow = mustCompile('{% for i in range(20000) %}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}', 'slow');
  const rows: Row[] = Array.from({ length: 200 }, (_, i) => ({
    id: `r${i}`, kind: 'messages', messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }],
  }) as Row);

  it('stops preparing once the rows together took longer than the budget, naming how far it got', () => {
    const tokenizer = realTokenizer('qwen3');
    let err: unknown = null;
    try {
      buildExamples(rows, { tokenizer, template: slow, mode: 'all', datasetTimeMs: 50 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateRenderError);
    expect((err as Error).message).toMatch(/took more than 0\.05 s to render \d+ of 200 rows, so preparing stopped\..*simplify the template/);
  });

  it('the same rows under a generous budget all render', () => {
    const built = buildExamples(rows.slice(0, 5), { tokenizer: realTokenizer('qwen3'), template: slow, mode: 'all', datasetTimeMs: 60_000 });
    expect(built.examples).toHaveLength(5);
  });
});
