// Push to the Hub from the app's actions, through the real worker host, to the mirror's commit endpoint: the adapter
// folder lands in one commit and the commit URL reaches the store; 401 and 403 say what to do; and the pasted token
// appears nowhere it could leak — not in the store (the e2e snapshot), a share link, the saved run config, or any log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { sha256Hex } from '../../src/share/codec';
import { defaultRunConfig } from '../../src/share/run-config';
import { createExportActions } from '../../src/store/export-actions';
import { createRunActions } from '../../src/store/run';
import { createShareActions } from '../../src/store/share';
import { createAppStore } from '../../src/store/store';
import { startCommitServer, type CommitServer } from '../hub-mirror/commit';
import { startHarness, type Harness } from '../worker/harness';

const TOKEN = 'hf_appPushTokenQwErTy0123456789';
const BAD = 'hf_notAValidTokenForThisHub0000';
const DATA = 'tiny-codewords.jsonl';
const raw = readFileSync(join(process.cwd(), 'public/datasets', DATA));

let h: Harness;
let hub: CommitServer;
let root: string;
const logged: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tabtune-app-push-'));
  hub = await startCommitServer({ root, tokens: { [TOKEN]: ['alice'] } });
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original(...args);
    });
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  h.close();
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

describe('push to the Hub from the app', () => {
  it('commits the adapter folder, shows the commit, explains 401/403, and never keeps the token', { timeout: 240_000 }, async () => {
    const store = createAppStore({ origin: 'https://tabtune.example' });
    const run = createRunActions(store, h.client);
    const share = createShareActions(store, { uploadDataset: () => Promise.resolve(), pageUrl: () => 'https://tabtune.example/' });
    const exporting = createExportActions(store, { client: h.client, share, run, save: () => undefined, saveBlob: () => undefined, reloadRun: () => Promise.resolve() });
    const location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
    const base = defaultRunConfig();
    const config = { ...base, maxLength: 64, train: { ...base.train, steps: 1, batchSize: 2, warmupSteps: 0, evalEvery: 0, sampleEvery: 0 } };
    const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const prepared = await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes }, config });
    const model = await h.client.request('model.inspect', { location });
    const s = store.getState();
    s.setModel(model);
    s.setModelState({ status: 'ready' });
    s.chooseDataset({ kind: 'bundled', file: DATA });
    s.setDataset({ name: DATA, bytes: raw.length, hash: `sha256:${await sha256Hex(raw)}`, fileFormat: 'jsonl', layout: 'messages', rowCount: 8, rows: [], issues: [], issueCount: 0 });
    s.setDatasetState({ status: 'ready' });
    s.setRunConfig(config);
    s.setPrepared(prepared, { status: 'ready' });
    s.setHubEndpoint(hub.url);
    await run.start();
    expect(store.getState().phase).toBe('completed');

    await exporting.push({ token: TOKEN, repo: 'alice/tiny-lora', private: true });
    const after = store.getState();
    expect(after.pushState).toEqual({ status: 'ready' });
    expect(after.pushResult).toMatchObject({ repo: 'alice/tiny-lora', created: true, repoUrl: `${hub.url}/alice/tiny-lora` });
    expect(after.pushResult!.commitUrl).toBe(`${hub.url}/alice/tiny-lora/commit/${after.pushResult!.commitOid}`);
    expect(hub.commits).toHaveLength(1);
    expect([...hub.commits[0]!.files].sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(hub.commits[0]!.summary).toBe('Upload LoRA adapter (step 1) trained with TabTune');

    // A second push to the same repo adds a commit.
    await exporting.push({ token: TOKEN, repo: 'alice/tiny-lora', private: true });
    expect(store.getState().pushResult).toMatchObject({ created: false });

    // No rights on the namespace, then a token the Hub does not know: each says what to do.
    await exporting.push({ token: TOKEN, repo: 'bob/tiny-lora', private: true });
    expect(store.getState().pushState).toMatchObject({ status: 'error', message: expect.stringMatching(/HTTP 403.*write access to the "bob" namespace/s) });
    await exporting.push({ token: BAD, repo: 'alice/tiny-lora', private: true });
    expect(store.getState().pushState).toMatchObject({ status: 'error', message: expect.stringMatching(/rejected the token \(HTTP 401/) });
    expect(store.getState().pushResult).toBeNull();

    // Nowhere to be found: the store snapshot (what e2e reads and main.tsx saves from), a share link, any log line.
    const snapshot = JSON.stringify(store.getState());
    const link = await share.makeLink();
    expect(link).toMatch(/#run=/);
    for (const secret of [TOKEN, BAD]) {
      expect(snapshot).not.toContain(secret);
      expect(link).not.toContain(secret);
      expect(JSON.stringify(store.getState().runConfig)).not.toContain(secret);
      expect(logged.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
