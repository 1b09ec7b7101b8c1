// Byte codecs the share layer builds on: base64url (RFC 4648 §5, no padding), CRC-32 (the zip/PNG polynomial),
// sha256 via WebCrypto, and size-capped raw-DEFLATE with fflate. Pure and platform-neutral (browser, worker, Node 20).
import { deflateSync, inflateSync } from 'fflate';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict decoder: any character outside the URL-safe alphabet, padding, or an impossible length is an error, so a
 * link mangled by a chat app fails here with a clear reason instead of decoding to garbage. */
export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error(`base64url text has an impossible length (${text.length})`);
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) throw new Error(`base64url text has an invalid character ${JSON.stringify(text[i])} at position ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as in zip and PNG). Catches truncation and edits of link payloads; not a security check. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc32Hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** Lower-case hex sha256 of the bytes (WebCrypto: the same digest in the browser, the worker and Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Raw DEFLATE at the highest level; deterministic for the same input, so the same config gives the same link. */
export function deflate(bytes: Uint8Array): Uint8Array {
  return deflateSync(bytes, { level: 9, mem: 8 });
}

/** Inflates at most `maxBytes`; a stream that expands beyond that (a "zip bomb" in a link) is rejected. */
export function inflateCapped(bytes: Uint8Array, maxBytes: number, what: string): Uint8Array {
  const out = new Uint8Array(maxBytes + 1);
  let result: Uint8Array;
  try {
    result = inflateSync(bytes, { out });
  } catch (e) {
    throw new Error(`${what} is not valid compressed data (${(e as Error).message}); it was probably cut short or edited`, { cause: e });
  }
  if (result.length > maxBytes) throw new Error(`${what} expands beyond ${maxBytes} bytes, more than TabTune accepts`);
  return result.slice();
}

export const utf8 = {
  encode: (text: string): Uint8Array => new TextEncoder().encode(text),
  /** Fatal decoding: invalid UTF-8 is an error rather than silent U+FFFD replacement. */
  decode: (bytes: Uint8Array, what = 'text'): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      throw new Error(`${what} is not valid UTF-8`, { cause: e });
    }
  },
};
