// Sampling rules (repetition penalty, temperature, top-k, top-p, seeded draws), generation_config.json defaults and
// the seeded generator behind them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/models/rng.ts';
import type { SamplingOptions } from '../../src/models/sampling.ts';
import { GREEDY, chooseToken, parseGenerationConfig } from '../../src/models/sampling.ts';

const sample = (o: Partial<SamplingOptions>): SamplingOptions => ({ ...GREEDY, doSample: true, ...o });

function frequencies(logits: number[], o: SamplingOptions, n: number, seed = 7): number[] {
  const rng = Rng.fromSeed(seed);
  const counts = logits.map(() => 0);
  const x = Float32Array.from(logits);
  for (let i = 0; i < n; i++) counts[chooseToken(x, [], o, rng)]!++;
  return counts.map((c) => c / n);
}

describe('chooseToken', () => {
  it('greedy picks the argmax, and the repetition penalty follows transformers (divide positive, multiply negative)', () => {
    const logits = Float32Array.from([1.0, 1.2, -0.5, 0.9]);
    expect(chooseToken(logits, [], GREEDY, null)).toBe(1);
    // 1.2 / 1.5 = 0.8 < 1.0 → token 0 wins once token 1 was seen.
    expect(chooseToken(logits, [1], { ...GREEDY, repetitionPenalty: 1.5 }, null)).toBe(0);
    // A negative logit is pushed further down: -0.5 * 3 = -1.5, so token 2 never wins over others either way.
    const neg = Float32Array.from([-1.0, -0.6]);
    expect(chooseToken(neg, [1], { ...GREEDY, repetitionPenalty: 2 }, null)).toBe(0);
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const logits = [0, Math.log(2), Math.log(3)];
    const f = frequencies(logits, sample({}), 6000);
    [1 / 6, 2 / 6, 3 / 6].forEach((p, i) => expect(Math.abs(f[i]! - p)).toBeLessThan(0.025));
    // Temperature 0.5 squares the odds: 1 : 4 : 9.
    const t = frequencies(logits, sample({ temperature: 0.5 }), 6000);
    [1 / 14, 4 / 14, 9 / 14].forEach((p, i) => expect(Math.abs(t[i]! - p)).toBeLessThan(0.025));
  });

  it('top-k keeps the k best, top-p the smallest prefix whose mass exceeds top_p', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const k2 = frequencies(logits, sample({ topK: 2 }), 3000);
    expect(k2[2]).toBe(0);
    expect(k2[3]).toBe(0);
    expect(Math.abs(k2[0]! - 0.625)).toBeLessThan(0.03);
    // Mass of {0.05, 0.15} = 0.2 <= 1 - 0.75 is dropped; adding 0.3 exceeds it, so tokens 0 and 1 stay.
    const p75 = frequencies(logits, sample({ topP: 0.75 }), 3000);
    expect(p75[2]).toBe(0);
    expect(p75[3]).toBe(0);
    expect(p75[1]).toBeGreaterThan(0.3);
    // top_p 0.5: the tail mass 0.5 <= 0.5 is dropped: only the most likely token remains.
    expect(frequencies(logits, sample({ topP: 0.5 }), 500)[0]).toBe(1);
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const logits = Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const draw = (seed: number): number[] => {
      const rng = Rng.fromSeed(seed);
      return Array.from({ length: 20 }, () => chooseToken(Float32Array.from(logits), [], sample({ topK: 20, topP: 0.9 }), rng));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('rejects bad options with the reason', () => {
    const x = Float32Array.from([0, 1]);
    expect(() => chooseToken(x, [], sample({ temperature: 0 }), Rng.fromSeed(1))).toThrow(/temperature must be > 0/);
    expect(() => chooseToken(x, [], sample({ topP: 0 }), Rng.fromSeed(1))).toThrow(/top_p/);
    expect(() => chooseToken(x, [], sample({}), null)).toThrow(/seeded Rng/);
  });
});

describe('generation_config.json', () => {
  it('reads the fixture defaults and fills transformers defaults', () => {
    const raw: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/generated/hub/tabtune/tiny-qwen2/generation_config.json'), 'utf8'));
    const c = parseGenerationConfig(raw);
    expect(c).toMatchObject({ doSample: true, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05, eosTokenIds: [151645, 151643] });
    expect(parseGenerationConfig({ eos_token_id: 2 })).toMatchObject({ doSample: false, temperature: 1, topK: 50, topP: 1, repetitionPenalty: 1, eosTokenIds: [2], maxNewTokens: null });
    expect(() => parseGenerationConfig({ temperature: 'hot' })).toThrow(/temperature must be a number/);
  });
});

describe('Rng', () => {
  it('is xoshiro128** (known answers from state [1, 2, 3, 4])', () => {
    const r = Rng.fromState([1, 2, 3, 4]);
    // rotl(2·5, 7)·9 = 11520; then s[1] becomes 0, so the second output is 0.
    expect([r.nextUint32(), r.nextUint32()]).toEqual([11520, 0]);
  });

  it('is deterministic, resumable from its state, and uniform', () => {
    const a = Rng.fromSeed('run-1');
    const first = [a.next(), a.next()];
    const saved = a.state;
    const next = [a.next(), a.next()];
    expect([Rng.fromSeed('run-1').next(), 0][0]).toBe(first[0]);
    const b = Rng.fromState(saved);
    expect([b.next(), b.next()]).toEqual(next);
    const r = Rng.fromSeed(42);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += r.next();
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
    expect(Rng.fromSeed(1).nextUint32()).not.toBe(Rng.fromSeed(2).nextUint32());
  });
});
