// The settings kept across reloads through zustand's persist middleware: what a second page (a new store on the same
// storage) gets back, that malformed fields fall back one by one, that uploads are not kept, and that entries written
// by the one-key-per-setting versions carry over.
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../src/store/store';
import { SETTINGS_KEY, settingsStorage } from '../../src/store/persist';
import { defaultRunConfig } from '../../src/share/run-config';

/** The Web Storage interface over a Map: what localStorage does, minus the browser. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() { return this.items.size; }
  clear() { this.items.clear(); }
  getItem(key: string) { return this.items.get(key) ?? null; }
  key(i: number) { return [...this.items.keys()][i] ?? null; }
  removeItem(key: string) { this.items.delete(key); }
  setItem(key: string, value: string) { this.items.set(key, String(value)); }
}

const page = (storage: Storage) => createAppStore({ origin: 'http://o', storage: settingsStorage(() => storage) });

describe('kept settings', () => {
  it('a reload gets back the run config, sources, backend and theme', () => {
    const storage = new MemoryStorage();
    const first = page(storage).getState();
    const config = { ...defaultRunConfig(), seed: 7, lora: { ...defaultRunConfig().lora, r: 16 } };
    first.setRunConfig(config);
    first.setTheme('dark');
    first.setBackendChoice('wasm');
    first.setHubEndpoint('http://127.0.0.1:41951/');
    first.chooseModel({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    first.chooseDataset({ kind: 'bundled', file: 'tiny-codewords.jsonl' });
    first.setPhase('running'); // not a setting: never kept
    // Changes to state that is not kept do not write the entry again (persist saves after every change).
    let writes = 0;
    const setItem = storage.setItem.bind(storage);
    storage.setItem = (k, v) => { writes += 1; setItem(k, v); };
    first.setPhase('paused');
    first.appendMetric({ step: 1, trainLoss: 2 });
    expect(writes).toBe(0);
    storage.setItem = setItem;

    const second = page(storage).getState();
    expect(second.runConfig).toEqual(config);
    expect(second.theme).toBe('dark');
    expect(second.backendChoice).toBe('wasm');
    expect(second.hubEndpoint).toBe('http://127.0.0.1:41951');
    expect(second.modelChoice).toEqual({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    expect(second.datasetChoice).toEqual({ kind: 'bundled', file: 'tiny-codewords.jsonl' });
    expect(second.phase).toBe('idle');
    expect(Object.keys(JSON.parse(storage.getItem(SETTINGS_KEY)!).state).sort())
      .toEqual(['backendChoice', 'datasetChoice', 'hubEndpoint', 'modelChoice', 'runConfig', 'theme']);
  });

  it('keeps an uploaded file as no dataset choice (its bytes are not kept)', () => {
    const storage = new MemoryStorage();
    page(storage).getState().chooseDataset({ kind: 'upload', name: 'mine.jsonl' });
    expect(page(storage).getState().datasetChoice).toBeNull();
  });

  it.each([
    ['an unknown model kind', { modelChoice: { kind: 'local', path: '/etc' } }, 'modelChoice'],
    ['a repo id with a path in it', { modelChoice: { kind: 'hub', repo: '../../x', revision: 'main' } }, 'modelChoice'],
    ['an endpoint that is not a URL', { hubEndpoint: 'javascript:alert(1)x y' }, 'hubEndpoint'],
    ['an upload choice', { datasetChoice: { kind: 'upload', name: 'a.jsonl' } }, 'datasetChoice'],
    ['a run config that no longer validates', { runConfig: { model: 42 } }, 'runConfig'],
    ['an unknown theme', { theme: 'neon' }, 'theme'],
  ] as const)('drops %s and keeps the other fields', (_what, bad, field) => {
    const storage = new MemoryStorage();
    const good = page(storage).getState();
    good.setTheme('light');
    good.setBackendChoice('webgpu');
    const saved = JSON.parse(storage.getItem(SETTINGS_KEY)!);
    storage.setItem(SETTINGS_KEY, JSON.stringify({ ...saved, state: { ...saved.state, ...bad } }));
    const fresh = createAppStore({ origin: 'http://o' }).getState();
    const s = page(storage).getState();
    expect(s[field]).toEqual(fresh[field]);
    if (field !== 'theme') expect(s.theme).toBe('light');
    expect(s.backendChoice).toBe('webgpu');
  });

  it('ignores an entry that is not JSON or is oversized', () => {
    for (const raw of ['{"state":', JSON.stringify({ state: { theme: 'dark', pad: 'x'.repeat(70_000) }, version: 1 })]) {
      const storage = new MemoryStorage();
      storage.setItem(SETTINGS_KEY, raw);
      expect(page(storage).getState().theme).toBe('system');
    }
  });

  it('carries over the settings saved one key each by earlier versions', () => {
    const storage = new MemoryStorage();
    const config = { ...defaultRunConfig(), seed: 11 };
    storage.setItem('tabtune.runConfig', JSON.stringify(config));
    storage.setItem('tabtune.backend', 'wasm');
    storage.setItem('tabtune.theme', 'dark');
    storage.setItem('tabtune.sources', JSON.stringify({
      hubEndpoint: 'http://127.0.0.1:9', modelChoice: { kind: 'bundled' }, datasetChoice: { kind: 'bundled', file: 'x.jsonl' },
    }));
    const s = page(storage).getState();
    expect(s.runConfig).toEqual(config);
    expect([s.backendChoice, s.theme, s.hubEndpoint]).toEqual(['wasm', 'dark', 'http://127.0.0.1:9']);
    expect(s.datasetChoice).toEqual({ kind: 'bundled', file: 'x.jsonl' });
  });

  it('runs on a storage that throws (blocked by policy) with the defaults', () => {
    const blocked = () => { throw new DOMException('blocked', 'SecurityError'); };
    const store = createAppStore({ origin: 'http://o', storage: settingsStorage(blocked) });
    store.getState().setTheme('dark');
    expect(store.getState().theme).toBe('dark');
  });
});
