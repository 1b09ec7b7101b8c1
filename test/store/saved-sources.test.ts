// The model/dataset/endpoint choices kept across reloads: what is saved, and that anything malformed is ignored.
import { describe, expect, it } from 'vitest';
import { parseSavedSources, sourcesToSave, type SavedSources } from '../../src/store/saved-sources';

const hub: SavedSources = {
  hubEndpoint: 'http://127.0.0.1:41951',
  modelChoice: { kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' },
  datasetChoice: { kind: 'hub', name: 'tabtune/codewords · train.jsonl', repo: 'tabtune/codewords', revision: 'v1', file: 'train.jsonl' },
};

describe('saved sources', () => {
  it('round-trips Hub and bundled choices', () => {
    expect(parseSavedSources(JSON.stringify(sourcesToSave(hub)))).toEqual(hub);
    const bundled: SavedSources = { hubEndpoint: 'https://huggingface.co', modelChoice: { kind: 'bundled' }, datasetChoice: { kind: 'bundled', file: 'tiny-codewords.jsonl' } };
    expect(parseSavedSources(JSON.stringify(sourcesToSave(bundled)))).toEqual(bundled);
  });

  it('saves an uploaded file as no dataset choice (its bytes are not kept)', () => {
    const saved = sourcesToSave({ ...hub, datasetChoice: { kind: 'upload', name: 'mine.jsonl' } });
    expect(saved.datasetChoice).toBeNull();
    expect(parseSavedSources(JSON.stringify(saved))).toEqual({ ...hub, datasetChoice: null });
  });

  it.each([
    ['nothing saved', null],
    ['not JSON', '{"hubEndpoint":'],
    ['an unknown model kind', JSON.stringify({ ...hub, modelChoice: { kind: 'local', path: '/etc' } })],
    ['a repo id with a path in it', JSON.stringify({ ...hub, modelChoice: { kind: 'hub', repo: '../../x', revision: 'main' } })],
    ['an endpoint that is not a URL', JSON.stringify({ ...hub, hubEndpoint: 'javascript:alert(1)x y' })],
    ['an upload choice (never saved)', JSON.stringify({ ...hub, datasetChoice: { kind: 'upload', name: 'a.jsonl' } })],
    ['an oversized entry', JSON.stringify({ ...hub, pad: 'x'.repeat(5000) })],
  ])('ignores %s', (_what, raw) => {
    expect(parseSavedSources(raw)).toBeNull();
  });
});
