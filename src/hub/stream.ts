// Streaming downloads: a file's bytes as chunks, checked against the listed size and LFS sha256 as they pass and
// stored in the cache on the way, plus a safetensors reader that converts each tensor as soon as its bytes are in.
// Together they load a checkpoint without ever holding the whole file: peak memory is the float32 weights plus one
// tensor's raw bytes, instead of the weights plus the entire download.
import { cacheFor, describe, request, type FetchOptions } from './client.ts';
import { resolveUrl, type HubConfig } from './endpoint.ts';
import { HubError } from './errors.ts';
import {
  float32Length, parseSafetensorsHeader, readHeaderLength, SafetensorsError, widenInto, type SafetensorsHeader, type TensorInfo,
} from './safetensors.ts';
import { Sha256 } from './sha256.ts';

/**
 * Yields a file's bytes at a pinned revision chunk by chunk. The size and sha256 in `opts.expected` are checked when
 * the last byte has passed: the generator throws a HubError('integrity') at its end, so a consumer must treat what it
 * built as provisional until the loop finishes. A file that fails the check is never cached.
 */
export async function* streamFile(cfg: HubConfig, repo: string, sha: string, path: string, opts: Omit<FetchOptions, 'range'> = {}): AsyncGenerator<Uint8Array> {
  const repoType = opts.repoType ?? 'model';
  const url = resolveUrl(cfg, repo, sha, path, repoType);
  const what = describe(repo, sha, repoType, path);
  const cache = cacheFor(opts);
  const cached = cache ? await cache.get(url) : undefined;
  if (cached) {
    opts.onProgress?.(cached.byteLength, cached.byteLength);
    yield cached;
    return;
  }
  const res = await request(cfg, url, what, { signal: opts.signal });
  const lengthHeader = res.headers.get('Content-Length');
  const total = opts.expected?.size ?? (lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined);
  const hash = opts.expected?.sha256 ? new Sha256() : null;
  // The cache reads from a TransformStream as the chunks pass; awaiting each write keeps it from falling behind.
  let writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  let stored: Promise<unknown> = Promise.resolve();
  if (cache?.putStream && total !== undefined) {
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    writer = pipe.writable.getWriter();
    // Settled into a value at once so a rejection is never unhandled while the download is still running.
    stored = cache.putStream(url, pipe.readable, total).then(() => null, (e: unknown) => e);
  }
  if (!res.body) throw new HubError('bad-response', `${what}: the response has no body to stream. HINT: retry.`, url);
  const reader = res.body.getReader();
  let loaded = 0;
  let finished = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (opts.signal?.aborted) throw new HubError('aborted', `${what}: download cancelled`, url);
        throw new HubError('network', `${what}: the connection broke after ${loaded} bytes (${(e as Error).message}). HINT: retry; cached files are not re-downloaded.`, url);
      }
      if (chunk.done) break;
      const bytes = chunk.value;
      loaded += bytes.byteLength;
      if (total !== undefined && loaded > total) {
        throw new HubError('integrity', `${what}: received more than the ${total} bytes the revision lists. HINT: the mirror is stale or the file changed; retry.`, url);
      }
      hash?.update(bytes);
      if (writer) await writer.write(bytes);
      opts.onProgress?.(loaded, total);
      yield bytes;
    }
    if (total !== undefined && loaded !== total) {
      throw new HubError('integrity', `${what}: got ${loaded} bytes, the revision lists ${total}. HINT: the download was cut short or the mirror is stale; retry.`, url);
    }
    const actual = hash?.hex();
    if (actual !== undefined && actual !== opts.expected?.sha256) {
      throw new HubError('integrity', `${what}: sha256 ${actual} differs from the listed ${opts.expected?.sha256}. HINT: the file is corrupt; retry the download.`, url);
    }
    if (writer) {
      await writer.close();
      const failure = await stored;
      if (failure !== null) throw failure;
    }
    finished = true;
  } finally {
    if (!finished) {
      // A failed check, a broken connection or a consumer that stopped early: nothing reaches the cache.
      await reader.cancel().catch(() => undefined);
      if (writer) {
        await writer.abort(new Error(`${what}: download not completed`)).catch(() => undefined);
        await stored;
      }
    }
  }
}

/** Pulls exact byte counts out of a chunk stream whose chunk sizes are arbitrary. */
class ByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  /** Bytes consumed so far, for messages. */
  position = 0;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  /**
   * The next `n` bytes as views into the chunks that carried them (`keep` false: skipped, nothing kept); null when
   * the stream ends first. Nothing is allocated for bytes that have not arrived, so a size that lies costs nothing.
   */
  async take(n: number, keep: boolean): Promise<Uint8Array[] | null> {
    const pieces: Uint8Array[] = [];
    let filled = 0;
    while (filled < n) {
      if (this.at === this.chunk.byteLength) {
        const next = await this.chunks.next();
        if (next.done) return null;
        this.chunk = next.value;
        this.at = 0;
        continue;
      }
      const take = Math.min(n - filled, this.chunk.byteLength - this.at);
      if (keep) pieces.push(this.chunk.subarray(this.at, this.at + take));
      this.at += take;
      filled += take;
      this.position += take;
    }
    return pieces;
  }

  /** True when no byte is left (reads ahead to the stream's end, which runs the source's final checks). */
  async atEnd(): Promise<boolean> {
    for (;;) {
      if (this.at < this.chunk.byteLength) return false;
      const next = await this.chunks.next();
      if (next.done) return true;
      this.chunk = next.value;
      this.at = 0;
    }
  }
}

/** Copies pieces into one new buffer of their total length (the bytes have arrived, so the size is real). */
function concat(pieces: readonly Uint8Array[], total: number): Uint8Array {
  return concatInto(pieces, new Uint8Array(total));
}

/**
 * One tensor's pieces as a Float32Array that owns its memory: F32 bytes are copied into it, BF16/F16 widened piece by
 * piece (an element split across two pieces is joined), so the raw tensor is never held twice.
 */
function piecesToFloat32(t: TensorInfo, pieces: readonly Uint8Array[], count: number): Float32Array {
  const out = new Float32Array(count);
  if (t.dtype === 'F32') {
    concatInto(pieces, new Uint8Array(out.buffer));
    return out;
  }
  const dtype = t.dtype as 'BF16' | 'F16';
  let at = 0;
  let carry: number | null = null;
  for (const p of pieces) {
    let start = 0;
    if (carry !== null && p.byteLength > 0) {
      widenInto(dtype, new Uint8Array([carry, p[0]!]), out, at++);
      carry = null;
      start = 1;
    }
    const whole = (p.byteLength - start) & ~1;
    widenInto(dtype, p.subarray(start, start + whole), out, at);
    at += whole >> 1;
    if (start + whole < p.byteLength) carry = p[p.byteLength - 1]!;
  }
  return out;
}

function concatInto(pieces: readonly Uint8Array[], into: Uint8Array): Uint8Array {
  let at = 0;
  for (const p of pieces) {
    into.set(p, at);
    at += p.byteLength;
  }
  return into;
}

export interface StreamedSafetensors {
  header: SafetensorsHeader;
  /** The tensors `wanted` accepted, as float32 arrays that own their memory. */
  tensors: Map<string, Float32Array>;
}

/**
 * Reads a safetensors file from a chunk stream of `fileSize` bytes: validates the header (every rule of
 * parseSafetensorsHeader) from the first bytes, then converts each wanted tensor as soon as its bytes have arrived and
 * skips the others. Resolves only after the stream has ended, so a source that verifies at its end (streamFile) has
 * passed its size and sha256 checks.
 */
export async function readSafetensorsStream(
  chunks: AsyncIterable<Uint8Array>, fileSize: number, file: string, wanted: (t: TensorInfo) => boolean,
): Promise<StreamedSafetensors> {
  const iterator = chunks[Symbol.asyncIterator]();
  const reader = new ByteReader(iterator);
  const truncated = (): SafetensorsError => new SafetensorsError('too-short', `the stream ended after ${reader.position} of ${fileSize} bytes. HINT: the download was cut short; retry.`, file);
  try {
    if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
      throw new SafetensorsError('too-short', `the listed size ${fileSize} is not a byte count. HINT: the revision listing is corrupt; retry.`, file);
    }
    const first = fileSize < 8 ? null : await reader.take(8, true);
    if (!first) throw truncated();
    const first8 = concat(first, 8);
    // The header length is checked against the limit and the listed size, and its bytes are gathered as they arrive:
    // a length that lies allocates nothing beyond the bytes the server really sends.
    const headerBytes = readHeaderLength(first8, fileSize, file);
    const rest = await reader.take(headerBytes, true);
    if (!rest) throw truncated();
    const header = parseSafetensorsHeader(concat([first8, ...rest], 8 + headerBytes), fileSize, file);
    const tensors = new Map<string, Float32Array>();
    // The header check guarantees the tensors tile the data buffer exactly, so reading them by offset walks it.
    for (const t of [...header.tensors].sort((a, b) => a.begin - b.begin)) {
      const keep = wanted(t);
      // Checked before any byte of it is read: the dtype converts and the float32 array fits the cap.
      const count = keep ? float32Length(t.dtype, t.end - t.begin, t.name, file) : 0;
      const pieces = await reader.take(t.end - t.begin, keep);
      if (!pieces) throw truncated();
      // A fresh array per tensor, allocated once its bytes are all in: it owns its memory and is aligned.
      if (keep) tensors.set(t.name, piecesToFloat32(t, pieces, count));
    }
    if (!(await reader.atEnd())) {
      throw new SafetensorsError('trailing-bytes', `the stream has bytes after the ${fileSize} its header and tensors account for. HINT: the file is corrupt; re-download it.`, file);
    }
    return { header, tensors };
  } finally {
    // Stops the download when the reader gave up early (a malformed header, a truncated stream).
    await iterator.return?.();
  }
}
