// The Axolotl config for a TabTune run (`accelerate launch -m axolotl.cli.train axolotl.yaml`). Emitted by a small
// YAML writer whose every scalar reads back with PyYAML (which Axolotl uses) as the same type: strings are always
// double-quoted, floats always carry a "." and a signed exponent (PyYAML reads `1e-8` as a string).
import { dataPaths, effectiveTemplate, hfScheduler, maskMapping, type ClusterJob } from './cluster-job.ts';

type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

/** A number as PyYAML (YAML 1.1) reads it back: ints as ints, floats with a dot and, in exponent form, a sign. */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? '.nan' : n > 0 ? '.inf' : '-.inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const text = String(n);
  const [mantissa, exponent] = text.split('e') as [string, string | undefined];
  if (exponent === undefined) return text.includes('.') ? text : `${text}.0`;
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}e${exponent.startsWith('-') || exponent.startsWith('+') ? exponent : `+${exponent}`}`;
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return yamlNumber(v);
  // JSON's double-quoted strings are valid YAML double-quoted scalars (same escapes), newlines included.
  return JSON.stringify(v);
}

function emit(value: YamlValue, indent: string, out: string[], key: string): void {
  const head = `${indent}${key}`;
  if (Array.isArray(value)) {
    if (!value.length) {
      out.push(`${head}: []`);
      return;
    }
    out.push(`${head}:`);
    for (const item of value) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        const inner: string[] = [];
        for (const [k, v] of Object.entries(item)) if (v !== undefined) emit(v, `${indent}    `, inner, k);
        out.push(`${indent}  - ${inner[0]!.trimStart()}`, ...inner.slice(1));
      } else if (Array.isArray(item)) {
        throw new Error('nested lists are not used in Axolotl configs');
      } else {
        out.push(`${indent}  - ${scalar(item)}`);
      }
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    out.push(`${head}:`);
    for (const [k, v] of Object.entries(value)) if (v !== undefined) emit(v, `${indent}  `, out, k);
    return;
  }
  out.push(`${head}: ${scalar(value)}`);
}

function toYaml(doc: Record<string, YamlValue | undefined>, header = ''): string {
  const out: string[] = header ? header.split('\n').map((l) => `# ${l}`.trimEnd()) : [];
  for (const [k, v] of Object.entries(doc)) if (v !== undefined) emit(v, '', out, k);
  return `${out.join('\n')}\n`;
}

function datasetEntry(job: ClusterJob, path: string | undefined, split: string): Record<string, YamlValue | undefined> {
  const { data } = job.config;
  const mask = maskMapping(job.config.mask, job.dataFormat);
  const source: Record<string, YamlValue | undefined> = path
    ? { path, ds_type: 'json', split }
    : data.source === 'hub'
      ? { path: data.repo, revision: data.sha ?? data.revision, ...(data.file ? { data_files: [data.file] } : {}), split }
      : {};
  if (job.dataFormat === 'messages') {
    return { ...source, type: 'chat_template', field_messages: 'messages', roles_to_train: mask.axolotl.roles_to_train, train_on_eos: mask.axolotl.train_on_eos };
  }
  if (job.dataFormat === 'prompt-completion') {
    // Axolotl's user-defined format: the prompt verbatim, the completion appended and followed by EOS.
    return { ...source, type: { field_instruction: 'prompt', field_output: 'completion', format: '{instruction}', no_input_format: '{instruction}' } };
  }
  return { ...source, type: 'completion', field: 'text' };
}

/** axolotl.yaml for the job; field names are Axolotl's own. */
export function axolotlYaml(job: ClusterJob): string {
  const c = job.config;
  const paths = dataPaths(job);
  const template = effectiveTemplate(job);
  const mask = maskMapping(c.mask, job.dataFormat);
  const tokenizer = c.tokenizer && c.tokenizer.repo !== c.model.repo ? c.tokenizer.repo : undefined;
  const doc: Record<string, YamlValue | undefined> = {
    base_model: c.model.repo,
    revision_of_model: c.model.sha ?? c.model.revision,
    tokenizer_config: tokenizer,
    adapter: 'lora',
    lora_r: c.lora.r,
    lora_alpha: c.lora.alpha,
    lora_dropout: c.lora.dropout,
    lora_target_modules: c.lora.targets,
    peft_use_rslora: c.lora.rslora,
    chat_template: job.dataFormat === 'messages' ? (template ? 'jinja' : 'tokenizer_default') : undefined,
    chat_template_jinja: job.dataFormat === 'messages' ? template : undefined,
    datasets: [datasetEntry(job, paths.train, 'train')],
    test_datasets: paths.eval ? [datasetEntry(job, paths.eval, 'train')] : undefined,
    val_set_size: paths.eval ? 0 : c.evalFraction,
    train_on_inputs: mask.axolotl.train_on_inputs ?? false,
    sequence_len: c.maxLength,
    sample_packing: false, // as TabTune trains: one example per row
    micro_batch_size: c.train.batchSize,
    gradient_accumulation_steps: c.train.gradAccum,
    max_steps: c.train.steps,
    optimizer: 'adamw_torch',
    learning_rate: c.train.lr,
    lr_scheduler: hfScheduler(c),
    warmup_steps: c.train.warmupSteps,
    weight_decay: c.train.weightDecay,
    max_grad_norm: c.train.maxGradNorm,
    adam_beta1: c.train.beta1,
    adam_beta2: c.train.beta2,
    adam_epsilon: c.train.eps,
    seed: c.seed,
    eval_steps: c.train.evalEvery > 0 ? c.train.evalEvery : undefined,
    save_steps: c.train.checkpointEvery > 0 ? c.train.checkpointEvery : undefined,
    logging_steps: 1,
    output_dir: './outputs/tabtune-lora',
    bf16: 'auto',
  };
  const header = [
    `Exported from TabTune: LoRA on ${c.model.repo}${c.model.sha ? `@${c.model.sha}` : ''}, mask "${c.mask}", seed ${c.seed}.`,
    'Launch: accelerate launch -m axolotl.cli.train axolotl.yaml',
    ...(mask.exact.axolotl ? [] : [`Mask approximation: ${mask.note ?? ''}`]),
  ].join('\n');
  return toYaml(doc, header);
}
