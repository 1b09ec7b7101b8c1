// The tokenizer wrapper on real tokenizers: special ids, end-of-turn ids, offsets, and the fast byte-level BPE path
// checked id-for-id against transformers.js.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/data/tokenizer.ts';
import { realTokenizer, tokenizerFiles } from './tokenizers.ts';

const qwen = realTokenizer('qwen3');
const llama3 = realTokenizer('llama3_1');

const tricky = [
  'Hello world', "I'LL be there, they'RE here, it's fine", '  leading and trailing  ', '\n\n\n', 'a\r\nb\r\n\r\nc', '\ttabs\t\tand  spaces   ',
  'numbers 1234567 3.14159 1,000,000', 'emoji 👩‍💻🏳️‍🌈 🔥🔥🔥', '日本語のテキストと中文混合', 'Ελληνικά и русский текст', 'e\u0301 vs é (NFC)',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nok<|im_end|>', '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>',
  'code: for (let i = 0; i < n; i++) { sum += a[i]; }  // done', '!!!??? ... --- ***', 'x'.repeat(300), '\u00a0non\u2009breaking\u3000spaces',
];

function sampleTexts(): string[] {
  const texts: string[] = [];
  for (const file of ['prompt-injection.jsonl', 'incident-summaries.jsonl', 'trail-chat.jsonl']) {
    const lines = readFileSync(new URL(`../../public/datasets/${file}`, import.meta.url), 'utf8').trim().split('\n');
    for (const line of lines) texts.push(...Object.values(JSON.parse(line) as Record<string, unknown>).map((v) => JSON.stringify(v)));
  }
  return texts;
}

describe.each([['qwen3', qwen], ['llama3_1', llama3]] as const)('fast byte-level BPE on %s', (_name, tok) => {
  it('is in use', () => expect(tok.fastPath).toBe(true));
  it('matches transformers.js id for id on tricky strings and the bundled datasets', () => {
    for (const text of [...tricky, ...sampleTexts()]) expect(tok.encode(text, { addSpecialTokens: false }), text).toEqual(tok.encodeReference(text));
  });
});

describe('tokenizer wrapper', () => {
  it('SentencePiece tokenizers (Llama 2, Gemma) use transformers.js directly', () => {
    expect(realTokenizer('llama2').fastPath).toBe(false);
  });

  it('§7 end-of-turn ids: Qwen <|im_end|> (EOS) with pad <|endoftext|>; Llama 3.1 <|eot_id|>', () => {
    expect(qwen.eosToken).toBe('<|im_end|>');
    expect(qwen.padToken).toBe('<|endoftext|>');
    expect(qwen.endOfTurnIds.has(qwen.idOf('<|im_end|>') ?? -1)).toBe(true);
    expect(qwen.endOfTurnIds.has(qwen.idOf('<|endoftext|>') ?? -1)).toBe(false);
    expect(llama3.endOfTurnIds.has(llama3.idOf('<|eot_id|>') ?? -1)).toBe(true);
    expect(llama3.bosToken).toBe('<|begin_of_text|>');
    expect(qwen.bosId).toBeNull();
  });

  it('offsets cover the text exactly, emoji split across byte tokens included', () => {
    const text = 'ok 👩‍💻 done<|im_end|>';
    const o = qwen.encodeWithOffsets(text);
    expect(o.starts[0]).toBe(0);
    expect(o.ends[o.ends.length - 1]).toBe(text.length);
    for (let i = 1; i < o.ids.length; i++) expect(o.starts[i]).toBeLessThanOrEqual(o.ends[i - 1] ?? 0);
  });

  it('vocab size and BOS behaviour', () => {
    expect(qwen.vocabSize).toBe(151669);
    expect(llama3.vocabSize).toBe(128256);
    expect(llama3.addsBos).toBe(true);
    expect(qwen.addsBos).toBe(false);
  });

  it('rejects files that are not JSON objects with a message saying what to pass', () => {
    expect(() => loadTokenizer({ tokenizerJson: 'tokenizer.json', tokenizerConfig: {} })).toThrow(/must be a JSON object/);
    const files = tokenizerFiles('llama2');
    expect(() => loadTokenizer({ tokenizerJson: { ...(files.tokenizerJson as object), model: { type: 'Unigram', vocab: [['a', 0]] } }, tokenizerConfig: files.tokenizerConfig })).toThrow(/BPE/);
  });
});
