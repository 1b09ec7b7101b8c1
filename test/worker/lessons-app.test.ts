// Lessons the app measures beside a run, through the real worker host and client (MessageChannel harness, the bundled
// tabtune/tiny-storyteller from the fixture mirror, WASM, fake-indexeddb for saved runs): the linter's count for a
// lesson whose run the session refuses (a tokenizer past the embedding table), the doubled-BOS lesson flagged on the
// default model and no other lesson, and the overfitting lesson's best checkpoint (the store's, by eval loss) against
// the latest adapter on the same held-out prompts.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { findLesson, lessonConfig, LESSON_MODEL_REPO, LESSONS } from '../../src/share/lessons';
import type { RunConfig } from '../../src/share/run-config';
import type { HubLocation, StoredCheckpoint } from '../../src/worker/protocol';
import { bundledDataset, startHarness, type Harness } from './harness';

let h: Harness;
let location: HubLocation;

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: LESSON_MODEL_REPO, revision: 'main' };
});
afterAll(() => h.close());

/** The storyteller's tokenizer facts, as the Model panel reads them. */
async function storyteller(): Promise<{ repo: string; chatTemplate: string | null; bosToken: string | null }> {
  const summary = await h.client.request('model.inspect', { location });
  return { repo: LESSON_MODEL_REPO, chatTemplate: summary.tokenizer.chatTemplate, bosToken: summary.tokenizer.bosToken };
}

function dataName(config: RunConfig): string {
  if (config.data.source !== 'bundled') throw new Error('lessons train on bundled data');
  return config.data.name;
}

async function lint(config: RunConfig, code: string) {
  const name = dataName(config);
  const preview = await h.client.request('dataset.preview', { source: bundledDataset(name), limit: 1 });
  return h.client.request('lesson.lint', { location, dataset: { kind: 'previewed', hash: preview.hash, name }, config, code });
}

describe('lessons in the app, through the worker', () => {
  it('counts the mismatched tokenizer\'s examples past the table while the session refuses the run', { timeout: 120_000 }, async () => {
    const mis = findLesson('mismatched-tokenizer');
    const config = lessonConfig(mis, await storyteller());
    expect(config.tokenizer?.repo).toBe('tabtune/demo');
    const refusal = await h.client.request('run.prepare', { location, dataset: bundledDataset(dataName(config)), config }).then(() => null, (e: Error) => e.message);
    expect(refusal).toMatch(/embedding table has 1024 rows/);
    const r = await lint(config, mis.metric.lintCode!);
    // Every prompt-injection row holds ids past 1,024 under the Qwen tokenizer; the refusal is the session's own.
    expect(r).toEqual({ code: 'vocab-exceeds-embeddings', count: 100, refused: refusal });
    const own = await lint(lessonConfig(mis, await storyteller(), 'own-tokenizer'), mis.metric.lintCode!);
    expect(own).toEqual({ code: 'vocab-exceeds-embeddings', count: 0, refused: null });
  });

  it('flags doubled BOS on the default model in the doubled-BOS lesson only', { timeout: 180_000 }, async () => {
    const model = await storyteller();
    expect(model.bosToken).toBe('<|endoftext|>');
    for (const lesson of LESSONS) {
      for (const variation of [undefined, ...lesson.variations.map((v) => v.id)]) {
        const config = lessonConfig(lesson, model, variation);
        if (config.tokenizer) continue; // another tokenizer: no BOS of the model's to double
        const r = await lint(config, 'bos-doubled');
        const doubled = lesson.name === 'double-bos' && variation === undefined;
        expect(r, `${lesson.name} ${variation ?? ''}`).toEqual({ code: 'bos-doubled', count: doubled ? 100 : 0, refused: null });
      }
    }
  });

  it('doubled BOS: after the run, the adapter measured on the held-out rows as trained and as served', { timeout: 240_000 }, async () => {
    const lesson = findLesson('double-bos');
    const model = await storyteller();
    const preset = lessonConfig(lesson, model);
    const config = { ...preset, train: { ...preset.train, steps: 4, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 } };
    const servedConfig = { ...config, template: lessonConfig(lesson, model, lesson.effect!.servedAs).template };
    await h.client.request('run.prepare', { location, dataset: bundledDataset(dataName(config)), config });
    const ask = { metric: lesson.effect!.metric, servedConfig, backend: 'auto' as const };
    await expect(h.client.request('lesson.effect', ask)).rejects.toThrow(/run the lesson first/);
    expect((await h.client.request('train.start', { backend: 'auto', config })).reason).toBe('completed');
    const r = await h.client.request('lesson.effect', ask);
    expect(r.step).toBe(4);
    expect(r.rows).toHaveLength(20);
    // Two BOS in front or none: the same questions, so different losses but the same references.
    expect(r.rows.every((x) => x.reference === 'yes' || x.reference === 'no')).toBe(true);
    expect(r.asTrained.evalLoss).not.toBe(r.asServed.evalLoss);
    for (const v of [r.asTrained.value, r.asServed.value]) expect(Number.isInteger(v * 20)).toBe(true);
    await h.client.request('train.stop', {}); // ends the run, so the next test may prepare other data
  });

  it('overfitting: the store\'s best checkpoint and the latest adapter answer the same held-out prompts', { timeout: 300_000 }, async () => {
    const lesson = findLesson('overfitting');
    const preset = lessonConfig(lesson, await storyteller());
    const config = { ...preset, train: { ...preset.train, steps: 10, evalEvery: 5, checkpointEvery: 5, sampleEvery: 0 } };
    const file = readFileSync(join(process.cwd(), 'public/datasets', dataName(config)));
    const prepared = await h.client.request('run.prepare', { location, dataset: bundledDataset(dataName(config)), config });
    expect(prepared.evalCount).toBe(2);

    // Not saved: no store, so no best checkpoint to compare with.
    await h.client.request('train.start', { backend: 'auto', config });
    await expect(h.client.request('lesson.bestVsLatest', { prompts: 3, maxNewTokens: 8, backend: 'auto' })).rejects.toThrow(/not saved in browser storage/);

    const saved: StoredCheckpoint[] = [];
    const evals = new Map<number, number>();
    const save = { datasetHash: `sha256:${createHash('sha256').update(file).digest('hex')}` };
    const outcome = await h.client.request('train.start', { backend: 'auto', config, save }, {
      onEvent: (e) => {
        if (e.type === 'checkpoint') saved.push(e.checkpoint);
        if (e.type === 'eval') evals.set(e.step, e.loss);
      },
    });
    expect(outcome.reason).toBe('completed');
    const r = await h.client.request('lesson.bestVsLatest', { prompts: 3, maxNewTokens: 8, backend: 'auto' });
    // The best is the evaluated checkpoint with the lowest eval loss (what the Checkpoints panel badges), the latest the end.
    const lowest = [...evals.entries()].sort((a, b) => a[1] - b[1])[0]!;
    expect(r.best).toEqual({ step: lowest[0], evalLoss: lowest[1] });
    expect(saved.find((c) => c.best)?.step).toBe(lowest[0]);
    expect(r.latest).toEqual({ step: 10, evalLoss: evals.get(10) });
    // Two held-out rows (25% of 8), each asked of both; their references are the held-out answers.
    expect(r.rows).toHaveLength(2);
    for (const row of r.rows) {
      expect(row.prompt).toMatch(/What is the codeword for \w+\?/);
      expect(row.reference).toMatch(/^The codeword for \w+ is \w+\.$/);
    }
    if (r.best.step === r.latest.step) expect(r.rows.map((x) => x.best)).toEqual(r.rows.map((x) => x.latest));
  });
});
