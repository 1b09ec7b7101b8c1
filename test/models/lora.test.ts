// LoRA injection: PEFT targets and key names, PEFT init from a seed, parameter counts, exact no-op at init, and
// dropout through the mask input.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import type { LoraPlan } from '../../src/models/lora.ts';
import { dropoutMask, initLoraWeights, loraDropoutInputName, planLora, selectFullTensors, trainableSummary } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { parameterCount } from '../../src/models/weights.ts';
import { cpuSession } from '../engine/run-graph.ts';
import type { Feed } from '../engine/run-graph.ts';
import { adapterFeeds, flat, loadFixture, weightFeeds } from './fixture.ts';
import type { Fixture } from './fixture.ts';

async function logitsOf(fx: Fixture, plan: LoraPlan | null, adapter: Record<string, Feed>, opts: { dropout?: Record<string, Feed> } = {}): Promise<number[]> {
  const { input_ids, attention_mask } = fx.golden.batch;
  const [B, T] = [input_ids.length, input_ids[0]!.length];
  const g = new GraphBuilder('lora');
  const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: plan, loraDropout: opts.dropout !== undefined });
  g.output(fwd.logits!, 'logits');
  const run = await cpuSession(g.build());
  const out = await run({ input_ids: flat(input_ids), attention_mask: flat(attention_mask), position_ids: defaultPositionIds(B, T), ...weightFeeds(fx), ...adapter, ...opts.dropout });
  return out['logits']!.data;
}

/** Bitwise equality of two float arrays (vitest's deep equality is too slow for millions of logits). */
function identical(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

describe('planLora', () => {
  it('selects modules by the names users know and spells PEFT keys', () => {
    const llama = loadFixture('llama').cfg;
    const plan = planLora(llama, { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] });
    expect(plan.scale).toBe(2);
    expect(plan.targets.map((t) => [t.keyA, t.inFeatures, t.outFeatures])).toEqual([
      ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 32, 32],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', 32, 16],
      ['base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight', 32, 32],
      ['base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight', 32, 16],
    ]);
    expect(planLora(llama, { r: 4, alpha: 8, targets: ['all-linear'] }).targets).toHaveLength(14);
    expect(planLora(llama, { r: 16, alpha: 8, rslora: true, targets: ['o_proj'] }).scale).toBe(2);
    const gpt2 = loadFixture('gpt2').cfg;
    // PEFT's suffix match: c_proj hits both attn.c_proj and mlp.c_proj; Conv1D keeps Linear-shaped adapters.
    const g = planLora(gpt2, { r: 2, alpha: 4, targets: ['c_proj', 'c_fc'] });
    expect(g.targets.map((t) => `${t.module} ${t.inFeatures}->${t.outFeatures}`)).toEqual([
      'transformer.h.0.attn.c_proj 64->64', 'transformer.h.0.mlp.c_fc 64->256', 'transformer.h.0.mlp.c_proj 256->64',
      'transformer.h.1.attn.c_proj 64->64', 'transformer.h.1.mlp.c_fc 64->256', 'transformer.h.1.mlp.c_proj 256->64',
    ]);
    expect(() => planLora(gpt2, { r: 2, alpha: 4, targets: ['q_proj'] })).toThrow(/"q_proj" matches no module.*c_attn, c_proj, c_fc/);
    expect(() => planLora(llama, { r: 0, alpha: 4, targets: ['q_proj'] })).toThrow(/rank r/);
  });

  it('initialises like PEFT from an explicit seed: A ~ U(±1/√in), B = 0, per-tensor streams', () => {
    const cfg = loadFixture('qwen2').cfg;
    const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'down_proj'] });
    const w = initLoraWeights(plan, 1234);
    for (const t of plan.targets) {
      const a = w.get(t.keyA)!;
      const bound = 1 / Math.sqrt(t.inFeatures);
      expect(a.length).toBe(8 * t.inFeatures);
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.8 * bound);
      expect(w.get(t.keyB)!.every((x) => x === 0)).toBe(true);
    }
    expect(initLoraWeights(plan, 1234).get(plan.targets[0]!.keyA)).toEqual(w.get(plan.targets[0]!.keyA));
    expect(initLoraWeights(plan, 1235).get(plan.targets[0]!.keyA)).not.toEqual(w.get(plan.targets[0]!.keyA));
    const qOnly = planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj'] });
    expect(initLoraWeights(qOnly, 1234).get(qOnly.targets[0]!.keyA)).toEqual(w.get(plan.targets[0]!.keyA));
  });

  it('builds byte-identical ONNX for the same configuration', () => {
    const fx = loadFixture('qwen3');
    const plan = planLora(fx.cfg, { r: 4, alpha: 8, dropout: 0.05, targets: ['all-linear'] });
    const bytes = (): Uint8Array => {
      const g = new GraphBuilder('same');
      g.output(buildForward(g, fx.cfg, { batch: 2, seqLen: 6, lora: plan, loraDropout: true }).logits!, 'logits');
      return serializeGraph(g.build());
    };
    expect(Buffer.from(bytes()).equals(Buffer.from(bytes()))).toBe(true);
  });

  it('counts trainable parameters and the fraction, with fully trained tensors', () => {
    const cfg = loadFixture('llama').cfg;
    const plan = planLora(cfg, { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] });
    const adapter = 2 * (4 * (32 + 32) + 4 * (32 + 16));
    const s = trainableSummary(cfg, plan);
    expect(s.trainable).toBe(adapter);
    expect(s.total).toBe(parameterCount(cfg) + adapter);
    expect(s.fraction).toBeCloseTo(adapter / (parameterCount(cfg) + adapter), 12);
    const norms = selectFullTensors(cfg, ['norms']);
    expect(norms).toEqual(['model.layers.0.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight', 'model.layers.1.input_layernorm.weight', 'model.layers.1.post_attention_layernorm.weight', 'model.norm.weight']);
    expect(trainableSummary(cfg, plan, norms).trainable).toBe(adapter + 5 * 32);
    expect(selectFullTensors(loadFixture('qwen2').cfg, ['head'])).toEqual(['model.embed_tokens.weight']);
    expect(selectFullTensors(cfg, [], [1]).every((n) => n.startsWith('model.layers.1.'))).toBe(true);
  });
});

describe.each(['llama', 'gpt2'] as const)('%s LoRA graph', (family) => {
  it('at initialisation gives exactly the base logits', async () => {
    const fx = loadFixture(family);
    const plan = planLora(fx.cfg, { r: 4, alpha: 8, targets: family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['all-linear'] });
    const init = Object.fromEntries([...initLoraWeights(plan, 'seed')].map(([k, v]) => [k, v]));
    const base = await logitsOf(fx, null, {});
    const lora = await logitsOf(fx, plan, init);
    expect(identical(lora, base)).toBe(true);
  });

  it('applies dropout through the mask input: ones = no dropout, zeros = no adapter', async () => {
    const fx = loadFixture(family);
    const l = fx.golden.lora;
    const plan = planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, dropout: 0.1, targets: l.target_modules });
    const N = fx.golden.batch.input_ids.flat().length;
    const masks = (fill: number): Record<string, Feed> =>
      Object.fromEntries(plan.targets.map((t) => [loraDropoutInputName(t), new Float32Array(N * t.inFeatures).fill(fill)]));
    const adapter = adapterFeeds(fx.golden);
    const plain = await logitsOf(fx, plan, adapter);
    const base = await logitsOf(fx, null, {});
    expect(identical(plain, base)).toBe(false);
    expect(identical(await logitsOf(fx, plan, adapter, { dropout: masks(1) }), plain)).toBe(true);
    expect(identical(await logitsOf(fx, plan, adapter, { dropout: masks(0) }), base)).toBe(true);
    const m = dropoutMask(Rng.fromSeed(3), 100, 50, 0.1);
    const zeros = m.filter((x) => x === 0).length;
    expect(zeros).toBeGreaterThan(300);
    expect(zeros).toBeLessThan(700);
    expect(m.every((x) => x === 0 || Math.abs(x - 1 / 0.9) < 1e-6)).toBe(true);
  });
});
