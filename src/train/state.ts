// What a run records and resumes from: the metrics log in HF Trainer's `log_history` shape, trainer_state.json as
// transformers writes it (sorted keys, indent 2), the reproduction manifest, and the resumable checkpoint (adapter,
// AdamW moments, step, RNG states, data cursor) as plain typed arrays plus its file form (safetensors + JSON).
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../hub/index.ts';
import type { RngState } from '../models/rng.ts';
import type { RunConfig } from '../share/run-config.ts';
import { buildManifest } from '../share/manifest.ts';
import type { DataCursor } from './dataset.ts';
import { fromUtf8, sortedJson, utf8 } from './json.ts';

/** package.json's version, read once by src/share. */
export { TABTUNE_VERSION } from '../share/manifest.ts';

/** One entry of log_history: a training step ({loss, learning_rate, grad_norm}) or an evaluation ({eval_loss}). */
export type LogEntry =
  | { readonly step: number; readonly epoch: number; readonly loss: number; readonly learning_rate: number; readonly grad_norm: number; readonly num_tokens: number }
  | { readonly step: number; readonly epoch: number; readonly eval_loss: number; readonly eval_tokens: number };

export interface TrainerCheckpoint {
  readonly version: 1;
  /** Optimizer steps taken. */
  readonly step: number;
  readonly params: Readonly<Record<string, Float32Array>>;
  readonly m: Readonly<Record<string, Float32Array>>;
  readonly v: Readonly<Record<string, Float32Array>>;
  readonly rng: { readonly dropout: RngState; readonly sample: RngState };
  readonly cursor: DataCursor;
  readonly logHistory: readonly LogEntry[];
}

export interface TrainerStateInfo {
  readonly globalStep: number;
  readonly maxSteps: number;
  readonly epoch: number;
  readonly numTrainEpochs: number;
  readonly batchSize: number;
  readonly evalSteps: number;
  readonly saveSteps: number;
  readonly logHistory: readonly LogEntry[];
}

/** trainer_state.json in transformers' TrainerState shape. */
export function trainerStateJson(s: TrainerStateInfo): string {
  return sortedJson({
    best_global_step: null,
    best_metric: null,
    best_model_checkpoint: null,
    epoch: s.epoch,
    eval_steps: s.evalSteps,
    global_step: s.globalStep,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: s.logHistory,
    logging_steps: 1,
    max_steps: s.maxSteps,
    num_input_tokens_seen: 0,
    num_train_epochs: s.numTrainEpochs,
    save_steps: s.saveSteps,
    stateful_callbacks: {},
    total_flos: 0,
    train_batch_size: s.batchSize,
    trial_name: null,
    trial_params: null,
  });
}

export interface ManifestInput {
  /** Commit sha, or a local folder's content hash with `local` = the folder as the user gave it (a resume reopens it). */
  readonly model: { readonly sha: string; readonly local?: string };
  readonly tokenizer: { readonly repo: string; readonly sha: string; readonly local?: string };
  readonly dataset: { readonly name: string; readonly sha256: string; readonly rows: number; readonly format: string };
  readonly config: RunConfig;
  readonly backend: string;
}

/**
 * The reproduction manifest in src/share's schema (the same the app writes into checkpoints and zips), without
 * createdAt and with sorted keys, so identical runs write identical files.
 */
export function manifestJson(m: ManifestInput): string {
  return sortedJson(
    buildManifest(m.config, {
      modelSha: m.model.sha,
      ...(m.model.local !== undefined ? { modelLocal: m.model.local } : {}),
      tokenizer: m.tokenizer,
      datasetHash: m.dataset.sha256,
      datasetRows: m.dataset.rows,
      datasetName: m.dataset.name,
      datasetFormat: m.dataset.format,
      device: { backend: m.backend },
      now: null,
    }),
  );
}

export const CHECKPOINT_TENSORS = 'tabtune_optimizer.safetensors';
export const CHECKPOINT_STATE = 'tabtune_checkpoint.json';

/** Checkpoint → two files: tensors (params, AdamW m and v under TabTune's own names) and the small JSON state. */
export function checkpointFiles(c: TrainerCheckpoint): Map<string, Uint8Array> {
  const tensors: TensorToWrite[] = [];
  for (const [prefix, group] of [['param', c.params], ['exp_avg', c.m], ['exp_avg_sq', c.v]] as const) {
    for (const key of Object.keys(group)) tensors.push({ name: `${prefix}.${key}`, dtype: 'F32', shape: [group[key]!.length], data: group[key]! });
  }
  const state = { version: c.version, step: c.step, rng: c.rng, cursor: c.cursor, log_history: c.logHistory };
  return new Map([
    [CHECKPOINT_TENSORS, writeSafetensors(tensors)],
    [CHECKPOINT_STATE, utf8(sortedJson(state))],
  ]);
}

/** The reverse of checkpointFiles, with messages that say which file is wrong. */
export function parseCheckpoint(tensorBytes: Uint8Array, stateBytes: Uint8Array, where = 'checkpoint'): TrainerCheckpoint {
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(fromUtf8(stateBytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}/${CHECKPOINT_STATE} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (state['version'] !== 1) throw new Error(`${where}/${CHECKPOINT_STATE}: version ${JSON.stringify(state['version'])} is not supported (expected 1)`);
  const header = parseSafetensors(tensorBytes, `${where}/${CHECKPOINT_TENSORS}`);
  const groups: Record<string, Record<string, Float32Array>> = { param: {}, exp_avg: {}, exp_avg_sq: {} };
  for (const t of header.tensors) {
    const dot = t.name.indexOf('.');
    const group = groups[t.name.slice(0, dot)];
    if (!group) throw new Error(`${where}/${CHECKPOINT_TENSORS}: unexpected tensor ${t.name}`);
    group[t.name.slice(dot + 1)] = tensorToFloat32(header, tensorBytes, t.name).slice();
  }
  const rng = state['rng'] as TrainerCheckpoint['rng'];
  const cursor = state['cursor'] as DataCursor;
  if (!rng?.dropout || !rng.sample || typeof cursor?.epoch !== 'number' || typeof state['step'] !== 'number') {
    throw new Error(`${where}/${CHECKPOINT_STATE} lacks step, rng or cursor. HINT: resume from a folder written by \`tabtune train\`.`);
  }
  return {
    version: 1,
    step: state['step'],
    params: groups['param']!,
    m: groups['exp_avg']!,
    v: groups['exp_avg_sq']!,
    rng,
    cursor,
    logHistory: (state['log_history'] as LogEntry[] | undefined) ?? [],
  };
}
