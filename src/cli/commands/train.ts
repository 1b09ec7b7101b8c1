// `tabtune train`: the browser's training loop headless. Progress bar, samples at the chosen cadence, and an output
// folder holding the PEFT adapter, model card, trainer_state.json, tokenizer files, the reproduction manifest and a
// resumable checkpoint. Ctrl-C stops after the current step, saves everything and exits 0; `--resume DIR` continues.
import { parseManifest } from '../../share/manifest.ts';
import { parseRunConfig, type RunConfig } from '../../share/run-config.ts';
import { fromUtf8 } from '../../train/json.ts';
import { checkpointFiles, manifestJson, parseCheckpoint, CHECKPOINT_STATE, CHECKPOINT_TENSORS, type TrainerCheckpoint } from '../../train/state.ts';
import { FULL_TENSORS_FILE } from '../../train/peft.ts';
import type { RunSession } from '../../train/session.ts';
import type { Trainer } from '../../train/trainer.ts';
import { DATA_FLAGS, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, TRAIN_FLAGS, num, parseFlags, str } from '../args.ts';
import { CliError } from '../errors.ts';
import { existsSync, join, readBinary, resolve, writeFolder } from '../files.ts';
import { progressLine } from '../format.ts';
import { modelRepoFor, type CliIO } from '../load.ts';
import { openBackend, setup, type Setup } from '../setup.ts';
import { count } from '../../share/wording.ts';

export const TRAIN_HELP = `tabtune train --model M --data FILE --out DIR [data flags] [LoRA flags] [--steps N | --epochs E] [--lr X]
  [--warmup N] [--schedule constant|linear|cosine] [--batch-size B] [--grad-accum K] [--max-grad-norm X]
  [--weight-decay X] [--eval-every N] [--sample-every N] [--checkpoint-every N] [--eval-fraction F] [--seed S]
  [--backend cpu|wasm|webgpu] [--max-buffer-bytes N] [--memory-budget N] [--resume DIR]
Trains a LoRA adapter and writes a PEFT folder, trainer_state.json, tokenizer files and a manifest to DIR.
LoRA flags: --lora-r R --lora-alpha A --lora-dropout P --lora-rslora --lora-targets LIST, or --adapter DIR to start from
one; --train GROUPS (norms,biases,embeddings,head) and --train-layers LIST (e.g. 0,3) also train those base tensors in
full (written to ${FULL_TENSORS_FILE} beside the adapter).
Ctrl-C saves a checkpoint; \`tabtune train --resume DIR\` continues it.
`;

const MANIFEST_FILE = 'tabtune_manifest.json';
const CHECKPOINT_DIR = 'checkpoint';

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
  const t = s.session.config.train;
  const epochs = num(v, 'epochs', { min: Number.MIN_VALUE });
  const trainRows = s.session.train.length;
  const perStep = s.session.batchSize * t.gradAccum;
  const totalSteps = epochs !== undefined ? Math.max(1, Math.ceil((epochs * trainRows) / perStep)) : t.steps;
  const session = s.session.withConfig({ ...s.session.config, train: { ...t, steps: totalSteps } });
  const backend = await openBackend(s.backendKind);
  const trainer = await session.createTrainer({
    backend, model: s.model, totalSteps,
    ...(s.adapter ? { initialAdapter: s.adapter.params } : {}),
    ...(resumed ? { resume: resumed.checkpoint } : {}),
  });
  const save = async (c: TrainerCheckpoint): Promise<void> => writeOutputs(out, s, session, c, trainer, backend.label, epochs ?? null);
  try {
    io.out(`Training ${s.model.id} on ${count(trainRows, 'example')} (${session.evalSet.length} eval), batch ${trainer.shape.batch}×${trainer.shape.seqLen}, ${count(totalSteps, 'step')} on ${backend.label}\n`);
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
      onEval: (r) => io.out(`${io.isTTY ? '\n' : ''}eval step ${r.step}: loss ${r.loss.toFixed(4)} over ${count(r.targetTokens, 'token')}\n`),
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
    io.out(`Done: ${count(result.step, 'step')}. Adapter written to ${outFlag}\n`);
    return 0;
  } finally {
    await trainer.release();
    await backend.release();
  }
}

export function writeOutputs(out: string, s: Setup, session: RunSession, c: TrainerCheckpoint, trainer: Trainer, backendLabel: string, epochs: number | null): void {
  const files = session.artifacts(trainer, c, { baseModel: s.sources.modelRef!, revision: s.model.sha, backend: backendLabel, epochs });
  for (const [name, bytes] of s.tokenizer.files) files.set(name, bytes);
  const tokenizerLocal = s.sources.tokenizer.sha === null;
  files.set(MANIFEST_FILE, manifestJson({
    model: { sha: s.model.sha, ...(s.sources.model?.sha === null ? { local: s.sources.modelRef! } : {}) },
    tokenizer: { repo: modelRepoFor(s.tokenizer.id, s.sources.tokenizer.sha).repo, sha: s.tokenizer.sha, ...(tokenizerLocal ? { local: s.tokenizer.id } : {}) },
    dataset: { name: s.data.name, sha256: s.data.sha256, rows: s.data.rows.length, format: s.data.format },
    config: session.config, backend: backendLabel,
  }));
  writeFolder(out, files);
  writeFolder(join(out, CHECKPOINT_DIR), checkpointFiles(c));
}
