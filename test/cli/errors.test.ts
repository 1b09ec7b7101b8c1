// `tabtune` user error paths and `inspect`: every mistake a user can make ends with exit code 1 and a message on
// stderr that says what is wrong and how to fix it; nothing is printed as a stack trace.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { DATA, fixture, readJson, tabtune, tempDir } from './harness.ts';

const CHAT = join(DATA, 'chat.jsonl');

async function fails(args: string[], message: RegExp, env?: Record<string, string>) {
  const r = await tabtune(args, env ? { env } : {});
  expect(r.code, r.out + r.err).toBe(1);
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  return r;
}

describe('tabtune inspect', () => {
  it('prints the axolotl debug view, totals and linter output, and writes --json in file order', async () => {
    const dir = tempDir();
    const r = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--max-length', '32', '--json', join(dir, 'i.json')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Blue(10331, 10331) .(13, 13) <|im_end|>(151645, 151645)');
    expect(r.out).toContain('<|im_start|>(-100, 151644)');
    expect(r.out).toMatch(/Total input len: 29\nCount of labels: 3/);
    expect(r.out).toContain('6 examples, 0 dropped');
    expect(r.out).toContain('--- example 0 (line 1) ---');
    const json = readJson<{ examples: { index: number; input_ids: number[]; labels: number[] }[]; dropped: number; warnings: unknown[] }>(join(dir, 'i.json'));
    expect(json.examples.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(json.examples[0]!.input_ids).toHaveLength(29);
    expect(json.examples[0]!.labels.filter((l) => l !== -100)).toEqual([10331, 13, 151645]);
    expect(json.dropped).toBe(0);
  });

  it('counts rows whose targets are all truncated as dropped, and warns', async () => {
    const dir = tempDir();
    const r = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--max-length', '12', '--json', join(dir, 'i.json')]);
    expect(r.code, r.err).toBe(0);
    const json = readJson<{ dropped: number; warnings: { code: string }[]; examples: unknown[] }>(join(dir, 'i.json'));
    expect(json.dropped).toBe(6);
    expect(json.examples).toHaveLength(0);
    expect(json.warnings.map((w) => w.code)).toContain('all-targets-truncated');
  });

  it('reads the tokenizer through a Hub endpoint exactly like the local folder', async () => {
    const local = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--limit', '1', '--max-length', '32']);
    const hub = await tabtune(['inspect', '--tokenizer', 'tabtune/tiny-qwen3@main', '--hub-endpoint', inject('hubMirrorUrl'), '--data', CHAT, '--limit', '1', '--max-length', '32']);
    expect(hub.code, hub.err).toBe(0);
    expect(hub.out).toBe(local.out);
    await fails(['inspect', '--tokenizer', 'tabtune/no-such-repo', '--data', CHAT], /no-such-repo/, { HF_ENDPOINT: inject('hubMirrorUrl') });
  });
  it('--template plain puts a separator between prompt and completion; without it the linter says they are glued', async () => {
    const data = join(process.cwd(), 'public/datasets/science-answers.jsonl');
    const glued = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', data, '--limit', '1']);
    expect(glued.code, glued.err).toBe(0);
    expect(glued.out).toMatch(/warning \[no-prompt-separator\] .*\(12 rows, e\.g\. line 1, line 2, line 3, line 4, line 5\)/);
    expect(glued.out).not.toContain('e.g. )');
    expect(glued.out).not.toContain('no-chat-template');
    const plain = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', data, '--template', 'plain', '--limit', '1']);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toContain('###(-100');
    expect(plain.out).not.toContain('no-prompt-separator');
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', data, '--template', 'vicuna'], /--template must be chat, chatml, llama3, gemma, alpaca, plain or a \.jinja file; got "vicuna"/);
  });

  it('renders with a --template FILE.jinja and reports template syntax errors with a line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't.jinja'), "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token if m['role'] == 'assistant' else '\\n' }}{% endfor %}");
    writeFileSync(join(dir, 'bad.jinja'), '{% for m in messages %}\n{{ m.content }');
    const r = await tabtune(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--template', join(dir, 't.jinja'), '--limit', '1', '--json', join(dir, 'o.json')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('system(-100');
    expect(r.out).toMatch(/assistant\(-100, 77091\) :\(-100, 25\) {2}Blue\(8697, 8697\) \.\(13, 13\) <\|im_end\|>\(151645, 151645\)/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--template', join(dir, 'bad.jinja')], /does not parse \(line \d+, column \d+\)/);
  });
});

describe('user errors', () => {
  it('usage, unknown commands and flags', async () => {
    expect((await tabtune([])).code).toBe(1);
    expect((await tabtune(['--help'])).out).toContain('tabtune train');
    await fails(['frobnicate'], /unknown command "frobnicate".*inspect, step, train, generate, export/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--bogus'], /Unknown option '--bogus'.*--help/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, 'stray'], /unexpected argument "stray"/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--mask', 'everything'], /--mask must be one of assistant, last-assistant/);
    await fails(['step', '--model', fixture('gpt2'), '--data', CHAT, '--lora-r', 'four'], /--lora-r must be a whole number, got "four"/);
    await fails(['train', '--model', fixture('gpt2'), '--data', CHAT, '--out', tempDir(), '--steps', '2', '--epochs', '1'], /--steps or --epochs, not both/);
  });

  it('missing flags and files', async () => {
    await fails(['inspect', '--data', CHAT], /needs --tokenizer or --model/);
    await fails(['step', '--data', CHAT], /needs --model/);
    await fails(['inspect', '--tokenizer', fixture('qwen3')], /needs --data/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', 'nope.jsonl'], /--data nope.jsonl: no such file/);
    await fails(['step', '--model', './no/such/folder', '--data', CHAT], /no such folder/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', CHAT, '--template', 'missing.jinja'], /--template missing.jinja: no such file/);
    await fails(['train', '--resume', tempDir()], /has no tabtune_manifest.json/);
    await fails(['generate', '--model', fixture('gpt2')], /exactly one of --prompt TEXT or --messages/);
    await fails(['export', '--model', fixture('gpt2'), '--merged', tempDir()], /needs --adapter/);
  });

  it('empty and unusable datasets', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'odd.jsonl'), '{"question":"q"}\n');
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', join(dir, 'empty.jsonl')], /empty.jsonl is empty: a dataset needs at least one row/);
    await fails(['inspect', '--tokenizer', fixture('qwen3'), '--data', join(dir, 'odd.jsonl')], /has no usable rows \(the dataset: has no known layout \(found fields: question\).*--format picks jsonl/);
    await fails(['step', '--model', fixture('qwen3'), '--data', CHAT, '--max-length', '12'], /every row was dropped.*tabtune inspect/);
    // GPT-2 ships no chat template: conversations need --template alpaca or a file.
    await fails(['step', '--model', fixture('gpt2'), '--data', CHAT], /no chat template.*--template alpaca/);
  });

  it('unsupported architectures and incomplete checkpoints', async () => {
    const bert = tempDir();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fixture('qwen3'), f), join(bert, f));
    writeFileSync(join(bert, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: 10 }));
    await fails(['step', '--model', bert, '--data', CHAT], /model_type "bert".*not supported.*llama/);
    const noWeights = tempDir();
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fixture('qwen2'), f), join(noWeights, f));
    await fails(['step', '--model', noWeights, '--data', CHAT], /no model.safetensors.*pytorch_model.bin/);
    const noTok = join(tempDir(), 'm');
    mkdirSync(noTok);
    copyFileSync(join(fixture('qwen2'), 'config.json'), join(noTok, 'config.json'));
    await fails(['inspect', '--model', noTok, '--data', CHAT], /no tokenizer.json/);
  });
});
