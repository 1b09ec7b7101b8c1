// The run side of the store: the degeneration detector, smoothing and progress selectors, metric merging, and the
// run actions against the real worker host (MessageChannel), the Hub mirror's tiny Qwen3 and onnxruntime-web WASM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { createDatasetLoader } from '../../src/store/actions';
import { detectDegeneration } from '../../src/share/degeneration';
import { createRunActions } from '../../src/store/run';
import { selectProgress, smooth } from '../../src/store/selectors';
import { createAppStore } from '../../src/store/store';
import { startHarness, type Harness } from '../worker/harness';

describe('degeneration detector', () => {
  it('flags empty output, a token repeated in a row and a looping phrase; passes ordinary text', () => {
    expect(detectDegeneration([], '')).toEqual(['empty']);
    expect(detectDegeneration([5, 6], '  \n')).toEqual(['empty']);
    expect(detectDegeneration([1, 2, 3, 4, 5, 6, 7, 8], 'The codeword for red is ember.')).toEqual([]);
    expect(detectDegeneration([9, 7, 7, 7, 7, 2], 'x')).toEqual(['repeated-token']);
    expect(detectDegeneration([9, 7, 7, 7, 2], 'x')).toEqual([]);
    expect(detectDegeneration([1, 2, 1, 2, 1, 2], 'x')).toEqual(['repeated-ngram']);
    expect(detectDegeneration([4, 1, 2, 3, 1, 2, 3, 1, 2, 3], 'x')).toEqual(['repeated-ngram']);
    // A single token's run is not also reported as a repeated 2-gram.
    expect(detectDegeneration([3, 3, 3, 3, 3, 3, 3, 3], 'x')).toEqual(['repeated-token']);
  });
});

describe('run selectors', () => {
  it('smooths with a bias-corrected moving average that skips missing points', () => {
    expect(smooth([2, undefined, 2, 2], 0.9)).toEqual([2, undefined, 2, 2].map((v) => (v === undefined ? undefined : expect.closeTo(2, 10))));
    const s = smooth([0, 10], 0.5);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo((0.5 * 0 * 0.5 + 0.5 * 10) / (1 - 0.25), 10);
    expect(smooth([1, 5], 0)).toEqual([1, 5]);
  });

  it('merges an eval point into the train point of the same step and derives speed and ETA', () => {
    const store = createAppStore({ origin: 'http://o' });
    const s = store.getState();
    s.setRunConfig({ ...s.runConfig, train: { ...s.runConfig.train, steps: 10 } });
    expect(selectProgress(store.getState())).toEqual({ step: 0, totalSteps: 10, tokensPerSecond: null, etaSeconds: null });
    s.appendMetric({ step: 1, trainLoss: 3, ms: 1000, tokensPerSecond: 20 });
    s.appendMetric({ step: 2, trainLoss: 2, ms: 3000, tokensPerSecond: 40 });
    s.appendMetric({ step: 2, evalLoss: 2.5 });
    const { metrics } = store.getState();
    expect(metrics).toEqual([
      { step: 1, trainLoss: 3, ms: 1000, tokensPerSecond: 20 },
      { step: 2, trainLoss: 2, ms: 3000, tokensPerSecond: 40, evalLoss: 2.5 },
    ]);
    // 8 steps left at the mean 2 s per step.
    expect(selectProgress(store.getState())).toEqual({ step: 2, totalSteps: 10, tokensPerSecond: 30, etaSeconds: 16 });
  });
});

describe('run actions through the worker', () => {
  let h: Harness;
  beforeAll(() => {
    h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  });
  afterAll(() => h.close());

  it('prepares, shows examples, inspects a batch and trains into metrics and flagged samples', { timeout: 240_000 }, async () => {
    const store = createAppStore({ origin: 'http://o' });
    const s = store.getState();
    s.setHubEndpoint(inject('hubMirrorUrl'));
    s.chooseModel({ kind: 'hub', repo: 'tabtune/tiny-qwen3', revision: 'main' });
    s.setRunConfig({
      ...s.runConfig, maxLength: 64, evalFraction: 0.2,
      train: { ...s.runConfig.train, steps: 3, batchSize: 2, warmupSteps: 0, evalEvery: 3, sampleEvery: 3 },
    });
    const bytes = readFileSync(join(process.cwd(), 'public/datasets/tiny-codewords.jsonl'));
    await createDatasetLoader(store, h.client)({ name: 'tiny-codewords.jsonl', bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    const run = createRunActions(store, h.client);

    await run.prepare();
    expect(store.getState().preparedState).toEqual({ status: 'ready' });
    expect(store.getState().prepared?.examples).toHaveLength(8);
    expect(store.getState().example?.index).toBe(0);
    await run.showExample(7);
    expect(store.getState().example?.id).toBe(store.getState().prepared?.examples[7]?.id);

    await run.inspectBatch();
    const inspection = store.getState().inspection;
    expect(store.getState().inspectionState).toEqual({ status: 'ready' });
    expect(store.getState().trainer).toMatchObject({ backend: 'wasm', batch: 2, totalSteps: 3 });

    await run.start();
    const after = store.getState();
    expect(after.phase).toBe('completed');
    expect(after.outcome).toMatchObject({ reason: 'completed', step: 3 });
    expect(after.metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(after.metrics[0]?.trainLoss).toBeCloseTo(inspection!.loss, 4);
    expect(after.metrics[2]?.evalLoss).toBeGreaterThan(0);
    expect(after.metrics.every((m) => (m.tokensPerSecond ?? 0) > 0)).toBe(true);
    expect([...new Set(after.samples.map((x) => x.step))]).toEqual([0, 3]);
    // The random tiny model loops: the detector must say so.
    expect(after.samples.some((x) => x.flags.length > 0)).toBe(true);
    expect(after.step).toBe(3);
  });
});
