// Share links through the app store: the link made from the panels' state, opened in a fresh store (every setting
// restored, the model pinned, the data loaded inline or asked for by hash and verified), and a refused link that
// leaves the defaults in place.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deflate, sha256Hex, toBase64Url, utf8 } from '../../src/share/codec.ts';
import { decodeShareLink, MAX_INLINE_CHARS } from '../../src/share/link.ts';
import { DEMO_MODEL_REPO, defaultRunConfig } from '../../src/share/run-config.ts';
import { createShareActions, type ShareDeps } from '../../src/store/share-actions.ts';
import { createAppStore, type AppStore } from '../../src/store/store.ts';
import type { DatasetPreview, ModelSummary } from '../../src/worker/protocol.ts';

const ORIGIN = 'https://tabtune.example';
const SHA = 'a'.repeat(40);

function model(repo: string, endpoint: string, revision = 'main'): ModelSummary {
  return {
    location: { endpoint, repo, revision }, sha: SHA, files: [],
    config: {
      model_type: 'qwen3', architectures: [], num_hidden_layers: 2, hidden_size: 64, intermediate_size: 128, num_attention_heads: 4,
      num_key_value_heads: 2, vocab_size: 1000, max_position_embeddings: 512, tie_word_embeddings: true, torch_dtype: 'float32',
    },
    tokenizer: { hasTokenizerJson: true, hasTokenizerConfig: true, chatTemplate: null, tokenizerClass: null, bosToken: null, eosToken: null, padToken: null },
    parameters: { total: 1, tensors: 1, byDtype: {} },
  };
}

function dataset(name: string, hash: string): DatasetPreview {
  return { name, bytes: 10, hash: `sha256:${hash}`, fileFormat: 'jsonl', layout: 'messages', rowCount: 8, rows: [], issues: [], issueCount: 0 };
}

function noiseBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 32) out.set(createHash('sha256').update(`n:${i}`).digest().subarray(0, Math.min(32, n - i)), i);
  return out;
}

interface Harness {
  store: AppStore;
  share: ReturnType<typeof createShareActions>;
  uploads: { name: string; bytes: Uint8Array }[];
}

function harness(over: Partial<ShareDeps> = {}): Harness {
  const store = createAppStore({ origin: ORIGIN });
  const uploads: Harness['uploads'] = [];
  const share = createShareActions(store, {
    uploadDataset: (name, bytes) => {
      uploads.push({ name, bytes: new Uint8Array(bytes) });
      store.getState().chooseDataset({ kind: 'upload', name });
      return Promise.resolve();
    },
    pageUrl: () => `${ORIGIN}/#tab=old`,
    ...over,
  });
  return { store, share, uploads };
}

/** A store as the panels leave it: the demo model loaded, a dataset loaded, settings edited. */
function configured(h: Harness, data: { kind: 'bundled'; file: string } | { kind: 'upload'; name: string }, hash: string): void {
  const s = h.store.getState();
  s.setModel(model(DEMO_MODEL_REPO, `${ORIGIN}/hub`));
  s.setModelState({ status: 'ready' });
  s.chooseDataset(data);
  s.setDataset(dataset(data.kind === 'bundled' ? data.file : data.name, hash));
  s.setDatasetState({ status: 'ready' });
  const c = defaultRunConfig();
  s.setRunConfig({ ...c, mask: 'all', seed: 7, maxLength: 64, train: { ...c.train, lr: 0.003, steps: 5 }, lora: { ...c.lora, r: 4 } });
  s.setBackendChoice('wasm');
}

describe('share links in the app', () => {
  it('carries a tokenizer chosen apart from the model, pinned to the commit it was checked at', async () => {
    const a = harness();
    configured(a, { kind: 'bundled', file: 'tiny-codewords.jsonl' }, 'b'.repeat(64));
    a.store.getState().setTokenizerChoice({ repo: 'tabtune/tiny-qwen2', revision: 'main' }, 'c'.repeat(40));
    const config = decodeShareLink((await a.share.makeLink())!);
    expect(config.model).toEqual({ repo: DEMO_MODEL_REPO, revision: 'main', sha: SHA });
    expect(config.tokenizer).toEqual({ repo: 'tabtune/tiny-qwen2', revision: 'main', sha: 'c'.repeat(40) });
  });

  it('restores every setting of a bundled run in a fresh store, pinned to the model commit', async () => {
    const a = harness();
    configured(a, { kind: 'bundled', file: 'tiny-codewords.jsonl' }, 'b'.repeat(64));
    const url = await a.share.makeLink();
    expect(url).toMatch(/^https:\/\/tabtune\.example\/#run=1\.[0-9a-f]{8}\./);
    expect(a.store.getState().outgoingLink).toEqual({ status: 'ready', url });
    const config = decodeShareLink(url!);
    expect(config.model).toEqual({ repo: DEMO_MODEL_REPO, revision: 'main', sha: SHA });
    expect(config.tokenizer).toEqual({ repo: DEMO_MODEL_REPO, revision: 'main', sha: SHA });
    expect(config.data).toEqual({ source: 'bundled', name: 'tiny-codewords.jsonl', hash: 'b'.repeat(64) });
    expect(config.hubEndpoint).toBeUndefined();
    expect(JSON.stringify(config)).not.toMatch(/wasm|backend/);

    const b = harness();
    expect(b.share.openLink(url!)).toBe(true);
    const s = b.store.getState();
    expect(s.runConfig).toEqual(config);
    expect(s.runConfig.mask).toBe('all');
    expect(s.runConfig.train.lr).toBe(0.003);
    expect(s.runConfig.seed).toBe(7);
    expect(s.runConfig.lora.r).toBe(4);
    expect(s.modelChoice).toEqual({ kind: 'bundled' });
    expect(s.datasetChoice).toEqual({ kind: 'bundled', file: 'tiny-codewords.jsonl' });
    expect(s.backendChoice).toBe('auto');
    expect(s.incomingLink).toMatchObject({ status: 'restored', summary: expect.stringContaining(`${DEMO_MODEL_REPO}@aaaaaaa on tiny-codewords.jsonl, mask all, lr 0.003, 5 steps, seed 7`) });

    // After the loads: a bundled file that changed since the link was made is pointed out.
    s.setModel(model(DEMO_MODEL_REPO, `${ORIGIN}/hub`));
    s.setDataset(dataset('tiny-codewords.jsonl', 'c'.repeat(64)));
    await b.share.completeRestore();
    expect(b.store.getState().incomingLink).toMatchObject({ status: 'restored', notes: [expect.stringMatching(/differs from the one the link was made with/)] });
  });

  it('pins a Hub model to its commit and carries a mirror endpoint', async () => {
    const a = harness();
    configured(a, { kind: 'bundled', file: 'tiny-codewords.jsonl' }, 'b'.repeat(64));
    a.store.getState().setHubEndpoint('http://127.0.0.1:9999/');
    a.store.getState().chooseModel({ kind: 'hub', repo: 'org/model', revision: 'dev' });
    a.store.getState().setModel(model('org/model', 'http://127.0.0.1:9999', 'dev'));
    const config = decodeShareLink((await a.share.makeLink())!);
    expect(config.hubEndpoint).toBe('http://127.0.0.1:9999');
    expect(config.model).toEqual({ repo: 'org/model', revision: 'dev', sha: SHA });
    const b = harness();
    b.share.openLink(`${ORIGIN}/#${(await a.share.makeLink())!.split('#')[1]}`);
    expect(b.store.getState().modelChoice).toEqual({ kind: 'hub', repo: 'org/model', revision: SHA });
    expect(b.store.getState().hubEndpoint).toBe('http://127.0.0.1:9999');
  });

  it('carries a Hub dataset by reference, pinned to its commit, with the Hub it came from', async () => {
    const a = harness();
    configured(a, { kind: 'bundled', file: 'tiny-codewords.jsonl' }, 'b'.repeat(64));
    const s = a.store.getState();
    s.setHubEndpoint('http://127.0.0.1:9999');
    s.chooseDataset({ kind: 'hub', name: 'train.jsonl', repo: 'org/chats', revision: 'main', file: 'train.jsonl' });
    s.setDataset({ ...dataset('train.jsonl', 'd'.repeat(64)), hub: { repo: 'org/chats', revision: 'main', sha: '9'.repeat(40), files: ['train.jsonl'] } });
    const config = decodeShareLink((await a.share.makeLink())!);
    expect(config.data).toEqual({ source: 'hub', repo: 'org/chats', revision: 'main', sha: '9'.repeat(40), file: 'train.jsonl', hash: 'd'.repeat(64) });
    expect(config.hubEndpoint).toBe('http://127.0.0.1:9999');

    const b = harness();
    b.share.openLink(a.store.getState().outgoingLink.status === 'ready' ? (a.store.getState().outgoingLink as { url: string }).url : '');
    expect(b.store.getState().modelChoice).toEqual({ kind: 'bundled' }); // the demo stays the app's own
    expect(b.store.getState().hubEndpoint).toBe('http://127.0.0.1:9999');
    expect(b.store.getState().datasetChoice).toEqual({ kind: 'hub', name: 'train.jsonl', repo: 'org/chats', revision: '9'.repeat(40), file: 'train.jsonl' });
  });

  it('carries a small upload inline and loads it from the link alone', async () => {
    const file = utf8.encode('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'.repeat(20));
    const a = harness();
    a.share.rememberUpload({ name: 'mine.jsonl', bytes: file });
    configured(a, { kind: 'upload', name: 'mine.jsonl' }, await sha256Hex(file));
    const url = (await a.share.makeLink())!;
    expect(decodeShareLink(url).data).toMatchObject({ source: 'upload', name: 'mine.jsonl', hash: await sha256Hex(file) });

    const b = harness();
    b.share.openLink(url);
    expect(b.store.getState().datasetChoice).toEqual({ kind: 'upload', name: 'mine.jsonl' });
    await b.share.completeRestore();
    expect(b.uploads.map((u) => [u.name, [...u.bytes]])).toEqual([['mine.jsonl', [...file]]]);
    expect(b.store.getState().incomingLink).toMatchObject({ status: 'restored', notes: [] });
  });

  it('asks for a large upload by hash and accepts only the same file', async () => {
    const big = noiseBytes(60_000);
    expect(toBase64Url(deflate(big)).length).toBeGreaterThan(MAX_INLINE_CHARS);
    const a = harness();
    a.share.rememberUpload({ name: 'big.jsonl', bytes: big });
    configured(a, { kind: 'upload', name: 'big.jsonl' }, await sha256Hex(big));
    const url = (await a.share.makeLink())!;

    const b = harness();
    b.share.openLink(url);
    await b.share.completeRestore();
    expect(b.store.getState().incomingLink).toMatchObject({ status: 'needs-file', problem: null, ref: { name: 'big.jsonl', hash: await sha256Hex(big) } });
    expect(b.uploads).toEqual([]);
    const other = big.slice();
    other[0] = other[0]! ^ 1;
    await b.share.supplyFile({ name: 'big.jsonl', bytes: other });
    expect(b.store.getState().incomingLink).toMatchObject({ status: 'needs-file', problem: expect.stringMatching(/not the data this run used.*Choose the original "big\.jsonl"/) });
    expect(b.uploads).toEqual([]);
    await b.share.supplyFile({ name: 'renamed.jsonl', bytes: big });
    expect(b.store.getState().incomingLink.status).toBe('restored');
    expect(b.uploads.map((u) => [u.name, u.bytes.length])).toEqual([['big.jsonl', big.length]]);
  });

  it('refuses a tampered link with a message and keeps the defaults', async () => {
    const a = harness();
    configured(a, { kind: 'bundled', file: 'tiny-codewords.jsonl' }, 'b'.repeat(64));
    const url = (await a.share.makeLink())!;
    const at = url.length - 12;
    const flipped = url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
    const b = harness();
    expect(b.share.openLink(flipped)).toBe(false);
    const s = b.store.getState();
    expect(s.incomingLink).toMatchObject({ status: 'error', message: expect.stringMatching(/altered|damaged|compressed data|Ask for the link again/) });
    expect(s.runConfig).toEqual(defaultRunConfig());
    expect(s.modelChoice).toEqual({ kind: 'bundled' });
    await b.share.completeRestore(); // nothing to finish
    expect(b.uploads).toEqual([]);
  });

  it('says what to do when the model or dataset has not loaded', async () => {
    const a = harness();
    expect(await a.share.makeLink()).toBeNull();
    expect(a.store.getState().outgoingLink).toMatchObject({ status: 'error', message: expect.stringMatching(/Wait for the model to load/) });
    a.store.getState().setModel(model(DEMO_MODEL_REPO, `${ORIGIN}/hub`));
    a.store.getState().setModelState({ status: 'ready' });
    expect(await a.share.makeLink()).toBeNull();
    expect(a.store.getState().outgoingLink).toMatchObject({ status: 'error', message: expect.stringMatching(/Load a dataset first/) });
  });
});
