// Generation on host backends with the base weights held by the decode session (read once when it is created) gives
// the same tokens as feeding them on every token, and no decode run is fed a base weight: the demo checkpoint, a
// non-zero LoRA adapter and one base tensor replaced per request (a fully trained one), on WASM and on the CPU EP.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/files.ts';
import { planLora } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { GREEDY } from '../../src/models/sampling.ts';
import { weightTable } from '../../src/models/weights.ts';
import type { Backend } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { Generator } from '../../src/train/generation.ts';
import { loadModel } from '../../src/train/model-source.ts';

const model = await loadModel(folderSource(join(import.meta.dirname, '../../fixtures/tiny-storyteller')));
const plan = planLora(model.config, { r: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] });
const rng = Rng.fromSeed('generation-test');
const adapter: Record<string, Float32Array> = {};
for (const t of plan.targets) {
  adapter[t.keyA] = Float32Array.from({ length: plan.config.r * t.inFeatures }, () => rng.uniform(-0.2, 0.2));
  adapter[t.keyB] = Float32Array.from({ length: t.outFeatures * plan.config.r }, () => rng.uniform(-0.2, 0.2));
}
const replaced = 'model.norm.weight';
const trainedNorm = Float32Array.from(model.weights.get(replaced)!, (x, i) => x * (1 + 0.5 * Math.sin(i)));
const prompts = [[1021, 5, 77, 300], [1021, 40]];
const shape = { batch: 2, promptLen: 4, maxLen: 4 + 24 };
const backends: Backend[] = [];

afterAll(async () => {
  for (const b of backends) await b.release();
});

describe.each(['wasm', 'cpu'] as const)('greedy generation on %s', (kind) => {
  it('holds the base weights in the decode session and generates the same tokens as feeding them', { timeout: 120_000 }, async () => {
    const base = await createNodeBackend(kind, { threads: 1 });
    backends.push(base);
    expect(weightTable(model.config).some((s) => s.name === replaced)).toBe(true);
    const decodeFeeds: string[][] = [];
    const decodeInputs: (readonly string[])[] = [];
    // The real backend, recording what the decode session (the one with past_key_values inputs) takes and is fed.
    const recording: Backend = {
      ...base,
      async createSession(bytes, config) {
        const s = await base.createSession(bytes, config);
        if (!s.inputNames.some((n) => n.startsWith('past_key_values.'))) return s;
        decodeInputs.push(s.inputNames);
        return { ...s, run: (feeds) => (decodeFeeds.push(Object.keys(feeds)), s.run(feeds)) };
      },
    };
    const run = async (backend: Backend, frozenIn: 'session' | 'feeds') => {
      const gen = await Generator.create(backend, model.config, model.weights, plan, shape, { replaceable: [replaced], frozenIn });
      const tokens = await gen.generate({ prompts, maxNewTokens: 24, sampling: GREEDY, stopIds: [], rng: null, padId: 0, adapter, weights: { [replaced]: trainedNorm } });
      await gen.release();
      return tokens;
    };
    const held = await run(recording, 'session');
    const fed = await run(base, 'feeds');
    expect(held).toEqual(fed);
    expect(held.map((r) => r.length)).toEqual([24, 24]);
    // The tokens depend on the replaced weight: it really is fed per request.
    const gen = await Generator.create(base, model.config, model.weights, plan, shape, { replaceable: [replaced] });
    const plain = await gen.generate({ prompts, maxNewTokens: 24, sampling: GREEDY, stopIds: [], rng: null, padId: 0, adapter });
    await expect(gen.generate({ prompts, maxNewTokens: 2, sampling: GREEDY, stopIds: [], rng: null, padId: 0, adapter, weights: { 'model.embed_tokens.weight': model.weights.get('model.embed_tokens.weight')! } }))
      .rejects.toThrow(/"model.embed_tokens.weight" is held by the decode session: name it in GeneratorOptions.replaceable/);
    await gen.release();
    expect(plain).not.toEqual(held);
    // One decode session; its only base-weight input is the replaceable one, and 23 runs were fed nothing else.
    const baseNames = weightTable(model.config).map((s) => s.name);
    expect(decodeInputs).toHaveLength(1);
    expect(decodeInputs[0]!.filter((n) => baseNames.includes(n))).toEqual([replaced]);
    expect(decodeFeeds).toHaveLength(23);
    for (const f of decodeFeeds) expect(f.filter((n) => baseNames.includes(n))).toEqual([replaced]);
  });
});
