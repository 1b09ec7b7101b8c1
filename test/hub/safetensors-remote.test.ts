// Remote safetensors through the mirror: headers come from Range requests before any weights, tensors read by
// range equal the local file's, sharded checkpoints are assembled from their index, and broken repos fail clearly.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRevision } from '../../src/hub/client.ts';
import { hubConfig, type HubConfig } from '../../src/hub/endpoint.ts';
import { HubError } from '../../src/hub/errors.ts';
import { parseSafetensors, tensorToFloat32, writeSafetensors } from '../../src/hub/safetensors.ts';
import { openRemoteCheckpoint, readRemoteSafetensors } from '../../src/hub/safetensors-remote.ts';
import { HUB_DIR } from '../../scripts/fixtures/layout.ts';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';

let mirror: Mirror;
let cfg: HubConfig;
let root: string;

function writeRepo(repo: string, files: Record<string, Uint8Array | string>): void {
  for (const [path, body] of Object.entries(files)) {
    const full = join(root, repo, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, body);
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tabtune-st-'));
  // 3000 tensors with long names: a header of ~250 KB, larger than the first Range probe.
  const many = Array.from({ length: 3000 }, (_, i) => ({
    name: `model.layers.${i}.a_rather_long_module_name_to_grow_the_header.weight`,
    dtype: 'F32' as const, shape: [2], data: new Float32Array([i, -i]),
  }));
  writeRepo('test/big-header', { 'model.safetensors': writeSafetensors(many) });
  const a = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
  const b = writeSafetensors([{ name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([2]) }]);
  writeRepo('test/bad-index', {
    'model-00001-of-00002.safetensors': a,
    'model-00002-of-00002.safetensors': b,
    'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' } }),
  });
  writeRepo('test/missing-tensor', {
    'model-00001-of-00001.safetensors': a,
    'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00001-of-00001.safetensors', c: 'model-00001-of-00001.safetensors' } }),
  });
  writeRepo('test/pickle-only', { 'config.json': '{}', 'pytorch_model.bin': 'not really a pickle' });
  const truncated = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
  writeRepo('test/truncated', { 'model.safetensors': truncated.subarray(0, truncated.byteLength - 4) });
  mirror = await startMirror({ root: HUB_DIR });
  cfg = hubConfig(mirror.url);
});

afterAll(async () => {
  await mirror.close();
  rmSync(root, { recursive: true, force: true });
});

describe('readRemoteSafetensors', () => {
  it('reads the header with one small Range request and tensors by range', async () => {
    const repo = 'tabtune/tiny-gpt2';
    const resolved = await resolveRevision(cfg, repo);
    const file = resolved.files.find((f) => f.path === 'model.safetensors');
    if (!file) throw new Error('fixture lacks model.safetensors');
    const before = mirror.requests.length;
    const remote = await readRemoteSafetensors(cfg, repo, resolved.sha, 'model.safetensors', file, { cache: null });
    const headerRequests = mirror.requests.slice(before);
    expect(headerRequests).toEqual([expect.objectContaining({ range: 'bytes=0-65535', status: 206 })]);

    const local = readFileSync(join(HUB_DIR, repo, 'model.safetensors'));
    const localHeader = parseSafetensors(local);
    expect(remote.header.tensors).toEqual(localHeader.tensors);
    const name = 'transformer.h.1.attn.c_attn.weight';
    const t = remote.header.byName.get(name);
    const values = await remote.readTensor(name, { cache: null });
    expect(values).toEqual(tensorToFloat32(localHeader, local, name));
    expect(mirror.requests.at(-1)?.range).toBe(`bytes=${remote.header.dataStart + (t?.begin ?? 0)}-${remote.header.dataStart + (t?.end ?? 0) - 1}`);
  });

  it('fetches the rest of a header larger than the first probe', async () => {
    const local = await startMirror({ root });
    try {
      const lcfg = hubConfig(local.url);
      const resolved = await resolveRevision(lcfg, 'test/big-header');
      const file = resolved.files[0];
      if (!file) throw new Error('no file');
      const remote = await readRemoteSafetensors(lcfg, 'test/big-header', resolved.sha, 'model.safetensors', file, { cache: null });
      expect(remote.header.headerBytes).toBeGreaterThan(65536);
      expect(local.requests.filter((r) => r.range).map((r) => r.range)).toEqual([
        'bytes=0-65535', `bytes=65536-${remote.header.dataStart - 1}`,
      ]);
      expect([...(await remote.readTensor('model.layers.2999.a_rather_long_module_name_to_grow_the_header.weight', { cache: null }))]).toEqual([2999, -2999]);
    } finally {
      await local.close();
    }
  });
});

describe('openRemoteCheckpoint', () => {
  it('assembles a sharded checkpoint from model.safetensors.index.json', async () => {
    const repo = 'tabtune/tiny-qwen3';
    const resolved = await resolveRevision(cfg, repo);
    const ckpt = await openRemoteCheckpoint(cfg, resolved, { cache: null });
    const index = JSON.parse(readFileSync(join(HUB_DIR, repo, 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(ckpt.shards.map((s) => s.path)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect([...ckpt.tensors.keys()].sort()).toEqual(Object.keys(index.weight_map).sort());
    expect(ckpt.weightBytes).toBe(index.metadata.total_size);
    const progress: number[] = [];
    const all = await ckpt.readAll((loaded) => progress.push(loaded), { cache: null });
    expect(all.size).toBe(ckpt.tensors.size);
    const shard2 = readFileSync(join(HUB_DIR, repo, 'model-00002-of-00002.safetensors'));
    const h2 = parseSafetensors(shard2);
    expect(all.get('model.layers.1.self_attn.q_norm.weight')).toEqual(tensorToFloat32(h2, shard2, 'model.layers.1.self_attn.q_norm.weight'));
    expect(await ckpt.readTensor('model.norm.weight', { cache: null })).toEqual(all.get('model.norm.weight'));
    expect(progress.at(-1)).toBe(ckpt.shards.reduce((s, sh) => s + sh.header.fileSize, 0));
  });

  it('converts the BF16 fixture exactly (u16 << 16)', async () => {
    const repo = 'tabtune/tiny-llama';
    const resolved = await resolveRevision(cfg, repo);
    const ckpt = await openRemoteCheckpoint(cfg, resolved, { cache: null });
    const name = 'model.layers.0.self_attn.k_proj.weight';
    expect(ckpt.tensors.get(name)?.info.dtype).toBe('BF16');
    const values = await ckpt.readTensor(name, { cache: null });
    const local = readFileSync(join(HUB_DIR, repo, 'model.safetensors'));
    const header = parseSafetensors(local);
    const t = header.byName.get(name);
    const raw = new DataView(local.buffer, local.byteOffset + header.dataStart + (t?.begin ?? 0));
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < values.length; i++) expect(bits[i]).toBe((raw.getUint16(2 * i, true) << 16) >>> 0);
  });

  it('fails clearly on an inconsistent index, a missing tensor, a truncated file and a pickle-only repo', async () => {
    const local = await startMirror({ root });
    try {
      const lcfg = hubConfig(local.url);
      const open = async (repo: string) => openRemoteCheckpoint(lcfg, await resolveRevision(lcfg, repo), { cache: null });
      await expect(open('test/bad-index')).rejects.toThrow(/tensor a is in model-00001-of-00002\.safetensors but model\.safetensors\.index\.json maps it to model-00002/);
      await expect(open('test/missing-tensor')).rejects.toThrow(/lists c but no shard holds it/);
      await expect(open('test/truncated')).rejects.toThrow(/may be truncated/);
      const e = await open('test/pickle-only').catch((err: unknown) => err);
      expect(e).toBeInstanceOf(HubError);
      expect((e as HubError).message).toMatch(/no model\.safetensors.*HINT.*pickle/s);
    } finally {
      await local.close();
    }
  });
});
