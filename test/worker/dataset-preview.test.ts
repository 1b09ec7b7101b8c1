// dataset.preview for the Data panel, through the real host and client: the detected field mapping and the file's
// field names, a mapping chosen by hand applied to the same bytes again (an upload is transferred once), the mapped
// dataset used by run.prepare, and Hub datasets by repo@revision (one named file, or the train split's shards).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkerRequestError } from '../../src/worker/client';
import { defaultRunConfig } from '../../src/share/run-config';
import { startMirror, type Mirror } from '../hub-mirror/server.ts';
import { startHarness, type Harness } from './harness';

let h: Harness;
let root: string;
let mirror: Mirror;
let hub: string;

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const buffer = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

// Fields named so detection reads the `text` column, though the rows are question → answer pairs.
const QA = jsonl([
  { question: 'Capital of France?', answer: 'Paris', text: 'note a' },
  { question: 'Two plus two?', answer: 'Four', text: 'note b' },
  { question: 'Colour of the sky?', answer: 'Blue' },
]);

beforeAll(async () => {
  h = startHarness();
  hub = inject('hubMirrorUrl');
  root = mkdtempSync(join(tmpdir(), 'tabtune-preview-'));
  const repo = join(root, 'datasets', 'tabtune', 'qa');
  mkdirSync(join(repo, 'data'), { recursive: true });
  writeFileSync(join(repo, 'data', 'train.jsonl'), jsonl([{ prompt: 'Hi', completion: ' there' }, { prompt: 'Yes', completion: ' no' }]));
  writeFileSync(join(repo, 'data', 'test.jsonl'), jsonl([{ prompt: 'Q', completion: ' A' }]));
  writeFileSync(join(repo, 'extra.csv'), 'text\nhello world\nsecond row\nthird row\n');
  mirror = await startMirror({ root });
});

afterAll(async () => {
  h.close();
  await mirror.close();
  rmSync(root, { recursive: true, force: true });
});

describe('dataset.preview for the Data panel', () => {
  it('reports the detected mapping and the field names, then maps the same upload again by hand', async () => {
    const detected = await h.client.request('dataset.preview', { source: { kind: 'bytes', name: 'qa.jsonl', bytes: buffer(QA) }, limit: 5 });
    expect(detected.mapping).toEqual({ kind: 'text', fields: { text: 'text' } });
    expect(detected.mappingChosen).toBe(false);
    expect(detected.columns).toEqual(['answer', 'question', 'text']);
    expect(detected.rowCount).toBe(2); // the third row has no `text`
    expect(detected.issues[0]).toEqual({ where: 'line 3', message: 'field "text" is missing' });
    expect(detected.hub).toBeNull();

    const mapping = { kind: 'prompt-completion' as const, fields: { prompt: 'question', completion: 'answer' } };
    const mapped = await h.client.request('dataset.preview', { source: { kind: 'previewed', hash: detected.hash, name: detected.name }, limit: 5, mapping });
    expect(mapped.hash).toBe(detected.hash);
    expect(mapped.mapping).toEqual(mapping);
    expect(mapped.mappingChosen).toBe(true);
    expect(mapped.layout).toBe('prompt-completion');
    expect(mapped.issueCount).toBe(0);
    expect(mapped.rows.map((r) => [r.prompt, r.completion])).toEqual([['Capital of France?', 'Paris'], ['Two plus two?', 'Four'], ['Colour of the sky?', 'Blue']]);

    // run.prepare on the previewed hash trains what the hand mapping made, not the detected text rows.
    const prepared = await h.client.request('run.prepare', {
      location: { endpoint: hub, repo: 'tabtune/tiny-llama', revision: 'main' },
      dataset: { kind: 'previewed', hash: detected.hash, name: detected.name },
      config: { ...defaultRunConfig(), mask: 'completion', evalFraction: 0 },
    });
    expect(prepared.examples.map((e) => e.id)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(prepared.examples.every((e) => e.targets > 0)).toBe(true);
  });

  it('says what to do when the bytes to map again are gone', async () => {
    const err = await h.client.request('dataset.preview', {
      source: { kind: 'previewed', hash: `sha256:${'0'.repeat(64)}`, name: 'gone.jsonl' }, limit: 1,
      mapping: { kind: 'text', fields: { text: 'text' } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerRequestError);
    expect((err as Error).message).toMatch(/no longer holds the file of gone\.jsonl; pick or upload it again/);
  });

  it('reads one named file of a Hub dataset pinned to its commit, with download progress', async () => {
    const progress: string[] = [];
    const preview = await h.client.request('dataset.preview', {
      source: { kind: 'hub', endpoint: mirror.url, repo: 'tabtune/qa', revision: 'main', file: 'extra.csv', name: 'tabtune/qa@main/extra.csv' },
      limit: 5,
    }, { onEvent: (e) => { if (e.type === 'progress') progress.push(e.stage); } });
    expect(preview.fileFormat).toBe('csv');
    expect(preview.layout).toBe('text');
    expect(preview.rowCount).toBe(3);
    expect(preview.hub?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(preview.hub?.files).toEqual(['extra.csv']);
    expect(progress).toContain('Downloading extra.csv');
  });

  it('reads the train split when no file is named, and names the files when one is missing', async () => {
    const preview = await h.client.request('dataset.preview', {
      source: { kind: 'hub', endpoint: mirror.url, repo: 'tabtune/qa', revision: 'main', name: 'tabtune/qa@main' }, limit: 5,
    });
    expect(preview.hub?.files).toEqual(['data/train.jsonl']);
    expect(preview.rows.map((r) => r.completion)).toEqual([' there', ' no']);
    const err = await h.client.request('dataset.preview', {
      source: { kind: 'hub', endpoint: mirror.url, repo: 'tabtune/qa', revision: 'main', file: 'nope.jsonl', name: 'x' }, limit: 1,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/nope\.jsonl/);
    expect((err as Error).message).toMatch(/train\.jsonl/);
  });
});
