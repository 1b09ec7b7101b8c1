// The lesson presets (src/share/lessons.ts): every lesson and variation is a valid run config that a share link carries
// unchanged, variations change what they say they change, and targets are judged as written.
import { describe, expect, it } from 'vitest';
import {
  describeTarget, findLesson, findVariation, formatMetric, lessonConfig, lessonTarget, LESSON_MODEL_REPO, LESSONS, meetsTarget,
} from '../../src/share/lessons.ts';
import { decodeShareLink, encodeShareFragment } from '../../src/share/link.ts';
import { DEMO_MODEL_REPO, MASK_POLICIES } from '../../src/share/run-config.ts';

const CHATML = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}";
const MODEL = { repo: LESSON_MODEL_REPO, chatTemplate: CHATML, bosToken: '<|endoftext|>' };

describe('lessons', () => {
  it('are written for the default model, with unique names, two-sentence explanations, targets and prompts', () => {
    expect(LESSON_MODEL_REPO).toBe(DEMO_MODEL_REPO);
    expect(new Set(LESSONS.map((l) => l.name)).size).toBe(LESSONS.length);
    expect(LESSONS.map((l) => l.name)).toEqual(['end-of-turn', 'yes-no', 'responses-only', 'double-bos', 'mismatched-tokenizer', 'overfitting', 'one-batch']);
    for (const l of LESSONS) {
      expect(l.explanation.match(/[.!?](\s|$)/g)?.length, l.name).toBe(2);
      expect(l.prompt.length, l.name).toBeGreaterThan(0);
      expect(describeTarget(l.target, l.metric).length).toBeGreaterThan(0);
    }
  });

  it('every lesson and variation is a valid config that a share link round-trips', () => {
    for (const l of LESSONS) {
      for (const variation of [undefined, ...l.variations.map((v) => v.id)]) {
        const config = lessonConfig(l, MODEL, variation);
        expect(config.model.repo).toBe(LESSON_MODEL_REPO);
        expect(MASK_POLICIES).toContain(config.mask);
        expect(decodeShareLink(`#${encodeShareFragment(config)}`)).toEqual(config);
      }
    }
  });

  it('the end-of-turn variation masks the end-of-turn token and keeps everything else', () => {
    const eot = findLesson('end-of-turn');
    const trained = lessonConfig(eot, MODEL);
    const masked = lessonConfig(eot, MODEL, 'mask-eot');
    expect(trained.mask).toBe('assistant');
    expect(masked.mask).toBe('assistant-no-eot');
    expect({ ...masked, mask: 'assistant' }).toEqual(trained);
    expect(lessonTarget(eot)).toEqual({ kind: 'at-least', value: 0.8 });
    expect(lessonTarget(eot, 'mask-eot')).toEqual({ kind: 'at-most', value: 0.2 });
    expect(lessonTarget(eot, 'fewer-steps')).toBeNull();
    expect(lessonConfig(eot, MODEL, 'fewer-steps').train).toEqual({ ...trained.train, steps: 10 });
  });

  it('merges nested deltas: a variation changes only the fields it names', () => {
    const yn = findLesson('yes-no');
    const base = lessonConfig(yn, MODEL);
    const r1 = lessonConfig(yn, MODEL, 'rank-1');
    expect(r1.lora).toEqual({ ...base.lora, r: 1, alpha: 2 });
    expect(r1.train).toEqual(base.train);
    expect(base.lora.targets).toContain('down_proj');
  });

  it('doubles BOS in the model\'s own chat template, and refuses a tokenizer without one', () => {
    const bos = findLesson('double-bos');
    const config = lessonConfig(bos, MODEL);
    // ChatML writes no BOS: the lesson's template writes two; a Llama 3 style template writes one: it gets one more.
    expect(config.template).toEqual({ kind: 'custom', source: `{{ bos_token }}{{ bos_token }}${CHATML}`, kwargs: {} });
    const llama = `{{ bos_token }}${CHATML}`;
    expect(lessonConfig(bos, { ...MODEL, chatTemplate: llama }).template.source).toBe(`{{ bos_token }}${llama}`);
    expect(lessonConfig(bos, MODEL, 'stock-template').template.kind).toBe('chat');
    expect(() => lessonConfig(bos, { repo: LESSON_MODEL_REPO, chatTemplate: null })).toThrow(/has none/);
    expect(() => lessonConfig(bos, { ...MODEL, bosToken: null })).toThrow(/names none \(bos_token/);
    // What training does is measured against the render the model is served with: the variation without BOS.
    expect(bos.effect?.servedAs).toBe('stock-template');
    expect(lessonConfig(bos, MODEL, bos.effect!.servedAs).template).toEqual({ kind: 'chat', kwargs: {} });
    expect(bos.effect?.metric.kind).toBe('exact-match');
  });

  it('pairs the model with another repo\'s tokenizer, never its own', () => {
    const mis = findLesson('mismatched-tokenizer');
    expect(lessonConfig(mis, { repo: 'tabtune/tiny-storyteller' }).tokenizer?.repo).toBe('tabtune/demo');
    expect(lessonConfig(mis, { repo: 'tabtune/demo' }).tokenizer?.repo).toBe('tabtune/tiny-gemma3');
    expect(lessonConfig(mis, MODEL, 'own-tokenizer').tokenizer).toBeUndefined();
  });

  it('judges targets as written', () => {
    expect(meetsTarget({ kind: 'at-least', value: 0.9 }, 0.9, 0.5)).toBe(true);
    expect(meetsTarget({ kind: 'at-least', value: 0.9 }, 0.85, 0.5)).toBe(false);
    expect(meetsTarget({ kind: 'at-most', value: 0.2 }, 0.2, 0)).toBe(true);
    expect(meetsTarget({ kind: 'at-most', value: 0.2 }, 0.25, 0)).toBe(false);
    expect(meetsTarget({ kind: 'below-before' }, 1.9, 2)).toBe(true);
    expect(meetsTarget({ kind: 'below-before' }, 2, 2)).toBe(false);
    expect(meetsTarget({ kind: 'above-best', value: 0.05 }, 2.1, 3, 2.0)).toBe(true);
    expect(meetsTarget({ kind: 'above-best', value: 0.05 }, 2.04, 3, 2.0)).toBe(false);
    expect(meetsTarget({ kind: 'above-best', value: 0.05 }, 2.1, 3)).toBe(false);
    expect(describeTarget({ kind: 'at-least', value: 0.8 }, { percent: true })).toBe('>= 80%');
    expect(formatMetric({ percent: true }, 0.35)).toBe('35%');
    expect(formatMetric({ percent: false }, 2.34567)).toBe('2.346');
    expect(formatMetric({ percent: false }, undefined)).toBe('–');
  });

  it('names what exists when a lesson or variation does not', () => {
    expect(() => findLesson('nope')).toThrow(/no lesson "nope".*end-of-turn, yes-no/);
    expect(() => findVariation(findLesson('end-of-turn'), 'nope')).toThrow(/mask-eot, fewer-steps/);
  });
});
