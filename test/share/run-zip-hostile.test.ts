// Hostile zips (issue 15): sizes are read from the zip's directory and checked before inflating, a file inflates no
// further than its declared size (a bomb declared small stops at once), duplicate names, "__proto__" names, ZIP64,
// encryption and CRC damage are refused with RunZipError.
import { Deflate, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/hub/safetensors.ts';
import { DEFAULT_ZIP_LIMITS, readRunZip, RunZipError } from '../../src/share/run-zip.ts';

const enc = new TextEncoder();
const PREFIX = 'base_model.model.model.layers.0.self_attn.q_proj';

function adapterFiles(): Record<string, Uint8Array> {
  return {
    'adapter_config.json': enc.encode(JSON.stringify({ peft_type: 'LORA', r: 1, lora_alpha: 2, target_modules: ['q_proj'] })),
    'adapter_model.safetensors': writeSafetensors([
      { name: `${PREFIX}.lora_A.weight`, dtype: 'F32', shape: [1, 2], data: new Float32Array(2) },
      { name: `${PREFIX}.lora_B.weight`, dtype: 'F32', shape: [2, 1], data: new Float32Array(2) },
    ]),
  };
}

const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const setU32 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(o, v, true);
const setU16 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint16(o, v, true);

/** Offsets of every central-directory entry of a zip, with its name. */
function central(zip: Uint8Array): { at: number; name: string }[] {
  let eocd = zip.length - 22;
  while (u32(zip, eocd) !== 0x06054b50) eocd--;
  const count = new DataView(zip.buffer, zip.byteOffset).getUint16(eocd + 10, true);
  const out: { at: number; name: string }[] = [];
  let o = u32(zip, eocd + 16);
  for (let i = 0; i < count; i++) {
    const dv = new DataView(zip.buffer, zip.byteOffset);
    const n = dv.getUint16(o + 28, true);
    out.push({ at: o, name: new TextDecoder().decode(zip.subarray(o + 46, o + 46 + n)) });
    o += 46 + n + dv.getUint16(o + 30, true) + dv.getUint16(o + 32, true);
  }
  return out;
}

function rejects(zip: Uint8Array, message: RegExp): void {
  expect(() => readRunZip(zip)).toThrow(RunZipError);
  expect(() => readRunZip(zip)).toThrow(message);
}

/** Raw DEFLATE of `bytes` zero bytes, made in 1 MiB pushes so the test never holds the expanded data. */
function zerosDeflated(bytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const d = new Deflate({ level: 9 }, (chunk) => parts.push(chunk));
  const block = new Uint8Array(1024 * 1024);
  for (let left = bytes; left > 0; left -= block.length) d.push(left > block.length ? block : block.subarray(0, left), left <= block.length);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A zip whose `bomb.bin` holds `data` (raw DEFLATE) and declares `declared` bytes uncompressed, next to an adapter. */
function zipWithDeflated(data: Uint8Array, declared: number): Uint8Array {
  const base = zipSync(adapterFiles(), { level: 0 });
  const name = enc.encode('bomb.bin');
  const local = new Uint8Array(30 + name.length);
  setU32(local, 0, 0x04034b50); setU16(local, 4, 20); setU16(local, 8, 8);
  setU32(local, 18, data.length); setU32(local, 22, declared); setU16(local, 26, name.length);
  local.set(name, 30);
  let eocd = base.length - 22;
  while (u32(base, eocd) !== 0x06054b50) eocd--;
  const cdOffset = u32(base, eocd + 16);
  const cdOld = base.subarray(cdOffset, eocd);
  const entry = new Uint8Array(46 + name.length);
  setU32(entry, 0, 0x02014b50); setU16(entry, 4, 20); setU16(entry, 6, 20); setU16(entry, 10, 8);
  setU32(entry, 20, data.length); setU32(entry, 24, declared); setU16(entry, 28, name.length); setU32(entry, 42, cdOffset);
  entry.set(name, 46);
  const newCd = cdOffset + local.length + data.length;
  const end = base.slice(eocd);
  new DataView(end.buffer).setUint16(8, 3, true);
  new DataView(end.buffer).setUint16(10, 3, true);
  setU32(end, 12, cdOld.length + entry.length);
  setU32(end, 16, newCd);
  const out = new Uint8Array(newCd + cdOld.length + entry.length + end.length);
  out.set(base.subarray(0, cdOffset));
  out.set(local, cdOffset);
  out.set(data, cdOffset + local.length);
  out.set(cdOld, newCd);
  out.set(entry, newCd + cdOld.length);
  out.set(end, newCd + cdOld.length + entry.length);
  return out;
}

describe('sizes in a zip', () => {
  it('a 16 MiB bomb declared as 100 bytes stops as soon as it passes 100 (fflate\'s unzipSync returned its first 100 bytes)', () => {
    const zip = zipWithDeflated(zerosDeflated(16 * 1024 * 1024), 100);
    const before = process.memoryUsage().arrayBuffers;
    rejects(zip, /"bomb\.bin" in the zip is damaged \(it inflates past its declared 100 bytes\)\. Export the run again\./);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a declared size no deflate stream can reach is refused before inflating', () => {
    rejects(zipWithDeflated(zerosDeflated(1000), 500 * 1024 * 1024), /"bomb\.bin" declares 524288000 bytes from \d+ compressed, which no zip can hold/);
  });

  it('a declared size above the per-file limit is refused from the directory', () => {
    const limits = { ...DEFAULT_ZIP_LIMITS, maxFileBytes: 1000 };
    expect(() => readRunZip(zipWithDeflated(zerosDeflated(5000), 5000), limits)).toThrow(/"bomb\.bin" would expand to 5000 bytes; the limit per file is 1000/);
  });

  it('a file that inflates to less than it declares is damaged', () => {
    rejects(zipWithDeflated(zerosDeflated(50), 100), /inflates to 50 bytes, not the declared 100/);
  });
});

describe('names and integrity', () => {
  it('duplicate entry names are refused', () => {
    const zip = zipSync({ ...adapterFiles(), 'a.txt': enc.encode('one'), 'b.txt': enc.encode('two') });
    for (const { at, name } of central(zip)) {
      if (name === 'b.txt') zip[at + 46] = 'a'.charCodeAt(0);
    }
    rejects(zip, /The zip lists "a\.txt" twice; a zip TabTune made never does, so it was altered\./);
  });

  it('"__proto__" and "constructor" are plain names', () => {
    // fflate's writer cannot take these names, so placeholders of the same length are renamed in place.
    const zip = zipSync({ ...adapterFiles(), aaaaaaaaa: enc.encode('x'), bbbbbbbbbbb: enc.encode('y') });
    const rename = (from: string, to: string) => {
      const f = enc.encode(from);
      for (let i = 0; i + f.length <= zip.length; i++) {
        if (f.every((b, j) => zip[i + j] === b)) zip.set(enc.encode(to), i);
      }
    };
    rename('aaaaaaaaa', '__proto__');
    rename('bbbbbbbbbbb', 'constructor');
    const got = readRunZip(zip);
    expect(got.kind).toBe('adapter');
    expect(got.ignored).toEqual(['__proto__', 'constructor']);
  });

  it('a CRC mismatch, encryption and ZIP64 markers are refused', () => {
    const crc = zipSync(adapterFiles());
    const first = central(crc)[0]!;
    setU32(crc, first.at + 16, u32(crc, first.at + 16) ^ 1);
    rejects(crc, /its CRC-32 does not match/);
    const enc1 = zipSync(adapterFiles());
    setU16(enc1, central(enc1)[0]!.at + 8, 1);
    rejects(enc1, /is encrypted; TabTune imports unencrypted zips only/);
    const z64 = zipSync(adapterFiles());
    let eocd = z64.length - 22;
    while (u32(z64, eocd) !== 0x06054b50) eocd--;
    setU32(z64, eocd + 16, 0xffffffff);
    rejects(z64, /ZIP64/);
  });

  it('a directory pointing outside the file is refused', () => {
    const zip = zipSync(adapterFiles());
    setU32(zip, central(zip)[0]!.at + 42, zip.length + 100);
    rejects(zip, /is damaged \(no local header where the directory points\)/);
    const truncated = zipSync(adapterFiles()).subarray(0, 40);
    rejects(truncated, /not a readable zip \(no end-of-directory record\)/);
  });
});
