// Push to the Hub against the local mirror's write API (test/hub-mirror/commit.ts): a new repo, an update to an
// existing one, the LFS path for safetensors, read-back through the read-only mirror and the Hub client, and the
// failures users meet — wrong token, no rights on the namespace, malformed input — with the token never echoed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchResolvedFile, resolveRevision } from '../../src/hub/client.ts';
import { hubConfig } from '../../src/hub/endpoint.ts';
import { HubError } from '../../src/hub/errors.ts';
import { pushToHub, type PushProgress } from '../../src/hub/push.ts';
import { writeSafetensors } from '../../src/hub/safetensors.ts';
import { startCommitServer, type CommitServer } from '../hub-mirror/commit.ts';
import { startMirror } from '../hub-mirror/server.ts';

const TOKEN = 'hf_pushTestTokenAbcdef123456';
const OTHER = 'hf_otherNamespaceToken987654';
const enc = (s: string) => new TextEncoder().encode(s);

function adapterFiles(scale: number): Map<string, Uint8Array> {
  const a = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * scale);
  const b = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i) * scale);
  const prefix = 'base_model.model.model.layers.0.self_attn.q_proj';
  return new Map([
    ['adapter_model.safetensors', writeSafetensors([{ name: `${prefix}.lora_A.weight`, dtype: 'F32', shape: [4, 8], data: a }, { name: `${prefix}.lora_B.weight`, dtype: 'F32', shape: [8, 4], data: b }])],
    ['adapter_config.json', enc(JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], base_model_name_or_path: 'tabtune/tiny-qwen2' }, null, 2))],
    ['README.md', enc(`---\nbase_model: tabtune/tiny-qwen2\nlibrary_name: peft\n---\n# scale ${scale}\n`)],
  ]);
}

async function failure(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    expect((e as Error).message).not.toContain(TOKEN);
    expect((e as Error).message).not.toContain(OTHER);
    return e as HubError;
  }
  throw new Error('expected the push to fail');
}

describe('pushToHub on the mirror', () => {
  let root: string;
  let hub: CommitServer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tabtune-push-'));
    hub = await startCommitServer({ root, tokens: { [TOKEN]: ['alice'], [OTHER]: ['bob'] } });
  });
  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates a repo and commits the adapter folder in one commit, safetensors through LFS', async () => {
    const files = adapterFiles(1);
    const events: PushProgress[] = [];
    const result = await pushToHub({ endpoint: hub.url, token: TOKEN, repo: 'alice/tiny-lora', files, onProgress: (e) => events.push(e) });
    expect(result).toMatchObject({ repo: 'alice/tiny-lora', created: true, repoUrl: `${hub.url}/alice/tiny-lora` });
    expect(result.commitOid).toMatch(/^[0-9a-f]{40}$/);
    expect(result.commitUrl).toBe(`${hub.url}/alice/tiny-lora/commit/${result.commitOid}`);
    expect(hub.commits).toHaveLength(1);
    expect(hub.commits[0]).toMatchObject({ repo: 'alice/tiny-lora', summary: 'Upload LoRA adapter trained with TabTune', lfs: ['adapter_model.safetensors'] });
    expect([...hub.commits[0]!.files].sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(['creating-repo', 'preuploading', 'uploadingLargeFiles', 'committing']));
    for (const [path, bytes] of files) expect(Buffer.from(readFileSync(join(root, 'alice', 'tiny-lora', path))).equals(Buffer.from(bytes))).toBe(true);

    // The read-only mirror serves what was pushed, at the commit sha the push reported.
    const mirror = await startMirror({ root });
    try {
      const cfg = hubConfig(mirror.url);
      const resolved = await resolveRevision(cfg, 'alice/tiny-lora', 'main');
      expect(resolved.sha).toBe(result.commitOid);
      const weights = await fetchResolvedFile(cfg, resolved, 'adapter_model.safetensors', { cache: null });
      expect(Buffer.from(weights).equals(Buffer.from(files.get('adapter_model.safetensors')!))).toBe(true);
    } finally {
      await mirror.close();
    }
  });

  it('pushing again to an existing repo adds a commit instead of failing', async () => {
    const result = await pushToHub({ endpoint: `${hub.url}/`, token: TOKEN, repo: 'alice/tiny-lora', files: adapterFiles(2), commitTitle: 'step 40' });
    expect(result.created).toBe(false);
    expect(hub.commits.at(-1)).toMatchObject({ summary: 'step 40', oid: result.commitOid });
    expect(result.commitOid).not.toBe(hub.commits[0]!.oid);
    expect(readFileSync(join(root, 'alice', 'tiny-lora', 'README.md'), 'utf8')).toContain('# scale 2');
  });

  it('a wrong token is refused with a hint, and never repeated back', async () => {
    const e = await failure(pushToHub({ endpoint: hub.url, token: 'hf_wrongTokenButWellFormed1', repo: 'alice/x', files: adapterFiles(1) }));
    expect(e.kind).toBe('unauthorized');
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/rejected the token.*HINT: paste a valid token with write access/);
    expect(e.message).not.toContain('hf_wrongTokenButWellFormed1');
  });

  it('a token without rights on the namespace is refused, and nothing is written', async () => {
    const e = await failure(pushToHub({ endpoint: hub.url, token: OTHER, repo: 'alice/tiny-lora', files: adapterFiles(3) }));
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/may not write to alice\/tiny-lora.*"alice" namespace/);
    expect(readFileSync(join(root, 'alice', 'tiny-lora', 'README.md'), 'utf8')).toContain('# scale 2');
  });

  it('malformed input is refused before any request', async () => {
    const before = hub.commits.length;
    expect((await failure(pushToHub({ endpoint: hub.url, token: 'not-a-token', repo: 'alice/x', files: adapterFiles(1) }))).message).toMatch(/start with "hf_"/);
    expect((await failure(pushToHub({ endpoint: hub.url, token: TOKEN, repo: 'no-namespace', files: adapterFiles(1) }))).message).toMatch(/not a Hub repo id/);
    expect((await failure(pushToHub({ endpoint: hub.url, token: TOKEN, repo: 'alice/x', files: new Map([['../up.txt', enc('x')]]) }))).message).toMatch(/without "\." or "\.\."/);
    expect((await failure(pushToHub({ endpoint: hub.url, token: TOKEN, repo: 'alice/x', files: new Map() }))).message).toMatch(/Nothing to push/);
    expect(hub.commits.length).toBe(before);
  });

  it('an unreachable endpoint says so', async () => {
    const e = await failure(pushToHub({ endpoint: 'http://127.0.0.1:9', token: TOKEN, repo: 'alice/x', files: adapterFiles(1) }));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:9/);
  });
});
