// The one reproduction manifest (src/share/manifest.ts) that the app and the CLI write: Hub models pinned by commit,
// local folders by a content hash plus their path, and createdAt optional so identical CLI runs write identical files.
import { describe, expect, it } from 'vitest';
import { buildManifest, parseManifest, TABTUNE_VERSION } from '../../src/share/manifest.ts';
import { parseRunConfig } from '../../src/share/run-config.ts';

const config = parseRunConfig({ model: { repo: 'tabtune/tiny-llama', revision: 'main' }, data: { source: 'bundled', name: 'chat-support' } });
const commit = 'c'.repeat(40);
const content = 'd'.repeat(64);
const dataHash = 'e'.repeat(64);

describe('reproduction manifest', () => {
  it('pins a Hub model by commit and stamps createdAt by default', () => {
    const m = buildManifest(config, { modelSha: commit, datasetHash: dataHash, now: new Date('2026-01-02T03:04:05Z') });
    expect(m.model).toEqual({ repo: 'tabtune/tiny-llama', revision: 'main', sha: commit });
    expect(m.tokenizer).toEqual({ repo: 'tabtune/tiny-llama', sha: commit });
    expect(m.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(m.tabtuneVersion).toBe(TABTUNE_VERSION);
  });

  it('accepts a local folder pinned by a content hash, with no createdAt, and keeps the dataset name and format', () => {
    const local = parseRunConfig({ ...config, model: { repo: 'local/my-ckpt', revision: 'local' } });
    const m = buildManifest(local, { modelSha: content, modelLocal: './my-ckpt', datasetHash: dataHash, datasetName: 'train.jsonl', datasetFormat: 'jsonl/messages', now: null });
    expect(m.model).toEqual({ repo: 'local/my-ckpt', revision: 'local', sha: content, local: './my-ckpt' });
    expect(m.tokenizer).toEqual({ repo: 'local/my-ckpt', sha: content, local: './my-ckpt' });
    expect('createdAt' in m).toBe(false);
    expect(m.dataset).toEqual({ hash: dataHash, name: 'train.jsonl', format: 'jsonl/messages' });
    expect(parseManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it('rejects a content hash without a local path, and a commit sha for a local folder', () => {
    const base = buildManifest(config, { modelSha: commit, datasetHash: dataHash });
    expect(() => parseManifest({ ...base, model: { ...base.model, sha: content } })).toThrow(/model\.sha: expected a 40-character commit sha/);
    expect(() => parseManifest({ ...base, model: { ...base.model, local: './x' } })).toThrow(/model\.sha: expected a 64-character content hash for a local folder/);
    expect(() => parseManifest({ ...base, tokenizer: { repo: 'a/b', sha: 'nope' } })).toThrow(/tokenizer\.sha: expected a 40-character commit sha/);
  });
});
