// Generation on the fixtures: greedy tokens through the KV-cache graphs equal the PyTorch reference's greedy tokens,
// and every decode step's logits equal a full recompute of the whole sequence (with and without an adapter).
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/engine/graph.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import type { GenerationIO, GenerationShape } from '../../src/models/generate.ts';
import { buildGenerationGraphs, generate, stopTokenIds } from '../../src/models/generate.ts';
import type { LoraPlan } from '../../src/models/lora.ts';
import { planLora } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { GREEDY, parseGenerationConfig } from '../../src/models/sampling.ts';
import { cpuSession } from '../engine/run-graph.ts';
import type { Feed } from '../engine/run-graph.ts';
import { FAMILIES, adapterFeeds, loadFixture, relError, weightFeeds } from './fixture.ts';
import type { Fixture } from './fixture.ts';

/** A GenerationIO over two CPU sessions that feeds each call's present.* back as the next past_key_values.*. */
async function cpuIO(fx: Fixture, shape: GenerationShape, plan: LoraPlan | null, record?: Float32Array[]): Promise<GenerationIO> {
  const graphs = buildGenerationGraphs(fx.cfg, shape, plan);
  const params: Record<string, Feed> = { ...weightFeeds(fx), ...(plan ? adapterFeeds(fx.golden) : {}) };
  const pre = await cpuSession(graphs.prefill);
  const dec = await cpuSession(graphs.decode);
  let past: Record<string, Feed> = {};
  const step = async (run: typeof pre, feeds: Record<string, Feed>): Promise<Float32Array> => {
    const out = await run({ ...feeds, ...params, ...past });
    past = {};
    for (let i = 0; i < graphs.layers; i++) {
      past[`past_key_values.${i}.key`] = Float32Array.from(out[`present.${i}.key`]!.data);
      past[`past_key_values.${i}.value`] = Float32Array.from(out[`present.${i}.value`]!.data);
    }
    const logits = Float32Array.from(out['logits']!.data);
    record?.push(logits);
    return logits;
  };
  return {
    prefill: (f) => step(pre, { ...f }),
    decode: (f) => step(dec, { ...f }),
  };
}

/** Logits [B, T, V] of the plain forward graph over right-padded rows. */
async function fullLogits(fx: Fixture, rows: number[][], T: number, plan: LoraPlan | null): Promise<{ data: number[]; V: number }> {
  const B = rows.length;
  const g = new GraphBuilder('full');
  const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: plan });
  g.output(fwd.logits!, 'logits');
  const graph: Graph = g.build();
  const ids = rows.flatMap((r) => [...r, ...new Array<number>(T - r.length).fill(0)]);
  const mask = rows.flatMap((r) => [...r.map(() => 1), ...new Array<number>(T - r.length).fill(0)]);
  const params = { ...weightFeeds(fx), ...(plan ? adapterFeeds(fx.golden) : {}) };
  const out = await (await cpuSession(graph))({ input_ids: ids, attention_mask: mask, position_ids: defaultPositionIds(B, T), ...params });
  return { data: out['logits']!.data, V: fx.cfg.vocabSize };
}

describe.each(FAMILIES)('%s generation', (family) => {
  it('greedy tokens through the KV cache equal the reference', async () => {
    const fx = loadFixture(family);
    const { prompt, tokens, max_new_tokens: maxNew, eos_token_id: eos } = fx.golden.generation;
    const shape = { batch: 1, promptLen: prompt.length, maxLen: prompt.length + maxNew };
    const streamed: number[] = [];
    const out = await generate(await cpuIO(fx, shape, null), shape, [prompt], {
      maxNewTokens: maxNew,
      sampling: GREEDY,
      stopIds: eos,
      onToken: (_row, t) => streamed.push(t),
    });
    expect(out[0]).toEqual(tokens);
    expect(streamed).toEqual(tokens);
  });

  it('stops a row after an end-of-turn id and keeps the others going', async () => {
    const fx = loadFixture(family);
    const { prompt, tokens } = fx.golden.generation;
    const shape = { batch: 2, promptLen: prompt.length, maxLen: prompt.length + 8 };
    const io = await cpuIO(fx, shape, null);
    // Row 0 repeats the reference prompt; row 1 is a shorter prompt, so its stop id (the reference's third token)
    // only applies to row 0 unless row 1 happens to produce it too.
    const out = await generate(io, shape, [prompt, prompt.slice(0, 3)], { maxNewTokens: 6, sampling: GREEDY, stopIds: [tokens[2]!] });
    expect(out[0]).toEqual(tokens.slice(0, tokens.indexOf(tokens[2]!) + 1));
    const stopAt = out[1]!.indexOf(tokens[2]!);
    expect(out[1]!.length).toBe(stopAt >= 0 ? stopAt + 1 : 6);
  });

  it('KV-cache decode equals full recompute, for padded rows and with an adapter', async () => {
    const fx = loadFixture(family);
    const plan = planLora(fx.cfg, { r: fx.golden.lora.r, alpha: fx.golden.lora.lora_alpha, targets: fx.golden.lora.target_modules });
    const ids = fx.golden.batch.input_ids[0]!;
    const prompts = [ids.slice(0, 6), ids.slice(2, 5)]; // different lengths: row 1 is right-padded in the prefill
    const shape = { batch: 2, promptLen: 6, maxLen: 12 };
    const steps: Float32Array[] = [];
    const rng = Rng.fromSeed('kv-test');
    const sampling = { doSample: true, temperature: 1, topK: 40, topP: 0.95, repetitionPenalty: 1.1 };
    const out = await generate(await cpuIO(fx, shape, plan, steps), shape, prompts, { maxNewTokens: 5, sampling, stopIds: [], rng });
    const rows = prompts.map((p, b) => [...p, ...out[b]!]);
    const full = await fullLogits(fx, rows, shape.maxLen, plan);
    let worst = 0;
    steps.forEach((logits, s) => {
      for (let b = 0; b < 2; b++) {
        // Step s scored the token at index (prompt length + s) from position prompt length + s - 1.
        const t = prompts[b]!.length + s - 1;
        const ref = full.data.slice((b * shape.maxLen + t) * full.V, (b * shape.maxLen + t + 1) * full.V);
        worst = Math.max(worst, relError(logits.subarray(b * full.V, (b + 1) * full.V), ref));
      }
    });
    expect(steps).toHaveLength(5);
    console.log(`${family}: KV decode vs full recompute, worst rel err ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});

describe('stop ids', () => {
  it('merge config.json, generation_config.json and end-of-turn ids', () => {
    const cfg = loadFixture('qwen2').cfg;
    const gen = parseGenerationConfig({ eos_token_id: [151645, 151643] });
    expect(stopTokenIds(cfg, gen, [151645, 7])).toEqual([7, 151643, 151645]);
    expect(stopTokenIds(loadFixture('llama').cfg, null)).toEqual([128001, 128008, 128009]);
  });
});
