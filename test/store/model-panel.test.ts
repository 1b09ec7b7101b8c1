// The Model panel's store side: the memory-fit verdict against the probe's adapter limits (pure), and the actions
// against the real worker host and the Hub mirror — the bill follows the run's batch and max length, a separate
// tokenizer is checked, the weights download reports bytes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModelLoader } from '../../src/store/actions';
import { MEMORY_DEBOUNCE_MS, createModelPanelActions } from '../../src/store/model-panel-actions';
import { WASM_HEAP_BYTES, memoryFit, selectMemoryShape } from '../../src/store/model-panel';
import { createAppStore } from '../../src/store/store';
import type { Capability, MemoryEstimate } from '../../src/worker/protocol';
import { startHarness, type Harness } from '../worker/harness';

const MiB = 1024 ** 2;
const memory = (largest: number, total: number): MemoryEstimate => ({
  shape: { batch: 8, seqLen: 1024, lora: { r: 8, targets: ['q_proj'] } }, weightBytes: total / 2, trainableParams: 10,
  trainableBytes: 40, gradientBytes: 40, optimizerBytes: 80, activationBytes: total / 2 - 160, largestTensorBytes: largest, totalBytes: total,
});
const webgpu = (limits: Record<string, number>): Capability => ({
  webgpu: { available: true, adapter: { vendor: 'v', architecture: 'a', device: 'd', description: '', isFallbackAdapter: false, features: [], limits } },
  backend: 'webgpu', crossOriginIsolated: true, hardwareConcurrency: 2, userAgent: 'test',
});
const wasm: Capability = { webgpu: { available: false, reason: 'r', hint: 'h' }, backend: 'wasm', crossOriginIsolated: true, hardwareConcurrency: 2, userAgent: 'test' };

describe('memoryFit', () => {
  it('refuses a tensor larger than one WebGPU buffer, naming the limit, the numbers and what to change', () => {
    const fit = memoryFit(memory(600 * MiB, 2000 * MiB), webgpu({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB }));
    expect(fit.verdict).toBe('refused');
    expect(fit.problems).toHaveLength(2);
    expect(fit.problems[0]).toBe('The largest tensor needs 600 MiB, but this GPU allows at most 128 MiB in one buffer (maxStorageBufferBindingSize). Lower the batch size (8) or the max length (1024), or pick a smaller model.');
    expect(fit.problems[1]).toMatch(/at most 256 MiB in one buffer \(maxBufferSize\)/);
  });

  it('passes within the limits, and says that the GPU total is not reported', () => {
    const fit = memoryFit(memory(100 * MiB, 9000 * MiB), webgpu({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB }));
    expect(fit).toEqual({ verdict: 'fits', problems: [], note: expect.stringMatching(/does not report how much memory/) });
  });

  it('holds the WASM backend to the 4 GiB heap, and knows nothing before the probe', () => {
    expect(memoryFit(memory(1, WASM_HEAP_BYTES + 1), wasm).problems[0]).toMatch(/^Training on the CPU \(WebAssembly\) needs 4,096 MiB, past the 4 GiB/);
    expect(memoryFit(memory(1, WASM_HEAP_BYTES), wasm).verdict).toBe('fits');
    expect(memoryFit(memory(1, 1), null).verdict).toBe('unknown');
  });
});

let h: Harness;
let hub: string;
beforeAll(() => {
  h = startHarness();
  hub = inject('hubMirrorUrl');
});
afterAll(() => h.close());

describe('model panel actions', () => {
  it('keeps the bill in step with the batch and max length, checks a tokenizer, downloads with bytes', async () => {
    const store = createAppStore({ origin: 'http://o' });
    const actions = createModelPanelActions(store, h.client);
    store.getState().setHubEndpoint(hub);
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/tiny-llama', revision: 'main' });
    await createModelLoader(store, h.client)();
    const first = store.getState().model?.memory;
    if (!first) throw new Error('no memory bill after model.inspect');
    expect(first.shape).toEqual(selectMemoryShape(store.getState()));

    const s = store.getState();
    s.setRunConfig({ ...s.runConfig, maxLength: 2 * s.runConfig.maxLength, train: { ...s.runConfig.train, batchSize: 1 } });
    await new Promise((r) => setTimeout(r, MEMORY_DEBOUNCE_MS + 50));
    await expect.poll(() => store.getState().model?.memory?.shape.seqLen).toBe(2 * first.shape.seqLen);
    const second = store.getState().model?.memory;
    expect(second?.shape.batch).toBe(1);
    expect(second?.weightBytes).toBe(first.weightBytes);
    expect(second?.activationBytes).not.toBe(first.activationBytes);
    expect(store.getState().memoryState).toEqual({ status: 'ready' });

    await actions.checkTokenizer({ repo: 'tabtune/tiny-gpt2', revision: 'main' });
    const check = store.getState().tokenizerCheck;
    expect(store.getState().tokenizerCheckState).toEqual({ status: 'ready' });
    expect(check?.problems.some((p) => p.level === 'warn' && /eos_token differs/.test(p.message))).toBe(true);
    // The choice lives in the run config (run.prepare reads it), pinned to the commit the check resolved.
    expect(store.getState().runConfig.tokenizer).toEqual({ repo: 'tabtune/tiny-gpt2', revision: 'main', sha: check?.sha });
    await actions.checkTokenizer(null);
    expect([store.getState().runConfig.tokenizer, store.getState().tokenizerCheck]).toEqual([undefined, null]);

    await actions.download();
    const model = store.getState().model;
    const size = model?.files.find((f) => f.path === 'model.safetensors')?.size;
    expect(store.getState().downloaded).toEqual({ repo: 'tabtune/tiny-llama', sha: model?.sha, bytes: size });
    expect(store.getState().downloadState).toEqual({ status: 'ready' });
    // Node has no Cache API: the list says so instead of showing an empty cache.
    expect(store.getState().cacheState).toMatchObject({ status: 'error', message: expect.stringMatching(/no Cache API/) });
  });
});
