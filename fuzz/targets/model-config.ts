// config.json as the CLI and the worker read it: readConfigJson, parseModelConfig, the memory bill (planMemory with
// GPU limits and a budget, which sizes the weight table and activations from the config) and the RoPE table.
import { ModelConfigError, parseModelConfig, ropeInvFreq, UnsupportedModelError } from '../../src/models/config.ts';
import { LoraError } from '../../src/models/lora.ts';
import { planMemory } from '../../src/train/memory-plan.ts';
import { readConfigJson } from '../../src/train/model-source.ts';
import { defaultTargetModules } from '../../src/train/peft.ts';
import { SMOLLM2_135M_SHAPES } from '../../scripts/fixtures/bench-checkpoint.ts';
import { FIXTURES } from '../../scripts/fixtures/families.ts';
import { TINY_LLAMA_CONFIG } from '../support/checkpoints.ts';
import type { FuzzTarget } from '../target.ts';

const enc = new TextEncoder();
const json = (c: unknown) => enc.encode(JSON.stringify(c, null, 2));
const GiB = 1024 ** 3;

export default {
  name: 'model-config',
  seeds: () => [
    json(TINY_LLAMA_CONFIG),
    json(SMOLLM2_135M_SHAPES.config),
    json({ ...TINY_LLAMA_CONFIG, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], use_sliding_window: false, tie_word_embeddings: true }),
    json({ ...TINY_LLAMA_CONFIG, model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], head_dim: 8, attention_bias: false }),
    json({ ...TINY_LLAMA_CONFIG, model_type: 'mistral', architectures: ['MistralForCausalLM'], sliding_window: 4096 }),
    json({
      ...TINY_LLAMA_CONFIG, rope_theta: 500000,
      rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    }),
    json({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 8, n_head: 2, n_layer: 2, n_positions: 64, vocab_size: 24, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' }),
    // Every family's fixture config (SmolLM3, Gemma 3, Gemma 2, OLMo 2, Granite among them), so each parser is mutated.
    ...FIXTURES.map((f) => json(f.config)),
  ],
  run(input) {
    const raw = readConfigJson(input, 'config.json');
    const cfg = parseModelConfig(raw);
    const targets = defaultTargetModules(cfg);
    planMemory(raw, { maxLength: 512, lora: { r: 8, alpha: 16, targets }, train: { batchSize: 4 } }, {
      maxBufferSize: 2 * GiB, maxStorageBufferBindingSize: GiB, budgetBytes: 4 * GiB,
    });
    if ('rope' in cfg) ropeInvFreq(cfg.rope, cfg.headDim);
  },
  rejects: [ModelConfigError, UnsupportedModelError, LoraError],
} satisfies FuzzTarget;
