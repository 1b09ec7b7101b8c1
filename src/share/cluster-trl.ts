// The TRL SFTTrainer script for a TabTune run (`accelerate launch train_sft.py`): PEFT LoraConfig, SFTConfig with
// the same hyperparameters, template, mask and seed, and the exported data file. One keyword argument per line so
// users (and the tests) can read each field against the run config.
import { dataPaths, effectiveTemplate, hfScheduler, maskMapping, type ClusterJob } from './cluster-job.ts';

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** A Python literal for a JSON-like value. JSON string escapes are valid in Python string literals. */
export function pyLiteral(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : 'float("-inf")';
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`).join(', ')}}`;
}

function kwargs(entries: Record<string, PyValue | { code: string } | undefined>, indent = '    '): string {
  return Object.entries(entries)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${indent}${k}=${v !== null && typeof v === 'object' && 'code' in v && typeof v.code === 'string' ? v.code : pyLiteral(v as PyValue)},`)
    .join('\n');
}

function loadData(job: ClusterJob): string[] {
  const c = job.config;
  const paths = dataPaths(job);
  if (paths.train) {
    if (paths.eval) return [`data = load_dataset("json", data_files={"train": ${pyLiteral(paths.train)}, "test": ${pyLiteral(paths.eval)}})`];
    return [
      `data = load_dataset("json", data_files=${pyLiteral(paths.train)}, split="train")`,
      ...(c.evalFraction > 0 ? [`data = data.train_test_split(test_size=${pyLiteral(c.evalFraction)}, seed=SEED)`] : ['data = {"train": data}']),
    ];
  }
  if (c.data.source !== 'hub') throw new Error('unreachable: dataPaths requires a data file for non-Hub data');
  const args = [pyLiteral(c.data.repo), `revision=${pyLiteral(c.data.sha ?? c.data.revision)}`, ...(c.data.file ? [`data_files=${pyLiteral(c.data.file)}`] : []), 'split="train"'];
  return [
    `data = load_dataset(${args.join(', ')})`,
    ...(c.evalFraction > 0 ? [`data = data.train_test_split(test_size=${pyLiteral(c.evalFraction)}, seed=SEED)`] : ['data = {"train": data}']),
  ];
}

/** train_sft.py for the job; argument names are TRL's, PEFT's and transformers' own. */
export function trlScript(job: ClusterJob): string {
  const c = job.config;
  const mask = maskMapping(c.mask, job.dataFormat);
  const template = effectiveTemplate(job);
  const tokenizer = c.tokenizer ?? c.model;
  const hasEval = c.evalFraction > 0 || dataPaths(job).eval !== undefined;
  const evalEvery = hasEval && c.train.evalEvery > 0 ? c.train.evalEvery : 0;
  const saveEvery = c.train.checkpointEvery;
  // transformers requires save steps to be a multiple of eval steps for load_best_model_at_end.
  const keepBest = evalEvery > 0 && saveEvery > 0 && saveEvery % evalEvery === 0;

  const lines = [
    '# Exported from TabTune: the same LoRA job as in the browser tab, for a GPU cluster.',
    '# Launch: accelerate launch --num_processes 8 train_sft.py   (needs: pip install trl peft accelerate datasets)',
    ...(mask.exact.trl ? [] : [`# Mask approximation: ${mask.note ?? ''}`]),
    ...(mask.trl.assistant_only_loss
      ? ['# assistant_only_loss needs a chat template with {% generation %} markers; recent TRL supplies them for common', '# model families, otherwise add them around the assistant content in the template below.']
      : []),
    'import torch',
    'from datasets import load_dataset',
    'from peft import LoraConfig',
    'from transformers import AutoTokenizer',
    'from trl import SFTConfig, SFTTrainer',
    '',
    `MODEL = ${pyLiteral(c.model.repo)}`,
    `REVISION = ${pyLiteral(c.model.sha ?? c.model.revision)}`,
    `TOKENIZER = ${pyLiteral(tokenizer.repo)}`,
    `TOKENIZER_REVISION = ${pyLiteral(tokenizer.sha ?? tokenizer.revision)}`,
    `SEED = ${pyLiteral(c.seed)}`,
    '',
    'tokenizer = AutoTokenizer.from_pretrained(TOKENIZER, revision=TOKENIZER_REVISION)',
    ...(template ? [`tokenizer.chat_template = ${pyLiteral(template)}`] : []),
    ...loadData(job),
    '',
    'peft_config = LoraConfig(',
    kwargs({
      r: c.lora.r,
      lora_alpha: c.lora.alpha,
      lora_dropout: c.lora.dropout,
      target_modules: c.lora.targets,
      use_rslora: c.lora.rslora,
      bias: 'none',
      task_type: 'CAUSAL_LM',
    }),
    ')',
    '',
    'args = SFTConfig(',
    kwargs({
      output_dir: 'outputs/tabtune-lora',
      max_steps: c.train.steps,
      per_device_train_batch_size: c.train.batchSize,
      per_device_eval_batch_size: c.train.batchSize,
      gradient_accumulation_steps: c.train.gradAccum,
      optim: 'adamw_torch',
      learning_rate: c.train.lr,
      lr_scheduler_type: hfScheduler(c),
      warmup_steps: c.train.warmupSteps,
      weight_decay: c.train.weightDecay,
      max_grad_norm: c.train.maxGradNorm,
      adam_beta1: c.train.beta1,
      adam_beta2: c.train.beta2,
      adam_epsilon: c.train.eps,
      seed: { code: 'SEED' },
      data_seed: { code: 'SEED' },
      max_length: c.maxLength,
      // TabTune trains one example per row; the exported job does the same so its batches match the tab's.
      packing: false,
      assistant_only_loss: mask.trl.assistant_only_loss,
      completion_only_loss: mask.trl.completion_only_loss,
      eval_strategy: evalEvery ? 'steps' : 'no',
      eval_steps: evalEvery || undefined,
      save_strategy: saveEvery ? 'steps' : 'no',
      save_steps: saveEvery || undefined,
      load_best_model_at_end: keepBest,
      metric_for_best_model: keepBest ? 'eval_loss' : undefined,
      greater_is_better: keepBest ? false : undefined,
      logging_steps: 1,
      bf16: { code: 'torch.cuda.is_available() and torch.cuda.is_bf16_supported()' },
      model_init_kwargs: { revision: c.model.sha ?? c.model.revision },
    }),
    ')',
    '',
    'trainer = SFTTrainer(',
    kwargs({
      model: { code: 'MODEL' },
      args: { code: 'args' },
      train_dataset: { code: 'data["train"]' },
      eval_dataset: hasEval ? { code: 'data["test"]' } : undefined,
      processing_class: { code: 'tokenizer' },
      peft_config: { code: 'peft_config' },
    }),
    ')',
    'trainer.train()',
    'trainer.save_model(args.output_dir)',
    '',
  ];
  return lines.join('\n');
}
