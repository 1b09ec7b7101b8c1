// A fast path for byte-level BPE tokenizers (Qwen2/3, Llama 3, GPT-2 style `tokenizer.json`): the same pipeline as
// transformers.js (split out added tokens → normalise → Split regex → byte-to-unicode → BPE merges) with a
// word → ids cache in front of the merges, so repeated words cost a map lookup. transformers.js re-maps every
// word's bytes and pays an LRU shuffle per lookup, which made it the bottleneck of the data benchmark.
// It only takes tokenizers whose every stage it reproduces (checked below) and is tested id-for-id against
// transformers.js; anything else returns null and the caller uses transformers.js.

interface AddedTokenJson {
  content: string;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

export interface FastEncoder {
  encode(text: string): number[];
}

const MAX_CACHE = 200_000;

/** GPT-2's byte-level alphabet: byte b → the printable character that stands for it in vocab and merges. */
export function byteToUnicode(): string[] {
  const table: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return table;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `splitPattern` is the compiled regex transformers.js built from the Split pre-tokenizer (it already rewrites the
 * Rust-only syntax such as `(?i:…)`), so both paths split identically. */
export function createFastEncoder(json: Record<string, unknown>, splitPattern: unknown): FastEncoder | null {
  const model = json.model as Record<string, unknown> | undefined;
  const pre = json.pre_tokenizer as { type?: string; pretokenizers?: Record<string, unknown>[] } | undefined;
  const normalizer = json.normalizer as { type?: string } | null | undefined;
  if (!model || model.type !== 'BPE' || model.byte_fallback || model.dropout || model.continuing_subword_prefix || model.end_of_word_suffix) return null;
  if (!(splitPattern instanceof RegExp) || !splitPattern.global) return null;
  const stages = pre?.type === 'Sequence' ? pre.pretokenizers ?? [] : [];
  const [split, byteLevel] = stages;
  if (stages.length !== 2 || split?.type !== 'Split' || split.behavior !== 'Isolated' || split.invert) return null;
  if (byteLevel?.type !== 'ByteLevel' || byteLevel.use_regex !== false || byteLevel.add_prefix_space) return null;
  if (normalizer && normalizer.type !== 'NFC') return null;
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []) as AddedTokenJson[];
  if (added.some((t) => t.lstrip || t.rstrip || t.single_word || t.normalized)) return null;

  const vocab = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
  const addedIds = new Map<string, number>();
  for (const t of added as (AddedTokenJson & { id: number })[]) addedIds.set(t.content, t.id);
  const ranks = new Map<string, number>();
  (model.merges as (string | [string, string])[]).forEach((m, i) => ranks.set(Array.isArray(m) ? `${m[0]} ${m[1]}` : m, i));
  const ignoreMerges = model.ignore_merges === true;
  const nfc = normalizer?.type === 'NFC';
  const byteChars = byteToUnicode();
  const utf8 = new TextEncoder();
  const addedPattern = added.length
    ? new RegExp([...addedIds.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g')
    : null;
  const cache = new Map<string, number[]>();

  function bpe(word: string): number[] {
    let mapped = '';
    for (const b of utf8.encode(word)) mapped += byteChars[b];
    const whole = vocab.get(mapped);
    if (ignoreMerges && whole !== undefined) return [whole];
    let symbols = Array.from(mapped);
    while (symbols.length > 1) {
      let best = Infinity;
      let pair = '';
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        const rank = ranks.get(key);
        if (rank !== undefined && rank < best) {
          best = rank;
          pair = key;
        }
      }
      if (best === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && `${symbols[i]} ${symbols[i + 1]}` === pair) {
          merged.push(`${symbols[i]}${symbols[i + 1]}`);
          i++;
        } else {
          merged.push(symbols[i] ?? '');
        }
      }
      symbols = merged;
    }
    return symbols.map((s) => {
      const id = vocab.get(s);
      if (id === undefined) throw new Error(`BPE produced "${s}", which is not in the vocabulary (a broken tokenizer.json?).`);
      return id;
    });
  }

  function encodeSection(section: string, out: number[]): void {
    const text = nfc ? section.normalize('NFC') : section;
    let last = 0;
    const emit = (word: string) => {
      let ids = cache.get(word);
      if (!ids) {
        ids = bpe(word);
        if (cache.size >= MAX_CACHE) cache.clear();
        cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    };
    for (const match of text.matchAll(splitPattern as RegExp)) {
      if (match.index > last) emit(text.slice(last, match.index));
      if (match[0].length > 0) emit(match[0]);
      last = match.index + match[0].length;
    }
    if (last < text.length) emit(text.slice(last));
  }

  return {
    encode(text) {
      const out: number[] = [];
      if (!addedPattern) {
        encodeSection(text, out);
        return out;
      }
      let last = 0;
      for (const match of text.matchAll(addedPattern)) {
        if (match.index > last) encodeSection(text.slice(last, match.index), out);
        out.push(addedIds.get(match[0]) ?? 0);
        last = match.index + match[0].length;
      }
      if (last < text.length) encodeSection(text.slice(last), out);
      return out;
    },
  };
}
