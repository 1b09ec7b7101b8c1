// loadModel from a pinned Hub source converts shards from the verified download stream; it must give exactly the
// weights the whole-file path gives (the same source with its stream() taken away), for each fixture family.
import { describe, expect, inject, it } from 'vitest';
import { hubConfig } from '../../src/hub/endpoint.ts';
import { hubSource, loadModel, type FileSource } from '../../src/train/model-source.ts';
import { readManifest } from '../../scripts/fixtures/layout.ts';

describe('loadModel over a Hub source', () => {
  const cfg = hubConfig(inject('hubMirrorUrl'));
  const repos = Object.keys(readManifest()?.repos ?? {}).filter((r) => /tiny-(qwen2|qwen3|gpt2|llama)/.test(r));

  it('streams the weights and matches the whole-file reader bit for bit', async () => {
    expect(repos.length).toBeGreaterThan(0);
    for (const repo of repos) {
      const source = await hubSource(cfg, repo, 'main');
      expect(source.stream).toBeDefined();
      const streamed = await loadModel(source);
      const whole: FileSource = { id: source.id, sha: source.sha, list: () => source.list(), read: (p) => source.read(p) };
      const reference = await loadModel(whole);
      expect(streamed.sha).toBe(reference.sha);
      expect([...streamed.weights.keys()]).toEqual([...reference.weights.keys()]);
      for (const [name, values] of reference.weights) {
        const got = streamed.weights.get(name)!;
        expect(got.length, `${repo} ${name}`).toBe(values.length);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(values.buffer, values.byteOffset, values.byteLength)), `${repo} ${name}`).toBe(true);
      }
    }
  });
});
