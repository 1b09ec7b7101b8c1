// Safetensors reader/writer: layout of written files, dtype conversion, and one test per rejection rule of
// docs/architecture.md.
import { describe, expect, it } from 'vitest';
import {
  float32ToBf16, parseSafetensors, SafetensorsError, tensorToFloat32, toFloat32, writeSafetensors,
  type SafetensorsErrorCode,
} from '../../src/hub/safetensors.ts';

/** A file from a raw header string and data bytes, with no padding or validation (to build malformed files). */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

function f32(name: string, offsets: [number, number], shape: number[]): string {
  return `"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offsets)}}`;
}

function rejects(bytes: Uint8Array, code: SafetensorsErrorCode): SafetensorsError {
  try {
    parseSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe(code);
    expect((e as SafetensorsError).message).toContain('bad.safetensors');
    return e as SafetensorsError;
  }
  throw new Error(`expected a ${code} rejection`);
}

describe('writeSafetensors', () => {
  it('orders tensors by dtype size then name, pads the header with spaces and writes format=pt first', () => {
    const file = writeSafetensors([
      { name: 'b.small', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      { name: 'z.f32', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
      { name: 'a.f32', dtype: 'F32', shape: [1, 1], data: new Float32Array([7]) },
      { name: 'h.bf16', dtype: 'BF16', shape: [2], data: float32ToBf16(new Float32Array([1, -0.5])) },
      { name: 'h.f16', dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      { name: 'i.i64', dtype: 'I64', shape: [1], data: new BigInt64Array([5n]) },
    ]);
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const headerText = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(headerText.startsWith('{"__metadata__":{"format":"pt"}')).toBe(true);
    expect(headerText.trimEnd().endsWith('}')).toBe(true);
    expect(/ *$/.exec(headerText)?.[0].length).toBe(n - headerText.trimEnd().length);

    const header = parseSafetensors(file);
    expect(header.tensors.map((t) => t.name)).toEqual(['i.i64', 'a.f32', 'z.f32', 'h.bf16', 'h.f16', 'b.small']);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect([...tensorToFloat32(header, file, 'z.f32')]).toEqual([1.5, -2]);
    expect([...tensorToFloat32(header, file, 'h.bf16')]).toEqual([1, -0.5]);
    expect([...tensorToFloat32(header, file, 'h.f16')]).toEqual([1]);
    expect(() => tensorToFloat32(header, file, 'b.small')).toThrow(/U8 cannot be converted/);
    expect(() => tensorToFloat32(header, file, 'nope')).toThrow(/no tensor named nope/);
  });

  it('refuses duplicate names and data that does not match the shape', () => {
    const t = { name: 'x', dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
    expect(() => writeSafetensors([t, t])).toThrow(/two tensors named x/);
    expect(() => writeSafetensors([{ ...t, shape: [3] }])).toThrow(/needs 12/);
  });

  it('keeps user metadata and an empty file is valid', () => {
    const header = parseSafetensors(writeSafetensors([], { note: 'hi' }));
    expect(header.tensors).toEqual([]);
    expect(header.metadata).toEqual({ note: 'hi', format: 'pt' });
  });
});

describe('dtype conversion', () => {
  it('widens BF16 by shifting into the high half', () => {
    const bytes = new Uint8Array(new Uint16Array([0x3f80, 0xc000, 0x7f80, 0x0001]).buffer);
    const out = toFloat32('BF16', bytes);
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-2);
    expect(out[2]).toBe(Infinity);
    expect(out[3]).toBe(new Float32Array(new Uint32Array([0x00010000]).buffer)[0]);
  });

  it('decodes F16 normals, subnormals, infinities and NaN', () => {
    const bytes = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x3555]).buffer);
    const out = [...toFloat32('F16', bytes)];
    expect(out.slice(0, 6)).toEqual([1, -2, 65504, 2 ** -24, Infinity, -Infinity]);
    expect(out[6]).toBeNaN();
    expect(out[7]).toBeCloseTo(1 / 3, 3);
  });

  it('rounds F32 to BF16 to nearest, ties to even', () => {
    const values = new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -7 + 2 ** -9, -0, NaN]);
    const bits = [...float32ToBf16(values)];
    expect(bits[0]).toBe(0x3f80); // halfway, even neighbour is 1.0
    expect(bits[1]).toBe(0x3f82); // halfway, rounds up to the even mantissa
    expect(bits[2]).toBe(0x3f81); // below halfway
    expect(bits[3]).toBe(0x8000);
    expect(Number.isNaN(toFloat32('BF16', new Uint8Array(new Uint16Array([bits[4] ?? 0]).buffer))[0])).toBe(true);
  });

  it('views aligned F32 data and copies unaligned data', () => {
    const aligned = new Uint8Array(new Float32Array([3, 4]).buffer);
    const view = toFloat32('F32', aligned);
    expect(view.buffer).toBe(aligned.buffer);

    // A U8 tensor of 1 byte first puts the F32 tensor at an odd file offset; both are legal.
    const data = new Uint8Array(9);
    data[0] = 42;
    new DataView(data.buffer).setFloat32(1, 3.25, true);
    new DataView(data.buffer).setFloat32(5, -1, true);
    const file = rawFile(`{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},${f32('w', [1, 9], [2])}}`, data);
    const header = parseSafetensors(file);
    const w = tensorToFloat32(header, file, 'w');
    expect([...w]).toEqual([3.25, -1]);
    expect(w.buffer).not.toBe(file.buffer);
  });
});

describe('parseSafetensors rejects', () => {
  const ok = (header: string, bytes: number) => rawFile(header, new Uint8Array(bytes));

  it('a file shorter than the length prefix', () => {
    rejects(new Uint8Array(5), 'too-short');
  });

  it('a header length over 100,000,000, including lengths past 2^53', () => {
    rejects(rawFile('{}', new Uint8Array(0), 100_000_001n), 'header-too-large');
    const e = rejects(rawFile('{}', new Uint8Array(0), 2n ** 63n + 5n), 'header-too-large');
    expect(e.message).toContain('9223372036854775813');
  });

  it('a header length past the end of the file', () => {
    rejects(rawFile('{}', new Uint8Array(0), 64n), 'header-beyond-file');
  });

  it('a header that is not UTF-8', () => {
    const file = rawFile('{"a":1}');
    file[10] = 0xff;
    rejects(file, 'header-not-utf8');
  });

  it('a header that does not start with "{"', () => {
    rejects(rawFile(' {}'), 'header-not-object');
    rejects(rawFile('[]'), 'header-not-object');
  });

  it('a header that is not JSON', () => {
    rejects(rawFile('{"a":'), 'header-not-json');
  });

  it('duplicate keys, which JSON.parse would silently merge', () => {
    rejects(ok(`{${f32('w', [0, 4], [1])},${f32('w', [4, 8], [1])}}`, 8), 'duplicate-key');
    // The same name nested inside an entry or escaped differently is not a duplicate of a different key.
    const header = parseSafetensors(ok(`{"__metadata__":{"w":"x"},${f32('w', [0, 4], [1])},${f32('w\\u0031', [4, 8], [1])}}`, 8));
    expect(header.tensors.map((t) => t.name)).toEqual(['w', 'w1']);
    rejects(ok(`{${f32('w1', [0, 4], [1])},${f32('w\\u0031', [4, 8], [1])}}`, 8), 'duplicate-key');
  });

  it('entries that are not objects, unknown dtypes, bad shapes and bad offsets', () => {
    rejects(ok('{"w":[1,2]}', 0), 'bad-entry');
    rejects(ok('{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', 4), 'bad-dtype');
    rejects(ok('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4), 'bad-shape');
    rejects(ok('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', 4), 'bad-shape');
    rejects(ok('{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', 4), 'bad-offsets');
    rejects(ok('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', 4), 'bad-offsets');
  });

  it('byte ranges that differ from shape × dtype size', () => {
    rejects(ok(`{${f32('w', [0, 8], [3])}}`, 8), 'size-mismatch');
  });

  it('gaps, overlaps and trailing bytes', () => {
    rejects(ok(`{${f32('a', [0, 4], [1])},${f32('b', [8, 12], [1])}}`, 12), 'gap');
    rejects(ok(`{${f32('a', [4, 8], [1])}}`, 8), 'gap');
    rejects(ok(`{${f32('a', [0, 8], [2])},${f32('b', [4, 12], [2])}}`, 12), 'overlap');
    rejects(ok(`{${f32('a', [0, 4], [1])}}`, 5), 'trailing-bytes');
    rejects(ok(`{${f32('a', [0, 8], [2])}}`, 4), 'header-beyond-file');
  });

  it('non-string metadata', () => {
    rejects(ok('{"__metadata__":{"format":"pt","step":3}}', 0), 'bad-metadata');
    rejects(ok('{"__metadata__":"pt"}', 0), 'bad-metadata');
  });

  it('accepts zero-sized tensors in place', () => {
    const header = parseSafetensors(ok(`{${f32('empty', [0, 0], [0, 4])},${f32('a', [0, 4], [1])}}`, 4));
    expect(header.byName.get('empty')?.shape).toEqual([0, 4]);
  });
});
