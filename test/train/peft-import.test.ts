// Importing adapters that Python PEFT saved: adapter_config.json with every key PEFT writes, safetensors written the
// way the Rust `safetensors` library does (8-byte padded header, `__metadata__: {"format": "pt"}`, BF16/F16/F32), for
// Llama and GPT-2 (Conv1D, fan_in_fan_out); one test per refusal; export → import bit-exact; and the merged weights'
// forward pass equal to the adapter's within 1e-5.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { float32ToBf16 } from '../../src/hub/safetensors.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import { planLora, type LoraPlan } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { weightTable } from '../../src/models/weights.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterFiles, loadAdapter, mergeAdapter } from '../../src/train/peft.ts';
import { cpuSession } from '../engine/run-graph.ts';
import { flat, loadFixture, relError, type Fixture } from '../models/fixture.ts';

type Dtype = 'F32' | 'F16' | 'BF16';

/** adapter_config.json as PEFT 0.14 saves it for a LoraConfig(task_type="CAUSAL_LM", ...): every key, sorted, indent 2. */
function peftConfig(over: Record<string, unknown>): Uint8Array {
  const cfg: Record<string, unknown> = {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M', bias: 'none', eva_config: null,
    exclude_modules: null, fan_in_fan_out: false, inference_mode: true, init_lora_weights: true, layer_replication: null,
    layers_pattern: null, layers_to_transform: null, loftq_config: {}, lora_alpha: 16, lora_bias: false, lora_dropout: 0.05,
    megatron_config: null, megatron_core: 'megatron.core', modules_to_save: null, peft_type: 'LORA', r: 4, rank_pattern: {},
    revision: null, target_modules: ['v_proj', 'q_proj'], task_type: 'CAUSAL_LM', use_dora: false, use_rslora: false,
    ...over,
  };
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  return new TextEncoder().encode(JSON.stringify(sorted, null, 2));
}

function f16(x: number): number {
  // Round-to-nearest F32 → F16 for values in the normal range (the adapters here are small and non-zero).
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  const mant = b & 0x7fffff;
  const rounded = (exp << 10) + (mant >>> 13) + ((mant >>> 12) & 1);
  return sign | rounded;
}

/** A safetensors file as the Rust library writes it: tensors sorted by name, header padded with spaces to 8 bytes. */
function peftSafetensors(tensors: Record<string, { shape: number[]; data: Float32Array }>, dtype: Dtype): Uint8Array {
  const names = Object.keys(tensors).sort();
  const parts: Uint8Array[] = [];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    let bytes: Uint8Array;
    if (dtype === 'F32') bytes = new Uint8Array(t.data.slice().buffer);
    else if (dtype === 'BF16') bytes = new Uint8Array(float32ToBf16(t.data).buffer);
    else bytes = new Uint8Array(Uint16Array.from(t.data, f16).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    parts.push(bytes);
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Non-zero adapter tensors for a plan (B ≠ 0 so the adapter changes the output), as the values a dtype can hold. */
function adapterTensors(plan: LoraPlan, seed: string, dtype: Dtype): Record<string, { shape: number[]; data: Float32Array }> {
  const rng = Rng.fromSeed(seed);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const t of plan.targets) {
    const a = Float32Array.from({ length: plan.config.r * t.inFeatures }, () => (rng.next() - 0.5) * 0.5);
    const b = Float32Array.from({ length: t.outFeatures * plan.config.r }, () => (rng.next() - 0.5) * 0.5);
    out[t.keyA] = { shape: [plan.config.r, t.inFeatures], data: a };
    out[t.keyB] = { shape: [t.outFeatures, plan.config.r], data: b };
  }
  // What the file will hold after rounding to the dtype: the values the import must return exactly.
  if (dtype !== 'F32') {
    const file = peftSafetensors(out, dtype);
    const back = loadAdapterValues(file, plan);
    for (const k of Object.keys(out)) out[k] = { shape: out[k]!.shape, data: back[k]! };
  }
  return out;
}

function loadAdapterValues(file: Uint8Array, plan: LoraPlan): Record<string, Float32Array> {
  const cfg = new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', r: plan.config.r, lora_alpha: plan.config.alpha, target_modules: plan.config.targets }));
  return loadAdapter(cfg, file, llamaFx().cfg).params;
}

const llamaFx = () => loadFixture('llama');
const gpt2Fx = () => loadFixture('gpt2');

async function logits(fx: Fixture, weights: ReadonlyMap<string, Float32Array>, plan: LoraPlan | null, adapter: Record<string, Float32Array>): Promise<Float32Array> {
  const { input_ids, attention_mask } = fx.golden.batch;
  const [B, T] = [input_ids.length, input_ids[0]!.length];
  const g = new GraphBuilder('peft-import');
  g.output(buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: plan }).logits!, 'logits');
  const run = await cpuSession(g.build());
  const feeds: Record<string, Float32Array | number[]> = { input_ids: flat(input_ids), attention_mask: flat(attention_mask), ...adapter };
  for (const spec of weightTable(fx.cfg)) feeds[spec.name] = weights.get(spec.name)!;
  const out = await run({ ...feeds, position_ids: defaultPositionIds(B, T) });
  return Float32Array.from(out['logits']!.data);
}

describe('adapters saved by Python PEFT', () => {
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    it(`imports a Llama adapter in ${dtype} with every PEFT config key, and its merged weights give the adapter's logits`, async () => {
      const fx = llamaFx();
      const plan = planLora(fx.cfg, { r: 4, alpha: 16, targets: ['q_proj', 'v_proj'] });
      const tensors = adapterTensors(plan, `llama-${dtype}`, dtype);
      const adapter = loadAdapter(peftConfig({}), peftSafetensors(tensors, dtype), fx.cfg, 'peft-llama');
      expect(adapter.plan.scale).toBe(4);
      expect(adapter.plan.targets.map((t) => t.module)).toEqual(plan.targets.map((t) => t.module));
      for (const [k, t] of Object.entries(tensors)) expect(Object.is(relError(adapter.params[k]!, t.data), 0)).toBe(true);
      if (dtype !== 'BF16') return;
      const withAdapter = await logits(fx, fx.weights, adapter.plan, adapter.params);
      const merged = await logits(fx, mergeAdapter(fx.cfg, fx.weights, adapter), null, {});
      const base = await logits(fx, fx.weights, null, {});
      expect(relError(merged, withAdapter)).toBeLessThanOrEqual(1e-5);
      expect(relError(base, withAdapter)).toBeGreaterThan(1e-3); // the adapter really changes the output
    });
  }

  it('imports a GPT-2 Conv1D adapter (fan_in_fan_out) and merges it transposed: merged logits equal adapter logits', async () => {
    const fx = gpt2Fx();
    const plan = planLora(fx.cfg, { r: 2, alpha: 8, targets: ['c_attn', 'c_fc'] });
    const tensors = adapterTensors(plan, 'gpt2', 'F32');
    expect(Object.keys(tensors)).toContain('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
    const adapter = loadAdapter(
      peftConfig({ base_model_name_or_path: 'openai-community/gpt2', fan_in_fan_out: true, r: 2, lora_alpha: 8, target_modules: ['c_fc', 'c_attn'] }),
      peftSafetensors(tensors, 'F32'),
      fx.cfg,
    );
    const withAdapter = await logits(fx, fx.weights, adapter.plan, adapter.params);
    const merged = await logits(fx, mergeAdapter(fx.cfg, fx.weights, adapter), null, {});
    expect(relError(merged, withAdapter)).toBeLessThanOrEqual(1e-5);
    expect(relError(await logits(fx, fx.weights, null, {}), withAdapter)).toBeGreaterThan(1e-3);
  });

  it('reads target_modules given as a regular expression (re.fullmatch over module paths)', () => {
    const fx = llamaFx();
    const plan = planLora(fx.cfg, { r: 4, alpha: 16, targets: ['q_proj', 'v_proj'] });
    const file = peftSafetensors(adapterTensors(plan, 'regex', 'F32'), 'F32');
    const all = loadAdapter(peftConfig({ target_modules: '.*\\.(q_proj|v_proj)' }), file, fx.cfg);
    expect(all.plan.config.targets).toEqual(['q_proj', 'v_proj']);
    // Only layer 0's q_proj: the full path is kept, and the file's other tensors are then refused as foreign.
    const one = planLora(fx.cfg, { r: 4, alpha: 16, targets: ['model.layers.0.self_attn.q_proj'] });
    const oneFile = peftSafetensors(adapterTensors(one, 'regex1', 'F32'), 'F32');
    expect(loadAdapter(peftConfig({ target_modules: 'model\\.layers\\.0\\.self_attn\\.q_proj' }), oneFile, fx.cfg).plan.targets).toHaveLength(1);
    expect(() => loadAdapter(peftConfig({ target_modules: '.*\\.c_attn' }), file, fx.cfg)).toThrow(/target_modules ".*\\\\.c_attn" matches no module of this llama model/);
  });

  it('round-trips export → import bit-exactly, and re-exports an imported PEFT adapter to the same values', () => {
    const fx = llamaFx();
    const plan = planLora(fx.cfg, { r: 4, alpha: 16, targets: ['q_proj', 'v_proj'] });
    const imported = loadAdapter(peftConfig({}), peftSafetensors(adapterTensors(plan, 'rt', 'BF16'), 'BF16'), fx.cfg);
    const files = adapterFiles(imported.plan, fx.cfg, imported.params, { baseModel: 'HuggingFaceTB/SmolLM2-135M', revision: null });
    const back = loadAdapter(files.get(ADAPTER_CONFIG)!, files.get(ADAPTER_WEIGHTS)!, fx.cfg);
    for (const [k, v] of Object.entries(imported.params)) {
      const w = back.params[k]!;
      expect(w.length).toBe(v.length);
      expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength))).toBe(true);
    }
    const again = adapterFiles(back.plan, fx.cfg, back.params, { baseModel: 'HuggingFaceTB/SmolLM2-135M', revision: null });
    expect(Buffer.from(again.get(ADAPTER_WEIGHTS)!).equals(Buffer.from(files.get(ADAPTER_WEIGHTS)!))).toBe(true);
    expect(Buffer.from(again.get(ADAPTER_CONFIG)!).equals(Buffer.from(files.get(ADAPTER_CONFIG)!))).toBe(true);
  });
});

describe('PEFT adapters TabTune refuses', () => {
  const fx = llamaFx();
  const plan = planLora(fx.cfg, { r: 4, alpha: 16, targets: ['q_proj', 'v_proj'] });
  const tensors = adapterTensors(plan, 'refuse', 'F32');
  const file = peftSafetensors(tensors, 'F32');
  const refuses = (over: Record<string, unknown>, message: RegExp, weights = file) => expect(() => loadAdapter(peftConfig(over), weights, fx.cfg, 'peft')).toThrow(message);

  it('DoRA', () => refuses({ use_dora: true }, /peft\/adapter_config\.json: use_dora is true, and TabTune runs plain LoRA, not DoRA\. HINT: merge/));
  it('per-module ranks', () => refuses({ rank_pattern: { q_proj: 8 } }, /rank_pattern \{"q_proj":8\} gives some modules their own rank/));
  it('per-module alphas', () => refuses({ alpha_pattern: { v_proj: 32 } }, /alpha_pattern \{"v_proj":32\} gives some modules their own alpha/));
  it('modules_to_save', () => refuses({ modules_to_save: ['lm_head'] }, /modules_to_save \["lm_head"\] saves fully trained copies/));
  it('trained biases', () => refuses({ bias: 'lora_only' }, /bias "lora_only" trains bias vectors too/));
  it('a layer subset', () => refuses({ layers_to_transform: [0] }, /layers_to_transform \[0\] limits LoRA to some layers/));
  it('another task type', () => refuses({ task_type: 'SEQ_CLS' }, /task_type "SEQ_CLS" is not supported/));
  it('a target module the model lacks', () => refuses({ target_modules: ['q_proj', 'c_attn'] }, /LoRA target module "c_attn" matches no module of this llama model/));
  it('an embedding LoRA', () => {
    const emb = { ...tensors, 'base_model.model.model.embed_tokens.lora_embedding_A': { shape: [4, fx.cfg.vocabSize], data: new Float32Array(4 * fx.cfg.vocabSize) } };
    refuses({}, /peft\/adapter_model\.safetensors: base_model\.model\.model\.embed_tokens\.lora_embedding_A is a LoRA on an embedding layer/, peftSafetensors(emb, 'F32'));
  });
  it('keys that still carry the adapter name', () => {
    const named = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k.replace(/\.weight$/, '.default.weight'), v]));
    refuses({}, /lora_A\.default\.weight carries an adapter name/, peftSafetensors(named, 'F32'));
  });
  it('a shape that does not match the base', () => {
    const key = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    const t = tensors[key]!;
    const wrong = { ...tensors, [key]: { shape: [4, t.shape[1]! + 1], data: new Float32Array(4 * (t.shape[1]! + 1)) } };
    refuses({}, new RegExp(`${key.replace(/\./g, '\\.')} has shape \\[4, ${t.shape[1]! + 1}\\], the model needs \\[4, ${t.shape[1]}\\]`), peftSafetensors(wrong, 'F32'));
  });
});
