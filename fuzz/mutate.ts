// Seeded mutations: generic byte-level ones for any input, and structure-aware ones for JSON (a whole document or one
// JSONL line). Everything is a function of (seed, target, input index), so any input can be rebuilt from its index.
import type { Rng } from './target.ts';

/** mulberry32: small, fast, good enough to pick mutations. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

/** FNV-1a of a string, to derive per-target seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Inputs are capped at this size so one mutation chain cannot grow without end. */
const MAX_INPUT_BYTES = 1 << 20;

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0xc0, 0xed, 0xf4];

const INTERESTING_NUMBERS = [
  '0', '-0', '1', '-1', '2', '7', '255', '256', '65535', '65536', '2147483647', '2147483648', '-2147483648',
  '4294967295', '4294967296', '9007199254740991', '9007199254740993', '1e308', '1e309', '-1e309', '5e-324', '0.5',
  '1.5', '0.1', '1e3', '1e9', '10**9', '2**53', '2**31', '10**7', '1e-7', 'NaN', 'Infinity', '-Infinity', '00', '0x10',
  '1073741824', '4000000000000', '99999999999999999999',
];

const TOKENS = [
  '{', '}', '[', ']', '"', "'", ',', ':', '\n', '\r\n', '\t', '\\', '\\u0000', '\\ud800', 'null', 'true', 'false',
  '"__proto__"', '"constructor"', '"toString"', '"prototype"', '"hasOwnProperty"', '__proto__', 'constructor',
  'toString', 'valueOf', '\u0000', '\u2028', '\ufeff', '😀', 'é', ';', '#', '&', '=', '%', '.', '-', '--',
];

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function clampLen(n: number, max: number): number {
  return Math.max(0, Math.min(n, max));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A length biased towards small ranges, as most useful edits are. */
function span(rng: Rng, limit: number): number {
  if (limit <= 0) return 0;
  const r = rng.next();
  const n = r < 0.6 ? 1 + rng.int(4) : r < 0.9 ? 1 + rng.int(64) : 1 + rng.int(limit);
  return clampLen(n, limit);
}

function byteMutation(input: Uint8Array, rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : rng.int(n);
  switch (rng.int(9)) {
    case 0: { // bit flip
      if (n === 0) return Uint8Array.of(rng.int(256));
      const out = input.slice();
      out[at] = (out[at] ?? 0) ^ (1 << rng.int(8));
      return out;
    }
    case 1: { // interesting byte
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES));
      const out = input.slice();
      out[at] = rng.pick(INTERESTING_BYTES);
      return out;
    }
    case 2: { // random byte(s) inserted
      const bytes = new Uint8Array(span(rng, 16)).map(() => rng.int(256));
      return concat(input.subarray(0, at), bytes, input.subarray(at));
    }
    case 3: { // range deleted
      const len = span(rng, n - at);
      return concat(input.subarray(0, at), input.subarray(at + len));
    }
    case 4: { // range duplicated (repeated up to 64 times)
      const len = span(rng, n - at);
      const copies = rng.next() < 0.8 ? 1 : 1 + rng.int(64);
      const piece = input.subarray(at, at + len);
      return concat(input.subarray(0, at), ...Array.from({ length: copies + 1 }, () => piece), input.subarray(at + len));
    }
    case 5: { // splice with another seed
      const other = rng.pick(seeds);
      const cut = other.length === 0 ? 0 : rng.int(other.length);
      return rng.next() < 0.5
        ? concat(input.subarray(0, at), other.subarray(cut))
        : concat(other.subarray(0, cut), input.subarray(at));
    }
    case 6: { // truncation
      return input.subarray(0, at);
    }
    case 7: { // a token inserted or overwriting
      const token = utf8.encode(rng.pick(TOKENS));
      const replace = rng.next() < 0.5 ? Math.min(token.length, n - at) : 0;
      return concat(input.subarray(0, at), token, input.subarray(at + replace));
    }
    default: { // a decimal number replaced by an interesting one
      return replaceNumber(input, rng);
    }
  }
}

function replaceNumber(input: Uint8Array, rng: Rng): Uint8Array {
  const digits: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const b = input[i] ?? 0;
    if (b >= 0x30 && b <= 0x39 && !((input[i - 1] ?? 0) >= 0x30 && (input[i - 1] ?? 0) <= 0x39)) digits.push(i);
  }
  const number = utf8.encode(rng.pick(INTERESTING_NUMBERS));
  if (digits.length === 0) {
    const at = input.length === 0 ? 0 : rng.int(input.length);
    return concat(input.subarray(0, at), number, input.subarray(at));
  }
  const start = rng.pick(digits);
  let end = start;
  while (end < input.length && (input[end] ?? 0) >= 0x30 && (input[end] ?? 0) <= 0x39) end++;
  return concat(input.subarray(0, start), number, input.subarray(end));
}

// --- JSON-aware mutations ---------------------------------------------------------------------------------------

const DEEP = '\u0000deep\u0000';

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 10)) {
    case 0: return null;
    case 1: return '';
    case 2: return rng.pick([0, -1, 1, 2, 1e9, 2 ** 31, 2 ** 53 + 2, 1e308, 1.5, -0.5, 1e-7]);
    case 3: return rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'system', 'user', 'assistant', 'tool', 'text', 'messages']);
    case 4: return rng.next() < 0.5;
    case 5: return 'x'.repeat(rng.pick([1, 100, 65_536, 300_000]));
    case 6: return DEEP;
    case 7: return [randomValue(rng, depth + 1)];
    case 8: return { [rng.pick(['role', 'content', '__proto__', 'constructor', 'toString', 'messages', 'text'])]: randomValue(rng, depth + 1) };
    default: return rng.pick([[], {}]);
  }
}

type Container = Record<string, unknown> | unknown[];

/** Containers of the document (breadth first, at most 5000), so one can be picked uniformly. */
function containers(root: unknown): Container[] {
  const out: Container[] = [];
  const queue: unknown[] = [root];
  for (let k = 0; k < queue.length && out.length < 5000; k++) {
    const value = queue[k];
    if (typeof value !== 'object' || value === null) continue;
    out.push(value as Container);
    for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) queue.push(child);
  }
  return out;
}

function mutateJsonValue(doc: unknown, rng: Rng): unknown {
  const root = { doc } as Record<string, unknown>;
  const all = containers(root);
  const target = all.length > 1 && rng.next() < 0.9 ? rng.pick(all.slice(1)) : root;
  const keys = Object.keys(target);
  const key = keys.length > 0 ? rng.pick(keys) : undefined;
  const isArray = Array.isArray(target);
  switch (rng.int(7)) {
    case 0: // replace a value
      if (key !== undefined) (target as Record<string, unknown>)[key] = randomValue(rng);
      break;
    case 1: // delete a key / element
      if (key !== undefined) {
        if (isArray) target.splice(Number(key), 1);
        else delete (target as Record<string, unknown>)[key];
      }
      break;
    case 2: // duplicate an element / copy a value under a hostile key
      if (key !== undefined) {
        const value = (target as Record<string, unknown>)[key];
        if (isArray) target.splice(Number(key), 0, ...Array.from({ length: rng.pick([1, 1, 2, 100]) }, () => value));
        else Object.defineProperty(target, rng.pick(['__proto__', 'constructor', 'toString', `${key}_`, key.toUpperCase()]), { value, enumerable: true, configurable: true, writable: true });
      }
      break;
    case 3: // wrap a value in a list or an object
      if (key !== undefined) {
        const value = (target as Record<string, unknown>)[key];
        (target as Record<string, unknown>)[key] = rng.next() < 0.5 ? [value] : { value };
      }
      break;
    case 4: // add a key with a random value
      if (isArray) target.push(randomValue(rng));
      else Object.defineProperty(target, rng.pick(['__proto__', 'constructor', 'role', 'content', 'extra', '']), { value: randomValue(rng), enumerable: true, configurable: true, writable: true });
      break;
    case 5: // turn a string into a number or the other way round
      if (key !== undefined) {
        const value = (target as Record<string, unknown>)[key];
        (target as Record<string, unknown>)[key] = typeof value === 'string' ? Number(value.length) : typeof value === 'number' ? String(value) : value;
      }
      break;
    default: // swap two values
      if (keys.length > 1) {
        const other = rng.pick(keys);
        const t = target as Record<string, unknown>;
        [t[key as string], t[other]] = [t[other], t[key as string]];
      }
  }
  return root.doc;
}

function stringifyWithDeep(value: unknown, rng: Rng): string {
  const text = JSON.stringify(value) ?? 'null';
  if (!text.includes(JSON.stringify(DEEP))) return text;
  const depth = rng.pick([100, 1000, 10_000, 100_000]);
  const [open, close] = rng.next() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
  return text.split(JSON.stringify(DEEP)).join(open.repeat(depth) + '1' + close.repeat(depth));
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Structure-aware mutation of a JSON document or of one line of a JSONL file; null when the input is neither (or is
 * too deep for JSON.stringify: the byte mutations take over). */
export function jsonMutation(input: Uint8Array, rng: Rng): Uint8Array | null {
  try {
    return jsonMutationUnguarded(input, rng);
  } catch {
    return null;
  }
}

function jsonMutationUnguarded(input: Uint8Array, rng: Rng): Uint8Array | null {
  let text: string;
  try {
    text = strictUtf8.decode(input);
  } catch {
    return null;
  }
  const whole = tryJson(text);
  if (whole.ok && typeof whole.value === 'object' && whole.value !== null) {
    return utf8.encode(stringifyWithDeep(mutateJsonValue(whole.value, rng), rng));
  }
  const lines = text.split('\n');
  const candidates = lines.map((line, i) => ({ i, parsed: tryJson(line) })).filter((x) => x.parsed.ok);
  if (candidates.length === 0) return null;
  const { i, parsed } = rng.pick(candidates);
  if (!parsed.ok) return null;
  lines[i] = stringifyWithDeep(mutateJsonValue(parsed.value, rng), rng);
  return utf8.encode(lines.join('\n'));
}

/** One input: a seed with 1–8 stacked mutations (JSON-aware ones where the current bytes are JSON). */
export function mutateInput(seeds: readonly Uint8Array[], rng: Rng, extra?: (input: Uint8Array, rng: Rng) => Uint8Array): Uint8Array {
  let input = rng.pick(seeds);
  const depth = 1 + rng.int(rng.next() < 0.7 ? 3 : 8);
  for (let k = 0; k < depth; k++) {
    const r = rng.next();
    let next: Uint8Array | null = null;
    if (extra && r < 0.3) next = extra(input, rng);
    else if (r < 0.6) next = jsonMutation(input, rng);
    input = next ?? byteMutation(input, rng, seeds);
    if (input.length > MAX_INPUT_BYTES) input = input.subarray(0, MAX_INPUT_BYTES);
  }
  return input;
}
