// config.json parsing for the supported families, the errors for everything else, and the weight-name tables.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { UnsupportedModelError, parseModelConfig, ropeInvFreq } from '../../src/models/config.ts';
import { buildForward } from '../../src/models/forward.ts';
import { modelDropoutSpecs } from '../../src/models/gpt2.ts';
import { planLora } from '../../src/models/lora.ts';
import { checkTokenizerFits, memoryBill } from '../../src/models/memory.ts';
import { parameterCount, resolveCheckpoint, weightTable } from '../../src/models/weights.ts';
import { loadFixture } from './fixture.ts';

const llamaLike = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1,
  num_hidden_layers: 1, intermediate_size: 32, vocab_size: 40, rms_norm_eps: 1e-6, max_position_embeddings: 64,
};

describe('parseModelConfig', () => {
  it('reads each fixture family', () => {
    const llama = loadFixture('llama').cfg;
    expect(llama).toMatchObject({ family: 'llama', numKvHeads: 2, headDim: 8, tieWordEmbeddings: false, qkvBias: false, qkNorm: false });
    expect(llama.family === 'llama' && llama.rope).toMatchObject({ type: 'llama3', factor: 8, originalMaxPositionEmbeddings: 8192, theta: 500000 });
    expect(loadFixture('qwen2').cfg).toMatchObject({ qkvBias: true, oBias: false, tieWordEmbeddings: true, eosTokenIds: [151645] });
    expect(loadFixture('qwen3').cfg).toMatchObject({ qkNorm: true, headDim: 16, hiddenSize: 32, qkvBias: false });
    expect(loadFixture('olmo2').cfg).toMatchObject({ family: 'olmo2', numKvHeads: 2, headDim: 8, tieWordEmbeddings: false, attentionBias: true });
    expect(loadFixture('granite').cfg).toMatchObject({ family: 'granite', tieWordEmbeddings: true, embeddingMultiplier: 12, attentionMultiplier: 0.2, residualMultiplier: 0.22, logitsScaling: 4 });
    expect(loadFixture('gpt2').cfg).toMatchObject({ family: 'gpt2', intermediateSize: 256, headDim: 16, tieWordEmbeddings: true, layerNormEps: 1e-5 });
  });

  it('names what is supported when the architecture is not', () => {
    const gemma = () => parseModelConfig({ model_type: 'gemma3', architectures: ['Gemma3ForCausalLM'] });
    expect(gemma).toThrow(UnsupportedModelError);
    expect(gemma).toThrow(/model_type "gemma3" \(architectures Gemma3ForCausalLM\) is not supported: it is Gemma 3 with vision.*model_type gemma3_text.*TabTune supports model_type llama.*mistral.*qwen2.*qwen3.*gemma3_text.*gpt2/);
    expect(() => parseModelConfig({ model_type: 'olmo' })).toThrow(/model_type "olmo" is not supported: it is OLMo, a family TabTune knows but does not run yet\. TabTune supports.*olmo2.*granite/);
    expect(() => parseModelConfig({ model_type: 'my_own_lm' })).toThrow(/model_type "my_own_lm" is not supported\. TabTune supports/);
    expect(() => parseModelConfig({ model_type: 'constructor' })).toThrow(/model_type "constructor" is not supported\. TabTune supports/);
    expect(() => parseModelConfig({ ...llamaLike, architectures: ['LlamaForSequenceClassification'] })).toThrow(/LlamaForSequenceClassification is not supported.*LlamaForCausalLM/);
    expect(() => parseModelConfig({ ...llamaLike, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling type "yarn" is not supported/);
    expect(() => parseModelConfig({ ...llamaLike, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], use_sliding_window: true })).toThrow(/use_sliding_window/);
    expect(() => parseModelConfig({ ...llamaLike, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu"/);
    expect(() => parseModelConfig({ model_type: 'llama' })).toThrow(/hidden_size must be a number/);
    expect(() => parseModelConfig('nope')).toThrow(/JSON object/);
  });

  it('accepts transformers 5 rope_parameters and refuses Mistral sequences beyond the sliding window', () => {
    const cfg = parseModelConfig({ ...llamaLike, rope_parameters: { rope_type: 'default', rope_theta: 1234 } });
    expect(cfg.family === 'llama' && cfg.rope.theta).toBe(1234);
    const linear = parseModelConfig({ ...llamaLike, rope_theta: 1234, rope_scaling: { type: 'linear', factor: 4 } });
    if (cfg.family !== 'llama' || linear.family !== 'llama') throw new Error('llama family expected');
    const base = ropeInvFreq(cfg.rope, 8);
    expect([...ropeInvFreq(linear.rope, 8)]).toEqual([...base].map((f) => f / 4));
    expect(base[1]).toBeCloseTo(Math.pow(1234, -2 / 8), 15);
    const mistral = parseModelConfig({ ...llamaLike, model_type: 'mistral', architectures: ['MistralForCausalLM'], sliding_window: 4 });
    expect(() => buildForward(new GraphBuilder(), mistral, { batch: 1, seqLen: 8 })).toThrow(/sliding_window 4/);
    expect(() => buildForward(new GraphBuilder(), mistral, { batch: 1, seqLen: 4 })).not.toThrow();
  });
});

/** Gemma 3 270M's config.json as published (Gemma3ForCausalLM, transformers 4.55). */
const gemma270m = {
  _sliding_window_pattern: 6, architectures: ['Gemma3ForCausalLM'], attention_bias: false, attention_dropout: 0.0,
  attn_logit_softcapping: null, bos_token_id: 2, eos_token_id: 1, final_logit_softcapping: null, head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh', hidden_size: 640, initializer_range: 0.02, intermediate_size: 2048,
  layer_types: Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention')),
  max_position_embeddings: 32768, model_type: 'gemma3_text', num_attention_heads: 4, num_hidden_layers: 18,
  num_key_value_heads: 1, pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0,
  rope_scaling: null, rope_theta: 1000000.0, sliding_window: 512, torch_dtype: 'bfloat16', transformers_version: '4.55.0.dev0',
  use_bidirectional_attention: false, use_cache: true, vocab_size: 262144,
};

describe('Gemma 3 config', () => {
  it('reads Gemma 3 270M: tied by default, local and global RoPE, layer types, no soft-capping', () => {
    const cfg = parseModelConfig(gemma270m);
    if (cfg.family !== 'gemma3') throw new Error('gemma3 family expected');
    expect(cfg).toMatchObject({
      modelType: 'gemma3_text', hiddenSize: 640, headDim: 256, numHeads: 4, numKvHeads: 1, queryPreAttnScalar: 256,
      slidingWindow: 512, tieWordEmbeddings: true, attnLogitSoftcapping: null, finalLogitSoftcapping: null, eosTokenIds: [1],
    });
    expect(cfg.rope).toMatchObject({ theta: 1e6, type: 'default' });
    expect(cfg.localRope).toMatchObject({ theta: 1e4, type: 'default' });
    expect(cfg.layerTypes.filter((t) => t === 'full_attention')).toHaveLength(3);
    expect(cfg.layerTypes[5]).toBe('full_attention');
    // 268M parameters: the published size of gemma-3-270m (170M of them in the 262k-row embedding).
    expect(parameterCount(cfg)).toBe(268_098_176);
    expect(weightTable(cfg).map((w) => w.name)).not.toContain('lm_head.weight');
  });

  it('derives layer types from sliding_window_pattern and reads transformers 5 rope_parameters', () => {
    const { layer_types: _drop, ...noTypes } = gemma270m;
    const derived = parseModelConfig({ ...noTypes, _sliding_window_pattern: undefined, sliding_window_pattern: 3, num_hidden_layers: 6 });
    expect(derived.family === 'gemma3' && derived.layerTypes).toEqual(['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'full_attention']);
    const v5 = parseModelConfig({
      ...gemma270m, rope_theta: undefined, rope_local_base_freq: undefined,
      rope_parameters: { full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } },
    });
    if (v5.family !== 'gemma3') throw new Error('gemma3 family expected');
    expect(v5.rope).toMatchObject({ theta: 1e6, type: 'linear', factor: 8 });
    expect(v5.localRope).toMatchObject({ theta: 1e4, type: 'default' });
  });

  it('refuses what it does not implement, naming the key', () => {
    expect(() => parseModelConfig({ ...gemma270m, hidden_activation: 'gelu' })).toThrow(/hidden_activation "gelu" is not supported for gemma3_text/);
    expect(() => parseModelConfig({ ...gemma270m, attention_dropout: 0.1 })).toThrow(/attention_dropout 0.1 is not supported for gemma3_text/);
    expect(() => parseModelConfig({ ...llamaLike, attention_dropout: 0.1 })).toThrow(/attention_dropout 0.1 is not supported for llama/);
    expect(() => parseModelConfig({ ...gemma270m, use_bidirectional_attention: true })).toThrow(/use_bidirectional_attention/);
    expect(() => parseModelConfig({ ...gemma270m, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling type "yarn"/);
    expect(() => parseModelConfig({ ...gemma270m, layer_types: ['chunked_attention', ...gemma270m.layer_types.slice(1)] })).toThrow(/layer type "chunked_attention"/);
    expect(() => parseModelConfig({ ...gemma270m, layer_types: ['full_attention'] })).toThrow(/one entry per layer \(18\)/);
    expect(() => parseModelConfig({ ...gemma270m, sliding_window: null })).toThrow(/sliding_window is missing/);
    expect(() => parseModelConfig({ ...gemma270m, final_logit_softcapping: -1 })).toThrow(/final_logit_softcapping must be a positive number/);
    expect(() => parseModelConfig({ ...gemma270m, architectures: ['Gemma3ForConditionalGeneration'] })).toThrow(/Gemma3ForConditionalGeneration is not supported/);
  });

  it('targets PEFT module names for LoRA', () => {
    const cfg = parseModelConfig(gemma270m);
    const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['all-linear'] });
    expect(plan.targets).toHaveLength(18 * 7);
    expect(plan.targets[0]).toMatchObject({ module: 'model.layers.0.self_attn.q_proj', inFeatures: 640, outFeatures: 1024, keyA: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' });
    expect(planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }).targets.map((t) => t.outFeatures)).toEqual(Array.from({ length: 36 }, (_, i) => (i % 2 === 0 ? 1024 : 256)));
  });
});

/** SmolLM3-3B's config.json as published (no tie_word_embeddings key). */
const smollm3 = {
  architectures: ['SmolLM3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: null, eos_token_id: 128012,
  hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 11008,
  layer_types: new Array(36).fill('full_attention'), max_position_embeddings: 65536, max_window_layers: 28, mlp_bias: false,
  model_type: 'smollm3', no_rope_layer_interval: 4, no_rope_layers: Array.from({ length: 36 }, (_, i) => ((i + 1) % 4 === 0 ? 0 : 1)),
  num_attention_heads: 16, num_hidden_layers: 36, num_key_value_heads: 4, pad_token_id: 128004, pretraining_tp: 2,
  rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 5000000.0, sliding_window: null, torch_dtype: 'bfloat16',
  transformers_version: '4.54.0.dev0', use_cache: false, use_sliding_window: false, vocab_size: 128256,
};

describe('SmolLM3 config', () => {
  it('reads SmolLM3-3B: tied by SmolLM3Config default, RoPE skipped on every fourth layer', () => {
    const cfg = parseModelConfig(smollm3);
    if (cfg.family !== 'llama') throw new Error('llama family expected');
    expect(cfg).toMatchObject({ modelType: 'smollm3', tieWordEmbeddings: true, headDim: 128, numKvHeads: 4, qkNorm: false, qkvBias: false });
    expect(cfg.ropeLayers?.filter((r) => !r)).toHaveLength(9);
    expect(cfg.ropeLayers?.[3]).toBe(false);
    // 3.08B parameters: the published size of SmolLM3-3B (tied head counted once).
    expect(parameterCount(cfg)).toBe(3_075_098_624);
    const { no_rope_layers: _drop, ...derived } = smollm3;
    const d = parseModelConfig({ ...derived, no_rope_layer_interval: 3 });
    expect(d.family === 'llama' && d.ropeLayers?.slice(0, 6)).toEqual([true, true, false, true, true, false]);
    expect(parseModelConfig({ ...smollm3, tie_word_embeddings: false }).tieWordEmbeddings).toBe(false);
  });

  it('refuses what it does not implement', () => {
    expect(() => parseModelConfig({ ...smollm3, use_sliding_window: true })).toThrow(/use_sliding_window true is not supported for smollm3/);
    expect(() => parseModelConfig({ ...smollm3, mlp_bias: true })).toThrow(/mlp_bias true is not supported for smollm3/);
    expect(() => parseModelConfig({ ...smollm3, no_rope_layers: [1, 0] })).toThrow(/no_rope_layers must list 0 or 1 for each of the 36 layers/);
  });
});

/** OLMo-2-0425-1B's config.json shapes and settings (Olmo2ForCausalLM, MHA, untied). */
const olmo2_1b = {
  architectures: ['Olmo2ForCausalLM'], attention_bias: false, attention_dropout: 0.0, eos_token_id: 100257, hidden_act: 'silu',
  hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 4096, model_type: 'olmo2',
  num_attention_heads: 16, num_hidden_layers: 16, num_key_value_heads: 16, pad_token_id: 100277, rms_norm_eps: 1e-6,
  rope_scaling: null, rope_theta: 500000, tie_word_embeddings: false, torch_dtype: 'float32', use_cache: true, vocab_size: 100352,
};

describe('OLMo 2 config', () => {
  it('reads OLMo 2 1B: untied head, post-norms and whole-projection q/k norms in the weight table', () => {
    const cfg = parseModelConfig(olmo2_1b);
    if (cfg.family !== 'olmo2') throw new Error('olmo2 family expected');
    expect(cfg).toMatchObject({ modelType: 'olmo2', hiddenSize: 2048, headDim: 128, numKvHeads: 16, tieWordEmbeddings: false, rmsNormEps: 1e-6, attentionBias: false, eosTokenIds: [100257] });
    expect(cfg.rope).toMatchObject({ theta: 500000, type: 'default' });
    const names = weightTable(cfg).map((w) => w.name);
    expect(names).not.toContain('model.layers.0.input_layernorm.weight');
    expect(names).toContain('model.layers.0.post_feedforward_layernorm.weight');
    expect(names).toContain('lm_head.weight');
    // 1.48B parameters: the published size of OLMo-2-0425-1B (untied head counted).
    expect(parameterCount(cfg)).toBe(1_484_916_736);
    // GQA: k_norm spans kv_heads·head_dim, q_norm heads·head_dim.
    const gqa = parseModelConfig({ ...olmo2_1b, num_key_value_heads: 4 });
    const shape = (n: string) => weightTable(gqa).find((w) => w.name === n)!.shape;
    expect(shape('model.layers.3.self_attn.q_norm.weight')).toEqual([2048]);
    expect(shape('model.layers.3.self_attn.k_norm.weight')).toEqual([512]);
    // Olmo2Config defaults: rms_norm_eps 1e-5, untied head.
    expect(parseModelConfig({ ...olmo2_1b, rms_norm_eps: undefined, tie_word_embeddings: undefined })).toMatchObject({ rmsNormEps: 1e-5, tieWordEmbeddings: false });
  });

  it('refuses what it does not implement, naming the key', () => {
    expect(() => parseModelConfig({ ...olmo2_1b, attention_dropout: 0.1 })).toThrow(/attention_dropout 0.1 is not supported for olmo2/);
    expect(() => parseModelConfig({ ...olmo2_1b, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu" is not supported for olmo2/);
    expect(() => parseModelConfig({ ...olmo2_1b, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling type "yarn"/);
    expect(() => parseModelConfig({ ...olmo2_1b, clip_qkv: 8 })).toThrow(/clip_qkv 8 is not supported for olmo2/);
    expect(() => parseModelConfig({ ...olmo2_1b, attention_bias: 'yes' })).toThrow(/attention_bias must be true or false/);
    expect(() => parseModelConfig({ ...olmo2_1b, num_key_value_heads: 3 })).toThrow(/not a multiple of num_key_value_heads 3/);
    expect(() => parseModelConfig({ ...olmo2_1b, architectures: ['Olmo2Model'] })).toThrow(/Olmo2Model is not supported for model_type olmo2.*Olmo2ForCausalLM/);
    expect(() => parseModelConfig({ ...olmo2_1b, model_type: 'olmo3' })).toThrow(/it is OLMo 3.*model_type olmo2, which is supported/);
  });

  it('targets PEFT module names for LoRA', () => {
    const cfg = parseModelConfig(olmo2_1b);
    expect(planLora(cfg, { r: 8, alpha: 16, targets: ['all-linear'] }).targets).toHaveLength(16 * 7);
    expect(planLora(cfg, { r: 8, alpha: 16, targets: ['k_proj', 'down_proj'] }).targets[1]).toMatchObject({ module: 'model.layers.0.mlp.down_proj', inFeatures: 8192, outFeatures: 2048 });
    expect(() => planLora(cfg, { r: 8, alpha: 16, targets: ['c_attn'] })).toThrow(/use q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or all-linear/);
  });
});

/** granite-3.1-2b's config.json shapes, multipliers and attention_dropout 0.1 (GraniteForCausalLM, GQA, tied). */
const granite2b = {
  architectures: ['GraniteForCausalLM'], attention_bias: false, attention_dropout: 0.1, attention_multiplier: 0.015625, bos_token_id: 0,
  embedding_multiplier: 12.0, eos_token_id: 0, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192,
  logits_scaling: 8.0, max_position_embeddings: 131072, mlp_bias: false, model_type: 'granite', num_attention_heads: 32,
  num_hidden_layers: 40, num_key_value_heads: 8, pad_token_id: 0, residual_multiplier: 0.22, rms_norm_eps: 1e-5, rope_scaling: null,
  rope_theta: 5000000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 49155,
};

describe('Granite config', () => {
  it('reads Granite 3 2B: the four multipliers, tied head', () => {
    const cfg = parseModelConfig(granite2b);
    if (cfg.family !== 'granite') throw new Error('granite family expected');
    expect(cfg).toMatchObject({
      modelType: 'granite', headDim: 64, numKvHeads: 8, tieWordEmbeddings: true, rmsNormEps: 1e-5, attentionBias: false, mlpBias: false,
      embeddingMultiplier: 12, attentionMultiplier: 0.015625, residualMultiplier: 0.22, logitsScaling: 8, attentionDropout: 0.1,
    });
    // attention_dropout is applied in training graphs: one [B, heads, T, T] mask per layer.
    expect(modelDropoutSpecs(cfg, 2, 16)).toHaveLength(40);
    expect(modelDropoutSpecs(cfg, 2, 16)[39]).toEqual({ name: 'dropout.model.layers.39.self_attn', shape: [2, 32, 16, 16], p: 0.1 });
    expect(modelDropoutSpecs(parseModelConfig({ ...granite2b, attention_dropout: 0 }), 2, 16)).toEqual([]);
    expect(weightTable(cfg).map((w) => w.name)).not.toContain('lm_head.weight');
    // 2.53B parameters: the published size of granite-3.1-2b (tied head counted once).
    expect(parameterCount(cfg)).toBe(2_533_531_648);
    // GraniteConfig defaults: every multiplier 1, untied head, rms_norm_eps 1e-6.
    const bare = parseModelConfig({
      ...granite2b, embedding_multiplier: undefined, attention_multiplier: undefined, residual_multiplier: undefined, logits_scaling: undefined,
      tie_word_embeddings: undefined, rms_norm_eps: undefined, attention_dropout: undefined,
    });
    expect(bare).toMatchObject({ embeddingMultiplier: 1, attentionMultiplier: 1, residualMultiplier: 1, logitsScaling: 1, tieWordEmbeddings: false, rmsNormEps: 1e-6, attentionDropout: 0 });
    expect(parseModelConfig({ ...granite2b, mlp_bias: true, attention_bias: true })).toMatchObject({ mlpBias: true, attentionBias: true });
  });

  it('refuses what it does not implement and out-of-range multipliers, naming the key', () => {
    expect(() => parseModelConfig({ ...granite2b, attention_dropout: 1 })).toThrow(/attention_dropout must be a probability in \[0, 1\), got 1/);
    expect(() => parseModelConfig({ ...granite2b, logits_scaling: 0 })).toThrow(/logits_scaling must be a positive number from 0.000001 to 1000000, got 0/);
    expect(() => parseModelConfig({ ...granite2b, residual_multiplier: -0.22 })).toThrow(/residual_multiplier must be a positive number/);
    expect(() => parseModelConfig({ ...granite2b, embedding_multiplier: 1e9 })).toThrow(/embedding_multiplier must be a positive number from/);
    expect(() => parseModelConfig({ ...granite2b, attention_multiplier: '0.5' })).toThrow(/attention_multiplier must be a positive number/);
    expect(() => parseModelConfig({ ...granite2b, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu" is not supported for granite/);
    expect(() => parseModelConfig({ ...granite2b, rope_scaling: { type: 'dynamic', factor: 2 } })).toThrow(/rope_scaling type "dynamic"/);
    for (const [mt, name] of [['granitemoe', 'Granite MoE'], ['granitemoeshared', 'Granite MoE with shared experts'], ['granitemoehybrid', 'Granite 4']] as const) {
      expect(() => parseModelConfig({ ...granite2b, model_type: mt })).toThrow(new RegExp(`model_type "${mt}" \\(architectures GraniteForCausalLM\\) is not supported: it is ${name}.*dense Granite checkpoints are model_type granite`));
    }
    expect(() => parseModelConfig({ ...granite2b, architectures: ['GraniteMoeForCausalLM'] })).toThrow(/GraniteMoeForCausalLM is not supported for model_type granite/);
  });

  it('targets PEFT module names for LoRA', () => {
    const cfg = parseModelConfig(granite2b);
    const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] });
    expect(plan.targets.map((t) => t.outFeatures).slice(0, 2)).toEqual([2048, 512]);
    expect(planLora(cfg, { r: 8, alpha: 16, targets: ['all-linear'] }).targets).toHaveLength(40 * 7);
  });
});

describe('weight tables', () => {
  it('list every tensor with its shape and count parameters', () => {
    const cfg = parseModelConfig(llamaLike);
    const table = weightTable(cfg);
    expect(table.map((s) => s.name)).toContain('lm_head.weight');
    expect(table.find((s) => s.name === 'model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([8, 16]);
    // embed 40·16 + 2 norms·16 + q 16·16 + k,v 8·16 each + o 16·16 + 3 MLP 32·16 + final norm 16 + head 40·16
    expect(parameterCount(cfg)).toBe(640 + 32 + 256 + 256 + 256 + 1536 + 16 + 640);
  });

  it('resolve checkpoints: GPT-2 with or without the transformer. prefix, errors listing every problem', () => {
    const gpt2 = loadFixture('gpt2').cfg;
    const bare = new Map(weightTable(gpt2).map((s) => [s.name.replace(/^transformer\./, ''), s.shape]));
    bare.set('h.0.attn.bias', [1, 1, 128, 128]); // old checkpoints' causal-mask buffer
    const m = resolveCheckpoint(gpt2, bare);
    expect(m.sources.get('transformer.h.1.mlp.c_fc.weight')).toBe('h.1.mlp.c_fc.weight');
    expect(m.unused).toEqual([]);
    const qwen = loadFixture('qwen2').cfg;
    const shapes = new Map(weightTable(qwen).map((s) => [s.name, s.shape]));
    shapes.delete('model.layers.1.mlp.up_proj.weight');
    shapes.set('model.norm.weight', [31]);
    shapes.set('lm_head.weight', [qwen.vocabSize, qwen.hiddenSize]); // tied: ignored
    expect(() => resolveCheckpoint(qwen, shapes)).toThrow(/missing tensor model\.layers\.1\.mlp\.up_proj\.weight[\s\S]*model\.norm\.weight has shape \[31\]; config\.json implies \[32\]/);
  });
});

describe('memory bill and tokenizer fit', () => {
  it('adds weights, trainable state and activations from config.json alone', () => {
    const cfg = parseModelConfig(llamaLike);
    const plan = planLora(cfg, { r: 2, alpha: 4, targets: ['q_proj'] });
    const bill = memoryBill(cfg, { batch: 2, seqLen: 8 }, plan);
    expect(bill.weightBytes).toBe(parameterCount(cfg) * 4);
    expect(bill.trainableParams).toBe(2 * (16 + 16));
    expect(bill.trainableBytes).toBe(bill.trainableParams * 16);
    // 16 tokens: one layer of (12·16 + 4·32 + 2·2·8) floats per token, plus 3·40 per token for the head.
    expect(bill.activationBytes).toBe(16 * (192 + 128 + 32 + 120) * 4);
    expect(bill.totalBytes).toBe(bill.weightBytes + bill.trainableBytes + bill.activationBytes);
    expect(bill.largestTensorBytes).toBe(16 * 40 * 4);
  });

  it('bills OLMo 2 and Granite from their weight tables (untied OLMo 2 head included, tied Granite head once)', () => {
    for (const raw of [olmo2_1b, granite2b]) {
      const cfg = parseModelConfig(raw);
      const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] });
      const bill = memoryBill(cfg, { batch: 1, seqLen: 512 }, plan);
      expect(bill.weightBytes).toBe(parameterCount(cfg) * 4);
      expect(bill.trainableParams).toBe(plan.targets.reduce((n, t) => n + 8 * (t.inFeatures + t.outFeatures), 0));
      expect(bill.totalBytes).toBe(bill.weightBytes + bill.trainableBytes + bill.activationBytes);
      expect(bill.activationBytes).toBeGreaterThan(0);
    }
    // Granite's attention dropout adds, per layer, a [1, 32, 512, 512] mask and the masked probabilities.
    const withDropout = memoryBill(parseModelConfig(granite2b), { batch: 1, seqLen: 512 }, null);
    const without = memoryBill(parseModelConfig({ ...granite2b, attention_dropout: 0 }), { batch: 1, seqLen: 512 }, null);
    expect(withDropout.activationBytes - without.activationBytes).toBe(40 * 2 * 32 * 512 * 512 * 4);
  });

  it('refuses a tokenizer larger than the embedding table', () => {
    const cfg = parseModelConfig(llamaLike);
    expect(() => checkTokenizerFits(cfg, 40)).not.toThrow();
    expect(() => checkTokenizerFits(cfg, 41)).toThrow(/tokenizer has 41 tokens but the model's embedding table has 40 rows/);
  });
});
