// `tabtune train`: the browser's training loop headless. Progress bar, samples at the chosen cadence, and an output
// folder holding the PEFT adapter, model card, trainer_state.json, tokenizer files, the reproduction manifest and a
// resumable checkpoint. Ctrl-C stops after the current step, saves everything and exits 0; `--resume DIR` continues.
import type { Example } from '../../data/example.ts';
import { IGNORE_INDEX } from '../../data/types.ts';
import { GREEDY } from '../../models/sampling.ts';
import { parseManifest } from '../../share/manifest.ts';
import { parseRunConfig, type RunConfig } from '../../share/run-config.ts';
import { paddingId, splitExamples } from '../../train/dataset.ts';
import { fromUtf8 } from '../../train/json.ts';
import { adapterFiles, modelCard } from '../../train/peft.ts';
import { checkpointFiles, manifestJson, parseCheckpoint, trainerStateJson, CHECKPOINT_STATE, CHECKPOINT_TENSORS, TABTUNE_VERSION, type TrainerCheckpoint } from '../../train/state.ts';
import { Trainer, type SampleSpec } from '../../train/trainer.ts';
import { DATA_FLAGS, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, TRAIN_FLAGS, num, parseFlags, str } from '../args.ts';
import { CliError } from '../errors.ts';
import { existsSync, join, readBinary, resolve, writeFolder } from '../files.ts';
import { progressLine } from '../format.ts';
import { modelRepoFor, type CliIO } from '../load.ts';
import { openBackend, setup, type Setup } from '../setup.ts';

export const TRAIN_HELP = `tabtune train --model M --data FILE --out DIR [data flags] [LoRA flags] [--steps N | --epochs E] [--lr X]
  [--warmup N] [--schedule constant|linear|cosine] [--batch-size B] [--grad-accum K] [--max-grad-norm X]
  [--weight-decay X] [--eval-every N] [--sample-every N] [--checkpoint-every N] [--eval-fraction F] [--seed S]
  [--backend cpu|wasm|webgpu] [--max-buffer-bytes N] [--memory-budget N] [--resume DIR]
Trains a LoRA adapter and writes a PEFT folder, trainer_state.json, tokenizer files and a manifest to DIR.
Ctrl-C saves a checkpoint; \`tabtune train --resume DIR\` continues it.
`;

export const MANIFEST_FILE = 'tabtune_manifest.json';
export const CHECKPOINT_DIR = 'checkpoint';

/** Prompt of an example for samples: its tokens before the first trained one (the rendered prompt the model saw). */
function promptIds(e: Example): number[] {
  const first = Array.from(e.labels).findIndex((l) => l !== IGNORE_INDEX);
  const cut = first > 0 ? first : Math.max(1, Math.min(8, Math.floor(e.ids.length / 2)));
  return e.ids.slice(0, cut);
}

interface Resumed {
  readonly checkpoint: TrainerCheckpoint;
  readonly config: RunConfig;
  readonly model: string;
  readonly data: string;
}

function readResume(dir: string, io: CliIO): Resumed {
  const root = resolve(io.cwd, dir);
  const manifestPath = join(root, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new CliError(`--resume ${dir} has no ${MANIFEST_FILE}. HINT: resume the --out folder of an earlier \`tabtune train\`.`);
  const raw = JSON.parse(fromUtf8(readBinary(manifestPath, '--resume'))) as { format?: unknown; config: unknown; model: { source: string }; dataset: { name: string } };
  const ck = join(root, CHECKPOINT_DIR);
  const checkpoint = parseCheckpoint(readBinary(join(ck, CHECKPOINT_TENSORS), '--resume'), readBinary(join(ck, CHECKPOINT_STATE), '--resume'), join(dir, CHECKPOINT_DIR));
  // Folders written before the CLI used the shared manifest schema keep model.source / dataset.name at the top.
  if (raw.format !== 'tabtune-manifest') return { checkpoint, config: parseRunConfig(raw.config), model: raw.model.source, data: raw.dataset.name };
  const manifest = parseManifest(raw);
  if (!manifest.dataset.name) throw new CliError(`--resume ${dir}: ${MANIFEST_FILE} names no dataset file. HINT: pass --data with the file the run trained on.`);
  const model = manifest.model.local ?? `${manifest.model.repo}@${manifest.model.revision}`;
  return { checkpoint, config: manifest.config, model, data: manifest.dataset.name };
}

const CHANGEABLE_ON_RESUME = new Set(['model', 'tokenizer', 'data', 'resume', 'out', 'backend', 'steps', 'hub-endpoint', 'format', 'template', 'help', 'max-buffer-bytes', 'memory-budget']);

export async function trainCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('train', argv, {
    ...HUB_FLAGS, ...DATA_FLAGS, ...LORA_FLAGS, ...MEMORY_FLAGS, ...TRAIN_FLAGS, model: { type: 'string' }, tokenizer: { type: 'string' },
    out: { type: 'string' }, resume: { type: 'string' },
  });
  if (v['help']) return io.out(TRAIN_HELP), 0;
  const resumeDir = str(v, 'resume');
  const resumed = resumeDir ? readResume(resumeDir, io) : null;
  if (resumed) {
    const fixed = Object.keys(v).filter((k) => v[k] !== undefined && !CHANGEABLE_ON_RESUME.has(k));
    if (fixed.length > 0) throw new CliError(`--resume continues the saved run configuration; --${fixed[0]} cannot change it. HINT: drop ${fixed.map((f) => `--${f}`).join(', ')} (only --steps may extend the run).`);
  }
  const outFlag = str(v, 'out') ?? resumeDir;
  if (!outFlag) throw new CliError('tabtune train needs --out DIR (where the adapter, trainer_state.json and checkpoints go), e.g. --out runs/first');
  if (str(v, 'steps') && str(v, 'epochs')) throw new CliError('give --steps or --epochs, not both');
  const out = resolve(io.cwd, outFlag);
  let config = resumed?.config;
  const steps = num(v, 'steps', { int: true, min: 1 });
  if (config && steps !== undefined) config = { ...config, train: { ...config.train, steps } };
  const s = await setup(v, io, 'train', resumed ? { model: resumed.model, data: resumed.data, ...(config ? { config } : {}) } : {});
  const split = splitExamples(s.dataset.examples, s.config.evalFraction, s.config.seed);
  const t = s.config.train;
  const epochs = num(v, 'epochs', { min: Number.MIN_VALUE });
  const perStep = Math.min(t.batchSize, split.train.length) * t.gradAccum;
  const totalSteps = epochs !== undefined ? Math.max(1, Math.ceil((epochs * split.train.length) / perStep)) : t.steps;
  const config2: RunConfig = { ...s.config, train: { ...t, steps: totalSteps } };
  const sampleFrom = split.eval.length > 0 ? split.eval : split.train;
  const samples: SampleSpec = {
    prompts: sampleFrom.slice(0, 2).map(promptIds),
    maxNewTokens: 24,
    sampling: GREEDY,
    stopIds: [...s.tokenizer.tokenizer.endOfTurnIds, ...s.model.config.eosTokenIds],
  };
  const backend = await openBackend(s.backendKind);
  const trainer = await Trainer.create({
    backend, model: s.model, config: config2, train: split.train, eval: split.eval, padId: paddingId(s.tokenizer.tokenizer), totalSteps, samples,
    ...(s.adapter ? { initialAdapter: s.adapter.params } : {}),
    ...(resumed ? { resume: resumed.checkpoint } : {}),
  });
  const save = async (c: TrainerCheckpoint): Promise<void> => writeOutputs(out, s, config2, c, trainer, backend.label, split.train.length, epochs ?? null);
  try {
    io.out(`Training ${s.model.id} on ${split.train.length} examples (${split.eval.length} eval), batch ${trainer.shape.batch}×${trainer.shape.seqLen}, ${totalSteps} steps on ${backend.label}\n`);
    const started = Date.now();
    const firstStep = trainer.step;
    let tokens = 0;
    const result = await trainer.run({
      signal: io.signal,
      onStep: (r) => {
        tokens += r.targetTokens;
        const elapsed = (Date.now() - started) / 1000;
        const rate = (r.step - firstStep) / Math.max(elapsed, 1e-3);
        const line = progressLine(r.step, totalSteps, r.loss, r.lr, tokens / Math.max(elapsed, 1e-3), (totalSteps - r.step) / rate);
        io.out(io.isTTY ? `\r${line}` : `${line}\n`);
      },
      onEval: (r) => io.out(`${io.isTTY ? '\n' : ''}eval step ${r.step}: loss ${r.loss.toFixed(4)} over ${r.targetTokens} tokens\n`),
      onSample: (r) => {
        r.tokens.forEach((ids, i) => io.out(`${io.isTTY ? '\n' : ''}sample ${i} at step ${r.step}: ${JSON.stringify(s.tokenizer.tokenizer.decode(ids))}\n`));
      },
      onCheckpoint: save,
    });
    if (io.isTTY) io.out('\n');
    const final = await trainer.checkpoint();
    await save(final);
    if (result.reason === 'stopped') {
      io.out(`Interrupted at step ${result.step}/${totalSteps}; checkpoint saved. Continue with: tabtune train --resume ${outFlag}\n`);
      return 0;
    }
    if (result.reason === 'non-finite') {
      io.err(`step ${result.badStep} produced a non-finite loss or gradient; kept the last good state (step ${result.step}) in ${outFlag}. HINT: lower --lr or set --max-grad-norm.\n`);
      return 1;
    }
    io.out(`Done: ${result.step} steps. Adapter written to ${outFlag}\n`);
    return 0;
  } finally {
    await trainer.release();
    await backend.release();
  }
}

function writeOutputs(out: string, s: Setup, config: RunConfig, c: TrainerCheckpoint, trainer: Trainer, backendLabel: string, trainRows: number, epochs: number | null): void {
  const meta = { baseModel: s.sources.modelRef!, revision: s.model.sha };
  const files = new Map<string, Uint8Array | string>(adapterFiles(trainer.plan, s.model.config, c.params, meta));
  const t = config.train;
  const perEpoch = trainRows / (trainer.shape.batch * t.gradAccum);
  files.set('README.md', modelCard({
    baseModel: meta.baseModel, revision: meta.revision, dataset: s.data.name, datasetHash: s.data.sha256, rows: trainRows, mask: config.mask,
    template: config.template.kind,
    hyperparameters: {
      steps: t.steps, learning_rate: t.lr, lr_scheduler_type: t.schedule, warmup_steps: t.warmupSteps, per_device_train_batch_size: trainer.shape.batch,
      gradient_accumulation_steps: t.gradAccum, max_grad_norm: t.maxGradNorm, weight_decay: t.weightDecay, seed: config.seed, max_length: config.maxLength,
      lora_r: config.lora.r, lora_alpha: config.lora.alpha, lora_dropout: config.lora.dropout,
    },
    versions: { tabtune: TABTUNE_VERSION, backend: backendLabel },
  }));
  const last = c.logHistory[c.logHistory.length - 1];
  files.set('trainer_state.json', trainerStateJson({
    globalStep: c.step, maxSteps: t.steps, epoch: last?.epoch ?? 0, numTrainEpochs: epochs ?? Math.ceil(t.steps / perEpoch),
    batchSize: trainer.shape.batch, evalSteps: t.evalEvery, saveSteps: t.checkpointEvery, logHistory: c.logHistory,
  }));
  for (const [name, bytes] of s.tokenizer.files) files.set(name, bytes);
  const tokenizerLocal = s.sources.tokenizer.sha === null;
  files.set(MANIFEST_FILE, manifestJson({
    model: { sha: s.model.sha, ...(s.sources.model?.sha === null ? { local: s.sources.modelRef! } : {}) },
    tokenizer: { repo: modelRepoFor(s.tokenizer.id, s.sources.tokenizer.sha).repo, sha: s.tokenizer.sha, ...(tokenizerLocal ? { local: s.tokenizer.id } : {}) },
    dataset: { name: s.data.name, sha256: s.data.sha256, rows: s.data.rows.length, format: s.data.format },
    config, backend: backendLabel,
  }));
  writeFolder(out, files);
  writeFolder(join(out, CHECKPOINT_DIR), checkpointFiles(c));
}

