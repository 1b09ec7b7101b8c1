// Flag definitions (node:util parseArgs) for every command, number/enum checks with messages that name the flag, and
// the mapping from flags to the shared RunConfig: a flag left out takes the browser's default from
// src/share/run-config.ts, so the CLI and the app train the same way.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FULL_GROUPS, MASK_POLICIES, SCHEDULES, parseRunConfig, type RunConfig, type RunConfigInput } from '../share/run-config.ts';
import { TEMPLATE_KINDS, type PresetKind } from '../share/templates.ts';
import type { FileFormat } from '../data/formats.ts';
import { CliError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
const s = { type: 'string' } as const;
const b = { type: 'boolean' } as const;

export const HUB_FLAGS: Options = { 'hub-endpoint': s };
export const DATA_FLAGS: Options = { data: s, format: s, template: s, mask: s, 'max-length': s };
export const LORA_FLAGS: Options = { adapter: s, 'lora-r': s, 'lora-alpha': s, 'lora-targets': s, 'lora-dropout': s, 'lora-rslora': b, train: s, 'train-layers': s };
export const TRAIN_FLAGS: Options = {
  steps: s, epochs: s, lr: s, warmup: s, schedule: s, 'batch-size': s, 'grad-accum': s, 'max-grad-norm': s,
  'weight-decay': s, 'eval-every': s, 'sample-every': s, 'checkpoint-every': s, 'eval-fraction': s, seed: s, backend: s,
};

/** Limits for the memory bill printed before weights are fetched (bytes; the GPU's buffer limit, a total budget). */
export const MEMORY_FLAGS: Options = { 'max-buffer-bytes': s, 'memory-budget': s };

export type Values = Record<string, string | boolean | undefined>;

/** Parses argv strictly: unknown flags and stray positionals are errors that point at --help. */
export function parseFlags(command: string, argv: readonly string[], options: Options): Values {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: b }, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new CliError(`tabtune ${command}: unexpected argument "${positionals[0]}". HINT: flags take the form --name value; see \`tabtune ${command} --help\`.`);
    return values as Values;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`tabtune ${command}: ${(e as Error).message}. HINT: see \`tabtune ${command} --help\`.`);
  }
}

export function str(v: Values, flag: string): string | undefined {
  const x = v[flag];
  return typeof x === 'string' ? x : undefined;
}

export function required(v: Values, flag: string, command: string, example: string): string {
  const x = str(v, flag);
  if (x === undefined || x === '') throw new CliError(`tabtune ${command} needs --${flag}, e.g. --${flag} ${example}`);
  return x;
}

/** A number flag; `int` demands a whole number; the range is checked with a message naming the flag. */
export function num(v: Values, flag: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  const raw = str(v, flag);
  if (raw === undefined) return undefined;
  const x = Number(raw);
  const kind = opts.int ? 'a whole number' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(x) || (opts.int && !Number.isInteger(x))) throw new CliError(`--${flag} must be ${kind}, got "${raw}"`);
  if (opts.min !== undefined && x < opts.min) throw new CliError(`--${flag} must be ≥ ${opts.min}, got ${raw}`);
  if (opts.max !== undefined && x > opts.max) throw new CliError(`--${flag} must be ≤ ${opts.max}, got ${raw}`);
  return x;
}

export function oneOf<T extends string>(v: Values, flag: string, allowed: readonly T[]): T | undefined {
  const raw = str(v, flag);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}; got "${raw}"`);
  return raw as T;
}

const FILE_FORMATS: readonly FileFormat[] = ['jsonl', 'json', 'csv', 'parquet'];

/** `--format`: the file format when the extension does not say it (the row layout is detected from the fields). */
export function fileFormat(v: Values): FileFormat | undefined {
  return oneOf(v, 'format', FILE_FORMATS);
}

export const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
export type BackendFlag = (typeof BACKENDS)[number];
/**
 * `--backend` when none is given: onnxruntime-node's native CPU EP. A GPU is used only when asked for
 * (`--backend webgpu`): onnxruntime-node cannot tell a real GPU from a software Vulkan driver before a session exists.
 */
export const DEFAULT_BACKEND: BackendFlag = 'cpu';

/** `--template chat|chatml|llama3|gemma|alpaca|plain|FILE.jinja` → the template part of the run config (FILE read by
 * the caller). */
export type TemplateFlag = { kind: 'chat' | PresetKind } | { kind: 'file'; path: string };
const PRESET_FLAGS: readonly PresetKind[] = TEMPLATE_KINDS.filter((k): k is PresetKind => k !== 'chat' && k !== 'custom');
export function templateFlag(v: Values): TemplateFlag {
  const raw = str(v, 'template');
  if (raw === undefined || raw === 'chat') return { kind: 'chat' };
  const preset = PRESET_FLAGS.find((p) => p === raw);
  if (preset) return { kind: preset };
  if (/\.jinja2?$/.test(raw)) return { kind: 'file', path: raw };
  throw new CliError(`--template must be chat, ${PRESET_FLAGS.join(', ')} or a .jinja file; got "${raw}"`);
}

export interface ConfigContext {
  /** Hub repo id of the model, or `local/<folder name>` for a local folder (the schema wants org/name). */
  readonly modelRepo: string;
  readonly modelRevision: string;
  readonly modelSha: string | null;
  readonly dataName: string;
  readonly dataHash: string;
  readonly templateSource?: string;
  readonly hubEndpoint?: string;
}

/** Flags → a validated RunConfig; every omitted flag keeps the schema default (the browser's). */
export function runConfigFromFlags(v: Values, ctx: ConfigContext): RunConfig {
  const t = templateFlag(v);
  const targets = str(v, 'lora-targets');
  const input: RunConfigInput = {
    model: { repo: ctx.modelRepo, revision: ctx.modelRevision, ...(ctx.modelSha ? { sha: ctx.modelSha } : {}) },
    data: { source: 'upload', name: ctx.dataName.slice(-300), hash: ctx.dataHash },
    template: t.kind === 'file' ? { kind: 'custom', source: ctx.templateSource ?? '', kwargs: {} } : { kind: t.kind, kwargs: {} },
    ...(ctx.hubEndpoint ? { hubEndpoint: ctx.hubEndpoint } : {}),
  };
  const mask = oneOf(v, 'mask', MASK_POLICIES);
  if (mask) input.mask = mask;
  const maxLength = num(v, 'max-length', { int: true, min: 8, max: 32768 });
  if (maxLength !== undefined) input.maxLength = maxLength;
  const evalFraction = num(v, 'eval-fraction', { min: 0, max: 0.5 });
  if (evalFraction !== undefined) input.evalFraction = evalFraction;
  const seed = num(v, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 });
  if (seed !== undefined) input.seed = seed;
  const lora: Record<string, unknown> = {};
  const r = num(v, 'lora-r', { int: true, min: 1, max: 256 });
  if (r !== undefined) lora['r'] = r;
  const alpha = num(v, 'lora-alpha', { min: Number.MIN_VALUE, max: 4096 });
  if (alpha !== undefined) lora['alpha'] = alpha;
  const dropout = num(v, 'lora-dropout', { min: 0, max: 0.9 });
  if (dropout !== undefined) lora['dropout'] = dropout;
  if (v['lora-rslora'] === true) lora['rslora'] = true;
  if (targets !== undefined) lora['targets'] = targets.split(',').map((x) => x.trim()).filter(Boolean);
  if (Object.keys(lora).length > 0) input.lora = lora as RunConfigInput['lora'];
  // --train norms,biases,embeddings,head and --train-layers 0,3: base tensors trained in full beside the adapter.
  const groups = str(v, 'train');
  const layers = str(v, 'train-layers');
  if (groups !== undefined || layers !== undefined) {
    const names = (groups ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    const unknown = names.find((g) => !(FULL_GROUPS as readonly string[]).includes(g));
    if (unknown !== undefined) throw new CliError(`--train ${groups}: "${unknown}" is not a tensor group. HINT: choose from ${FULL_GROUPS.join(', ')}, comma-separated.`);
    const ids = (layers ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
    if (ids.some((n) => !Number.isInteger(n))) throw new CliError(`--train-layers ${layers}: expected layer numbers like 0,3.`);
    input.full = { groups: names as (typeof FULL_GROUPS)[number][], layers: ids };
  }
  const train: Record<string, unknown> = {};
  const put = (key: string, value: number | string | undefined) => {
    if (value !== undefined) train[key] = value;
  };
  put('steps', num(v, 'steps', { int: true, min: 1 }));
  put('batchSize', num(v, 'batch-size', { int: true, min: 1, max: 512 }));
  put('gradAccum', num(v, 'grad-accum', { int: true, min: 1, max: 1024 }));
  put('lr', num(v, 'lr', { min: Number.MIN_VALUE, max: 1 }));
  put('schedule', oneOf(v, 'schedule', SCHEDULES));
  put('warmupSteps', num(v, 'warmup', { int: true, min: 0 }));
  put('weightDecay', num(v, 'weight-decay', { min: 0, max: 1 }));
  put('maxGradNorm', num(v, 'max-grad-norm', { min: 0 }));
  put('evalEvery', num(v, 'eval-every', { int: true, min: 0 }));
  put('sampleEvery', num(v, 'sample-every', { int: true, min: 0 }));
  put('checkpointEvery', num(v, 'checkpoint-every', { int: true, min: 0 }));
  if (Object.keys(train).length > 0) input.train = train as RunConfigInput['train'];
  try {
    return parseRunConfig(input);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
