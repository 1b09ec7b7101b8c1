// Token → the bytes of text it stands for, and the alignment of a token list back onto the text it came from.
// transformers.js has no offset mapping, so exact masks (sft-conventions §10) need this: each token's surface bytes
// are walked along the UTF-8 bytes of the input, then byte positions are turned into UTF-16 offsets.
// Handles byte-level BPE (GPT-2 / Llama 3 / Qwen) and SentencePiece-style BPE (`▁` for space, `<0xAB>` byte
// fallback, a `Prepend` normaliser that adds a space the input never had: Llama 2).

export interface SurfaceTable {
  text(id: number): string;
  align(text: string, ids: readonly number[]): { starts: Int32Array; ends: Int32Array };
}

/** GPT-2's reversible byte ↔ printable-character table (`bytes_to_unicode` in the original encoder). */
function byteLevelDecoderTable(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Map<string, number>();
  const direct = new Set(printable);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (direct.has(b)) table.set(String.fromCharCode(b), b);
    else table.set(String.fromCharCode(256 + shifted++), b);
  }
  return table;
}

type Family = 'byte-level' | 'sentencepiece';

function detectFamily(json: Record<string, unknown>): Family {
  const parts = JSON.stringify([json.pre_tokenizer ?? null, json.decoder ?? null]);
  if (parts.includes('"ByteLevel"')) return 'byte-level';
  return 'sentencepiece';
}

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8', { fatal: false });
const SPACE = 0x20;

export function tokenSurfaceTable(json: Record<string, unknown>, pieces: readonly string[], specialIds: ReadonlySet<number>): SurfaceTable {
  const family = detectFamily(json);
  const byteTable = family === 'byte-level' ? byteLevelDecoderTable() : null;
  const cache: (Uint8Array | undefined)[] = [];

  function bytesOf(id: number): Uint8Array {
    const hit = cache[id];
    if (hit) return hit;
    const piece = pieces[id] ?? '';
    let bytes: Uint8Array;
    if (specialIds.has(id)) {
      bytes = encoder.encode(piece);
    } else if (byteTable) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = byteTable.get(ch);
        if (b === undefined) out.push(...encoder.encode(ch));
        else out.push(b);
      }
      bytes = Uint8Array.from(out);
    } else {
      const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      bytes = fallback ? Uint8Array.of(parseInt(fallback[1] ?? '0', 16)) : encoder.encode(piece.replaceAll('▁', ' '));
    }
    cache[id] = bytes;
    return bytes;
  }

  return {
    text: (id) => lenientDecoder.decode(bytesOf(id)),
    align(text, ids) {
      // SentencePiece maps every space to `▁` and back, so a literal `▁` in the text surfaces as a space.
      const source = family === 'sentencepiece' ? text.replaceAll('▁', ' ') : text;
      const bytes = encoder.encode(source);
      const unitAt = byteToUnitTable(source, bytes.length);
      const starts = new Int32Array(ids.length);
      const ends = new Int32Array(ids.length);
      let cursor = 0;
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t] ?? 0;
        const piece = bytesOf(id);
        let length = piece.length;
        if (matchesAt(bytes, cursor, piece, 0)) {
          // exact
        } else if (family === 'sentencepiece' && piece[0] === SPACE && matchesAt(bytes, cursor, piece, 1)) {
          length -= 1; // the normaliser's prepended `▁`: not in the input
        } else if (pieces[id] === '<unk>') {
          length = codePointBytes(bytes, cursor);
        } else {
          const near = lenientDecoder.decode(bytes.subarray(cursor, cursor + 24));
          throw new Error(`Cannot align token ${t} (id ${id}, ${JSON.stringify(pieces[id])}) with the text at ${JSON.stringify(near)}: the tokenizer changed the text in a way TabTune does not model (normaliser or pre-tokenizer). Normalise the text with tokenizer.normalize() first.`);
        }
        const start = cursor;
        cursor += length;
        starts[t] = unitAt[start] ?? source.length;
        ends[t] = unitAtEnd(unitAt, cursor, source.length);
      }
      return { starts, ends };
    },
  };
}

function matchesAt(haystack: Uint8Array, at: number, needle: Uint8Array, from: number): boolean {
  if (at + needle.length - from > haystack.length) return false;
  for (let i = from; i < needle.length; i++) {
    if (haystack[at + i - from] !== needle[i]) return false;
  }
  return true;
}

function codePointBytes(bytes: Uint8Array, at: number): number {
  const lead = bytes[at] ?? 0;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

/** unitAt[b] = UTF-16 index of the character that byte b belongs to; unitAt[length] = text length. */
function byteToUnitTable(text: string, byteLength: number): Int32Array {
  const table = new Int32Array(byteLength + 1);
  let b = 0;
  for (let u = 0; u < text.length; u++) {
    const code = text.codePointAt(u) ?? 0;
    const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    for (let k = 0; k < width; k++) table[b + k] = u;
    b += width;
    if (code >= 0x10000) u++; // surrogate pair: two UTF-16 units, one code point
  }
  table[byteLength] = text.length;
  return table;
}

/** End offset for a token ending at byte `b`: the end of the character that byte b-1 belongs to. A token that ends
 * inside a multi-byte character (an emoji split across byte tokens) reaches to that character's end. */
function unitAtEnd(unitAt: Int32Array, b: number, length: number): number {
  if (b >= unitAt.length - 1) return length;
  const here = unitAt[b] ?? length;
  const before = unitAt[b - 1] ?? 0;
  if (b > 0 && before === here) {
    // b is inside a character: extend to that character's end.
    let next = b;
    while (next < unitAt.length - 1 && unitAt[next] === here) next++;
    return unitAt[next] ?? length;
  }
  return here;
}
