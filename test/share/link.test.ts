// Share links: round trip, determinism, inline vs by-hash uploads, and every malformed link rejected with a message.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32Hex, deflate, fromBase64Url, sha256Hex, toBase64Url, utf8 } from '../../src/share/codec.ts';
import {
  decodeShareLink, encodeShareFragment, LINK_PARAM, MAX_INLINE_CHARS, MAX_LINK_CHARS, MissingUploadError, readShareLink,
  resolveUploadData, ShareLinkError, shareUrl, uploadDataRef,
} from '../../src/share/link.ts';
import { defaultRunConfig, MAX_TEMPLATE_CHARS, parseRunConfig, type RunConfig } from '../../src/share/run-config.ts';

function config(over: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({ ...defaultRunConfig(), ...over });
}

/** Builds a fragment by hand, so tests can make links the encoder refuses to make. */
function forge(json: string, opts: { format?: string; crc?: string } = {}): string {
  const bytes = utf8.encode(json);
  return `#${LINK_PARAM}=${opts.format ?? '1'}.${opts.crc ?? crc32Hex(bytes)}.${toBase64Url(deflate(bytes))}`;
}

/** Deterministic incompressible bytes: sha256 in counter mode. */
function noiseBytes(n: number, seed = 'noise'): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 32) out.set(createHash('sha256').update(`${seed}:${i}`).digest().subarray(0, Math.min(32, n - i)), i);
  return out;
}

function rejects(link: string, code: string, message: RegExp): void {
  try {
    decodeShareLink(link);
  } catch (e) {
    expect(e).toBeInstanceOf(ShareLinkError);
    expect((e as ShareLinkError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    const soft = readShareLink(link);
    expect(soft.ok).toBe(false);
    return;
  }
  throw new Error(`expected the link to be rejected with ${code}`);
}

describe('codec', () => {
  it('base64url round-trips every length and rejects foreign characters', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = toBase64Url(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect([...fromBase64Url(text)]).toEqual([...bytes]);
    }
    expect(() => fromBase64Url('ab+c')).toThrow(/invalid character "\+"/);
    expect(() => fromBase64Url('abcde')).toThrow(/impossible length/);
  });

  it('crc32 and sha256 match known vectors', async () => {
    expect(crc32Hex(utf8.encode('123456789'))).toBe('cbf43926');
    expect(await sha256Hex(utf8.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('share link round trip', () => {
  it('restores every field, and the same config gives the same link', () => {
    const cfg = config({ seed: 7, mask: 'trl', lora: { r: 4, alpha: 8, dropout: 0.05, rslora: true, targets: ['q_proj'] } });
    const url = shareUrl('https://tabtune.example/app/?x=1#old', cfg);
    expect(url.startsWith('https://tabtune.example/app/?x=1#run=1.')).toBe(true);
    expect(decodeShareLink(url)).toEqual(cfg);
    expect(encodeShareFragment(cfg)).toBe(encodeShareFragment(parseRunConfig(JSON.parse(JSON.stringify(cfg)))));
    expect(readShareLink(url)).toEqual({ ok: true, config: cfg });
  });

  it('accepts a bare fragment and ignores other fragment parameters', () => {
    const cfg = config();
    const fragment = encodeShareFragment(cfg);
    expect(decodeShareLink(fragment)).toEqual(cfg);
    expect(decodeShareLink(`#tab=data&${fragment}`)).toEqual(cfg);
  });

  it('refuses to put credentials or tokens in a link', () => {
    expect(() => encodeShareFragment(config({ hubEndpoint: 'https://user:pw@hub.example' }))).toThrow(/user name or password/);
    const leaky = config({ template: { kind: 'custom', source: '{{ "hf_abcdefghijklmnopqrstuvwxyz012345" }}', kwargs: {} } });
    expect(() => encodeShareFragment(leaky)).toThrow(/access token/);
    rejects(forge(JSON.stringify(leaky)), 'secret', /access token/);
  });
});

describe('malformed links are rejected with a message', () => {
  const good = encodeShareFragment(config());
  const [, crc, body] = good.slice(LINK_PARAM.length + 1).split('.') as [string, string, string];

  it('no run in the address', () => rejects('https://tabtune.example/#tab=data', 'missing', /no run/));
  it('wrong number of parts', () => rejects(`#run=1.${body}`, 'malformed', /three dot-separated parts/));
  it('non-numeric format', () => rejects(`#run=x.${crc}.${body}`, 'malformed', /format number/));
  it('newer link format', () => rejects(`#run=2.${crc}.${body}`, 'unsupported-version', /newer TabTune.*format 2/));
  it('bad checksum field', () => rejects(`#run=1.zzzz.${body}`, 'malformed', /checksum field/));
  it('checksum mismatch', () => rejects(`#run=1.00000000.${body}`, 'tampered', /altered or damaged/));
  it('cut short while copying', () => rejects(`#run=1.${crc}.${body.slice(0, body.length - 9)}`, 'tampered', /compressed data|altered|impossible length/));
  it('characters outside base64url', () => rejects(`#run=1.${crc}.${body.slice(0, 10)}*${body.slice(11)}`, 'tampered', /invalid character/));
  it('not JSON', () => rejects(forge('{"model": '), 'tampered', /valid JSON/));
  it('not UTF-8', () => {
    const bytes = Uint8Array.of(0x7b, 0xff, 0x7d);
    rejects(`#run=1.${crc32Hex(bytes)}.${toBase64Url(deflate(bytes))}`, 'tampered', /UTF-8/);
  });
  it('newer config version', () => rejects(forge(JSON.stringify({ ...config(), version: 9 })), 'unsupported-version', /version 9/));
  it('schema violations name the field', () => {
    rejects(forge(JSON.stringify({ ...config(), lora: { r: 0 } })), 'invalid-config', /lora\.r/);
    rejects(forge(JSON.stringify({ ...config(), data: { source: 'ftp' } })), 'invalid-config', /data/);
    rejects(forge('[1,2,3]'), 'invalid-config', /not valid/);
  });
  it('a link too long to be ours', () => rejects(`#run=1.${crc}.${'A'.repeat(MAX_LINK_CHARS + 5000)}`, 'oversized', /at most/));
  it('a small link that inflates past the cap', () => {
    rejects(forge(JSON.stringify({ ...config(), pad: 'a'.repeat(400_000) })), 'oversized', /expands beyond/);
  });
  it('a config too large to share is refused when encoding', () => {
    // Each part fits the schema (32 KiB template, 64 KiB inline data) but together they exceed the link cap.
    const template = { kind: 'custom', source: toBase64Url(noiseBytes(24_000, 't')), kwargs: {} };
    const data = { source: 'upload', name: 'x.jsonl', hash: 'a'.repeat(64), inline: toBase64Url(noiseBytes(48_000, 'd')) };
    expect(() => encodeShareFragment(config({ template, data }))).toThrow(/would be \d+ characters \(limit/);
  });
});

describe('uploaded data in links', () => {
  it('small files travel inline and are verified on load', async () => {
    const file = utf8.encode('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'.repeat(50));
    const ref = await uploadDataRef('chat.jsonl', file);
    expect(ref.inline).toBeDefined();
    expect(ref.hash).toBe(await sha256Hex(file));
    const cfg = config({ data: ref });
    const back = decodeShareLink(encodeShareFragment(cfg));
    expect(back.data).toEqual(ref);
    expect([...(await resolveUploadData(back.data as typeof ref))]).toEqual([...file]);
  });

  it('large files travel by hash; the opener must supply the same file', async () => {
    const noise = noiseBytes(60_000);
    const ref = await uploadDataRef('big.bin', noise);
    expect(ref.inline).toBeUndefined();
    expect(toBase64Url(deflate(noise)).length).toBeGreaterThan(MAX_INLINE_CHARS);
    await expect(resolveUploadData(ref)).rejects.toBeInstanceOf(MissingUploadError);
    await expect(resolveUploadData(ref)).rejects.toThrow(/Choose that file/);
    const other = noise.slice();
    other[5] = other[5]! ^ 1;
    await expect(resolveUploadData(ref, other)).rejects.toThrow(/not the data this run used/);
    expect((await resolveUploadData(ref, noise)).length).toBe(noise.length);
  });

  it('inline data that does not match its hash is rejected', async () => {
    const ref = await uploadDataRef('a.txt', utf8.encode('one two three'));
    const swapped = { ...ref, inline: toBase64Url(deflate(utf8.encode('one two four'))) };
    await expect(resolveUploadData(swapped)).rejects.toThrow(/not the data this run used/);
    await expect(resolveUploadData({ ...ref, inline: 'AAAA' })).rejects.toThrow(/compressed data|not the data/);
  });

  it('inline data that inflates past the data cap is rejected before it is hashed', async () => {
    // 9 MiB of zeros deflates to a few KiB: small enough for the link, too large once inflated (MAX_INLINE_DATA_BYTES).
    const bomb = toBase64Url(deflate(new Uint8Array(9 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(MAX_INLINE_CHARS);
    const ref = { source: 'upload' as const, name: 'zeros.jsonl', hash: 'a'.repeat(64), inline: bomb };
    await expect(resolveUploadData(ref)).rejects.toThrow(/inline data "zeros\.jsonl" expands beyond 8388608 bytes/);
    await expect(resolveUploadData(ref)).rejects.toMatchObject({ code: 'tampered' });
  });
});

describe('templates in links', () => {
  it('a preset and an edited template travel in the link and come back unchanged', () => {
    const preset = config({ template: { kind: 'plain', kwargs: {} } });
    expect(decodeShareLink(`https://tabtune.example/${'#' + encodeShareFragment(preset)}`).template).toEqual({ kind: 'plain', kwargs: {} });
    const source = "{% for m in messages %}{{ m['content'] + '\\n### Answer:\\n' }}{% endfor %}";
    const edited = config({ template: { kind: 'custom', source, kwargs: { enable_thinking: false } } });
    expect(decodeShareLink(`#${encodeShareFragment(edited)}`).template).toEqual({ kind: 'custom', source, kwargs: { enable_thinking: false } });
  });

  it('a template past the schema cap, or an unknown kind, is refused naming the field', () => {
    rejects(forge(JSON.stringify({ ...defaultRunConfig(), template: { kind: 'custom', source: 'x'.repeat(MAX_TEMPLATE_CHARS + 1), kwargs: {} } })),
      'invalid-config', /template\.source: a template may be at most 32768 characters/);
    rejects(forge(JSON.stringify({ ...defaultRunConfig(), template: { kind: 'vicuna', kwargs: {} } })), 'invalid-config', /template\.kind/);
  });
});
