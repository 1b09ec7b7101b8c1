// Gemma 3 270M at its real shapes (config.json of google/gemma-3-270m, 262,144-token vocabulary, random weights): the
// memory bill from config.json, then a WASM LoRA train step at batch × max length in Node, with step time and peak
// resident memory. `npx tsx bench/gemma3-270m.ts [--seq 512] [--batch 1] [--steps 2] [--backend wasm|cpu]`.
// Reported, not enforced: the acceptance bar is that the step fits and runs.
import { parseModelConfig } from '../src/models/config.ts';
import { initLoraWeights, planLora } from '../src/models/lora.ts';
import { Rng } from '../src/models/rng.ts';
import { weightTable } from '../src/models/weights.ts';
import type { BackendKind, HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession } from '../src/runtime/train-session.ts';
import { buildTrainGraphs } from '../src/train/graphs.ts';
import { formatBytes, planMemory, WASM_BUDGET_BYTES } from '../src/train/memory-plan.ts';

/** google/gemma-3-270m config.json (transformers 4.55). */
export const GEMMA3_270M_CONFIG = {
  _sliding_window_pattern: 6, architectures: ['Gemma3ForCausalLM'], attention_bias: false, attention_dropout: 0.0,
  attn_logit_softcapping: null, bos_token_id: 2, eos_token_id: 1, final_logit_softcapping: null, head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh', hidden_size: 640, initializer_range: 0.02, intermediate_size: 2048,
  layer_types: Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention')),
  max_position_embeddings: 32768, model_type: 'gemma3_text', num_attention_heads: 4, num_hidden_layers: 18,
  num_key_value_heads: 1, pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0,
  rope_scaling: null, rope_theta: 1000000.0, sliding_window: 512, torch_dtype: 'bfloat16', use_bidirectional_attention: false,
  use_cache: true, vocab_size: 262144,
};

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const seq = Number(flag('seq', '512'));
const batch = Number(flag('batch', '1'));
const steps = Number(flag('steps', '2'));
const kind = flag('backend', 'wasm') as BackendKind;
const cfg = parseModelConfig(GEMMA3_270M_CONFIG);
const lora = { r: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
const mem = planMemory(GEMMA3_270M_CONFIG, { maxLength: seq, lora, train: { batchSize: batch } }, { budgetBytes: WASM_BUDGET_BYTES });
const b = mem.bill;
console.log(`memory bill (batch ${batch} × ${seq}): weights ${formatBytes(b.weightBytes)}, trainable ${b.trainableParams} params ` +
  `(${formatBytes(b.trainableBytes + b.gradientBytes + b.optimizerBytes)} with gradients and moments), activations ${formatBytes(b.activationBytes)}, ` +
  `largest tensor ${b.largestTensor.name} ${formatBytes(b.largestTensor.bytes)}, total ${formatBytes(b.totalBytes)}; fits the WASM budget: ${mem.fits}`);
for (const p of mem.problems) console.log(`  problem: ${p.message}`);

const plan = planLora(cfg, { r: lora.r, alpha: lora.alpha, targets: lora.targets });
const rng = Rng.fromSeed('gemma3-270m-bench');
const frozen: Record<string, HostTensor> = {};
let t0 = performance.now();
for (const s of weightTable(cfg)) {
  const data = new Float32Array(s.shape.reduce((x, y) => x * y, 1));
  const scale = s.kind === 'norm' ? 0.1 : 0.02;
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-scale, scale);
  frozen[s.name] = { dtype: 'float32', dims: s.shape, data };
}
console.log(`random weights: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
t0 = performance.now();
const graphs = buildTrainGraphs(cfg, plan, { batch, seqLen: seq }, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
console.log(`graph build: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${graphs.train.nodes.length} nodes`);
const backend = await createNodeBackend(kind);
t0 = performance.now();
const session = await TrainSession.create({ backend, graphs, params: Object.fromEntries(initLoraWeights(plan, 42)), frozen });
console.log(`session creation (${backend.label}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const n = batch * seq;
const ids = Int32Array.from({ length: n }, (_, i) => 3 + ((i * 7919) % 262000));
const positions = Int32Array.from({ length: n }, (_, i) => i % seq);
const dims = [batch, seq];
const data = {
  input_ids: { dtype: 'int32' as const, dims, data: ids },
  position_ids: { dtype: 'int32' as const, dims, data: positions },
  attention_mask: { dtype: 'int32' as const, dims, data: new Int32Array(n).fill(1) },
  labels: { dtype: 'int32' as const, dims, data: ids.slice() },
};
for (let s = 0; s < steps; s++) {
  t0 = performance.now();
  const m = await session.step([data], 1e-3);
  console.log(`step ${s + 1}: ${((performance.now() - t0) / 1000).toFixed(2)} s, loss ${m.loss.toFixed(4)}, peak RSS ${formatBytes(process.resourceUsage().maxRSS * 1024)}`);
}
await session.release();
await backend.release();
