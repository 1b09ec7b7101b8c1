// Hostile adapter folders (issue 15): a string target_modules is run by ModulePattern, never compiled as a RegExp;
// null and non-object configs, deep nesting and wrong types are refused with AdapterError naming the file and field.
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/hub/safetensors.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import { LoraError, loraShapes, planLora } from '../../src/models/lora.ts';
import { AdapterError, loadAdapter } from '../../src/train/peft.ts';

const cfg = parseModelConfig({
  model_type: 'llama', hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1, num_hidden_layers: 2,
  intermediate_size: 32, vocab_size: 40, rms_norm_eps: 1e-6,
});
const enc = new TextEncoder();

function weightsFor(targets: string[], r = 2): Uint8Array {
  const plan = planLora(cfg, { r, alpha: 4, targets: targets });
  return writeSafetensors([...loraShapes(plan)].map(([name, shape]) => ({
    name, dtype: 'F32' as const, shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  })));
}

const qv = weightsFor(['q_proj', 'v_proj']);

function config(over: Record<string, unknown>): Uint8Array {
  return enc.encode(JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'], ...over }));
}

function refusal(configBytes: Uint8Array, weights = qv): Error {
  try {
    loadAdapter(configBytes, weights, cfg, 'up');
  } catch (e) {
    return e as Error;
  }
  throw new Error('loadAdapter accepted the adapter');
}

describe('string target_modules', () => {
  it('is matched with re.fullmatch semantics over module paths', () => {
    expect(loadAdapter(config({ target_modules: '.*\\.(q_proj|v_proj)' }), qv, cfg).plan.config.targets).toEqual(['q_proj', 'v_proj']);
    expect(loadAdapter(config({ target_modules: 'model\\.layers\\.\\d+\\.self_attn\\.[qv]_proj' }), qv, cfg).plan.targets).toHaveLength(4);
    const one = weightsFor(['model.layers.1.self_attn.q_proj']);
    expect(loadAdapter(config({ target_modules: '.*layers\\.1\\..*q_proj' }), one, cfg).plan.targets.map((t) => t.module)).toEqual(['model.layers.1.self_attn.q_proj']);
  });

  it('"all-linear" as a string selects every projection', () => {
    const all = weightsFor(['all-linear']);
    expect(loadAdapter(config({ target_modules: 'all-linear' }), all, cfg).plan.targets).toHaveLength(14);
  });

  it('a catastrophic-backtracking pattern returns at once and matches nothing', () => {
    const e = refusal(config({ target_modules: '(.*)*%' }));
    expect(e).toBeInstanceOf(AdapterError);
    expect(e.message).toMatch(/^up\/adapter_config\.json: target_modules "\(\.\*\)\*%" matches no module of this llama model \(module paths look like model\.layers\.0\.self_attn\.q_proj\)\. HINT/);
  });

  it('syntax outside the supported subset, or too large, is refused with the reason and the fix', () => {
    expect(refusal(config({ target_modules: '(?=.*q).*' })).message).toMatch(/target_modules "\(\?=\.\*q\)\.\*" is neither a module name nor a regular expression TabTune can run \("\(\?=" .* not supported at character 1\)\. HINT: list the module names instead/);
    expect(refusal(config({ target_modules: '(a{999}){999}' }))).toBeInstanceOf(AdapterError);
    expect(refusal(config({ target_modules: 'x'.repeat(100_000) })).message.length).toBeLessThan(600);
  });
});

describe('configs of the wrong shape', () => {
  it('null, a list, a number and a string are not configs', () => {
    for (const text of ['null', '[]', '3', '"LORA"']) {
      const e = refusal(enc.encode(text));
      expect(e).toBeInstanceOf(AdapterError);
      expect(e.message).toMatch(/^up\/adapter_config\.json holds .*, not a JSON object\. HINT: is this a PEFT LoRA adapter folder\?/);
    }
    expect(refusal(enc.encode('{"peft_type":'))).toBeInstanceOf(AdapterError);
  });

  it('target_modules of the wrong type, empty or huge', () => {
    expect(refusal(config({ target_modules: null })).message).toMatch(/target_modules is null; it must be a list of module names/);
    expect(refusal(config({ target_modules: { q_proj: true } })).message).toMatch(/target_modules is \{"q_proj":true\}/);
    expect(refusal(config({ target_modules: [] })).message).toMatch(/must be a list of 1 to 256 module names/);
    expect(refusal(config({ target_modules: Array.from({ length: 100_000 }, (_, i) => `m${i}`) })).message).toMatch(/must be a list of 1 to 256/);
    expect(refusal(config({ target_modules: ['q_proj', 7] }))).toBeInstanceOf(AdapterError);
  });

  it('r, lora_alpha and lora_dropout are checked', () => {
    expect(refusal(config({ r: '8' })).message).toMatch(/r is "8"; it must be a positive integer/);
    expect(refusal(config({ r: 2.5 })).message).toMatch(/r is 2\.5/);
    expect(refusal(config({ lora_alpha: null })).message).toMatch(/lora_alpha is null; it must be a positive number/);
    expect(refusal(config({ lora_dropout: 1 })).message).toMatch(/lora_dropout is 1; it must be a number in \[0, 1\)/);
    expect(refusal(config({ r: 2 ** 20 }))).toBeInstanceOf(LoraError);
  });

  it('deeply nested values are quoted without JSON.stringify', () => {
    // Built as text: JSON.stringify itself overflows on this nesting, which is the point.
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const e = refusal(enc.encode(`{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["q_proj"],"rank_pattern":{"q_proj":${deep}}}`));
    expect(e).toBeInstanceOf(AdapterError);
    expect(e.message).toMatch(/rank_pattern \{"q_proj":\[\[\[…\]\]\]\} gives some modules their own rank/);
    expect(refusal(enc.encode(`{"peft_type":${deep}}`)).message).toMatch(/peft_type \[\[\[\[…\]\]\]\] is not supported/);
  });
});
