// Share links (src/share/link.ts): decodeShareLink on the text of a link, readShareLink (which promises never to
// throw), and the inline upload a link may carry (resolveUploadData). The target's own mutation re-encodes a
// mutated config with a valid checksum, so mutations reach the schema rather than stopping at the CRC.
import { crc32Hex, deflate, fromBase64Url, inflateCapped, toBase64Url } from '../../src/share/codec.ts';
import { decodeShareLink, encodeShareFragment, MissingUploadError, readShareLink, resolveUploadData, ShareLinkError, uploadDataRef } from '../../src/share/link.ts';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config.ts';
import { jsonMutation } from '../mutate.ts';
import type { FuzzTarget } from '../target.ts';

const utf8 = new TextEncoder();
const lenient = new TextDecoder();

async function seeds(): Promise<Uint8Array[]> {
  const base = defaultRunConfig();
  const data = utf8.encode('{"prompt":"q","completion":"a"}\n{"prompt":"r","completion":"b"}\n');
  const configs: RunConfig[] = [
    base,
    { ...base, data: await uploadDataRef('tiny.jsonl', data), template: { kind: 'custom', source: '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}', kwargs: { enable_thinking: false, n: 3, s: 'x' } } },
    { ...base, model: { repo: 'org/model', revision: 'main', sha: 'a'.repeat(40) }, hubEndpoint: 'http://localhost:8080', data: { source: 'hub', repo: 'org/data', revision: 'v1', file: 'train.parquet' } },
    { ...base, mask: 'completion', maxLength: 1024, lora: { ...base.lora, r: 16, alpha: 32, targets: ['q_proj', 'v_proj'] } },
  ];
  return configs.flatMap((c) => {
    const fragment = encodeShareFragment(c);
    return [utf8.encode(`https://tabtune.example/#${fragment}`), utf8.encode(fragment)];
  });
}

/** Decode the payload, mutate the JSON inside, re-encode with a matching CRC. */
function mutate(input: Uint8Array, rng: Parameters<NonNullable<FuzzTarget['mutate']>>[1]): Uint8Array {
  const text = lenient.decode(input);
  const match = /run=(\d+)\.[0-9a-f]{8}\.([A-Za-z0-9_-]*)/.exec(text);
  if (!match) return input;
  let json: Uint8Array;
  try {
    json = inflateCapped(fromBase64Url(match[2] ?? ''), 1 << 20, 'seed');
  } catch {
    return input;
  }
  const mutated = jsonMutation(json, rng) ?? json;
  const payload = `run=${match[1]}.${crc32Hex(mutated)}.${toBase64Url(deflate(mutated))}`;
  return utf8.encode(text.slice(0, match.index) + payload + text.slice(match.index + match[0].length));
}

export default {
  name: 'share-link',
  seeds,
  mutate,
  async run(input) {
    const link = lenient.decode(input);
    const result = readShareLink(link);
    let config: RunConfig;
    try {
      config = decodeShareLink(link);
    } catch (error) {
      if (result.ok) throw new Error('readShareLink accepted a link decodeShareLink refused', { cause: error });
      throw error;
    }
    if (!result.ok) throw new Error('readShareLink refused a link decodeShareLink accepted');
    if (config.data.source === 'upload' && config.data.inline !== undefined) await resolveUploadData(config.data);
  },
  rejects: [ShareLinkError, MissingUploadError],
} satisfies FuzzTarget;
