// Gemma 3 through the worker protocol in Node (the page's path without the page): the tiny gemma3_text fixture from
// the Hub mirror, the bundled codeword chat under Gemma's template (each assistant turn trains its content and
// <end_of_turn>, never the role header), and 5 LoRA steps on single-threaded WASM, as the browser runs them.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import type { HubLocation, WorkerEvent } from '../../src/worker/protocol';
import { bundledDataset, startHarness, type Harness } from './harness';

let h: Harness;
let location: HubLocation;
const DATA = 'tiny-codewords.jsonl';

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-gemma3', revision: 'main' };
});
afterAll(() => h.close());

describe('Gemma 3 through the worker', () => {
  it('renders Gemma chat masks and trains 5 steps with samples', { timeout: 300_000 }, async () => {
    const base = defaultRunConfig();
    const config: RunConfig = { ...base, maxLength: 64, evalFraction: 0.2, train: { ...base.train, steps: 5, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 5, sampleEvery: 5, checkpointEvery: 0 } };
    const prepared = await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config });
    expect(prepared.examples).toHaveLength(8);
    const ex = await h.client.request('example.get', { index: 0 });
    const trained = ex.tokens.filter((t) => t.label !== -100);
    expect(trained.at(-1)?.text).toBe('<end_of_turn>');
    expect(trained.map((t) => t.text).join('')).toContain('The codeword for red is ember.');
    expect(ex.tokens.find((t) => t.text === '<start_of_turn>')?.label).toBe(-100);

    const events: WorkerEvent[] = [];
    const outcome = await h.client.request('train.start', { backend: 'auto', config }, { onEvent: (e) => events.push(e) });
    expect(outcome.reason).toBe('completed');
    const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
    expect(losses).toHaveLength(5);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[0]!).toBeGreaterThan(10); // near ln(262,208) ≈ 12.5 for random weights
    expect(losses[4]!).toBeLessThan(losses[0]!);
    expect(events.filter((e) => e.type === 'samples').map((e) => e.type === 'samples' && e.step)).toEqual([0, 5]);
    expect(events.some((e) => e.type === 'eval' && e.step === 5)).toBe(true);
  });
});
