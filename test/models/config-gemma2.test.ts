// Gemma 2 (gemma2, Gemma2ForCausalLM) config parsing: gemma-2-2b's published config.json, Gemma2Config's defaults for
// missing keys, layer_types in the three spellings transformers has written, every refusal by key, PEFT target names
// and the memory bill; then the refusal message and attention_dropout across every supported family (issue items 6, 7).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { SUPPORTED_MODEL_TYPES, UnsupportedModelError, parseModelConfig, ropeInvFreq } from '../../src/models/config.ts';
import type { Gemma3Config } from '../../src/models/config.ts';
import { buildForward } from '../../src/models/forward.ts';
import { planLora } from '../../src/models/lora.ts';
import { logitsChunkRows, memoryBill } from '../../src/models/memory.ts';
import { parameterCount, weightTable } from '../../src/models/weights.ts';
import { WASM_BUDGET_BYTES, planMemory } from '../../src/train/memory-plan.ts';

/** gemma-2-2b's config.json as published (transformers 4.42: no layer_types, both hidden_act spellings). */
const gemma2b = {
  architectures: ['Gemma2ForCausalLM'], attention_bias: false, attention_dropout: 0.0, attn_logit_softcapping: 50.0,
  bos_token_id: 2, cache_implementation: 'hybrid', eos_token_id: [1, 107], final_logit_softcapping: 30.0, head_dim: 256,
  hidden_act: 'gelu_pytorch_tanh', hidden_activation: 'gelu_pytorch_tanh', hidden_size: 2304, initializer_range: 0.02,
  intermediate_size: 9216, max_position_embeddings: 8192, model_type: 'gemma2', num_attention_heads: 8, num_hidden_layers: 26,
  num_key_value_heads: 4, pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_theta: 10000.0,
  sliding_window: 4096, torch_dtype: 'float32', transformers_version: '4.42.4', use_cache: true, vocab_size: 256000,
};

function gemma(raw: unknown): Gemma3Config {
  const cfg = parseModelConfig(raw);
  if (cfg.family !== 'gemma3') throw new Error(`gemma family expected, got ${cfg.family}`);
  return cfg;
}

describe('Gemma 2 config', () => {
  it('reads gemma-2-2b: alternating local/global layers on one RoPE base, soft-capping, no q/k norms, tied', () => {
    const cfg = gemma(gemma2b);
    expect(cfg).toMatchObject({
      modelType: 'gemma2', qkNorm: false, hiddenSize: 2304, headDim: 256, numHeads: 8, numKvHeads: 4, queryPreAttnScalar: 256,
      slidingWindow: 4096, tieWordEmbeddings: true, attnLogitSoftcapping: 50, finalLogitSoftcapping: 30, eosTokenIds: [1, 107],
      maxPositionEmbeddings: 8192, rmsNormEps: 1e-6,
    });
    // Gemma2Config's rule (and the `layer_idx % 2 == 0` of releases before layer_types): even layers are local.
    expect(cfg.layerTypes).toHaveLength(26);
    cfg.layerTypes.forEach((t, i) => expect(t, `layer ${i}`).toBe(i % 2 === 0 ? 'sliding_attention' : 'full_attention'));
    expect(cfg.rope).toMatchObject({ theta: 10000, type: 'default' });
    expect([...ropeInvFreq(cfg.localRope, 256)]).toEqual([...ropeInvFreq(cfg.rope, 256)]);
    // 2,614,341,888 parameters: the published size of gemma-2-2b (590M of them in the 256k-row embedding).
    expect(parameterCount(cfg)).toBe(2_614_341_888);
    const names = weightTable(cfg).map((w) => w.name);
    expect(names.filter((n) => n.includes('q_norm') || n.includes('k_norm'))).toEqual([]);
    expect(names).not.toContain('lm_head.weight');
    expect(names.filter((n) => n.startsWith('model.layers.0.'))).toEqual([
      'input_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight', 'self_attn.o_proj.weight',
      'post_attention_layernorm.weight', 'pre_feedforward_layernorm.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight',
      'mlp.down_proj.weight', 'post_feedforward_layernorm.weight',
    ].map((n) => `model.layers.0.${n}`));
  });

  it("takes Gemma2Config's defaults for missing keys and an explicit null as off", () => {
    const { attn_logit_softcapping: _a, final_logit_softcapping: _f, sliding_window: _s, rope_theta: _r, head_dim: _h, max_position_embeddings: _m, ...bare } = gemma2b;
    const cfg = gemma(bare);
    expect(cfg).toMatchObject({ attnLogitSoftcapping: 50, finalLogitSoftcapping: 30, slidingWindow: 4096, headDim: 256, maxPositionEmbeddings: 8192 });
    expect(cfg.rope.theta).toBe(10000); // Gemma2Config's rope_theta, not Gemma 3's 1e6
    const off = gemma({ ...gemma2b, attn_logit_softcapping: null, final_logit_softcapping: null });
    expect([off.attnLogitSoftcapping, off.finalLogitSoftcapping]).toEqual([null, null]);
    // Gemma 3 keeps its own defaults: no soft-capping unless set.
    const g3 = gemma({ ...bare, model_type: 'gemma3_text', architectures: ['Gemma3ForCausalLM'], sliding_window: 512 });
    expect([g3.attnLogitSoftcapping, g3.finalLogitSoftcapping, g3.qkNorm]).toEqual([null, null, true]);
  });

  it('reads layer_types (newer transformers) and transformers 5 rope_parameters, ignoring Gemma 3 keys', () => {
    const types = Array.from({ length: 26 }, (_, i) => (i < 2 ? 'full_attention' : 'sliding_attention'));
    expect(gemma({ ...gemma2b, layer_types: types }).layerTypes).toEqual(types);
    // sliding_window_pattern is a Gemma 3 key; Gemma 2 alternates regardless.
    expect(gemma({ ...gemma2b, sliding_window_pattern: 6 }).layerTypes.slice(0, 4)).toEqual(['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention']);
    const { rope_theta: _r, ...noTheta } = gemma2b;
    const v5 = gemma({ ...noTheta, rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 20000 } });
    expect(v5.rope).toMatchObject({ theta: 20000, type: 'linear', factor: 2 });
    expect(v5.localRope).toBe(v5.rope);
  });

  it('refuses what it does not implement, naming the key', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ attention_dropout: 0.1 }, /attention_dropout 0.1 is not supported for gemma2/],
      [{ hidden_activation: 'gelu' }, /hidden_activation "gelu" is not supported for gemma2/],
      [{ use_bidirectional_attention: true }, /use_bidirectional_attention true .* is not supported for gemma2/],
      [{ partial_rotary_factor: 0.5 }, /partial_rotary_factor 0.5 is not supported/],
      [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported/],
      [{ layer_types: ['full_attention'] }, /layer_types must list one entry per layer \(26\)/],
      [{ layer_types: ['chunked_attention', ...new Array<string>(25).fill('full_attention')] }, /layer type "chunked_attention" is not supported for gemma2/],
      [{ sliding_window: null }, /sliding_window is missing or 0; set sliding_window \(4096 for Gemma 2\)/],
      [{ sliding_window: 1.5 }, /sliding_window must be an integer/],
      [{ attn_logit_softcapping: 0 }, /attn_logit_softcapping must be a positive number or null, got 0/],
      [{ final_logit_softcapping: 'high' }, /final_logit_softcapping must be a positive number or null, got "high"/],
      [{ final_logit_softcapping: Infinity }, /final_logit_softcapping must be a positive number or null/],
      [{ query_pre_attn_scalar: 0 }, /query_pre_attn_scalar must be a positive number/],
      [{ rms_norm_eps: 2 }, /rms_norm_eps must be a small positive number/],
      [{ hidden_size: 2300 }, /hidden_size 2300 is not a multiple of num_attention_heads 8/],
      [{ num_key_value_heads: 3 }, /num_attention_heads 8 is not a multiple of num_key_value_heads 3/],
      [{ head_dim: 255 }, /head_dim 255 must be even/],
      [{ num_hidden_layers: 100000 }, /num_hidden_layers must be a positive integer of at most 256/],
      [{ tie_word_embeddings: 'yes' }, /tie_word_embeddings must be true or false/],
      [{ architectures: ['Gemma2ForSequenceClassification'] }, /Gemma2ForSequenceClassification is not supported for model_type gemma2.*Gemma2ForCausalLM/],
    ];
    for (const [over, message] of bad) expect(() => parseModelConfig({ ...gemma2b, ...over }), JSON.stringify(over)).toThrow(message);
  });

  it('targets PEFT module names for LoRA', () => {
    const cfg = gemma(gemma2b);
    const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['all-linear'] });
    expect(plan.targets).toHaveLength(26 * 7);
    expect(plan.targets.slice(0, 7).map((t) => t.module.split('.').pop())).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(plan.targets[0]).toMatchObject({ module: 'model.layers.0.self_attn.q_proj', inFeatures: 2304, outFeatures: 2048, keyA: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' });
    expect(() => planLora(cfg, { r: 8, alpha: 16, targets: ['q_norm'] })).toThrow();
  });

  it('bills gemma-2-2b at 1 × 512 with LoRA on q,v: float32 weights, the adapter four times, chunked logits', () => {
    const cfg = gemma(gemma2b);
    const bill = memoryBill(cfg, { batch: 1, seqLen: 512 }, planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }));
    expect(bill.weightBytes).toBe(2_614_341_888 * 4);
    expect(bill.trainableParams).toBe(26 * 8 * (2304 + 2048 + 2304 + 1024));
    expect(bill.trainableBytes).toBe(bill.trainableParams * 16);
    // 512 × 256,000 × 4 bytes of logits (524 MB) are over 128 MiB: 65 positions per 64 MiB chunk.
    expect(logitsChunkRows(cfg, 512)).toBe(65);
    expect(bill.activationBytes).toBe((26 * 512 * (12 * 2304 + 4 * 9216 + 2 * 8 * 512) + 65 * 4 * 256000) * 4);
    // The embedding [256000, 2304] is the largest single tensor: 2.36 GB in float32.
    expect(bill.largestTensorBytes).toBe(256000 * 2304 * 4);
    expect(bill.totalBytes).toBe(bill.weightBytes + bill.trainableBytes + bill.activationBytes);
    // On a GPU whose storage bindings stop at 2 GiB, that embedding cannot be one buffer: the plan refuses and says why.
    const run = { maxLength: 512, lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, train: { batchSize: 1 } };
    const plan = planMemory(gemma2b, run, { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 });
    expect(plan.fits).toBe(false);
    expect(plan.problems.map((p) => p.message).join('\n')).toMatch(/embedding table \[256000, 2304\] takes 2.36 GB in one GPU buffer.*use the WASM backend or pick a smaller model/);
    // And its 10.5 GB of float32 weights alone are past the 4 GiB a wasm32 runtime addresses.
    const wasm = planMemory(gemma2b, run, { budgetBytes: WASM_BUDGET_BYTES });
    expect(wasm.fits).toBe(false);
    expect(wasm.problems.map((p) => p.message).join('\n')).toMatch(/14.62 GB/);
  });

  it('builds sliding-window masks only on local layers: longer than the window is allowed (no Mistral-style refusal)', () => {
    const cfg = gemma({ ...gemma2b, num_hidden_layers: 2, hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, intermediate_size: 32, vocab_size: 64, sliding_window: 4 });
    expect(() => buildForward(new GraphBuilder(), cfg, { batch: 1, seqLen: 16 })).not.toThrow();
  });
});

describe('refusals across families (issue 19 items 6 and 7)', () => {
  it('names the supported families, Gemma 2 among them, and a known-but-unsupported family by name', () => {
    const refuse = (raw: unknown) => () => parseModelConfig(raw);
    expect(refuse({ model_type: 'phi3', architectures: ['Phi3ForCausalLM'] })).toThrow(UnsupportedModelError);
    expect(refuse({ model_type: 'phi3', architectures: ['Phi3ForCausalLM'] })).toThrow(
      /model_type "phi3" \(architectures Phi3ForCausalLM\) is not supported: it is Phi-3\/Phi-4, a family TabTune knows but does not run yet\. TabTune supports model_type .*gemma2 \(Gemma 2\).*Gemma2ForCausalLM/,
    );
    expect(refuse({ model_type: 'gemma' })).toThrow(/it is Gemma \(1\), a family TabTune knows/);
    expect(refuse({ model_type: 'gemma2_custom' })).toThrow(/model_type "gemma2_custom" is not supported\. TabTune supports/);
    expect(SUPPORTED_MODEL_TYPES).toContain('gemma2');
  });

  it('refuses attention_dropout in every family that has the key (GPT-2 and Granite apply theirs in training instead)', () => {
    const base = { hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, num_hidden_layers: 2, intermediate_size: 32, vocab_size: 64, rms_norm_eps: 1e-6, sliding_window: 4 };
    // Granite's published configs set attention_dropout 0.1, so Granite applies it (seeded masks, golden-checked).
    expect(parseModelConfig({ ...base, model_type: 'granite', attention_dropout: 0.1 })).toMatchObject({ attentionDropout: 0.1 });
    const types = SUPPORTED_MODEL_TYPES.filter((t) => t !== 'gpt2' && t !== 'granite');
    expect(types.length).toBeGreaterThanOrEqual(7);
    for (const mt of types) {
      expect(() => parseModelConfig({ ...base, model_type: mt }), mt).not.toThrow();
      expect(() => parseModelConfig({ ...base, model_type: mt, attention_dropout: 0.1 }), mt).toThrow(new RegExp(`attention_dropout 0.1 is not supported for ${mt}`));
    }
  });
});
