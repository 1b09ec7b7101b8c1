// What every command loads from its flags: the Hub settings, the model and tokenizer sources, the dataset file
// (parsed, rendered, masked, dropped and linted through src/train + src/data), and the run config.
import { sha256Hex } from '../hub/index.ts';
import type { HubConfig } from '../hub/index.ts';
import type { RunConfig } from '../share/run-config.ts';
import { prepareDataset, type PreparedDataset, type TemplateChoice } from '../train/dataset.ts';
import { loadModel, loadTokenizerFrom, type FileSource, type LoadedModel, type TokenizerBundle } from '../train/model-source.ts';
import { parseRows, type ParsedRows } from '../train/rows.ts';
import { required, rowFormat, str, templateFlag, type Values } from './args.ts';
import { CliError } from './errors.ts';
import { hubSettings, openSource, readTextFile } from './files.ts';
import type { StopFlag } from '../train/trainer.ts';
import { basename } from 'node:path';

/** The process around a command: injected so tests run commands in-process with captured output. */
export interface CliIO {
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Draw the progress bar in place (a terminal) rather than one line per step. */
  readonly isTTY: boolean;
  /** Set when the user presses Ctrl-C. */
  readonly signal: StopFlag;
}

export interface Sources {
  readonly hub: HubConfig;
  readonly model: FileSource | null;
  readonly tokenizer: FileSource;
  /** What --model said (kept in the manifest so --resume can reopen it). */
  readonly modelRef: string | null;
}

export async function openSources(v: Values, io: CliIO, command: string, needModel: boolean, fallback?: { model?: string }): Promise<Sources> {
  const hub = hubSettings(str(v, 'hub-endpoint'), io.env);
  const modelRef = str(v, 'model') ?? fallback?.model ?? null;
  const tokRef = str(v, 'tokenizer');
  if (needModel && !modelRef) throw new CliError(`tabtune ${command} needs --model, e.g. --model ./my-checkpoint or --model Qwen/Qwen3-0.6B@main`);
  if (!modelRef && !tokRef) throw new CliError(`tabtune ${command} needs --tokenizer or --model, e.g. --tokenizer Qwen/Qwen3-0.6B`);
  const model = modelRef ? await openSource(modelRef, '--model', hub, io.cwd) : null;
  const tokenizer = tokRef ? await openSource(tokRef, '--tokenizer', hub, io.cwd) : model!;
  return { hub, model, tokenizer, modelRef };
}

export async function openModel(sources: Sources): Promise<LoadedModel> {
  if (!sources.model) throw new CliError('this command needs --model');
  return loadModel(sources.model);
}

export async function openTokenizer(sources: Sources): Promise<TokenizerBundle> {
  return loadTokenizerFrom(sources.tokenizer);
}

export interface DataFile {
  readonly name: string;
  readonly sha256: string;
  readonly parsed: ParsedRows;
  /** Source of --template FILE.jinja, when given. */
  readonly templateSource?: string;
}

export async function readData(v: Values, io: CliIO, command: string, fallback?: string): Promise<DataFile> {
  const path = str(v, 'data') ?? fallback ?? required(v, 'data', command, 'train.jsonl');
  const file = readTextFile(path, '--data', io.cwd);
  const parsed = parseRows(basename(path), file.text, rowFormat(v));
  const t = templateFlag(v);
  const templateSource = t.kind === 'file' ? readTextFile(t.path, '--template', io.cwd).text : undefined;
  return { name: path, sha256: (await sha256Hex(file.bytes)) ?? '', parsed, ...(templateSource !== undefined ? { templateSource } : {}) };
}

export function templateChoice(config: RunConfig, data: DataFile, v: Values): TemplateChoice {
  const k = config.template.kind;
  if (k === 'custom') return { kind: 'custom', source: config.template.source ?? data.templateSource ?? '', name: str(v, 'template') ?? 'the custom template' };
  return { kind: k };
}

export function buildDataset(config: RunConfig, data: DataFile, tok: TokenizerBundle, v: Values, embeddingRows?: number): PreparedDataset {
  return prepareDataset(data.parsed.rows, {
    tokenizer: tok.tokenizer,
    template: templateChoice(config, data, v),
    mask: config.mask,
    maxLength: config.maxLength,
    kwargs: config.template.kwargs,
    ...(embeddingRows !== undefined ? { embeddingRows } : {}),
  });
}

/** The schema wants `org/name`; a local folder is recorded as `local/<folder name>` (the manifest keeps the path). */
export function modelRepoFor(ref: string, sha: string | null): { repo: string; revision: string } {
  if (sha) {
    const at = ref.indexOf('@');
    return { repo: at >= 0 ? ref.slice(0, at) : ref, revision: at >= 0 ? ref.slice(at + 1) : 'main' };
  }
  const name = basename(ref.replace(/\/+$/, '')).replace(/[^\w.-]/g, '_') || 'model';
  return { repo: `local/${name}`, revision: 'local' };
}

export function reportProblems(data: DataFile, io: CliIO): void {
  for (const p of data.parsed.problems.slice(0, 20)) io.err(`skipped ${data.name} line ${p.line}: ${p.message}\n`);
  if (data.parsed.problems.length > 20) io.err(`... and ${data.parsed.problems.length - 20} more skipped lines\n`);
}
