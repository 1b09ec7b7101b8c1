// Hostile config.json (issue 15): numbers are range-checked before any table or memory bill is sized from them, values
// of the wrong type are refused with ModelConfigError / UnsupportedModelError naming the field, and nothing reaches
// JSON.stringify, String() or Array.join unchecked (deep nesting, objects whose "toString" is not a function).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/files.ts';
import { CONFIG_LIMITS, ModelConfigError, UnsupportedModelError, parseModelConfig } from '../../src/models/config.ts';
import { planMemory, type MemoryRun } from '../../src/train/memory-plan.ts';
import { CheckpointFileError, loadModel, loadTokenizerFrom, readConfigJson } from '../../src/train/model-source.ts';

const llamaLike = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1,
  num_hidden_layers: 1, intermediate_size: 32, vocab_size: 40, rms_norm_eps: 1e-6, max_position_embeddings: 64,
};
const gpt2Like = { model_type: 'gpt2', n_embd: 16, n_head: 2, n_layer: 1, n_positions: 64, vocab_size: 40, layer_norm_epsilon: 1e-5 };
const run: MemoryRun = { maxLength: 64, lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, train: { batchSize: 2 } };

function deep(depth: number): unknown {
  return JSON.parse('['.repeat(depth) + ']'.repeat(depth));
}

function refusal(raw: unknown): Error {
  try {
    parseModelConfig(raw);
  } catch (e) {
    return e as Error;
  }
  throw new Error('parseModelConfig accepted the config');
}

describe('config.json numbers are range-checked before anything is sized', () => {
  it.each([
    ['head_dim', 2 ** 30],
    ['num_hidden_layers', 2 ** 20],
    ['hidden_size', 2 ** 40],
    ['vocab_size', 2 ** 31],
    ['intermediate_size', 1e12],
    ['num_attention_heads', 1e6],
    ['max_position_embeddings', 2 ** 53],
  ])('%s %d is refused, by parseModelConfig and by the memory plan', (field, value) => {
    const raw = { ...llamaLike, [field]: value };
    const e = refusal(raw);
    expect(e).toBeInstanceOf(ModelConfigError);
    expect((e as ModelConfigError).field).toBe(field);
    expect(e.message).toMatch(new RegExp(`^config\\.json: ${field} must be .*(at most|to) ${CONFIG_LIMITS[field as keyof typeof CONFIG_LIMITS]}.*HINT`));
    expect(() => planMemory(raw, run)).toThrow(ModelConfigError);
  });

  it('gpt2 sizes too', () => {
    expect(refusal({ ...gpt2Like, n_layer: 2 ** 20 })).toMatchObject({ name: 'ModelConfigError', field: 'n_layer' });
    expect(refusal({ ...gpt2Like, n_inner: 2 ** 40 })).toMatchObject({ name: 'ModelConfigError', field: 'n_inner' });
    expect(refusal({ ...gpt2Like, n_positions: -3 })).toMatchObject({ name: 'ModelConfigError', field: 'n_positions' });
  });

  it('zero kv heads, an odd head_dim, eps and rope values out of range', () => {
    expect(refusal({ ...llamaLike, num_key_value_heads: 0 })).toMatchObject({ field: 'num_key_value_heads' });
    expect(refusal({ ...llamaLike, head_dim: 7 })).toMatchObject({ field: 'head_dim' });
    expect(refusal({ ...llamaLike, rms_norm_eps: 0 })).toMatchObject({ field: 'rms_norm_eps' });
    expect(refusal({ ...llamaLike, rope_theta: -1 })).toMatchObject({ field: 'rope_theta' });
    const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    expect(refusal({ ...llamaLike, rope_scaling: llama3 })).toMatchObject({ field: 'rope_scaling.high_freq_factor' });
    expect(refusal({ ...llamaLike, eos_token_id: Array.from({ length: 5000 }, (_, i) => i) })).toMatchObject({ field: 'eos_token_id' });
  });

  it('a config at the limits still plans (numbers only, nothing allocated from them)', () => {
    const big = { ...llamaLike, hidden_size: 16384, num_attention_heads: 128, num_key_value_heads: 8, num_hidden_layers: 126, intermediate_size: 53248, vocab_size: 128256 };
    const plan = planMemory(big, run, { budgetBytes: 4 * 1024 ** 3 });
    expect(plan.fits).toBe(false);
    expect(plan.problems[0]?.message).toMatch(/the run needs about/);
  });
});

describe('objects where strings and numbers belong', () => {
  it('a config that is not an object', () => {
    for (const raw of [null, [], 'llama', 7]) {
      const e = refusal(raw);
      expect(e).toBeInstanceOf(ModelConfigError);
      expect(e.message).toMatch(/^config\.json: the file holds .*, not a JSON object\. HINT/);
    }
  });

  it('architectures holding objects whose toString is not a function, and deep nesting', () => {
    const weird = JSON.parse('{"toString": 1, "valueOf": 2}');
    expect(refusal({ ...llamaLike, architectures: [weird] })).toBeInstanceOf(UnsupportedModelError);
    expect(refusal({ ...llamaLike, model_type: 'x', architectures: [weird, deep(100_000)] })).toBeInstanceOf(UnsupportedModelError);
    expect(refusal({ ...llamaLike, architectures: deep(100_000) }).message).toMatch(/architectures \[\[\[\[…\]\]\]\] is not supported/);
  });

  it('model_type, hidden_act and partial_rotary_factor as objects or deep arrays', () => {
    const e = refusal({ ...llamaLike, model_type: deep(200_000) });
    expect(e).toBeInstanceOf(UnsupportedModelError);
    expect(e.message.length).toBeLessThan(600);
    expect(refusal({ ...llamaLike, hidden_act: { toString: 1 } }).message).toMatch(/hidden_act \{"toString":1\} is not supported/);
    expect(refusal({ ...llamaLike, partial_rotary_factor: JSON.parse('{"toString":1}') })).toBeInstanceOf(UnsupportedModelError);
    expect(refusal({ ...llamaLike, hidden_size: { valueOf: 16 } })).toMatchObject({ name: 'ModelConfigError', field: 'hidden_size' });
    expect(refusal({ ...llamaLike, rms_norm_eps: '1e-6' }).message).toMatch(/rms_norm_eps must be a number, got "1e-6"/);
    expect(refusal({ ...llamaLike, tie_word_embeddings: deep(50_000) }).message).toMatch(/tie_word_embeddings must be true or false, got \[\[\[\[…\]\]\]\]/);
  });
});

describe('readConfigJson (loadModel reads config.json with it)', () => {
  const enc = new TextEncoder();
  it('text that is not JSON, or JSON that is not an object, is a ModelConfigError naming the file', () => {
    expect(() => readConfigJson(enc.encode('{"model_type":'), 'org/m@abc/config.json')).toThrow(ModelConfigError);
    expect(() => readConfigJson(enc.encode('{"model_type":'), 'org/m@abc/config.json')).toThrow(/^config\.json: org\/m@abc\/config\.json is not valid JSON \(.*\)\. HINT: re-download/);
    expect(() => readConfigJson(enc.encode('null'), 'm/config.json')).toThrow(/m\/config\.json does not hold a JSON object/);
    expect(readConfigJson(enc.encode(JSON.stringify(llamaLike)), 'm/config.json')).toEqual(llamaLike);
  });
});

describe('checkpoint files that are not what they claim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabtune-ckpt-'));
  const fixture = 'fixtures/generated/hub/tabtune/tiny-llama';
  cpSync(fixture, dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['generation_config.json', '{"max_new_tokens":', /generation_config\.json is not valid JSON .*HINT: re-download/],
    ['generation_config.json', '[1, 2]', /generation_config\.json does not hold a JSON object/],
  ])('%s holding %s is a CheckpointFileError naming the file', async (file, text, message) => {
    const copy = mkdtempSync(join(tmpdir(), 'tabtune-ckpt-'));
    cpSync(dir, copy, { recursive: true });
    writeFileSync(join(copy, file), text);
    const err = await loadModel(folderSource(copy)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointFileError);
    expect((err as CheckpointFileError).file).toMatch(new RegExp(`${file.replace('.', '\\.')}$`));
    expect((err as Error).message).toMatch(message);
    rmSync(copy, { recursive: true, force: true });
  });

  it('a tokenizer_config.json that is not JSON is a CheckpointFileError naming it', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'tabtune-ckpt-'));
    cpSync(dir, copy, { recursive: true });
    writeFileSync(join(copy, 'tokenizer_config.json'), '\u0000\u0001');
    const err = await loadTokenizerFrom(folderSource(copy)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointFileError);
    expect((err as Error).message).toMatch(/tokenizer_config\.json is not valid JSON/);
    rmSync(copy, { recursive: true, force: true });
  });
});
