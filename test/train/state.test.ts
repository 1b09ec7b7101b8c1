// Pure parts of src/train: sorted JSON, data order and collation, PEFT files, checkpoint files and
// trainer_state.json. No runtime needed.
import { describe, expect, it } from 'vitest';
import { parseSafetensors, tensorToFloat32 } from '../../src/hub/index.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import { initLoraWeights, planLora } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { epochOrder } from '../../src/data/batch.ts';
import { trainedRows } from '../../src/engine/loss.ts';
import { collate, DataOrder, mostTargetsPerBatch, splitExamples } from '../../src/train/dataset.ts';
import { fromUtf8, sortedJson } from '../../src/train/json.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterFiles, loadAdapter, mergeAdapter, modelCard } from '../../src/train/peft.ts';
import { CHECKPOINT_STATE, CHECKPOINT_TENSORS, checkpointFiles, parseCheckpoint, trainerStateJson, type TrainerCheckpoint } from '../../src/train/state.ts';
import type { Example } from '../../src/data/example.ts';

const LLAMA = parseModelConfig({
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 8, intermediate_size: 16, num_attention_heads: 2,
  num_key_value_heads: 1, num_hidden_layers: 1, rms_norm_eps: 1e-5, vocab_size: 20,
});
const GPT2 = parseModelConfig({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 8, n_head: 2, n_layer: 1, n_positions: 16, layer_norm_epsilon: 1e-5, vocab_size: 20 });

describe('sortedJson', () => {
  it('sorts keys at every level with indent 2, like json.dumps(sort_keys=True, indent=2)', () => {
    expect(sortedJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: 'x' } })).toBe(
      '{\n  "a": {\n    "c": "x",\n    "d": [\n      1,\n      {\n        "y": null,\n        "z": 0\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });
});

const ex = (id: string, ids: number[], labels: number[]): Example => ({
  id, text: '', ids, labels: Int32Array.from(labels), starts: new Int32Array(ids.length), ends: new Int32Array(ids.length),
  turns: [], messages: [], templated: false, fullLength: ids.length, notes: [],
});

describe('data order and collation', () => {
  it('replays the same batches after resuming from a cursor, across epoch boundaries', () => {
    const a = new DataOrder(5, 7);
    const straight = [a.next(2), a.next(2), a.next(2), a.next(2)];
    const b = new DataOrder(5, 7);
    b.next(2);
    b.next(2);
    const resumed = new DataOrder(5, 7, b.position);
    expect([resumed.next(2), resumed.next(2)]).toEqual(straight.slice(2));
    expect(new Set(straight.flat().slice(0, 5)).size).toBe(5); // epoch 0 is a permutation
    expect(epochOrder(5, 7, 0)).not.toEqual(epochOrder(5, 7, 1));
  });
  it('mostTargetsPerBatch bounds every batch of the data order, across epoch boundaries that repeat an example', () => {
    // Seven examples with 1..7 targets; batches of 2 straddle epochs (7 is odd), so one batch can hold an example twice.
    const examples = Array.from({ length: 7 }, (_, i) => ex(`e${i}`, Array.from({ length: 9 }, (_, t) => t + 1), Array.from({ length: 9 }, (_, t) => (t >= 1 && t <= i + 1 ? t + 1 : -100))));
    const k = mostTargetsPerBatch(examples, 2, 9);
    expect(k).toBe(14);
    const order = new DataOrder(7, 3);
    let repeated = false;
    for (let step = 0; step < 70; step++) {
      const idx = order.next(2);
      if (idx[0] === idx[1]) repeated = true;
      const { labels } = collate(idx.map((i) => examples[i]!), 2, 9, 0);
      expect(() => trainedRows(labels!.data as Int32Array, 2, 9, k)).not.toThrow();
    }
    expect(repeated, 'some batch held one example twice').toBe(true);
  });
  it('right-pads with labels -100 by position (pad id = eos still trains real EOS tokens)', () => {
    const eos = 9;
    const batch = collate([ex('a', [1, 2, eos], [-100, 2, eos])], 2, 4, eos);
    expect(Array.from(batch['input_ids']!.data as Int32Array)).toEqual([1, 2, eos, eos, eos, eos, eos, eos]);
    expect(Array.from(batch['labels']!.data as Int32Array)).toEqual([-100, 2, eos, -100, -100, -100, -100, -100]);
    expect(Array.from(batch['attention_mask']!.data as Int32Array)).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(batch['position_ids']!.data as Int32Array)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });
  it('splits train/eval deterministically by seed', () => {
    const all = Array.from({ length: 10 }, (_, i) => ex(`r${i}`, [1, 2], [1, 2]));
    const s1 = splitExamples(all, 0.2, 1);
    expect(s1.eval).toHaveLength(2);
    expect(splitExamples(all, 0.2, 1).eval.map((e) => e.id)).toEqual(s1.eval.map((e) => e.id));
    expect(splitExamples(all, 0, 1).eval).toHaveLength(0);
  });
});

describe('PEFT adapter files', () => {
  const plan = planLora(LLAMA, { r: 2, alpha: 4, targets: ['q_proj', 'v_proj'] });
  const params = Object.fromEntries(initLoraWeights(plan, 3));
  for (const k of Object.keys(params)) if (k.includes('lora_B')) params[k] = params[k]!.map((_, i) => 0.01 * (i + 1));
  const files = adapterFiles(plan, LLAMA, params, { baseModel: 'org/base', revision: 'a'.repeat(40) });

  it('writes F32 tensors under PEFT keys and adapter_config.json with the §16 fields, sorted', () => {
    const header = parseSafetensors(files.get(ADAPTER_WEIGHTS)!);
    expect(header.tensors.map((t) => t.name).sort()).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', 'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight',
    ]);
    expect(header.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    expect(header.byName.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight')!.shape).toEqual([4, 2]);
    const text = fromUtf8(files.get(ADAPTER_CONFIG)!);
    expect(text).toBe(sortedJson(JSON.parse(text)));
    expect(JSON.parse(text)).toEqual({
      base_model_name_or_path: 'org/base', bias: 'none', fan_in_fan_out: false, inference_mode: true, lora_alpha: 4, lora_dropout: 0,
      peft_type: 'LORA', r: 2, revision: 'a'.repeat(40), target_modules: ['q_proj', 'v_proj'], task_type: 'CAUSAL_LM', use_rslora: false,
    });
  });
  it('reads the folder back exactly and rejects an adapter for another model', () => {
    const back = loadAdapter(files.get(ADAPTER_CONFIG)!, files.get(ADAPTER_WEIGHTS)!, LLAMA);
    for (const [k, v] of Object.entries(params)) expect(back.params[k]).toEqual(v);
    expect(() => loadAdapter(files.get(ADAPTER_CONFIG)!, files.get(ADAPTER_WEIGHTS)!, GPT2)).toThrow(/matches no module/);
  });
  it('merges W + (alpha/r)·B·A, transposed for GPT-2 Conv1D', () => {
    const adapter = loadAdapter(files.get(ADAPTER_CONFIG)!, files.get(ADAPTER_WEIGHTS)!, LLAMA);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const base = new Map([[name, new Float32Array(8 * 8).fill(1)], ['model.layers.0.self_attn.v_proj.weight', new Float32Array(4 * 8)]]);
    const merged = mergeAdapter(LLAMA, base, adapter).get(name)!;
    const a = params['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']!;
    const b = params['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight']!;
    const o = 3, i = 5;
    expect(merged[o * 8 + i]).toBeCloseTo(1 + 2 * (b[o * 2]! * a[i]! + b[o * 2 + 1]! * a[8 + i]!), 6);
    const gplan = planLora(GPT2, { r: 1, alpha: 1, targets: ['c_fc'] });
    const gfiles = adapterFiles(gplan, GPT2, { 'base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight': new Float32Array(8).fill(1), 'base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight': Float32Array.from({ length: 32 }, (_, k) => k) }, { baseModel: 'g', revision: null });
    expect(JSON.parse(fromUtf8(gfiles.get(ADAPTER_CONFIG)!)).fan_in_fan_out).toBe(true);
    const gad = loadAdapter(gfiles.get(ADAPTER_CONFIG)!, gfiles.get(ADAPTER_WEIGHTS)!, GPT2);
    const w = mergeAdapter(GPT2, new Map([['transformer.h.0.mlp.c_fc.weight', new Float32Array(8 * 32)]]), gad).get('transformer.h.0.mlp.c_fc.weight')!;
    expect(w[2 * 32 + 7]).toBe(7); // Conv1D [in, out]: W[i, o] += B[o]·A[i]
  });
  it('writes a model card with the §17 front matter', () => {
    const card = modelCard({ baseModel: 'org/base', revision: null, dataset: 'd.jsonl', datasetHash: 'h', rows: 3, mask: 'assistant', template: 'chat', hyperparameters: { lr: 0.1 }, versions: { tabtune: '0.1.0' } });
    expect(card.split('---')[1]).toBe('\nbase_model: "org/base"\nlibrary_name: peft\npipeline_tag: text-generation\ntags:\n- lora\n- peft\n- tabtune\ndatasets:\n- "d.jsonl"\n');
    expect(card).toContain('- Loss mask: assistant');
  });
});

describe('checkpoint and trainer_state.json', () => {
  it('round-trips a checkpoint through its two files exactly', () => {
    const c: TrainerCheckpoint = {
      version: 1, step: 3, params: { p: Float32Array.of(1, 2) }, m: { p: Float32Array.of(0.5, -0.5) }, v: { p: Float32Array.of(1e-8, 2e-8) },
      rng: { dropout: Rng.fromSeed(1).state, sample: Rng.fromSeed(2).state }, cursor: { epoch: 1, index: 2 },
      logHistory: [{ step: 1, epoch: 0.5, loss: 2.5, learning_rate: 0.1, grad_norm: 1, num_tokens: 4 }],
    };
    const files = checkpointFiles(c);
    const back = parseCheckpoint(files.get(CHECKPOINT_TENSORS)!, files.get(CHECKPOINT_STATE)!);
    expect(back).toEqual(c);
    expect(tensorToFloat32(parseSafetensors(files.get(CHECKPOINT_TENSORS)!), files.get(CHECKPOINT_TENSORS)!, 'exp_avg.p')).toEqual(c.m['p']);
    expect(() => parseCheckpoint(files.get(CHECKPOINT_TENSORS)!, new TextEncoder().encode('{"version":2}'))).toThrow(/version 2/);
  });
  it('writes trainer_state.json in HF TrainerState shape with sorted keys', () => {
    const text = trainerStateJson({ globalStep: 2, maxSteps: 2, epoch: 1, numTrainEpochs: 1, batchSize: 4, evalSteps: 1, saveSteps: 1, logHistory: [{ step: 1, epoch: 0.5, eval_loss: 1.5, eval_tokens: 3 }] });
    const obj = JSON.parse(text);
    expect(text).toBe(sortedJson(obj));
    expect(obj).toMatchObject({ global_step: 2, max_steps: 2, train_batch_size: 4, log_history: [{ eval_loss: 1.5, step: 1 }], is_world_process_zero: true });
  });
});
