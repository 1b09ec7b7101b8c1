// adapter_config.json of a PEFT adapter folder, read by loadAdapter (the CLI's --adapter and the app's import) for a
// tiny Llama; the weights are a fixed q_proj/v_proj adapter, so a mutated config is checked against real tensors.
import { SafetensorsError } from '../../src/hub/safetensors.ts';
import { LoraError } from '../../src/models/lora.ts';
import { AdapterError, loadAdapter } from '../../src/train/peft.ts';
import { tinyAdapterWeights, tinyLlama } from '../support/checkpoints.ts';
import type { FuzzTarget } from '../target.ts';

const enc = new TextEncoder();
const weights = tinyAdapterWeights();
const peft = (over: Record<string, unknown>) => enc.encode(JSON.stringify({
  alpha_pattern: {}, base_model_name_or_path: 'fuzz/tiny', bias: 'none', fan_in_fan_out: false, inference_mode: true,
  init_lora_weights: true, layers_pattern: null, layers_to_transform: null, lora_alpha: 4, lora_dropout: 0.05,
  modules_to_save: null, peft_type: 'LORA', r: 2, rank_pattern: {}, revision: null, target_modules: ['q_proj', 'v_proj'],
  task_type: 'CAUSAL_LM', use_dora: false, use_rslora: false, ...over,
}, null, 2));

export default {
  name: 'adapter-import',
  seeds: () => [
    peft({}),
    peft({ target_modules: '.*\\.(q_proj|v_proj)' }),
    peft({ target_modules: 'model\\.layers\\.\\d+\\.self_attn\\.(?:q|v)_proj' }),
    peft({ target_modules: '(.*\\.)?[qv]_proj', use_rslora: true }),
    enc.encode('{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["v_proj","q_proj"]}'),
  ],
  run(input) {
    loadAdapter(input, weights, tinyLlama, 'adapter');
  },
  rejects: [AdapterError, LoraError, SafetensorsError],
} satisfies FuzzTarget;
