// The tokenizer wrapper: builds a @huggingface/transformers tokenizer from the two JSON files (no network), and adds
// what TabTune needs on top: per-token character offsets (for exact masks), single-token display text, special ids
// and end-of-turn ids. This module is the data layer's only importer of @huggingface/transformers.
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { createFastEncoder } from './fast-bpe.ts';
import { tokenSurfaceTable, type SurfaceTable } from './token-bytes.ts';

export interface TokenizerFiles {
  /** Parsed `tokenizer.json`. */
  tokenizerJson: unknown;
  /** Parsed `tokenizer_config.json`. */
  tokenizerConfig: unknown;
}

export interface Offsets {
  ids: number[];
  /** UTF-16 start of each token in the input text (a token that adds a synthetic leading space starts at the
   * next real character). */
  starts: Int32Array;
  ends: Int32Array;
}

export interface Tokenizer {
  /** ids of `text`; `addSpecialTokens` follows the tokenizer's post-processor (BOS for Llama/Gemma). Rendered chats
   * already hold their special tokens: encode them with `addSpecialTokens: false` (sft-conventions §6). */
  encode(text: string, opts: { addSpecialTokens: boolean }): number[];
  /** ids plus UTF-16 offsets into `text`, without added special tokens. `text` must already be normalised with
   * `normalize` (offsets refer to it). */
  encodeWithOffsets(text: string): Offsets;
  /** Applies the tokenizer's Unicode normaliser (NFC for Qwen) so offsets can refer to the caller's string. */
  normalize(text: string): string;
  decode(ids: readonly number[]): string;
  /** The text one token stands for, decoded alone (a partial UTF-8 sequence shows as U+FFFD). */
  tokenText(id: number): string;
  /** The raw vocabulary piece (`Ġhi`, `▁hi`, `<|im_end|>`). */
  piece(id: number): string | undefined;
  idOf(token: string): number | undefined;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** From `tokenizer_config.json` only; null when the config names none (no silent fallback to EOS). */
  readonly padId: number | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  /** EOS plus the turn-closing tokens the chat template emits (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, …). */
  readonly endOfTurnIds: ReadonlySet<number>;
  readonly specialIds: ReadonlySet<number>;
  readonly chatTemplate: string | null;
  /** Largest id + 1 over the model vocabulary and added tokens. */
  readonly vocabSize: number;
  /** Whether `encode(text, {addSpecialTokens: true})` prepends BOS. */
  readonly addsBos: boolean;
  /** True when the cached byte-level BPE path (fast-bpe.ts) encodes instead of transformers.js. */
  readonly fastPath: boolean;
  /** transformers.js's own encoding without special tokens: the reference the fast path is tested against. */
  encodeReference(text: string): number[];
}

/** Turn-closing tokens used by the chat templates of the families TabTune supports. */
const TURN_END_CANDIDATES = ['<|im_end|>', '<|eot_id|>', '<|eom_id|>', '<end_of_turn>', '<|end|>', '</s>', '<|endoftext|>'];

/** The tokenizer with the turn-end tokens a template writes counted as end of turn: a preset or edited template may
 * close turns with a token the tokenizer's own template never uses (ChatML's <|im_end|> on a Llama tokenizer). */
export function withTemplateTurnEnds(tok: Tokenizer, source: string): Tokenizer {
  const endOfTurnIds = new Set(tok.endOfTurnIds);
  for (const candidate of TURN_END_CANDIDATES) {
    const id = tok.idOf(candidate);
    if (id !== undefined && source.includes(candidate)) endOfTurnIds.add(id);
  }
  return endOfTurnIds.size === tok.endOfTurnIds.size ? tok : { ...tok, endOfTurnIds };
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object; pass the parsed contents of the file.`);
  }
  return value as Record<string, unknown>;
}

/** `bos_token` etc. are either a string or an AddedToken object `{content: …}`. */
function tokenName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** `chat_template` is a string or a list of `{name, template}`; the one named `default` is the chat template. */
function pickChatTemplate(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    return typeof chosen?.template === 'string' ? chosen.template : null;
  }
  return null;
}

export function loadTokenizer(files: TokenizerFiles): Tokenizer {
  const json = record(files.tokenizerJson, 'tokenizer.json');
  const config = record(files.tokenizerConfig, 'tokenizer_config.json');
  const model = record(json.model, 'tokenizer.json "model"');
  if (typeof model.vocab !== 'object' || model.vocab === null || Array.isArray(model.vocab)) {
    throw new Error(`tokenizer.json model type "${String(model.type)}" has no token→id vocabulary; TabTune supports BPE tokenizers (byte-level and SentencePiece-style).`);
  }
  const hf = new PreTrainedTokenizer(json, config);

  const pieces: string[] = [];
  const ids = new Map<string, number>();
  for (const [piece, id] of Object.entries(model.vocab as Record<string, number>)) {
    pieces[id] = piece;
    ids.set(piece, id);
  }
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []) as AddedTokenJson[];
  const specialIds = new Set<number>();
  for (const token of added) {
    pieces[token.id] = token.content;
    ids.set(token.content, token.id);
    if (token.special) specialIds.add(token.id);
  }
  const vocabSize = pieces.length;
  const surface: SurfaceTable = tokenSurfaceTable(json, pieces, specialIds);

  const idFor = (name: string | null): number | null => (name === null ? null : ids.get(name) ?? null);
  const bosToken = tokenName(config.bos_token);
  const eosToken = tokenName(config.eos_token);
  const padToken = tokenName(config.pad_token);
  const bosId = idFor(bosToken);
  const eosId = idFor(eosToken);
  const padId = idFor(padToken);
  const chatTemplate = pickChatTemplate(config.chat_template);

  const endOfTurnIds = new Set<number>();
  if (eosId !== null) endOfTurnIds.add(eosId);
  for (const candidate of TURN_END_CANDIDATES) {
    const id = ids.get(candidate);
    if (id !== undefined && chatTemplate?.includes(candidate)) endOfTurnIds.add(id);
  }
  // Templates that write `eos_token` (Llama 2, Mistral) close turns with EOS, already added above.

  const probe = hf.encode('a', { add_special_tokens: true });
  const addsBos = bosId !== null && probe[0] === bosId;
  const usesNfc = JSON.stringify(json.normalizer ?? null).includes('"NFC"');

  // transformers.js keeps its compiled Split regex on the pre-tokenizer; the fast path reuses it so both split alike.
  const internals = hf as unknown as { _tokenizer?: { pre_tokenizer?: { tokenizers?: { pattern?: unknown }[] } } };
  const fast = createFastEncoder(json, internals._tokenizer?.pre_tokenizer?.tokenizers?.[0]?.pattern);
  const encodePlain = (text: string): number[] => (fast ? fast.encode(text) : hf.encode(text, { add_special_tokens: false }));

  const tokenizer: Tokenizer = {
    encode: (text, opts) => (opts.addSpecialTokens ? hf.encode(text, { add_special_tokens: true }) : encodePlain(text)),
    encodeWithOffsets(text) {
      const encoded = encodePlain(text);
      return { ids: encoded, ...surface.align(text, encoded) };
    },
    normalize: (text) => (usesNfc ? text.normalize('NFC') : text),
    decode: (list) => hf.decode([...list], { skip_special_tokens: false }),
    tokenText: (id) => surface.text(id),
    piece: (id) => pieces[id],
    idOf: (token) => ids.get(token),
    bosId,
    eosId,
    padId,
    bosToken,
    eosToken,
    padToken,
    endOfTurnIds,
    specialIds,
    chatTemplate,
    vocabSize,
    addsBos,
    fastPath: fast !== null,
    encodeReference: (text) => hf.encode(text, { add_special_tokens: false }),
  };
  return tokenizer;
}
