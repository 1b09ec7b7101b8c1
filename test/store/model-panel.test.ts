// The Model panel's store side: the memory-fit verdict against the probe's adapter limits (pure), and the actions
// against the real worker host and the Hub mirror — the bill follows the run's batch and max length, a separate
// tokenizer is checked, the weights download reports bytes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModelLoader } from '../../src/store/actions';
import { MEMORY_DEBOUNCE_MS, createModelPanelActions } from '../../src/store/model-panel';
import { WASM_HEAP_BYTES, memoryFit, memoryLimits, selectMemoryShape, trainingBackend } from '../../src/store/model-panel';
import { createAppStore } from '../../src/store/store';
import type { Capability, MemoryEstimate } from '../../src/worker/protocol';
import { startHarness, type Harness } from '../worker/harness';

const MiB = 1024 ** 2;
const memory = (problems: string[], limits?: NonNullable<MemoryEstimate['shape']['limits']>): MemoryEstimate => ({
  shape: { batch: 8, seqLen: 1024, lora: { r: 8, targets: ['q_proj'] }, ...(limits ? { limits } : {}) }, weightBytes: 1, weightCopies: 1, trainableParams: 10,
  trainableBytes: 40, gradientBytes: 40, optimizerBytes: 80, activationBytes: 1, largestTensorBytes: 600 * MiB, largestTensorName: 'logits [8×1024, 1000]',
  activationNote: 'n', totalBytes: 162, problems,
});
const webgpu = (limits: Record<string, number>): Capability => ({
  webgpu: { available: true, adapter: { vendor: 'v', architecture: 'a', device: 'd', description: '', isFallbackAdapter: false, features: [], limits } },
  backend: 'webgpu', crossOriginIsolated: true, hardwareConcurrency: 2, wasmThreads: 1, userAgent: 'test',
});
const wasm: Capability = { webgpu: { available: false, reason: 'r', hint: 'h' }, backend: 'wasm', crossOriginIsolated: true, hardwareConcurrency: 2, wasmThreads: 1, userAgent: 'test' };

describe('memory limits and fit', () => {
  it('asks for the WebGPU buffer limits, or the WASM heap, or nothing before the probe', () => {
    expect(memoryLimits(webgpu({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB, maxComputeWorkgroupSizeX: 256 })))
      .toEqual({ maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB });
    expect(memoryLimits(wasm)).toEqual({ budgetBytes: WASM_HEAP_BYTES, sessionWeights: true });
    expect(memoryLimits(null)).toBeUndefined();
  });

  it('follows the backend choice: a software adapter (auto → WASM) bills the heap unless WebGPU is picked', () => {
    const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };
    const swiftshader: Capability = { ...webgpu(limits), backend: 'wasm', backendNote: 'software renderer (SwiftShader)' };
    expect(trainingBackend(swiftshader, 'auto')).toBe('wasm');
    expect(memoryLimits(swiftshader, 'auto')).toEqual({ budgetBytes: WASM_HEAP_BYTES, sessionWeights: true });
    expect(trainingBackend(swiftshader, 'webgpu')).toBe('webgpu');
    expect(memoryLimits(swiftshader, 'webgpu')).toEqual(limits);
    expect(memoryLimits(webgpu(limits), 'wasm')).toEqual({ budgetBytes: WASM_HEAP_BYTES, sessionWeights: true });
    // WebGPU picked where there is none: WASM is what runs.
    expect(trainingBackend(wasm, 'webgpu')).toBe('wasm');
    expect(memoryFit(memory([], limits), swiftshader, 'webgpu').note).toMatch(/does not report how much memory/);
    expect(memoryFit(memory([], { budgetBytes: WASM_HEAP_BYTES, sessionWeights: true }), swiftshader, 'auto').note).toBeNull();
  });

  it('refuses with the worker\'s reasons, passes without, and knows nothing before the probe', () => {
    const gpu = webgpu({ maxStorageBufferBindingSize: 128 * MiB });
    expect(memoryFit(memory(['too big'], { maxStorageBufferBindingSize: 128 * MiB }), gpu)).toMatchObject({ verdict: 'refused', problems: ['too big'] });
    expect(memoryFit(memory([], { maxStorageBufferBindingSize: 128 * MiB }), gpu)).toEqual({ verdict: 'fits', problems: [], note: expect.stringMatching(/does not report how much memory/) });
    expect(memoryFit(memory([], { budgetBytes: WASM_HEAP_BYTES, sessionWeights: true }), wasm)).toEqual({ verdict: 'fits', problems: [], note: null });
    expect(memoryFit(memory([]), null).verdict).toBe('unknown');
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
  it('bills GPT-2 with the targets its trainer uses, and explains a missing bill for targets the model lacks', async () => {
    const store = createAppStore({ origin: 'http://o' });
    createModelPanelActions(store, h.client);
    store.getState().setHubEndpoint(hub);
    store.getState().chooseModel({ kind: 'hub', repo: 'tabtune/tiny-gpt2', revision: 'main' });
    await createModelLoader(store, h.client)();
    // The schema's default targets are Llama names; the trainer gives GPT-2 PEFT's c_attn, and so does the bill.
    expect(store.getState().modelState).toEqual({ status: 'ready' });
    expect(store.getState().model?.memoryError).toBeNull();
    const c_attn = store.getState().model?.memory?.trainableParams;
    expect(c_attn).toBeGreaterThan(0);
    const s = store.getState();
    s.setRunConfig({ ...s.runConfig, lora: { ...s.runConfig.lora, targets: ['q_proj'] } });
    await expect.poll(() => store.getState().model?.memoryError ?? '', { timeout: 5000 }).toMatch(/q_proj/);
    s.setRunConfig({ ...s.runConfig, lora: { ...s.runConfig.lora, targets: ['c_attn'] } });
    await expect.poll(() => store.getState().model?.memory?.shape.lora.targets, { timeout: 5000 }).toEqual(['c_attn']);
    expect(store.getState().model?.memoryError).toBeNull();
    expect(store.getState().model?.memory?.trainableParams).toBe(c_attn);

    // Full-tensor training is billed too: the embeddings (wte [V, H] and wpe [P, H]) join the trainable parameters.
    const cfg = store.getState().model?.config;
    if (!cfg) throw new Error('no model config in the summary');
    s.setRunConfig({ ...s.runConfig, full: { groups: ['embeddings'], layers: [] } });
    await expect.poll(() => store.getState().model?.memory?.shape.full?.groups, { timeout: 5000 }).toEqual(['embeddings']);
    const embeddings = ((cfg.vocab_size ?? 0) + (cfg.max_position_embeddings ?? 0)) * (cfg.hidden_size ?? 0);
    expect(embeddings).toBe((50257 + 128) * 64);
    expect(store.getState().model?.memory?.trainableParams).toBe((c_attn ?? 0) + embeddings);
  });

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

    // The probe's limits reach the worker's check: a buffer limit below the logits refuses, with the numbers.
    store.getState().setCapability(webgpu({ maxStorageBufferBindingSize: 16 * MiB, maxBufferSize: 1024 * MiB }));
    await expect.poll(() => store.getState().model?.memory?.shape.limits?.maxStorageBufferBindingSize, { timeout: 5000 }).toBe(16 * MiB);
    const refused = store.getState().model?.memory;
    expect(refused?.problems.join(' ')).toMatch(/maxStorageBufferBindingSize/);
    expect(refused?.largestTensorName).toMatch(/^logits/);
    if (!refused) throw new Error('no bill');
    expect(memoryFit(refused, store.getState().capability).verdict).toBe('refused');

    await actions.checkTokenizer({ repo: 'tabtune/tiny-gpt2', revision: 'main' });
    const check = store.getState().tokenizerCheck;
    expect(store.getState().tokenizerCheckState).toEqual({ status: 'ready' });
    expect(check?.problems.some((p) => p.level === 'warn' && /eos_token differs/.test(p.message))).toBe(true);
    // The choice lives in the run config (run.prepare reads it), pinned to the commit the check resolved.
    expect(store.getState().runConfig.tokenizer).toEqual({ repo: 'tabtune/tiny-gpt2', revision: 'main', sha: check?.sha });
    // A tokenizer that cannot be read leaves the one in use (the run keeps working) and says so beside the field.
    const pinned = store.getState().runConfig.tokenizer;
    await actions.checkTokenizer({ repo: 'tabtune/no-such-tokenizer', revision: 'main' });
    expect(store.getState().runConfig.tokenizer).toEqual(pinned);
    const failed = store.getState().tokenizerCheckState;
    expect(failed.status === 'error' && failed.message).toMatch(/tabtune\/no-such-tokenizer.*\(still using tabtune\/tiny-gpt2@main tokenizer\)/s);
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
