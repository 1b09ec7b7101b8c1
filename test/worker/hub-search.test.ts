// Hub search and refs for the Model panel through the real host and client, against a mirror of the fixture repos
// of its own (search ranks by downloads, which other test files would change on the shared one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRevision } from '../../src/hub/client';
import { hubConfig } from '../../src/hub/endpoint';
import { toHit } from '../../src/worker/host/hub-search';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';
import { startHarness, type Harness } from './harness';

let h: Harness;
let mirror: Mirror;
beforeAll(async () => {
  h = startHarness();
  mirror = await startMirror();
});
afterAll(async () => {
  h.close();
  await mirror.close();
});

describe('hub.search', () => {
  it('finds repos by a part of their id, case-insensitively, most downloaded first, up to the limit', async () => {
    for (let i = 0; i < 2; i++) await fetch(`${mirror.url}/tabtune/tiny-qwen2/resolve/main/config.json`);
    await fetch(`${mirror.url}/tabtune/tiny-llama/resolve/main/config.json`);
    const hits = await h.client.request('hub.search', { endpoint: mirror.url, query: 'TINY', limit: 10 });
    expect(hits.map((x) => x.id)).toEqual([
      'tabtune/tiny-qwen2', 'tabtune/tiny-llama', 'tabtune/tiny-gemma2', 'tabtune/tiny-gemma3', 'tabtune/tiny-gpt2', 'tabtune/tiny-granite',
      'tabtune/tiny-olmo2', 'tabtune/tiny-qwen3', 'tabtune/tiny-smollm3', 'tabtune/tiny-storyteller',
    ]);
    expect(hits.map((x) => x.downloads)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const llama = hits[1];
    expect(llama?.lastModified).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(llama?.likes).toBe(0);
    expect(llama?.sizeBytes).toBeGreaterThan(1_000_000);
    expect(await h.client.request('hub.search', { endpoint: mirror.url, query: 'tiny', limit: 2 })).toHaveLength(2);
    expect(await h.client.request('hub.search', { endpoint: mirror.url, query: 'no-such-model', limit: 10 })).toEqual([]);
    expect(await h.client.request('hub.search', { endpoint: mirror.url, query: '   ', limit: 10 })).toEqual([]);
  });

  it('reads the Hub\'s spelling and leaves out what a result does not give', () => {
    expect(toHit({ modelId: 'org/m', downloads: 5 })).toEqual({ id: 'org/m', downloads: 5, likes: null, lastModified: null, sizeBytes: null });
    expect(toHit({ downloads: 5 })).toBeNull();
  });
});

describe('hub.refs', () => {
  it('lists main at the commit the revision API resolves to', async () => {
    const refs = await h.client.request('hub.refs', { endpoint: mirror.url, repo: 'tabtune/tiny-llama' });
    const resolved = await resolveRevision(hubConfig(mirror.url), 'tabtune/tiny-llama', 'main');
    expect(refs).toEqual({ branches: [{ name: 'main', sha: resolved.sha }], tags: [] });
  });

  it('says which repo was not found', async () => {
    await expect(h.client.request('hub.refs', { endpoint: mirror.url, repo: 'tabtune/nope' })).rejects.toThrow(/tabtune\/nope: HTTP 404 \(Repository not found: tabtune\/nope\).*Check the repository id/);
    await expect(h.client.request('hub.refs', { endpoint: mirror.url, repo: '../etc' })).rejects.toThrow(/not a repository id/);
  });
});
