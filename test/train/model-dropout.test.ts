// GPT-2's own dropout (embd_pdrop, attn_pdrop, resid_pdrop) in training graphs: the step graphs declare one mask input
// per site, training batches get seeded inverted-dropout masks, evaluation and inspection get all-ones masks, and the
// Llama-family graphs have none. Granite's attention_dropout goes the same way, one mask per layer.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/models/config.ts';
import { planLora } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import type { Batch } from '../../src/runtime/train-session.ts';
import { buildTrainGraphs, withDropoutMasks } from '../../src/train/graphs.ts';
import { loadFixture } from '../models/fixture.ts';

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
const shape = { batch: 2, seqLen: 8 };
const empty: Batch = {};

describe('GPT-2 dropout in training', () => {
  const cfg = loadFixture('gpt2').cfg;
  const plan = planLora(cfg, { r: 2, alpha: 4, targets: ['c_attn'] });

  it('declares a mask per dropout site in every step graph', () => {
    const graphs = buildTrainGraphs(cfg, plan, shape, ADAMW);
    const names = graphs.data.map((d) => d.name).filter((n) => n.startsWith('dropout.'));
    expect(names).toEqual([
      'dropout.transformer.drop',
      'dropout.transformer.h.0.attn.attn_dropout', 'dropout.transformer.h.0.attn.resid_dropout', 'dropout.transformer.h.0.mlp.dropout',
      'dropout.transformer.h.1.attn.attn_dropout', 'dropout.transformer.h.1.attn.resid_dropout', 'dropout.transformer.h.1.mlp.dropout',
    ]);
    expect(graphs.data.find((d) => d.name === 'dropout.transformer.h.0.attn.attn_dropout')?.shape).toEqual([2, cfg.numHeads, 8, 8]);
    expect(graphs.eval.inputs.some((i) => i.value.name === 'dropout.transformer.drop')).toBe(true);
  });

  it('draws seeded inverted-dropout masks for training and all-ones masks for evaluation', () => {
    const train = withDropoutMasks(empty, cfg, plan, shape, Rng.fromSeed('s'));
    const again = withDropoutMasks(empty, cfg, plan, shape, Rng.fromSeed('s'));
    const m = train['dropout.transformer.h.1.mlp.dropout']!.data as Float32Array;
    expect(m).toEqual(again['dropout.transformer.h.1.mlp.dropout']!.data);
    expect(new Set(m)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
    const zeros = m.filter((v) => v === 0).length / m.length;
    expect(zeros).toBeGreaterThan(0.03);
    expect(zeros).toBeLessThan(0.2);
    const evaluation = withDropoutMasks(empty, cfg, plan, shape, null);
    expect([...(evaluation['dropout.transformer.drop']!.data as Float32Array)].every((v) => v === 1)).toBe(true);
  });

  it('leaves configs without dropout (and the Llama family) without masks', () => {
    const noDrop = parseModelConfig({ ...(loadFixture('gpt2').rawConfig as object), embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
    expect(withDropoutMasks(empty, noDrop, planLora(noDrop, { r: 2, alpha: 4, targets: ['c_attn'] }), shape, Rng.fromSeed('s'))).toBe(empty);
    const qwen = loadFixture('qwen2').cfg;
    expect(withDropoutMasks(empty, qwen, planLora(qwen, { r: 2, alpha: 4, targets: ['q_proj'] }), shape, Rng.fromSeed('s'))).toBe(empty);
    expect(() => parseModelConfig({ ...(loadFixture('gpt2').rawConfig as object), resid_pdrop: 1 })).toThrow(/resid_pdrop must be a probability in \[0, 1\)/);
  });
});

describe('Granite attention dropout in training', () => {
  const cfg = loadFixture('granite').cfg;
  const plan = planLora(cfg, { r: 2, alpha: 4, targets: ['q_proj', 'v_proj'] });

  it('declares one [B, heads, T, T] mask per layer, draws seeded masks for training and all-ones for evaluation', () => {
    const graphs = buildTrainGraphs(cfg, plan, shape, ADAMW);
    const sites = graphs.data.filter((d) => d.name.startsWith('dropout.'));
    expect(sites.map((d) => [d.name, d.shape])).toEqual([
      ['dropout.model.layers.0.self_attn', [2, cfg.numHeads, 8, 8]],
      ['dropout.model.layers.1.self_attn', [2, cfg.numHeads, 8, 8]],
    ]);
    const train = withDropoutMasks(empty, cfg, plan, shape, Rng.fromSeed('s'));
    const m = train['dropout.model.layers.1.self_attn']!.data as Float32Array;
    expect(m).toEqual(withDropoutMasks(empty, cfg, plan, shape, Rng.fromSeed('s'))['dropout.model.layers.1.self_attn']!.data);
    expect(new Set(m)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
    const evaluation = withDropoutMasks(empty, cfg, plan, shape, null);
    expect([...(evaluation['dropout.model.layers.0.self_attn']!.data as Float32Array)].every((v) => v === 1)).toBe(true);
    const noDrop = parseModelConfig({ ...(loadFixture('granite').rawConfig as object), attention_dropout: 0 });
    expect(withDropoutMasks(empty, noDrop, planLora(noDrop, { r: 2, alpha: 4, targets: ['q_proj'] }), shape, Rng.fromSeed('s'))).toBe(empty);
  });
});
