// Lessons through the worker protocol (real host and client over a MessageChannel, the tiny Qwen3 fixture, WASM): a run
// started with a lesson streams its metric at step 0, at every sample step and at the end; "Your own prompt" answers
// with the base model alone before any run, between two steps while one trains, and with the finished adapter after.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { findLesson, lessonConfig } from '../../src/share/lessons';
import type { HubLocation, LessonMeasurement } from '../../src/worker/protocol';
import { bundledDataset, startHarness, type Harness } from './harness';

let h: Harness;
let location: HubLocation;
const DATA = 'prompt-injection.jsonl';
const lesson = findLesson('end-of-turn');

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
});
afterAll(() => h.close());

describe('lessons through the worker', () => {
  it('streams the lesson metric and answers the own-prompt box before, during and after a run', { timeout: 300_000 }, async () => {
    const preset = lessonConfig(lesson, { repo: 'tabtune/tiny-qwen3' });
    const config = { ...preset, train: { ...preset.train, steps: 4, batchSize: 2, evalEvery: 0, sampleEvery: 2, checkpointEvery: 0 } };
    const prepared = await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config });
    expect(prepared.evalCount).toBe(20);

    const ask = { prompt: lesson.prompt, maxNewTokens: 6, backend: 'auto' as const };
    const before = await h.client.request('prompt.compare', ask);
    expect(before.adapter).toBeNull();
    expect(before.step).toBeNull();
    expect(before.chat).toBe(true);
    expect(before.system).toMatch(/^You screen text/);
    expect(before.base.length).toBeGreaterThan(0);

    const measured: LessonMeasurement[] = [];
    let during: Promise<Awaited<ReturnType<typeof h.client.request<'prompt.compare'>>>> | null = null;
    const outcome = await h.client.request('train.start', { backend: 'auto', config, lesson: { name: lesson.name, metric: lesson.metric } }, {
      onEvent: (e) => {
        if (e.type === 'lesson-metric') measured.push(e.measurement);
        // Asked while the loop runs: answered between two steps, with the adapter as it was then.
        if (e.type === 'step' && e.step === 1) during = h.client.request('prompt.compare', ask);
      },
    });
    expect(outcome.reason).toBe('completed');
    expect(measured.map((m) => m.step)).toEqual([0, 2, 4]);
    for (const m of measured) {
      expect(m.lesson).toBe('end-of-turn');
      expect(m.rows).toHaveLength(20);
      // The stop rate is the share of held-out prompts whose generation ended with a stop token.
      expect(m.value).toBe(m.rows.filter((r) => r.stopped).length / 20);
    }
    const mid = await during!;
    expect(mid.step).toBeGreaterThanOrEqual(1);
    expect(mid.step).toBeLessThan(4);
    expect(mid.base).toBe(before.base);

    const after = await h.client.request('prompt.compare', ask);
    expect(after.step).toBe(4);
    expect(after.adapter).not.toBeNull();
    // Greedy and seedless: the base model answers exactly as before the run.
    expect(after.base).toBe(before.base);
  });
});
