// Hostile safetensors input (issue 15): sizes that lie are checked against the bytes really there before anything
// is allocated, deep JSON never reaches JSON.stringify, keys from the file are own keys only, and a sharded index
// that is malformed or names a shard the repo lacks fails cleanly without leaving a request nobody watches.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFile, resolveRevision, type ResolvedRevision } from '../../src/hub/client.ts';
import { hubConfig, type HubConfig } from '../../src/hub/endpoint.ts';
import { HubError } from '../../src/hub/errors.ts';
import {
  float32Length, MAX_TENSOR_ELEMENTS, parseSafetensors, SafetensorsError, toFloat32, writeSafetensors,
} from '../../src/hub/safetensors.ts';
import { openRemoteCheckpoint, parseShardIndex, SAFETENSORS_INDEX } from '../../src/hub/safetensors-remote.ts';
import { readSafetensorsStream } from '../../src/hub/stream.ts';

const enc = new TextEncoder();
const SHA = 'a'.repeat(40);

/** A safetensors file from a header object and a data buffer, with the header length written as given. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), declaredHeaderLength?: bigint): Uint8Array {
  const json = typeof header === 'string' ? enc.encode(header) : enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredHeaderLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Yields `chunks`, recording the process's ArrayBuffer bytes each time the reader asks for more. */
function watchedStream(chunks: Uint8Array[], samples: number[]): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (const c of chunks) {
      samples.push(process.memoryUsage().arrayBuffers);
      yield c;
    }
    samples.push(process.memoryUsage().arrayBuffers);
  })();
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('sizes that lie, read from a stream', () => {
  it('a header declaring a 1 GiB tensor allocates nothing for it before the bytes arrive', async () => {
    const elements = GiB / 4;
    const file = rawFile({ w: { dtype: 'F32', shape: [elements], data_offsets: [0, GiB] } });
    const samples: number[] = [];
    const before = process.memoryUsage().arrayBuffers;
    // The listing claims the full size; the server sends the header and 64 KiB of data, then stops.
    const read = readSafetensorsStream(watchedStream([file, new Uint8Array(64 * 1024)], samples), file.byteLength + GiB, 'model.safetensors', () => true);
    await expect(read).rejects.toThrow(SafetensorsError);
    await expect(readSafetensorsStream(watchedStream([file], []), file.byteLength + GiB, 'model.safetensors', () => true)).rejects.toThrow(/stream ended after/);
    // While the reader waited for the tensor's bytes it held no gigabyte buffer (the old reader allocated it first).
    expect(Math.max(...samples) - before).toBeLessThan(64 * MiB);
  });

  it('a header length of 90 MB is not allocated ahead of its bytes either', async () => {
    const first8 = new Uint8Array(8);
    new DataView(first8.buffer).setBigUint64(0, 90_000_000n, true);
    const samples: number[] = [];
    const before = process.memoryUsage().arrayBuffers;
    const read = readSafetensorsStream(watchedStream([first8, enc.encode('{"a":')], samples), 200_000_000, 'model.safetensors', () => true);
    await expect(read).rejects.toThrow(/stream ended after 13 of 200000000 bytes/);
    expect(Math.max(...samples) - before).toBeLessThan(32 * MiB);
  });

  it('4e12 declared bytes give a clean SafetensorsError, not "Invalid typed array length"', async () => {
    const bytes = 4e12;
    const file = rawFile({ w: { dtype: 'F32', shape: [bytes / 4], data_offsets: [0, bytes] } });
    const read = readSafetensorsStream(watchedStream([file], []), file.byteLength + bytes, 'model.safetensors', () => true);
    await expect(read).rejects.toMatchObject({ name: 'SafetensorsError', code: 'tensor-too-large' });
    await expect(readSafetensorsStream(watchedStream([file], []), file.byteLength + bytes, 'model.safetensors', () => true))
      .rejects.toThrow(/model\.safetensors: w has 1000000000000 values; TabTune converts at most 1073741824/);
  });

  it('a skipped tensor may be large: only the wanted ones are converted', async () => {
    const data = new Uint8Array(16 + 6);
    new Float32Array(data.buffer, 0, 4).set([1, 2, 3, 4]);
    const file = rawFile({
      a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [16, 22] },
    }, data);
    // Chunks of 3 bytes split BF16 values across chunk boundaries.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < file.byteLength; i += 3) chunks.push(file.slice(i, i + 3));
    const got = await readSafetensorsStream(watchedStream(chunks, []), file.byteLength, 'x.safetensors', () => true);
    expect([...got.tensors.get('a')!]).toEqual([1, 2, 3, 4]);
    expect([...got.tensors.get('b')!]).toEqual([0, 0, 0]);
  });

  it('BF16 values split across chunks widen exactly as the whole-file path does', async () => {
    const values = new Float32Array([1.5, -2.25, 3.0e-3, 65504, -0.0078125]);
    const file = writeSafetensors([{ name: 'x', dtype: 'BF16', shape: [5], data: new Uint16Array(Array.from(values, (v) => new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16)) }]);
    const whole = parseSafetensors(file);
    const expected = toFloat32('BF16', file.subarray(whole.dataStart), 'x');
    for (const size of [1, 2, 3, 5, 7]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < file.byteLength; i += size) chunks.push(file.slice(i, i + size));
      const got = await readSafetensorsStream(watchedStream(chunks, []), file.byteLength, 'x.safetensors', () => true);
      expect([...got.tensors.get('x')!]).toEqual([...expected]);
    }
  });
});

describe('hostile headers parsed in memory', () => {
  it('a shape nested 200,000 deep is refused with a short message, not a stack overflow', () => {
    const header = `{"w":{"dtype":"F32","shape":${deepArray(200_000)},"data_offsets":[0,0]}}`;
    const file = rawFile(header);
    expect(() => parseSafetensors(file, 'model.safetensors')).toThrow(SafetensorsError);
    try {
      parseSafetensors(file, 'model.safetensors');
    } catch (e) {
      expect((e as Error).message).toMatch(/^model\.safetensors: tensor w: shape must be an array of at most 64 non-negative integers, got \[\[\[\[…\]\]\]\]$/);
    }
  });

  it('dtypes and fields are own keys: "constructor" is not a dtype, an inherited data_offsets is not read', () => {
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'constructor', shape: [], data_offsets: [0, 0] } }))).toThrow(/unknown dtype "constructor"; expected one of F64/);
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'toString', shape: [], data_offsets: [0, 0] } }))).toThrow(/unknown dtype "toString"/);
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [], __proto__: { data_offsets: [0, 4] } } }, new Uint8Array(4)))).toThrow(/data_offsets must be \[begin, end\]/);
  });

  it('a "__proto__" metadata key stays a key instead of replacing the prototype', () => {
    const header = rawFile('{"__metadata__":{"__proto__":"x","format":"pt"}}');
    const parsed = parseSafetensors(header);
    expect(Object.hasOwn(parsed.metadata, '__proto__')).toBe(true);
    expect(parsed.metadata['__proto__' as keyof typeof parsed.metadata]).toBe('x');
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
  });

  it('a megabyte tensor name is cut in messages', () => {
    const name = 'n'.repeat(1_000_000);
    try {
      parseSafetensors(rawFile({ [name]: { dtype: 'NOPE', shape: [], data_offsets: [0, 0] } }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      expect((e as Error).message.length).toBeLessThan(400);
    }
  });

  it('float32 conversion refuses a tensor past the cap and a byte count that is not whole values', () => {
    expect(() => float32Length('BF16', 2 * (MAX_TENSOR_ELEMENTS + 1), 'emb')).toThrow(/emb has 1073741825 values; TabTune converts at most 1073741824/);
    expect(() => float32Length('F32', 6, 'odd')).toThrow(/6 bytes is not a whole number of F32 values/);
    expect(() => toFloat32('I64', new Uint8Array(8), 'ids')).toThrow(/dtype I64 cannot be converted to float32/);
  });
});

describe('parseShardIndex', () => {
  const where = 'org/m@sha/model.safetensors.index.json';
  const bad = (text: string, message: RegExp) => {
    expect(() => parseShardIndex(enc.encode(text), where)).toThrow(SafetensorsError);
    expect(() => parseShardIndex(enc.encode(text), where)).toThrow(message);
  };

  it('refuses what is not an index, naming the field and the fix', () => {
    bad('not json', /index\.json: not valid UTF-8 JSON .*HINT: the index is corrupt; re-download the checkpoint/);
    bad('null', /the file holds null, not a JSON object/);
    bad('{"weight_map":null}', /"weight_map" is null; it must be an object of tensor name → shard file/);
    bad('{"weight_map":[]}', /"weight_map" is \[\]/);
    bad('{"weight_map":{}}', /"weight_map" is empty/);
    bad('{"weight_map":{"a":{"x":1}}}', /weight_map\["a"\] is \{"x":1\}; it must name a \.safetensors file inside the checkpoint/);
    bad('{"weight_map":{"a":7}}', /weight_map\["a"\] is 7/);
    bad('{"weight_map":{"a":"../../etc/passwd.safetensors"}}', /weight_map\["a"\] is "\.\.\/\.\.\/etc\/passwd\.safetensors"/);
    bad('{"weight_map":{"a":"/abs.safetensors"}}', /must name a \.safetensors file/);
    bad('{"weight_map":{"a":"model.bin"}}', /must name a \.safetensors file/);
    bad(`{"weight_map":{"a":${deepArray(100_000)}}}`, /weight_map\["a"\] is \[\[\[\[…\]\]\]\]/);
    // An inherited weight_map is not a weight_map.
    bad('{"__proto__":{"weight_map":{"a":"x.safetensors"}}}', /"weight_map" is nothing/);
  });

  it('reads tensor names into a Map, "constructor" and "__proto__" included, and the shards in order', () => {
    const index = parseShardIndex(enc.encode('{"weight_map":{"constructor":"b.safetensors","__proto__":"a.safetensors","w":"b.safetensors"}}'), where);
    expect([...index.weightMap]).toEqual([['constructor', 'b.safetensors'], ['__proto__', 'a.safetensors'], ['w', 'b.safetensors']]);
    expect(index.shards).toEqual(['a.safetensors', 'b.safetensors']);
  });
});

/** A tiny resolve endpoint over in-memory files with Range support, counting requests. */
let server: Server;
let cfg: HubConfig;
const served = new Map<string, { body: Uint8Array; status?: number; contentLength?: string }>();
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = served.get(path);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    if (file.status) {
      res.writeHead(file.status).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      const part = file.body.subarray(Number(range[1]), Number(range[2]) + 1);
      res.writeHead(206, { 'Content-Length': String(part.byteLength) }).end(part);
      return;
    }
    res.writeHead(200, { 'Content-Length': file.contentLength ?? String(file.body.byteLength) });
    if (file.contentLength) {
      // Sends fewer bytes than announced, then hangs up.
      res.write(file.body);
      res.destroy();
      return;
    }
    res.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cfg = hubConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('remote readers against a server that lies', () => {
  it('a Content-Length of 4e12 is not preallocated: the short body fails as a HubError', async () => {
    served.set('/org/lie/resolve/main/big.bin', { body: new Uint8Array(10), contentLength: '4000000000000' });
    const read = fetchFile(cfg, 'org/lie', 'main', 'big.bin', { cache: null });
    await expect(read).rejects.toThrow(HubError);
  });

  it('a body longer than the listing is refused as soon as it passes the listed size', async () => {
    served.set('/org/lie/resolve/main/small.bin', { body: new Uint8Array(10) });
    const read = fetchFile(cfg, 'org/lie', 'main', 'small.bin', { cache: null, expected: { size: 5 } });
    await expect(read).rejects.toMatchObject({ name: 'HubError', kind: 'integrity' });
    await expect(fetchFile(cfg, 'org/lie', 'main', 'small.bin', { cache: null, expected: { size: 5 } })).rejects.toThrow(/received more than the 5 bytes the revision lists/);
  });

  it('a listing whose size is not a byte count is refused', async () => {
    for (const size of [-1, 1.5, 1e300]) {
      served.set('/api/models/org/sizes/revision/main', { body: enc.encode(JSON.stringify({ sha: SHA, siblings: [{ rfilename: 'model.safetensors', size }] })) });
      await expect(resolveRevision(cfg, 'org/sizes', 'main')).rejects.toThrow(/gives model\.safetensors a size of .*, which is not a byte count/);
    }
  });

  it('a sharded index naming a shard the repo lacks fails before any shard is fetched, with nothing left unhandled', async () => {
    const shardA = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const index = enc.encode(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }));
    // Shard 1 is listed but its download fails; shard 2 is not in the listing at all.
    served.set(`/org/shards/resolve/${SHA}/${SAFETENSORS_INDEX}`, { body: index });
    served.set(`/org/shards/resolve/${SHA}/model-00001-of-00002.safetensors`, { body: shardA, status: 500 });
    const resolved: ResolvedRevision = {
      repo: 'org/shards', repoType: 'model', revision: 'main', sha: SHA,
      files: [{ path: SAFETENSORS_INDEX, size: index.byteLength }, { path: 'model-00001-of-00002.safetensors', size: shardA.byteLength }],
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      requests.length = 0;
      await expect(openRemoteCheckpoint(cfg, resolved, { cache: null })).rejects.toMatchObject({ name: 'SafetensorsError', code: 'missing-shard' });
      await expect(openRemoteCheckpoint(cfg, resolved, { cache: null })).rejects.toThrow(/lists shard\(s\) model-00002-of-00002\.safetensors that org\/shards@a+ does not have\. HINT/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(requests.filter((r) => r.includes('model-0000'))).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a malformed index over the Hub is a SafetensorsError naming the repo and the file', async () => {
    for (const body of ['null', '{"weight_map":{"a":{"b":1}}}', 'oops']) {
      const bytes = enc.encode(body);
      served.set(`/org/badidx/resolve/${SHA}/${SAFETENSORS_INDEX}`, { body: bytes });
      const resolved: ResolvedRevision = { repo: 'org/badidx', repoType: 'model', revision: 'main', sha: SHA, files: [{ path: SAFETENSORS_INDEX, size: bytes.byteLength }] };
      await expect(openRemoteCheckpoint(cfg, resolved, { cache: null })).rejects.toThrow(/^org\/badidx@a+\/model\.safetensors\.index\.json: .*HINT/);
    }
  });
});
