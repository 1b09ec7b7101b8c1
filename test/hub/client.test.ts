// The Hub client against the local mirror: revision pinning, whole-file and Range fetches, verification, caching,
// and the errors users see (not found, gated, unreachable, cancelled). Same fetch code as the app.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryFileCache } from '../../src/hub/cache.ts';
import { fetchFile, fetchJson, fetchResolvedFile, parseRepoRef, resolveRevision } from '../../src/hub/client.ts';
import { hubConfig, hubConfigFromEnv, DEFAULT_HUB_ENDPOINT, type HubConfig } from '../../src/hub/endpoint.ts';
import { HubError, httpError } from '../../src/hub/errors.ts';
import { DATASETS_PREFIX } from '../../scripts/fixtures/datasets.ts';
import { HUB_DIR, readManifest } from '../../scripts/fixtures/layout.ts';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';

async function hubError(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

const QWEN2 = 'tabtune/tiny-qwen2';

describe('parseRepoRef and endpoint settings', () => {
  it('splits org/name@revision and defaults to main', () => {
    expect(parseRepoRef('Qwen/Qwen3-0.6B')).toEqual({ repo: 'Qwen/Qwen3-0.6B', revision: 'main' });
    expect(parseRepoRef(' org/x.y_z-1@abc123 ')).toEqual({ repo: 'org/x.y_z-1', revision: 'abc123' });
    expect(parseRepoRef('gpt2@refs/pr/1')).toEqual({ repo: 'gpt2', revision: 'refs/pr/1' });
    expect(() => parseRepoRef('a/b/c')).toThrow(/org\/name/);
    expect(() => parseRepoRef('a/../b')).toThrow(/not a Hub repo id/);
    expect(() => parseRepoRef('org/x@')).toThrow(/empty revision/);
  });

  it('normalises endpoints and reads HF_ENDPOINT / HF_TOKEN', () => {
    expect(hubConfig()).toEqual({ endpoint: DEFAULT_HUB_ENDPOINT });
    expect(hubConfig('http://127.0.0.1:9/hub//')).toEqual({ endpoint: 'http://127.0.0.1:9/hub' });
    expect(hubConfigFromEnv({ HF_ENDPOINT: 'http://h:1', HF_TOKEN: 'hf_x' })).toEqual({ endpoint: 'http://h:1', token: 'hf_x' });
    expect(() => hubConfig('ftp://x')).toThrow(/HINT/);
  });
});

describe('the shared mirror from globalSetup', () => {
  it('serves every fixture at the sha the generator recorded', async () => {
    const cfg = hubConfig(inject('hubMirrorUrl'));
    const manifest = readManifest();
    expect(manifest).toBeDefined();
    for (const [key, { sha, files }] of Object.entries(manifest?.repos ?? {})) {
      const dataset = key.startsWith(`${DATASETS_PREFIX}/`);
      const repo = dataset ? key.slice(DATASETS_PREFIX.length + 1) : key;
      const resolved = await resolveRevision(cfg, repo, 'main', dataset ? { repoType: 'dataset' } : {});
      expect(resolved.sha).toBe(sha);
      expect(resolved.files.map((f) => [f.path, f.size])).toEqual(files.map((f) => [f.path, f.size]));
    }
  });
});

describe('Hub client on the mirror', () => {
  let mirror: Mirror;
  let cfg: HubConfig;
  let dataRoot: string;

  beforeAll(async () => {
    // A root with one real fixture and one dataset repo, so datasets and gating are covered without touching fixtures.
    dataRoot = mkdtempSync(join(tmpdir(), 'tabtune-mirror-'));
    mkdirSync(join(dataRoot, 'datasets/tabtune/tiny-chat'), { recursive: true });
    writeFileSync(join(dataRoot, 'datasets/tabtune/tiny-chat/train.jsonl'), '{"messages":[{"role":"user","content":"hi"}]}\n');
    mirror = await startMirror({ gated: { 'tabtune/tiny-gpt2': 'hf_secret' } });
    cfg = hubConfig(mirror.url);
  });

  afterAll(async () => {
    await mirror.close();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('resolves main and the sha to the same commit, with sizes and LFS hashes', async () => {
    const main = await resolveRevision(cfg, QWEN2, 'main');
    expect(main.sha).toMatch(/^[0-9a-f]{40}$/);
    const pinned = await resolveRevision(cfg, QWEN2, main.sha);
    expect(pinned.sha).toBe(main.sha);
    const weights = main.files.find((f) => f.path === 'model.safetensors');
    expect(weights?.size).toBe(readFileSync(join(HUB_DIR, QWEN2, 'model.safetensors')).byteLength);
    expect(weights?.lfs?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(main.files.find((f) => f.path === 'config.json')?.lfs).toBeUndefined();
  });

  it('fetches a whole file with progress, verified against the listing', async () => {
    const resolved = await resolveRevision(cfg, QWEN2);
    const seen: number[] = [];
    const bytes = await fetchResolvedFile(cfg, resolved, 'tokenizer.json', { cache: null, onProgress: (n) => seen.push(n) });
    const disk = readFileSync(join(HUB_DIR, QWEN2, 'tokenizer.json'));
    expect(Buffer.from(bytes).equals(disk)).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(disk.byteLength);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const config = await fetchJson<{ model_type: string }>(cfg, QWEN2, resolved.sha, 'config.json');
    expect(config.model_type).toBe('qwen2');
  });

  it('fetches byte ranges with Range requests (206) and reports 416 outside the file', async () => {
    const { sha, files } = await resolveRevision(cfg, QWEN2);
    const disk = readFileSync(join(HUB_DIR, QWEN2, 'model.safetensors'));
    const before = mirror.requests.length;
    const part = await fetchFile(cfg, QWEN2, sha, 'model.safetensors', { range: [1000, 1100], cache: null });
    expect(Buffer.from(part).equals(disk.subarray(1000, 1100))).toBe(true);
    const sent = mirror.requests.slice(before);
    expect(sent).toEqual([expect.objectContaining({ range: 'bytes=1000-1099', status: 206 })]);
    const size = files.find((f) => f.path === 'model.safetensors')?.size ?? 0;
    const e = await hubError(fetchFile(cfg, QWEN2, sha, 'model.safetensors', { range: [size + 1, size + 9], cache: null }));
    expect(e.status).toBe(416);
  });

  it('sends the headers Hub clients read, and CORS for other origins', async () => {
    const { sha } = await resolveRevision(cfg, QWEN2);
    const head = await fetch(`${mirror.url}/${QWEN2}/resolve/main/model.safetensors`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-repo-commit')).toBe(sha);
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect(head.headers.get('x-linked-etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect(head.headers.get('x-linked-size')).toBe(head.headers.get('content-length'));
    expect(head.headers.get('etag')).toBe(head.headers.get('x-linked-etag'));
    const small = await fetch(`${mirror.url}/${QWEN2}/resolve/${sha}/config.json`, { method: 'HEAD' });
    expect(small.headers.get('etag')).toMatch(/^"[0-9a-f]{40}"$/); // git blob id for non-LFS files
    expect(small.headers.get('x-linked-etag')).toBeNull();
    const preflight = await fetch(`${mirror.url}/${QWEN2}/resolve/main/config.json`, {
      method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Range/);
    expect(head.headers.get('access-control-expose-headers')).toMatch(/X-Repo-Commit.*Content-Range/);
    const suffix = await fetch(`${mirror.url}/${QWEN2}/resolve/main/config.json`, { headers: { Range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toMatch(/^bytes \d+-\d+\/\d+$/);
    expect((await suffix.arrayBuffer()).byteLength).toBe(10);
  });

  it('caches whole files and serves later ranges from the cache', async () => {
    const cache = new MemoryFileCache();
    const { sha } = await resolveRevision(cfg, QWEN2);
    const first = await fetchFile(cfg, QWEN2, sha, 'config.json', { cache });
    const before = mirror.requests.length;
    const again = await fetchFile(cfg, QWEN2, sha, 'config.json', { cache });
    const slice = await fetchFile(cfg, QWEN2, sha, 'config.json', { cache, range: [2, 12] });
    expect(mirror.requests.length).toBe(before);
    expect(again).toEqual(first);
    expect(slice).toEqual(first.slice(2, 12));
    const past = await hubError(fetchFile(cfg, QWEN2, sha, 'config.json', { cache, range: [first.byteLength - 2, first.byteLength + 5] }));
    expect(past.kind).toBe('integrity');
  });

  it('rejects a file whose size or sha256 differs from the listing, and does not cache it', async () => {
    const cache = new MemoryFileCache();
    const { sha } = await resolveRevision(cfg, QWEN2);
    const badSize = await hubError(fetchFile(cfg, QWEN2, sha, 'config.json', { cache, expected: { size: 3 } }));
    expect(badSize.kind).toBe('integrity');
    const badHash = await hubError(fetchFile(cfg, QWEN2, sha, 'config.json', { cache, expected: { sha256: '0'.repeat(64) } }));
    expect(badHash.kind).toBe('integrity');
    expect(badHash.message).toMatch(/sha256/);
    expect(cache.size).toBe(0);
  });

  it('says what is missing: repo, revision, file', async () => {
    const repo = await hubError(resolveRevision(cfg, 'tabtune/nope'));
    expect([repo.kind, repo.status]).toEqual(['not-found', 404]);
    expect(repo.message).toMatch(/tabtune\/nope.*HINT.*endpoint in use is http:\/\/127\.0\.0\.1/s);
    const rev = await hubError(resolveRevision(cfg, QWEN2, 'f'.repeat(40)));
    expect(rev.kind).toBe('not-found');
    expect(rev.message).toMatch(/revision not found.*RevisionNotFound.*branch, tag or sha/s);
    const resolved = await resolveRevision(cfg, QWEN2);
    const file = await hubError(fetchResolvedFile(cfg, resolved, 'vocab.txt'));
    expect(file.message).toMatch(/vocab\.txt.*The repo has: README\.md, config\.json/s);
    const direct = await hubError(fetchFile(cfg, QWEN2, resolved.sha, 'vocab.txt'));
    expect(direct.status).toBe(404);
  });

  it('reads the Hub\'s 401 RepoNotFound (missing repo, no token) as not found, with a token hint', () => {
    const e = httpError(401, 'https://huggingface.co/api/models/a/b/revision/main', 'repo a/b at revision main', DEFAULT_HUB_ENDPOINT, 'RepoNotFound');
    expect([e.kind, e.status]).toEqual(['not-found', 401]);
    expect(e.message).toMatch(/repository not found.*HINT.*repo id.*private.*token/s);
    expect(httpError(401, 'u', 'w', 'e', 'GatedRepo').kind).toBe('unauthorized');
  });

  it('tells gated repos apart: 401 without a token, 403 with a wrong one, success with the right one', async () => {
    const noToken = await hubError(resolveRevision(cfg, 'tabtune/tiny-gpt2'));
    expect([noToken.kind, noToken.status]).toEqual(['unauthorized', 401]);
    expect(noToken.message).toMatch(/gated or private.*HINT.*token/s);
    const wrong = await hubError(resolveRevision({ ...cfg, token: 'hf_wrong' }, 'tabtune/tiny-gpt2'));
    expect(wrong.status).toBe(403);
    const ok = await resolveRevision({ ...cfg, token: 'hf_secret' }, 'tabtune/tiny-gpt2');
    const bytes = await fetchResolvedFile({ ...cfg, token: 'hf_secret' }, ok, 'config.json', { cache: null });
    expect(JSON.parse(new TextDecoder().decode(bytes)).model_type).toBe('gpt2');
  });

  it('reports an unreachable endpoint with a hint to change it', async () => {
    const gone = await startMirror();
    await gone.close();
    const e = await hubError(resolveRevision(hubConfig(gone.url), QWEN2));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/could not reach.*HINT.*Hub endpoint/s);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('retries an idempotent GET once after a network error', async () => {
    const real = globalThis.fetch;
    let calls = 0;
    // The first call fails the way a reused, server-closed keep-alive socket does; the second goes to the mirror.
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      return real(...args);
    }) as typeof fetch;
    try {
      const resolved = await resolveRevision(cfg, QWEN2);
      expect(resolved.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(calls).toBe(2);
    } finally {
      globalThis.fetch = real;
    }
  });

  it('stops when the signal aborts', async () => {
    const { sha } = await resolveRevision(cfg, QWEN2);
    const controller = new AbortController();
    controller.abort();
    const e = await hubError(fetchFile(cfg, QWEN2, sha, 'model.safetensors', { signal: controller.signal, cache: null }));
    expect(e.kind).toBe('aborted');
  });

  it('refuses path traversal, other methods and unknown routes with Hub-style error codes', async () => {
    // fetch() would normalise "..", so send the raw path; only files hashed at load time are ever served anyway.
    const traversal = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(mirror.url);
      get({ hostname, port, path: `/${QWEN2}/resolve/main/../../manifest.json` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(traversal).toBe(400);
    const encodedSlash = await fetch(`${mirror.url}/${QWEN2}/resolve/main/..%2F..%2Fmanifest.json`);
    expect(encodedSlash.status).toBe(404);
    const post = await fetch(`${mirror.url}/${QWEN2}/resolve/main/config.json`, { method: 'POST' });
    expect(post.status).toBe(405);
    const unknown = await fetch(`${mirror.url}/api/spaces/x/y`);
    expect([unknown.status, unknown.headers.get('x-error-code')]).toEqual([404, 'NotFound']);
    const missing = await fetch(`${mirror.url}/${QWEN2}/resolve/main/nope.bin`);
    expect([missing.status, missing.headers.get('x-error-code')]).toEqual([404, 'EntryNotFound']);
    const info = (await (await fetch(`${mirror.url}/api/models/${QWEN2}`)).json()) as { id: string; config: { model_type: string } };
    expect([info.id, info.config.model_type]).toEqual([QWEN2, 'qwen2']);
  });

  it('mounts extensions before its own routes and re-reads repos when one invalidates', async () => {
    const local = await startMirror({
      root: dataRoot,
      extensions: [({ root, invalidate }) => (req, res) => {
        if (req.method !== 'POST' || req.url !== '/test/append') return false;
        writeFileSync(join(root, 'datasets/tabtune/tiny-chat/extra.jsonl'), '{}\n');
        invalidate();
        res.writeHead(204).end();
        return true;
      }],
    });
    try {
      const dcfg = hubConfig(local.url);
      const before = await resolveRevision(dcfg, 'tabtune/tiny-chat', 'main', { repoType: 'dataset' });
      expect((await fetch(`${local.url}/test/append`, { method: 'POST' })).status).toBe(204);
      const after = await resolveRevision(dcfg, 'tabtune/tiny-chat', 'main', { repoType: 'dataset' });
      expect(after.files.map((f) => f.path)).toEqual(['extra.jsonl', 'train.jsonl']);
      expect(after.sha).not.toBe(before.sha);
    } finally {
      await local.close();
      rmSync(join(dataRoot, 'datasets/tabtune/tiny-chat/extra.jsonl'), { force: true });
    }
  });

  it('serves dataset repos under /datasets and /api/datasets', async () => {
    const local = await startMirror({ root: dataRoot });
    try {
      const dcfg = hubConfig(local.url);
      const resolved = await resolveRevision(dcfg, 'tabtune/tiny-chat', 'main', { repoType: 'dataset' });
      expect(resolved.files.map((f) => f.path)).toEqual(['train.jsonl']);
      const bytes = await fetchResolvedFile(dcfg, resolved, 'train.jsonl', { cache: null });
      expect(new TextDecoder().decode(bytes)).toContain('"role":"user"');
      expect(local.requests.map((r) => r.path)).toEqual([
        '/api/datasets/tabtune/tiny-chat/revision/main?blobs=true',
        `/datasets/tabtune/tiny-chat/resolve/${resolved.sha}/train.jsonl`,
      ]);
      const asModel = await hubError(resolveRevision(dcfg, 'tabtune/tiny-chat'));
      expect(asModel.kind).toBe('not-found');
    } finally {
      await local.close();
    }
  });
});
