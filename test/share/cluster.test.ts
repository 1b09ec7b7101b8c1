// Cluster exports: the Axolotl YAML and the TRL script are read back (a PyYAML-compatible mini parser for the YAML,
// a literal reader for the script's keyword arguments) and checked field by field against the run config. Where
// python3 with PyYAML is installed, Python itself parses both files as a cross-check.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { axolotlYaml, clusterBundle, effectiveTemplate, maskMapping, trlScript, type ClusterJob } from '../../src/share/cluster.ts';
import { yamlNumber } from '../../src/share/cluster-axolotl.ts';
import { pyLiteral } from '../../src/share/cluster-trl.ts';
import { utf8 } from '../../src/share/codec.ts';
import { defaultRunConfig, parseRunConfig, type RunConfig } from '../../src/share/run-config.ts';

type Y = string | number | boolean | null | Y[] | { [k: string]: Y };

/** PyYAML's (YAML 1.1) resolution of plain scalars, for the subset the exporter writes. */
function yamlScalar(text: string): Y {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text === 'null' || text === '~') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === '[]') return [];
  if (/^[-+]?(0|[1-9][0-9_]*)$/.test(text)) return Number(text.replace(/_/g, ''));
  if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$/.test(text)) return Number(text.replace(/_/g, ''));
  return text;
}

/** Block mappings and sequences by indentation; enough for the exporter's output and strict about anything else. */
function parseYaml(text: string): Record<string, Y> {
  const lines = text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  let i = 0;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  function block(indent: number): Y {
    const first = lines[i]!;
    if (first.trimStart().startsWith('- ')) {
      const list: Y[] = [];
      while (i < lines.length && indentOf(lines[i]!) === indent && lines[i]!.trimStart().startsWith('- ')) {
        const rest = lines[i]!.trimStart().slice(2);
        if (/^[\w]+:/.test(rest)) {
          lines[i] = ' '.repeat(indent + 2) + rest;
          list.push(block(indent + 2));
        } else {
          list.push(yamlScalar(rest));
          i++;
        }
      }
      return list;
    }
    const map: Record<string, Y> = {};
    while (i < lines.length && indentOf(lines[i]!) === indent) {
      const m = /^(\w+):(?: (.*))?$/.exec(lines[i]!.trimStart());
      if (!m) throw new Error(`unparsed YAML line: ${lines[i]}`);
      i++;
      if (m[2] !== undefined) map[m[1]!] = yamlScalar(m[2]);
      else map[m[1]!] = block(indentOf(lines[i]!));
    }
    return map;
  }
  return block(0) as Record<string, Y>;
}

/** `name=literal,` lines inside `Callee(` … `)`; code references (SEED, data["train"]) come back as {code}. */
function pyKwargs(script: string, callee: string): Record<string, unknown> {
  const start = script.indexOf(`${callee}(\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const body = script.slice(start + callee.length + 2, script.indexOf('\n)', start));
  const out: Record<string, unknown> = {};
  for (const line of body.split('\n')) {
    const m = /^ {4}(\w+)=(.*),$/.exec(line);
    if (!m) throw new Error(`unparsed argument line: ${line}`);
    const json = m[2]!.replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null');
    try {
      out[m[1]!] = JSON.parse(json);
    } catch {
      out[m[1]!] = { code: m[2] };
    }
  }
  return out;
}

const DATA = utf8.encode('{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n');

function job(over: Partial<RunConfig> = {}, extra: Partial<ClusterJob> = {}): ClusterJob {
  const config = parseRunConfig({
    ...defaultRunConfig(),
    model: { repo: 'Qwen/Qwen3-0.6B', revision: 'main', sha: 'e'.repeat(40) },
    data: { source: 'upload', name: 'chat support.jsonl', hash: 'f'.repeat(64) },
    seed: 1234,
    lora: { r: 16, alpha: 32, dropout: 0.05, rslora: true, targets: ['q_proj', 'v_proj'] },
    train: { ...defaultRunConfig().train, lr: 1e-4, eps: 1e-8, schedule: 'cosine', warmupSteps: 3, steps: 120, batchSize: 2, gradAccum: 4, evalEvery: 10, checkpointEvery: 20, weightDecay: 0.01, maxGradNorm: 0.5 },
    maxLength: 512,
    ...over,
  });
  return { config, dataFormat: 'messages', dataFile: { name: 'chat support.jsonl', bytes: DATA }, ...extra };
}

describe('Axolotl YAML', () => {
  it('carries every field of the run config', () => {
    const j = job();
    const c = j.config;
    const y = parseYaml(axolotlYaml(j));
    expect(y).toMatchObject({
      base_model: c.model.repo, revision_of_model: c.model.sha, adapter: 'lora',
      lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_target_modules: ['q_proj', 'v_proj'], peft_use_rslora: true,
      chat_template: 'tokenizer_default', sequence_len: 512, sample_packing: false, val_set_size: 0.1, train_on_inputs: false,
      micro_batch_size: 2, gradient_accumulation_steps: 4, max_steps: 120, optimizer: 'adamw_torch', learning_rate: 1e-4,
      lr_scheduler: 'cosine', warmup_steps: 3, weight_decay: 0.01, max_grad_norm: 0.5, adam_beta1: 0.9, adam_beta2: 0.999,
      adam_epsilon: 1e-8, seed: 1234, eval_steps: 10, save_steps: 20,
    });
    expect(y.datasets).toEqual([{ path: 'data/chat_support.jsonl', ds_type: 'json', split: 'train', type: 'chat_template', field_messages: 'messages', roles_to_train: ['assistant'], train_on_eos: 'turn' }]);
    expect(y).not.toHaveProperty('chat_template_jinja');
    expect(y).not.toHaveProperty('tokenizer_config');
  });

  it('writes floats PyYAML reads as floats', () => {
    expect([1e-8, 2e-3, 0.9, 1, 1e21, 1.5e-7].map(yamlNumber)).toEqual(['1.0e-8', '0.002', '0.9', '1', '1.0e+21', '1.5e-7']);
    for (const s of ['1.0e-8', '1.0e+21', '0.002']) expect(typeof yamlScalar(s)).toBe('number');
    expect(yamlScalar('1e-8')).toBe('1e-8'); // what a naive writer would produce: PyYAML reads it as a string
  });

  it('binds template kwargs in front of the template and uses it as chat_template_jinja', () => {
    const j = job({ template: { kind: 'chat', kwargs: { enable_thinking: false } } }, { templateSource: '{{ messages }}' });
    const y = parseYaml(axolotlYaml(j));
    expect(y.chat_template).toBe('jinja');
    expect(y.chat_template_jinja).toBe('{%- set enable_thinking = false -%}\n{{ messages }}');
    expect(() => effectiveTemplate(job({ template: { kind: 'alpaca', kwargs: {} } }))).toThrow(/alpaca template's Jinja source is needed/);
  });

  it('maps prompt/completion and text data, constant schedules with warmup, a separate tokenizer and an eval file', () => {
    const pc = parseYaml(axolotlYaml(job({ mask: 'completion', train: { ...job().config.train, schedule: 'constant' }, tokenizer: { repo: 'org/tok', revision: 'main' } }, { dataFormat: 'prompt-completion', evalFile: { name: 'eval.jsonl', bytes: DATA } })));
    expect(pc.datasets).toEqual([{ path: 'data/chat_support.jsonl', ds_type: 'json', split: 'train', type: { field_instruction: 'prompt', field_output: 'completion', format: '{instruction}', no_input_format: '{instruction}' } }]);
    expect(pc.test_datasets).toMatchObject([{ path: 'data/eval.jsonl' }]);
    expect(pc).toMatchObject({ val_set_size: 0, lr_scheduler: 'constant_with_warmup', tokenizer_config: 'org/tok', train_on_inputs: false });
    const text = parseYaml(axolotlYaml(job({ mask: 'all' }, { dataFormat: 'text' })));
    expect(text).toMatchObject({ train_on_inputs: true, datasets: [{ type: 'completion', field: 'text' }] });
  });

  it('references a pinned Hub dataset without a data file', () => {
    const j = job({ data: { source: 'hub', repo: 'org/ds', revision: 'main', sha: '1'.repeat(40), file: 'train.jsonl' } }, { dataFile: undefined });
    expect(parseYaml(axolotlYaml(j)).datasets).toEqual([{ path: 'org/ds', revision: '1'.repeat(40), data_files: ['train.jsonl'], split: 'train', type: 'chat_template', field_messages: 'messages', roles_to_train: ['assistant'], train_on_eos: 'turn' }]);
    expect(() => axolotlYaml(job({}, { dataFile: undefined }))).toThrow(/rows are needed/);
  });
});

describe('TRL script', () => {
  it('LoraConfig and SFTConfig carry every field of the run config', () => {
    const j = job();
    const c = j.config;
    const script = trlScript(j);
    expect(pyKwargs(script, 'peft_config = LoraConfig')).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: true, bias: 'none', task_type: 'CAUSAL_LM' });
    expect(pyKwargs(script, 'args = SFTConfig')).toEqual({
      output_dir: 'outputs/tabtune-lora', max_steps: 120, per_device_train_batch_size: 2, per_device_eval_batch_size: 2,
      gradient_accumulation_steps: 4, optim: 'adamw_torch', learning_rate: 1e-4, lr_scheduler_type: 'cosine', warmup_steps: 3,
      weight_decay: 0.01, max_grad_norm: 0.5, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8,
      seed: { code: 'SEED' }, data_seed: { code: 'SEED' }, max_length: 512, packing: false,
      assistant_only_loss: true, completion_only_loss: null, eval_strategy: 'steps', eval_steps: 10, save_strategy: 'steps',
      save_steps: 20, load_best_model_at_end: true, metric_for_best_model: 'eval_loss', greater_is_better: false, logging_steps: 1,
      bf16: { code: 'torch.cuda.is_available() and torch.cuda.is_bf16_supported()' }, model_init_kwargs: { revision: c.model.sha },
    });
    expect(script).toContain(`SEED = 1234\n`);
    expect(script).toContain(`MODEL = "Qwen/Qwen3-0.6B"\nREVISION = "${'e'.repeat(40)}"`);
    expect(script).toContain('data = load_dataset("json", data_files="data/chat_support.jsonl", split="train")\ndata = data.train_test_split(test_size=0.1, seed=SEED)');
    expect(pyKwargs(script, 'trainer = SFTTrainer')).toMatchObject({ train_dataset: { code: 'data["train"]' }, eval_dataset: { code: 'data["test"]' }, peft_config: { code: 'peft_config' } });
  });

  it('keeps the best model only when save steps are a multiple of eval steps', () => {
    const odd = pyKwargs(trlScript(job({ train: { ...job().config.train, evalEvery: 7, checkpointEvery: 20 } })), 'args = SFTConfig');
    expect(odd.load_best_model_at_end).toBe(false);
    expect(odd).not.toHaveProperty('metric_for_best_model');
    const noEval = pyKwargs(trlScript(job({ evalFraction: 0 })), 'args = SFTConfig');
    expect(noEval).toMatchObject({ eval_strategy: 'no', load_best_model_at_end: false });
  });

  it('maps each mask policy, and says where the mapping is not exact', () => {
    expect(maskMapping('assistant', 'messages')).toMatchObject({ trl: { assistant_only_loss: true }, exact: { axolotl: true, trl: true } });
    expect(maskMapping('completion', 'prompt-completion')).toMatchObject({ trl: { assistant_only_loss: false, completion_only_loss: true } });
    expect(maskMapping('all', 'messages')).toMatchObject({ trl: { assistant_only_loss: false, completion_only_loss: false }, axolotl: { train_on_inputs: true } });
    expect(maskMapping('unsloth', 'messages').exact).toEqual({ axolotl: false, trl: false });
    const script = trlScript(job({ mask: 'last-assistant' }));
    expect(script).toMatch(/# Mask approximation: Only the last assistant turn/);
    expect(axolotlYaml(job({ mask: 'trl' }))).toMatch(/# Mask approximation:/);
    expect(axolotlYaml(job({ mask: 'axolotl' }))).not.toMatch(/approximation/);
  });

  it('writes Python literals', () => {
    expect(pyLiteral({ a: [true, null, 1e-8, 'x"\n'] })).toBe('{"a": [True, None, 1e-8, "x\\"\\n"]}');
  });
});

describe('non-default values reach both files (no field is written as a constant)', () => {
  it('betas, epsilon, eval fraction, no eval, a separate tokenizer revision; packing stays off as in the tab', () => {
    const base = job().config;
    const j = job({
      evalFraction: 0.25, tokenizer: { repo: 'org/tok', revision: 'v2', sha: '7'.repeat(40) },
      train: { ...base.train, beta1: 0.85, beta2: 0.95, eps: 1e-6, evalEvery: 0, checkpointEvery: 15, schedule: 'linear', gradAccum: 3 },
    });
    const y = parseYaml(axolotlYaml(j));
    expect(y).toMatchObject({
      adam_beta1: 0.85, adam_beta2: 0.95, adam_epsilon: 1e-6, sample_packing: false, val_set_size: 0.25, lr_scheduler: 'linear',
      gradient_accumulation_steps: 3, save_steps: 15, tokenizer_config: 'org/tok',
    });
    const args = pyKwargs(trlScript(j), 'args = SFTConfig');
    expect(args).toMatchObject({
      adam_beta1: 0.85, adam_beta2: 0.95, adam_epsilon: 1e-6, packing: false, lr_scheduler_type: 'linear', gradient_accumulation_steps: 3,
      save_steps: 15, load_best_model_at_end: false,
    });
    expect(args.eval_strategy).not.toBe('steps');
    expect(trlScript(j)).toContain('test_size=0.25');
    expect(trlScript(j)).toContain(`TOKENIZER = "org/tok"\nTOKENIZER_REVISION = "${'7'.repeat(40)}"`);
  });
});

describe('bundle', () => {
  it('holds both configs, a README with the launch commands, and the data rows', () => {
    const files = clusterBundle(job({}, { evalFile: { name: 'held out.jsonl', bytes: DATA } }));
    expect([...files.keys()].sort()).toEqual(['README.md', 'axolotl.yaml', 'data/chat_support.jsonl', 'data/held_out.jsonl', 'train_sft.py']);
    expect(files.get('README.md')).toMatch(/accelerate launch -m axolotl\.cli\.train axolotl\.yaml[\s\S]*accelerate launch --num_processes 8 train_sft\.py/);
    expect(files.get('data/chat_support.jsonl')).toBe(DATA);
  });
});

const python = spawnSync('python3', ['-c', 'import yaml, ast'], { encoding: 'utf8' });
describe.skipIf(python.status !== 0)('cross-check with Python (python3 + PyYAML present)', () => {
  it('PyYAML reads the YAML as the mini parser does, and the script is valid Python', () => {
    const j = job({ template: { kind: 'chat', kwargs: { enable_thinking: false } } }, { templateSource: '{% for m in messages %}{{ m.content }}\n{% endfor %}' });
    const yamlText = axolotlYaml(j);
    const py = spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: yamlText, encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(JSON.parse(py.stdout)).toEqual(parseYaml(yamlText));
    const ast = spawnSync('python3', ['-c', 'import sys, ast; ast.parse(sys.stdin.read()); print("ok")'], { input: trlScript(j), encoding: 'utf8' });
    expect(ast.stderr).toBe('');
    expect(ast.stdout.trim()).toBe('ok');
  });
});
