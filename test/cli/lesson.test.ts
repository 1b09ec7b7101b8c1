// `tabtune lesson`: the list's JSON shape; short real runs of lessons on a tiny fixture (the metric measured by real
// generation / the step graph / the linter, before and after), the output folder `tabtune generate` accepts with the
// model path the report names, and the messages for a lesson or variation that does not exist.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LESSONS } from '../../src/share/lessons.ts';
import { fixture, readJson, tabtune, tempDir } from './harness.ts';

interface Report {
  lesson: string; variation?: string; metric: string; before: number; after: number; target: string | null; met: boolean | null;
  steps: number; seconds: number; model: string; refused?: string; samples?: { prompt: string; reference: string; answer: string; stopped: boolean }[];
  effect?: {
    metric: string; about: string;
    asTrained: { before: number; after: number; evalLossBefore: number; evalLossAfter: number };
    asServed: { before: number; after: number; evalLossBefore: number; evalLossAfter: number };
    samples: { prompt: string; reference: string; asTrained: string; asServed: string }[];
  };
}

describe('tabtune lesson', () => {
  it('lists every lesson as [{name, title, metric, target}]', async () => {
    const r = await tabtune(['lesson', 'list', '--json']);
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as Record<string, string>[];
    expect(list.map((l) => l.name)).toEqual(LESSONS.map((l) => l.name));
    for (const l of list) expect(Object.keys(l)).toEqual(['name', 'title', 'metric', 'target']);
    expect(list[0]).toEqual({ name: 'end-of-turn', title: 'The end-of-turn token', metric: 'held-out prompts that stop', target: '>= 80%' });
  });

  it('runs the end-of-turn lesson: stop rate measured by greedy generation before and after, adapter in DIR', { timeout: 240_000 }, async () => {
    const out = tempDir();
    const json = join(out, 'report.json');
    const r = await tabtune(['lesson', 'run', 'end-of-turn', '--model', fixture('llama'), '--steps', '3', '--out', join(out, 'adapter'), '--json', json]);
    expect(r.code, r.err).toBe(0);
    const report = readJson<Report>(json);
    expect(Object.keys(report).slice(0, 8)).toEqual(['lesson', 'metric', 'before', 'after', 'target', 'met', 'steps', 'seconds']);
    expect(report).toMatchObject({ lesson: 'end-of-turn', metric: 'held-out prompts that stop', target: '>= 80%', steps: 3, model: fixture('llama') });
    // 20 held-out prompts: the rate is a count of them, and each sample's flag says whether it ended with a stop token.
    expect(report.samples).toHaveLength(20);
    expect(report.after).toBe(report.samples!.filter((s) => s.stopped).length / 20);
    expect(Number.isInteger(report.before * 20)).toBe(true);
    expect(report.met).toBe(report.after >= 0.8);
    expect(report.samples!.every((s) => s.reference === 'yes' || s.reference === 'no')).toBe(true);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json', 'trainer_state.json', 'tabtune_manifest.json']) expect(existsSync(join(out, 'adapter', f)), f).toBe(true);
    // The report's model and DIR are what `tabtune generate` takes.
    const g = await tabtune(['generate', '--model', report.model, '--adapter', join(out, 'adapter'), '--prompt', 'Hello', '--max-new-tokens', '3']);
    expect(g.code, g.err).toBe(0);
  });

  it('one batch by hand: the first batch\'s loss through the step graph falls after a few steps on it', { timeout: 240_000 }, async () => {
    const out = tempDir();
    const r = await tabtune(['lesson', 'run', 'one-batch', '--model', fixture('llama'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{\n'))) as Report;
    expect(report).toMatchObject({ lesson: 'one-batch', metric: 'first batch loss', target: 'below the value before the run', steps: 5 });
    expect(report.after).toBeLessThan(report.before);
    expect(report.met).toBe(true);
  });

  it('the linter lessons: doubled BOS flagged on a Llama 3 template; a tokenizer past the embedding table flagged and refused', { timeout: 420_000 }, async () => {
    const out = tempDir();
    const bos = await tabtune(['lesson', 'run', 'double-bos', '--model', fixture('llama'), '--steps', '1', '--out', out, '--json', join(out, 'bos.json')]);
    expect(bos.code, bos.err).toBe(0);
    const b = readJson<Report>(join(out, 'bos.json'));
    expect(b.before).toBeGreaterThan(0);
    expect(b).toMatchObject({ lesson: 'double-bos', metric: 'examples the linter flags', met: true, steps: 1 });
    const stock = await tabtune(['lesson', 'run', 'double-bos', '--variation', 'stock-template', '--model', fixture('llama'), '--steps', '1', '--out', out, '--json', join(out, 'stock.json')]);
    expect(stock.code, stock.err).toBe(0);
    expect(readJson<Report>(join(out, 'stock.json'))).toMatchObject({ variation: 'stock-template', before: 0, after: 0, target: '<= 0', met: true });
    // Without the variation the run also measures what training behind two BOS did, as trained and as served.
    expect(b.effect?.metric).toBe('held-out answers right');
    expect(b.effect?.samples).toHaveLength(20);
    expect(b.effect?.asTrained.after).toBe(b.effect!.samples.filter((x) => x.asTrained === x.reference).length / 20);
    expect(b.effect?.asServed.after).toBe(b.effect!.samples.filter((x) => x.asServed === x.reference).length / 20);
    expect(readJson<Report>(join(out, 'stock.json')).effect).toBeUndefined();

    // Llama 3's 128,256-row table and a tokenizer with more ids (the Qwen demo's 151,669): refused before training.
    const mis = await tabtune(['lesson', 'run', 'mismatched-tokenizer', '--model', fixture('llama'), '--out', out, '--json', join(out, 'mis.json')]);
    expect(mis.code, mis.err).toBe(0);
    const m = readJson<Report>(join(out, 'mis.json'));
    expect(m.before).toBeGreaterThan(0);
    expect(m).toMatchObject({ steps: 0, met: true });
    expect(m.refused).toMatch(/tabtune\/demo\/.*'s 151669 ids do not fit the 128256-row embedding table/);
  });

  it('doubled BOS runs on the default model: its tokenizer names <|endoftext|> as BOS, so every example is flagged', { timeout: 240_000 }, async () => {
    const out = tempDir();
    const r = await tabtune(['lesson', 'run', 'double-bos', '--steps', '2', '--out', join(out, 'adapter'), '--json', join(out, 'bos.json')]);
    expect(r.code, r.err).toBe(0);
    const b = readJson<Report>(join(out, 'bos.json'));
    expect(b).toMatchObject({ lesson: 'double-bos', before: 100, after: 100, target: '>= 1', met: true, steps: 2 });
    expect(b.model).toMatch(/tiny-storyteller/);
    // The held-out questions as trained (two BOS) and as served (none) are different renders of the same rows.
    const e = b.effect!;
    expect(e.samples.map((x) => x.reference).every((x) => x === 'yes' || x === 'no')).toBe(true);
    expect(e.asTrained.evalLossBefore).not.toBe(e.asServed.evalLossBefore);
    for (const x of [e.asTrained.evalLossBefore, e.asTrained.evalLossAfter, e.asServed.evalLossBefore, e.asServed.evalLossAfter]) expect(Number.isFinite(x)).toBe(true);
  });

  it('says which lessons and variations exist', async () => {
    const none = await tabtune(['lesson', 'run', 'nope', '--out', tempDir()]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no lesson "nope".*end-of-turn/);
    const badVar = await tabtune(['lesson', 'run', 'end-of-turn', '--variation', 'nope', '--out', tempDir()]);
    expect(badVar.code).toBe(1);
    expect(badVar.err).toMatch(/no variation "nope".*mask-eot/);
    const noOut = await tabtune(['lesson', 'run', 'yes-no']);
    expect(noOut.err).toMatch(/needs --out DIR/);
    const noName = await tabtune(['lesson', 'run']);
    expect(noName.err).toMatch(/needs a lesson name/);
  });
});
