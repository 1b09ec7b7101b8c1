// The store: slices, selectors and the worker-backed actions, with the real host over a MessageChannel and the
// real Hub mirror standing in for the app's own static /hub.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatasetLoader, createModelLoader, probeCapability } from '../../src/store/actions';
import { bundledDatasetUrl, demoEndpoint, selectFallbackBanner, selectModelLocation } from '../../src/store/selectors';
import { DEMO_REPO, MAX_METRIC_POINTS, PUBLIC_HUB } from '../../src/store/slices';
import { createAppStore } from '../../src/store/store';
import { startHarness, type Harness } from '../worker/harness';

let h: Harness;
let hub: string;
beforeAll(() => {
  h = startHarness();
  hub = inject('hubMirrorUrl');
});
afterAll(() => h.close());

describe('store slices and selectors', () => {
  it('starts on the bundled demo served under the app origin, with the public Hub as the endpoint setting', () => {
    const store = createAppStore({ origin: 'http://127.0.0.1:4173' });
    const s = store.getState();
    expect(s.hubEndpoint).toBe(PUBLIC_HUB);
    expect(selectModelLocation(s)).toEqual({ endpoint: 'http://127.0.0.1:4173/hub', repo: DEMO_REPO, revision: 'main' });
    expect(demoEndpoint('http://x/')).toBe('http://x/hub');
    expect(bundledDatasetUrl('http://x', 'a b.jsonl')).toBe('http://x/datasets/a%20b.jsonl');
  });

  it('uses the endpoint setting for Hub models, trimmed of trailing slashes', () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().setHubEndpoint(' http://mirror:9/// ');
    store.getState().chooseModel({ kind: 'hub', repo: 'Qwen/Qwen3-0.6B', revision: 'main' });
    expect(selectModelLocation(store.getState())).toEqual({ endpoint: 'http://mirror:9', repo: 'Qwen/Qwen3-0.6B', revision: 'main' });
  });

  it('shows the WASM fallback banner only when WebGPU is missing, with the reason', () => {
    const store = createAppStore({ origin: 'http://o' });
    expect(selectFallbackBanner(store.getState())).toBeNull();
    const base = { crossOriginIsolated: false, hardwareConcurrency: 2, wasmThreads: 1, userAgent: 'test' };
    store.getState().setCapability({ ...base, backend: 'wasm', webgpu: { available: false, reason: 'No adapter.', hint: 'Try X.' } });
    expect(selectFallbackBanner(store.getState())).toMatch(/WebAssembly.*No adapter\..*Try X\./);
    store.getState().setCapability({
      ...base, backend: 'webgpu',
      webgpu: { available: true, adapter: { vendor: 'v', architecture: 'a', device: '', description: '', isFallbackAdapter: false, features: [], limits: {} } },
    });
    expect(selectFallbackBanner(store.getState())).toBeNull();
  });

  it('keeps the metrics bounded, thinning old points but never the latest', () => {
    const store = createAppStore({ origin: 'http://o' });
    for (let step = 1; step <= MAX_METRIC_POINTS + 1; step++) store.getState().appendMetric({ step, trainLoss: 1 / step });
    const { metrics, step } = store.getState();
    expect(metrics.length).toBeLessThanOrEqual(MAX_METRIC_POINTS);
    expect(metrics.at(-1)?.step).toBe(MAX_METRIC_POINTS + 1);
    expect(metrics[0]?.step).toBe(1);
    expect(step).toBe(MAX_METRIC_POINTS + 1);
  });

  it('collects and dismisses errors by id', () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().reportError('model', 'a');
    store.getState().reportError('dataset', 'b');
    const [first] = store.getState().errors;
    store.getState().dismissError(first?.id ?? -1);
    expect(store.getState().errors.map((e) => e.message)).toEqual(['b']);
  });

  it('holds only plain data (no class instances, no typed arrays) so it serialises losslessly', () => {
    const store = createAppStore({ origin: 'http://o' });
    const data = Object.fromEntries(Object.entries(store.getState()).filter(([, v]) => typeof v !== 'function'));
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });
});

describe('store actions over the worker', () => {
  it('probes capability into the capability slice', async () => {
    const store = createAppStore({ origin: 'http://o' });
    await probeCapability(store, h.client);
    expect(store.getState().capabilityState).toEqual({ status: 'ready' });
    expect(store.getState().capability?.backend).toBe('wasm');
  });

  it('loads a model summary, and a newer load cancels the older one', async () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().setHubEndpoint(hub);
    const load = createModelLoader(store, h.client);
    const seen: string[] = [];
    store.subscribe((s) => {
      if (s.model && seen.at(-1) !== s.model.config.model_type) seen.push(s.model.config.model_type ?? '?');
    });
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    const first = load();
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/tiny-gpt2', revision: 'main' });
    const second = load();
    await Promise.all([first, second]);
    expect(seen).toEqual(['gpt2']); // the cancelled llama load never reached the store
    expect(store.getState().modelState).toEqual({ status: 'ready' });
    expect(store.getState().errors).toEqual([]);
  });

  it('puts a load failure in the model slice state, with the hub error text', async () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().setHubEndpoint(hub);
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/missing', revision: 'main' });
    await createModelLoader(store, h.client)();
    const state = store.getState().modelState;
    expect(state.status === 'error' && state.message).toMatch(/tabtune\/missing/);
  });

  it('a failed load keeps the model that loaded before and the choice that loaded it; an unreachable Hub says so', async () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().setHubEndpoint(hub);
    const load = createModelLoader(store, h.client);
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    await load();
    const working = store.getState().model;
    expect(working?.location.repo).toBe('tabtune/tiny-llama');

    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/missing', revision: 'main' });
    await load();
    let s = store.getState();
    expect(s.model).toBe(working);
    expect(s.modelState).toEqual({ status: 'ready' });
    expect(s.modelChoice).toEqual({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    expect(s.modelLoadFailure).toMatchObject({ asked: 'tabtune/missing@main', unreachable: false });
    expect(s.modelLoadFailure?.message).toMatch(/tabtune\/missing/);

    // A Hub that cannot be reached at all (nothing listens on port 9 of this host): the endpoint comes back too.
    s.setHubEndpoint('http://127.0.0.1:9');
    s.chooseModel({ kind: 'hub', repo: 'tabtune/tiny-gpt2', revision: 'main' });
    await load();
    s = store.getState();
    expect(s.model).toBe(working);
    expect(s.hubEndpoint).toBe(hub);
    expect(s.modelLoadFailure).toMatchObject({ asked: 'tabtune/tiny-gpt2@main', unreachable: true });

    // The next load that works clears the failure.
    s.chooseModel({ kind: 'hub', repo: 'tabtune/tiny-gpt2', revision: 'main' });
    await load();
    expect(store.getState().model?.location.repo).toBe('tabtune/tiny-gpt2');
    expect(store.getState().modelLoadFailure).toBeNull();
  });

  it('a failed dataset load keeps the dataset shown and its choice', async () => {
    const store = createAppStore({ origin: 'http://o' });
    store.getState().setHubEndpoint(hub);
    const load = createDatasetLoader(store, h.client);
    await load({ name: 'mine.jsonl', bytes: new TextEncoder().encode('{"text":"one"}\n').buffer as ArrayBuffer });
    const shown = store.getState().dataset;
    const config = store.getState().runConfig.data;
    store.getState().chooseDataset({ kind: 'hub', repo: 'tabtune/no-such-dataset', revision: 'main', name: 'tabtune/no-such-dataset' });
    await load();
    const s = store.getState();
    expect(s.dataset).toBe(shown);
    expect(s.datasetChoice).toEqual({ kind: 'upload', name: 'mine.jsonl' });
    expect(s.runConfig.data).toEqual(config);
    expect(s.datasetState).toEqual({ status: 'ready' });
    expect(s.datasetLoadFailure?.asked).toBe('tabtune/no-such-dataset');
  });

  it('previews an uploaded dataset and records the upload as the choice', async () => {
    const store = createAppStore({ origin: 'http://o' });
    const bytes = new TextEncoder().encode('{"text":"one"}\n{"text":"two"}\n').buffer as ArrayBuffer;
    await createDatasetLoader(store, h.client)({ name: 'mine.jsonl', bytes });
    expect(store.getState().datasetChoice).toEqual({ kind: 'upload', name: 'mine.jsonl' });
    expect(store.getState().dataset?.rowCount).toBe(2);
    expect(store.getState().dataset?.layout).toBe('text');
  });
});
