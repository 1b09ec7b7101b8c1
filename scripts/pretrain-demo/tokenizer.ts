// A small byte-level BPE tokenizer for tabtune/tiny-storyteller, trained on the pretraining corpus: the 256 bytes
// (GPT-2's byte-to-unicode alphabet, so any text, in any script, encodes with no unknown token), merges learned by
// counting pairs, and three special tokens: <|endoftext|> (EOS and padding, as Qwen base models), <|im_start|> and
// <|im_end|> for a ChatML chat template whose turns end with <|im_end|>. <|endoftext|> is also named the BOS token, the
// id config.json gives as bos_token_id (as GPT-2 does), but the tokenizer never adds it: text encodes exactly as the
// pretraining corpus did, and a template that writes `{{ bos_token }}` (the doubled-BOS lesson's) gets a real token. Written in the layout of the `tokenizers`
// library (Qwen2's pre-tokenizer: a Split regex then ByteLevel), which transformers and transformers.js load.
import { byteToUnicode } from '../../src/data/fast-bpe.ts';

const SPLIT_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same split in JavaScript syntax (no inline `(?i:…)` group), for counting words while training. */
const SPLIT_JS = /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export const EOS_TOKEN = '<|endoftext|>';
export const END_OF_TURN = '<|im_end|>';

/** ChatML without a default system prompt: what the lessons fine-tune the model to follow. */
export const CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export interface TrainedBpe {
  /** Piece → id: the 256 byte pieces (ids 0–255 in byte order), then merged pieces in merge order. */
  vocab: Map<string, number>;
  merges: [string, string][];
}

/**
 * Learns `mergeCount` merges from `texts`: the most frequent adjacent pair inside pre-tokenized words, ties broken
 * by the pair's text, so the result is a pure function of the input.
 */
export function trainBpe(texts: readonly string[], mergeCount: number): TrainedBpe {
  const chars = byteToUnicode();
  const utf8 = new TextEncoder();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(SPLIT_JS)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  }
  const words: { symbols: string[]; count: number }[] = [];
  for (const [word, count] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    words.push({ symbols: Array.from(utf8.encode(word), (b) => chars[b]!), count });
  }
  const vocab = new Map<string, number>(chars.map((c, i) => [c, i]));
  const merges: [string, string][] = [];
  for (let k = 0; k < mergeCount; k++) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const key = `${w.symbols[i]}\u0000${w.symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + w.count);
      }
    }
    let best = '';
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (c > bestCount || (c === bestCount && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (bestCount < 2) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    vocab.set(a + b, vocab.size);
    for (const w of words) {
      const s = w.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]!);
      }
      w.symbols = out;
    }
  }
  return { vocab, merges };
}

/** tokenizer.json, tokenizer_config.json and special_tokens_map.json for a trained BPE. */
export function tokenizerJsons(bpe: TrainedBpe, modelMaxLength: number): { tokenizer: unknown; config: unknown; specialMap: unknown; ids: Record<string, number> } {
  const ids: Record<string, number> = {};
  const added = SPECIAL_TOKENS.map((content, i) => {
    ids[content] = bpe.vocab.size + i;
    return { id: bpe.vocab.size + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: SPLIT_REGEX }, behavior: 'Isolated', invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
      ignore_merges: false, vocab: Object.fromEntries(bpe.vocab), merges: bpe.merges,
    },
  };
  const decoder = Object.fromEntries(added.map(({ id, ...t }) => [String(id), t]));
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: EOS_TOKEN,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: EOS_TOKEN,
    errors: 'replace',
    model_max_length: modelMaxLength,
    pad_token: EOS_TOKEN,
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  const entry = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const specialMap = { additional_special_tokens: ['<|im_start|>', '<|im_end|>'], bos_token: entry(EOS_TOKEN), eos_token: entry(EOS_TOKEN), pad_token: entry(EOS_TOKEN) };
  return { tokenizer, config, specialMap, ids };
}
