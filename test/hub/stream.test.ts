// Streaming checkpoint loads: the incremental SHA-256 against node:crypto, the safetensors stream reader against the
// whole-file reader (with chunk boundaries inside tensors and inside the header), and streamFile's size / sha256
// checks and caching against a small HTTP server that can cut a download short or serve corrupt bytes.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryFileCache } from '../../src/hub/cache.ts';
import { hubConfig, type HubConfig } from '../../src/hub/endpoint.ts';
import { HubError } from '../../src/hub/errors.ts';
import { float32ToBf16, parseSafetensors, SafetensorsError, tensorToFloat32, writeSafetensors } from '../../src/hub/safetensors.ts';
import { Sha256 } from '../../src/hub/sha256.ts';
import { readSafetensorsStream, streamFile } from '../../src/hub/stream.ts';

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, Math.min(bytes.byteLength, i + size));
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('Sha256', () => {
  it('equals node:crypto at every padding edge and any split of the input', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_003]) {
      const data = bytesOf(n, n + 7);
      expect(new Sha256().update(data).hex()).toBe(sha(data));
      const split = new Sha256();
      for (let i = 0; i < n; i += 37) split.update(data.subarray(i, Math.min(n, i + 37)));
      expect(split.hex()).toBe(sha(data));
    }
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses to be used after its digest', () => {
    const h = new Sha256();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});

/** A file with every convertible dtype, odd sizes (so BF16/F16 tensors end off a 4-byte boundary) and a skipped one. */
function checkpoint(): Uint8Array {
  const f32 = new Float32Array([1.5, -2, 3.25, 1e-3, 7]);
  const bf = float32ToBf16(new Float32Array(Array.from({ length: 333 }, (_, i) => Math.sin(i) * 10)));
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555]);
  return writeSafetensors([
    { name: 'a.f32', dtype: 'F32', shape: [5], data: f32 },
    { name: 'b.bf16', dtype: 'BF16', shape: [9, 37], data: bf },
    { name: 'c.f16', dtype: 'F16', shape: [3], data: f16 },
    { name: 'd.skipped', dtype: 'BF16', shape: [7], data: new Uint16Array(7) },
    { name: 'e.bf16', dtype: 'BF16', shape: [1], data: new Uint16Array([0x4049]) },
  ]);
}

describe('readSafetensorsStream', () => {
  const file = checkpoint();
  const header = parseSafetensors(file, 'x.safetensors');

  it('converts each tensor exactly as the whole-file reader does, for any chunk size', async () => {
    // Chunks of 1 and 3 bytes split the 8-byte length, the header and every tensor; 4096 holds the whole file.
    for (const size of [1, 3, 8, 13, 64, 4096]) {
      const got = await readSafetensorsStream(chunksOf(file, size), file.byteLength, 'x.safetensors', (t) => t.name !== 'd.skipped');
      expect([...got.tensors.keys()].sort()).toEqual(['a.f32', 'b.bf16', 'c.f16', 'e.bf16']);
      for (const [name, values] of got.tensors) {
        expect(Array.from(values)).toEqual(Array.from(tensorToFloat32(header, file, name)));
        // Each array owns a buffer of its own, never a view into a chunk.
        expect(values.buffer).not.toBe(file.buffer);
        expect(values.byteLength).toBe(values.buffer.byteLength);
      }
      expect(got.header.tensors.map((t) => t.name)).toEqual(header.tensors.map((t) => t.name));
    }
  });

  it('rejects a stream that ends early, inside the header or inside a tensor, and one with bytes to spare', async () => {
    for (const cut of [5, 20, header.dataStart + 10, file.byteLength - 1]) {
      const e = await rejection(readSafetensorsStream(chunksOf(file.subarray(0, cut), 7), file.byteLength, 'x.safetensors', () => true));
      expect(e).toBeInstanceOf(SafetensorsError);
      expect((e as SafetensorsError).code).toBe('too-short');
      expect(e.message).toMatch(new RegExp(`after ${cut} of ${file.byteLength} bytes.*HINT`));
    }
    const longer = new Uint8Array(file.byteLength + 4);
    longer.set(file);
    const e = await rejection(readSafetensorsStream(chunksOf(longer, 7), file.byteLength, 'x.safetensors', () => true));
    expect((e as SafetensorsError).code).toBe('trailing-bytes');
  });

  it('applies the header rules of the whole-file reader (a duplicate key) and stops reading the source', async () => {
    const text = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const json = new TextEncoder().encode(text.padEnd(Math.ceil(text.length / 8) * 8, ' '));
    const bad = new Uint8Array(8 + json.byteLength + 4);
    new DataView(bad.buffer).setBigUint64(0, BigInt(json.byteLength), true);
    bad.set(json, 8);
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < bad.byteLength; i += 4) {
          pulled++;
          yield bad.subarray(i, i + 4);
        }
      } finally {
        closed = true;
      }
    }
    const e = await rejection(readSafetensorsStream(source(), bad.byteLength, 'dup.safetensors', () => true));
    expect((e as SafetensorsError).code).toBe('duplicate-key');
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(bad.byteLength / 4);
  });
});

describe('streamFile', () => {
  const body = bytesOf(300_000, 42);
  /** What the server does to the next request: serve, corrupt one byte in the middle, or hang up halfway. */
  let mode: 'ok' | 'corrupt' | 'cut' = 'ok';
  let server: Server;
  let cfg: HubConfig;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Length': String(body.byteLength), 'Content-Type': 'application/octet-stream' });
      const sent = mode === 'corrupt' ? body.slice() : body;
      if (mode === 'corrupt') sent[150_000] = (sent[150_000]! + 1) & 0xff;
      const end = mode === 'cut' ? body.byteLength / 2 : body.byteLength;
      // Odd-sized writes, so chunk boundaries fall anywhere.
      for (let i = 0; i < end; i += 9_999) res.write(sent.subarray(i, Math.min(end, i + 9_999)));
      if (mode === 'cut') res.destroy();
      else res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cfg = hubConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function drain(cache: MemoryFileCache, expected: { size: number; sha256?: string }, progress?: number[]): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    const opts = { cache, expected, ...(progress ? { onProgress: (n: number) => progress.push(n) } : {}) };
    for await (const c of streamFile(cfg, 'org/m', 'a'.repeat(40), 'model.safetensors', opts)) parts.push(c.slice());
    return Buffer.concat(parts);
  }

  it('passes the bytes through, verified, and leaves the same file in the cache', async () => {
    mode = 'ok';
    const cache = new MemoryFileCache();
    const progress: number[] = [];
    const got = await drain(cache, { size: body.byteLength, sha256: sha(body) }, progress);
    expect(Buffer.from(got).equals(Buffer.from(body))).toBe(true);
    expect(progress.at(-1)).toBe(body.byteLength);
    expect(cache.size).toBe(1);
    const url = `${cfg.endpoint}/org/m/resolve/${'a'.repeat(40)}/model.safetensors`;
    expect(Buffer.from((await cache.get(url))!).equals(Buffer.from(body))).toBe(true);
    // A second read is served from the cache, without the server.
    mode = 'cut';
    expect(Buffer.from(await drain(cache, { size: body.byteLength, sha256: sha(body) })).equals(Buffer.from(body))).toBe(true);
  });

  it('fails a file whose bytes changed mid-stream on its sha256, after the last byte, and caches nothing', async () => {
    mode = 'corrupt';
    const cache = new MemoryFileCache();
    const e = await rejection(drain(cache, { size: body.byteLength, sha256: sha(body) }));
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).kind).toBe('integrity');
    expect(e.message).toMatch(/sha256 [0-9a-f]{64} differs from the listed.*HINT/);
    expect(cache.size).toBe(0);
  });

  it('fails a download cut short, and caches nothing', async () => {
    mode = 'cut';
    const cache = new MemoryFileCache();
    const e = await rejection(drain(cache, { size: body.byteLength, sha256: sha(body) }));
    expect(e).toBeInstanceOf(HubError);
    expect(['network', 'integrity']).toContain((e as HubError).kind);
    expect(e.message).toMatch(/HINT/);
    expect(cache.size).toBe(0);
  });

  it('stops the download and caches nothing when the consumer stops early', async () => {
    mode = 'ok';
    const cache = new MemoryFileCache();
    for await (const c of streamFile(cfg, 'org/m', 'b'.repeat(40), 'model.safetensors', { cache, expected: { size: body.byteLength } })) {
      expect(c.byteLength).toBeGreaterThan(0);
      break;
    }
    expect(cache.size).toBe(0);
  });
});
