// Safetensors: header parsing that enforces every rule of docs/architecture.md, dtype
// conversion to Float32Array (F32/F16/BF16), and a writer with Hugging Face's layout. Pure: no I/O here
// (remote reading lives in safetensors-remote.ts). Imports nothing outside src/hub but the message helper of src/engine.
// Every size a header declares is checked against the bytes the caller really has before anything is allocated,
// and every value quoted in a message goes through preview() (bounded, never recursive).
import { preview } from '../engine/preview.ts';

export type SafetensorsDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The Rust crate's `Dtype` declaration order, which its writer sorts by (descending): size order, with ties
 * broken as upstream does (BF16 before F16, F32 before U32/I32) so files match Python's byte for byte. */
const DTYPE_RANK: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 0, U8: 1, I8: 2, F8_E5M2: 3, F8_E4M3: 4, I16: 5, U16: 6, F16: 7, BF16: 8, I32: 9, U32: 10, F32: 11,
  F64: 12, I64: 13, U64: 14,
};

/** Upper bound on the JSON header length, as in the reference implementation (huggingface/safetensors). */
const MAX_HEADER_BYTES = 100_000_000;

/** Most elements one tensor may have to be converted to float32: 2^30 floats, a 4 GiB buffer, which is what one
 * WebGPU buffer holds at most (and more than any embedding table of a model a tab can train). */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** Most dimensions a shape may list (PyTorch allows 64). */
const MAX_DIMS = 64;

/** A tensor or metadata name cut for a message (names come from the file and may be megabytes long). */
export function shortName(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}…` : name;
}

/** Whether `dtype` names a safetensors dtype (own keys only: "constructor" is not a dtype). */
function isDtype(dtype: unknown): dtype is SafetensorsDtype {
  return typeof dtype === 'string' && Object.hasOwn(DTYPE_BYTES, dtype);
}

export type SafetensorsErrorCode =
  | 'too-short' | 'header-too-large' | 'header-beyond-file' | 'header-not-utf8' | 'header-not-object'
  | 'header-not-json' | 'duplicate-key' | 'bad-entry' | 'bad-dtype' | 'bad-shape' | 'bad-offsets'
  | 'size-mismatch' | 'gap' | 'overlap' | 'trailing-bytes' | 'bad-metadata' | 'unknown-tensor' | 'unsupported-dtype'
  | 'tensor-too-large' | 'bad-index' | 'missing-shard';

/** A malformed or unusable safetensors file; `code` names the broken rule so tests and the UI can tell them apart. */
export class SafetensorsError extends Error {
  constructor(readonly code: SafetensorsErrorCode, message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'SafetensorsError';
  }
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer (after the header), end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header length in bytes. */
  headerBytes: number;
  /** Absolute file offset of the data buffer: 8 + N. */
  dataStart: number;
  /** Total file size the header was validated against. */
  fileSize: number;
  /** Tensors in data-buffer order. */
  tensors: TensorInfo[];
  byName: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** Reads N from the first 8 bytes and checks it against the limit and the file size. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, file?: string): number {
  if (first8.byteLength < 8 || fileSize < 8) {
    throw new SafetensorsError('too-short', `file is ${fileSize} bytes; a safetensors file starts with an 8-byte header length`, file);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError('header-too-large', `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not safetensors`, file);
  }
  const headerBytes = Number(n);
  if (8 + headerBytes > fileSize) {
    throw new SafetensorsError('header-beyond-file', `header length ${headerBytes} runs past the end of the ${fileSize}-byte file; the download may be truncated`, file);
  }
  return headerBytes;
}

/**
 * Parses and validates the header. `prefix` must hold at least the first 8 + N bytes of the file;
 * `fileSize` is the full file size (needed to reject gaps and trailing bytes without the data).
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileSize: number, file?: string): SafetensorsHeader {
  const headerBytes = readHeaderLength(prefix, fileSize, file);
  if (prefix.byteLength < 8 + headerBytes) {
    throw new SafetensorsError('too-short', `need the first ${8 + headerBytes} bytes to parse the header, got ${prefix.byteLength}`, file);
  }
  const raw = prefix.subarray(8, 8 + headerBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new SafetensorsError('header-not-utf8', 'header is not valid UTF-8', file);
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsError('header-not-object', `header must start with "{", found ${preview(text.slice(0, 8))}`, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('header-not-json', `header is not valid JSON (${shortName((e as Error).message)}). HINT: the file is corrupt or not safetensors; re-download it.`, file);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError('header-not-object', 'header JSON must be an object', file);
  }
  // JSON.parse keeps the last of duplicate keys silently; the format forbids duplicates, so scan for them.
  const dup = findDuplicateTopLevelKey(text);
  if (dup !== undefined) throw new SafetensorsError('duplicate-key', `header lists ${preview(dup)} twice`, file);

  const dataBytes = fileSize - 8 - headerBytes;
  const metadata: [string, string][] = [];
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError('bad-metadata', `__metadata__ is ${preview(entry)}; it must be an object of string values`, file);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError('bad-metadata', `__metadata__.${shortName(k)} is ${preview(v)}; metadata values must be strings`, file);
        metadata.push([k, v]);
      }
      continue;
    }
    tensors.push(parseEntry(name, entry, file));
  }
  checkLayout(tensors, dataBytes, file);
  // Object.fromEntries defines own properties, so a "__proto__" key stays a key instead of replacing the prototype.
  return {
    headerBytes, dataStart: 8 + headerBytes, fileSize, tensors, byName: new Map(tensors.map((t) => [t.name, t])),
    metadata: Object.fromEntries(metadata),
  };
}

function parseEntry(name: string, entry: unknown, file?: string): TensorInfo {
  const what = `tensor ${shortName(name)}`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new SafetensorsError('bad-entry', `${what}: entry is ${preview(entry)}; it must be an object {dtype, shape, data_offsets}`, file);
  }
  const fields = entry as Record<string, unknown>;
  const get = (key: string): unknown => (Object.hasOwn(fields, key) ? fields[key] : undefined);
  const dtype = get('dtype');
  const shape = get('shape');
  const offsets = get('data_offsets');
  if (!isDtype(dtype)) {
    throw new SafetensorsError('bad-dtype', `${what}: unknown dtype ${preview(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`, file);
  }
  if (!Array.isArray(shape) || shape.length > MAX_DIMS || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError('bad-shape', `${what}: shape must be an array of at most ${MAX_DIMS} non-negative integers, got ${preview(shape)}`, file);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new SafetensorsError('bad-offsets', `${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${preview(offsets)}`, file);
  }
  const [begin, end] = offsets as [number, number];
  // A product past 2^53 is inexact, but it can then never equal end - begin (a safe integer), which is all we ask.
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw new SafetensorsError('size-mismatch', `${what}: ${end - begin} bytes in data_offsets but shape ${preview(shape)} × ${dtype} needs ${expected}`, file);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** The tensors must tile the data buffer exactly: no gap, no overlap, nothing after the last one. */
function checkLayout(tensors: TensorInfo[], dataBytes: number, file?: string): void {
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : 1));
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin > cursor) throw new SafetensorsError('gap', `${t.begin - cursor} unused bytes before tensor ${shortName(t.name)} (offset ${cursor})`, file);
    if (t.begin < cursor) throw new SafetensorsError('overlap', `tensor ${shortName(t.name)} starts at ${t.begin}, inside the previous tensor (ends at ${cursor})`, file);
    cursor = t.end;
  }
  if (cursor > dataBytes) {
    throw new SafetensorsError('header-beyond-file', `tensors need ${cursor} data bytes but the file holds ${dataBytes}; the download may be truncated`, file);
  }
  if (cursor < dataBytes) throw new SafetensorsError('trailing-bytes', `${dataBytes - cursor} bytes after the last tensor`, file);
}

/** Returns the first top-level key that occurs twice in a JSON object text, or undefined. */
function findDuplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/** Parses a whole in-memory file. Tensor data is read with `tensorBytes` / `tensorToFloat32`. */
export function parseSafetensors(bytes: Uint8Array, file?: string): SafetensorsHeader {
  return parseSafetensorsHeader(bytes, bytes.byteLength, file);
}

/** The raw bytes of one tensor, as a view into `file` (the whole file's bytes). */
function tensorBytes(header: SafetensorsHeader, file: Uint8Array, name: string): Uint8Array {
  const t = header.byName.get(name);
  if (!t) throw new SafetensorsError('unknown-tensor', `no tensor named ${shortName(name)}; the file has ${header.tensors.length} tensors`);
  if (file.byteLength < header.dataStart + t.end) {
    throw new SafetensorsError('too-short', `tensor ${shortName(name)} ends at byte ${header.dataStart + t.end} but only ${file.byteLength} bytes were given`);
  }
  return file.subarray(header.dataStart + t.begin, header.dataStart + t.end);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws unless a tensor of `bytes` raw bytes of `dtype` can become one Float32Array; returns its element count. */
export function float32Length(dtype: SafetensorsDtype, bytes: number, name = 'tensor', file?: string): number {
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new SafetensorsError('unsupported-dtype', `${shortName(name)}: dtype ${dtype} cannot be converted to float32 (supported: F32, F16, BF16)`, file);
  }
  const count = bytes / DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(count)) {
    throw new SafetensorsError('size-mismatch', `${shortName(name)}: ${bytes} bytes is not a whole number of ${dtype} values`, file);
  }
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new SafetensorsError('tensor-too-large', `${shortName(name)} has ${count} values; TabTune converts at most ${MAX_TENSOR_ELEMENTS} per tensor (a 4 GiB float32 buffer). HINT: pick a smaller model.`, file);
  }
  return count;
}

/** Widens BF16 or F16 values into `out` from element `at`; `bytes` holds whole elements. */
export function widenInto(dtype: 'BF16' | 'F16', bytes: Uint8Array, out: Float32Array, at: number): void {
  const count = bytes.byteLength >> 1;
  if (dtype === 'BF16') {
    // BF16 is the high half of an F32: widen by shifting the 16 bits up.
    const bits = new Uint32Array(out.buffer, out.byteOffset + 4 * at, count);
    // Typed-array reads are several times faster than DataView on a 100 M-element checkpoint; they use the host's
    // byte order, so only an aligned tensor on a little-endian host (every browser and Node target) takes them.
    if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
      const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
      for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[at + i] = halfToFloat(view.getUint16(2 * i, true));
}

/**
 * Converts raw tensor bytes to Float32Array. F32 bytes at a 4-byte-aligned offset become a view (no copy, shares
 * memory with the input); unaligned F32 data is copied because typed-array views require alignment.
 */
export function toFloat32(dtype: SafetensorsDtype, bytes: Uint8Array, name = 'tensor'): Float32Array {
  const count = float32Length(dtype, bytes.byteLength, name);
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    return new Float32Array(bytes.slice().buffer);
  }
  const out = new Float32Array(count);
  widenInto(dtype as 'BF16' | 'F16', bytes, out, 0);
  return out;
}

/** Reads one tensor of an in-memory file as float32. */
export function tensorToFloat32(header: SafetensorsHeader, file: Uint8Array, name: string): Float32Array {
  const t = header.byName.get(name);
  if (!t) throw new SafetensorsError('unknown-tensor', `no tensor named ${shortName(name)}; the file has ${header.tensors.length} tensors`);
  return toFloat32(t.dtype, tensorBytes(header, file, name), name);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (or zero)
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** F32 → BF16 bits with round-to-nearest-even, as torch's `.to(torch.bfloat16)` does; NaN stays NaN. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i] ?? 0;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
      out[i] = (b >>> 16) | 0x40; // keep a quiet NaN
      continue;
    }
    const rounding = 0x7fff + ((b >>> 16) & 1);
    out[i] = ((b + rounding) >>> 16) & 0xffff;
  }
  return out;
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Little-endian element bytes (a typed array of the matching element type works too). */
  data: ArrayBufferView;
}

/**
 * Writes a safetensors file the way huggingface/safetensors does: tensors ordered by dtype size (descending), then
 * name; header JSON space-padded to a multiple of 8; `__metadata__` first, always carrying `format: pt` because
 * transformers refuses checkpoints without it.
 */
export function writeSafetensors(tensors: TensorToWrite[], metadata: Record<string, string> = {}): Uint8Array {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new SafetensorsError('duplicate-key', `cannot write two tensors named ${t.name}`);
    names.add(t.name);
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new SafetensorsError('size-mismatch', `tensor ${t.name}: ${t.data.byteLength} data bytes but shape ${JSON.stringify(t.shape)} × ${t.dtype} needs ${expected}`);
    }
  }
  const ordered = [...tensors].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: { ...metadata, format: metadata.format ?? 'pt' } };
  let offset = 0;
  for (const t of ordered) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const t of ordered) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
