// A run through the worker protocol in Node: the real host and client over a MessageChannel, the tiny Qwen3 fixture
// from the Hub mirror, a bundled dataset, onnxruntime-web WASM as the backend. Prepare under two mask policies, read
// an example, inspect one batch through the step graph, train with pause/resume, and check the numbers agree.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import type { HubLocation, WorkerEvent } from '../../src/worker/protocol';
import { bundledDataset, startHarness, type Harness } from './harness';

let h: Harness;
let location: HubLocation;
const DATA = 'tiny-codewords.jsonl';

function config(over: Partial<RunConfig> = {}, train: Partial<RunConfig['train']> = {}): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base, maxLength: 64, evalFraction: 0.2, ...over,
    train: { ...base.train, steps: 4, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 2, sampleEvery: 2, checkpointEvery: 2, ...train },
  };
}

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
});
afterAll(() => h.close());

describe('a run through the worker', () => {
  it('prepares examples under a mask policy and changes them when the policy changes', async () => {
    const assistant = await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config() });
    expect(assistant.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(assistant.examples).toHaveLength(8);
    expect(assistant.trainCount + assistant.evalCount).toBe(8);
    expect(assistant.evalCount).toBeGreaterThan(0);
    const all = await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config({ mask: 'all' }) });
    // Under `all` every token is a target; under `assistant` only the answer and its end-of-turn token are.
    for (const [i, e] of all.examples.entries()) {
      expect(e.targets).toBe(e.tokens);
      expect(assistant.examples[i]!.targets).toBeLessThan(e.tokens);
      expect(assistant.examples[i]!.targets).toBeGreaterThan(2);
    }
  });

  it('serves one example with token texts, labels and the naive comparisons', async () => {
    await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config() });
    const ex = await h.client.request('example.get', { index: 0 });
    expect(ex.text).toContain('What is the codeword for red?');
    const trained = ex.tokens.filter((t) => t.label !== -100).map((t) => t.text).join('');
    expect(trained).toContain('The codeword for red is ember.');
    expect(trained).toContain('<|im_end|>');
    expect(trained).not.toContain('What is the codeword');
    expect(ex.tokens.some((t) => t.special && t.text === '<|im_start|>')).toBe(true);
    expect(ex.naive.map((n) => n.method)).toEqual(['last-assistant-token', 'prompt-length']);
    await expect(h.client.request('example.get', { index: 99 })).rejects.toThrow(/no example 99/);
  });

  it('inspects the first batch with the step graph; training starts from the same loss, pauses and resumes', { timeout: 240_000 }, async () => {
    await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config() });
    const inspected = await h.client.request('batch.inspect', { backend: 'auto', config: config() });
    expect(inspected.batch).toBe(2);
    // It says which backend ran it: the one the harness opened for this choice.
    expect(inspected.backendLabel).toMatch(/^(WASM|CPU|WebGPU) \(onnxruntime-/);
    expect(inspected.inputIds).toHaveLength(2);
    expect(inspected.labels[0]).toHaveLength(inspected.seqLen);
    expect(inspected.labels.flat().some((l) => l === -100)).toBe(true);
    expect(Number.isFinite(inspected.loss)).toBe(true);
    // Mean of the per-token NLL over targets is the loss.
    const nll = inspected.tokenNll.flat().reduce((a, b) => a + b, 0);
    expect(nll / inspected.targetTokens).toBeCloseTo(inspected.loss, 4);
    // LoRA B starts at zero, so A gets no gradient and B does (sft-conventions §14).
    expect(inspected.gradNorms.filter((g) => g.name.includes('lora_A')).every((g) => g.norm === 0)).toBe(true);
    expect(inspected.gradNorms.filter((g) => g.name.includes('lora_B')).some((g) => g.norm > 0)).toBe(true);

    const events: WorkerEvent[] = [];
    const run = h.client.request('train.start', { backend: 'auto', config: config() }, {
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === 1) void h.client.request('train.pause', {});
      },
    });
    const paused = await run;
    expect(paused.reason).toBe('paused');
    const steps = () => events.filter((e): e is Extract<WorkerEvent, { type: 'step' }> => e.type === 'step');
    expect(steps()[0]!.loss).toBeCloseTo(inspected.loss, 4);
    const samples = events.filter((e) => e.type === 'samples');
    expect(samples.map((s) => s.type === 'samples' && s.step)).toEqual([0]);

    const done = await h.client.request('train.resume', {}, { onEvent: (e) => events.push(e) });
    expect(done).toMatchObject({ reason: 'completed', step: 4, totalSteps: 4 });
    expect(steps().map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(steps().every((s) => Number.isFinite(s.loss) && s.lr > 0 && s.ms > 0)).toBe(true);
    expect(events.filter((e) => e.type === 'eval').map((e) => e.type === 'eval' && e.step)).toEqual([2, 4]);
    const last = events.filter((e) => e.type === 'samples').at(-1);
    expect(last?.type === 'samples' && last.step).toBe(4);
    expect(last?.type === 'samples' && last.samples[0]!.prompt).toContain('codeword');
    await expect(h.client.request('train.resume', {})).resolves.toMatchObject({ reason: 'completed' });
  });

  it('refuses a second run while one is running, and stop ends it', { timeout: 240_000 }, async () => {
    await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config({}, { steps: 50 }) });
    let second: Promise<string> | null = null;
    const first = h.client.request('train.start', { backend: 'auto', config: config({}, { steps: 50 }) }, {
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 1) {
          second = h.client.request('train.start', { backend: 'auto', config: config({}, { steps: 50 }) }).then(() => 'started', (e: Error) => e.message);
          void h.client.request('train.stop', {});
        }
      },
    });
    const outcome = await first;
    expect(outcome.reason).toBe('stopped');
    expect(outcome.step).toBeLessThan(50);
    expect(await second).toMatch(/while training runs/);
    await expect(h.client.request('train.resume', {})).rejects.toThrow(/stopped/);
  });

  it('hands out checkpoint files, and resuming from them continues exactly like an uninterrupted run', { timeout: 240_000 }, async () => {
    await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config({}, { evalEvery: 0, sampleEvery: 0 }) });
    const losses = (events: WorkerEvent[]) => events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss]] : []));
    const whole: WorkerEvent[] = [];
    await h.client.request('train.start', { backend: 'auto', config: config({}, { evalEvery: 0, sampleEvery: 0 }) }, { onEvent: (e) => whole.push(e) });
    await h.client.request('train.stop', {});

    const first: WorkerEvent[] = [];
    await h.client.request('train.start', { backend: 'auto', config: config({}, { evalEvery: 0, sampleEvery: 0 }) }, {
      onEvent: (e) => {
        first.push(e);
        if (e.type === 'step' && e.step === 2) void h.client.request('train.pause', {});
      },
    });
    const saved = await h.client.request('run.checkpoint', {});
    expect(saved?.step).toBe(2);
    expect(Object.keys(saved!.files).sort()).toEqual(['tabtune_checkpoint.json', 'tabtune_optimizer.safetensors']);
    await h.client.request('train.stop', {});
    await expect(h.client.request('train.resume', {})).rejects.toThrow(/stopped/);

    const rest: WorkerEvent[] = [];
    const outcome = await h.client.request('train.resume', { checkpoint: saved!, backend: 'auto' }, { onEvent: (e) => rest.push(e) });
    expect(outcome).toMatchObject({ reason: 'completed', step: 4 });
    expect(losses(first)).toEqual(losses(whole).slice(0, 2));
    expect(losses(rest)).toEqual(losses(whole).slice(2));
  });
});
