// What every command loads from its flags: the Hub settings, the model and tokenizer sources, the dataset file
// (read and field-mapped by src/data in any format it reads: JSONL, JSON, CSV, Parquet; then rendered, masked,
// dropped and linted through src/train), and the run config.
import type { HubConfig } from '../hub/index.ts';
import { loadModel, loadTokenizerFrom, type FileSource, type LoadedModel, type TokenizerBundle } from '../train/model-source.ts';
import { loadDataset } from '../train/sources.ts';
import type { ParseIssue } from '../data/formats.ts';
import type { Row } from '../data/types.ts';
import { fileFormat, required, str, templateFlag, type Values } from './args.ts';
import { CliError } from './errors.ts';
import { hubSettings, openSource, readBinaryFile, readTextFile } from './files.ts';
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
  /** The path as given. */
  readonly name: string;
  /** Hex SHA-256 of the file bytes. */
  readonly sha256: string;
  readonly rows: Row[];
  /** File format and row layout, e.g. `jsonl/messages`. */
  readonly format: string;
  /** Lines/rows that could not be used; the others are kept. */
  readonly problems: ParseIssue[];
  /** Source of --template FILE.jinja, when given. */
  readonly templateSource?: string;
}

export async function readData(v: Values, io: CliIO, command: string, fallback?: string): Promise<DataFile> {
  const path = str(v, 'data') ?? fallback ?? required(v, 'data', command, 'train.jsonl');
  const format = fileFormat(v);
  const bytes = readBinaryFile(path, '--data', io.cwd);
  if (bytes.every((b) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09)) {
    throw new CliError(`--data ${path} is empty: a dataset needs at least one row. HINT: one JSON object per line, e.g. {"messages": [...]}.`);
  }
  const ds = await loadDataset(basename(path), bytes, format ? { format } : {});
  if (ds.rows.length === 0) {
    const first = ds.errors[0];
    throw new CliError(`--data ${path} has no usable rows${first ? ` (${first.where}: ${first.message})` : ''}. HINT: rows need messages, conversations, prompt+completion, instruction+output or text; --format picks jsonl, json, csv or parquet.`);
  }
  const t = templateFlag(v);
  const templateSource = t.kind === 'file' ? readTextFile(t.path, '--template', io.cwd).text : undefined;
  return {
    name: path,
    sha256: ds.hash.replace(/^sha256:/, ''),
    rows: ds.rows,
    format: `${ds.format}/${ds.mapping?.kind ?? 'unknown'}`,
    problems: ds.errors,
    ...(templateSource !== undefined ? { templateSource } : {}),
  };
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
  for (const p of data.problems.slice(0, 20)) io.err(`skipped ${data.name} ${p.where}: ${p.message}\n`);
  if (data.problems.length > 20) io.err(`... and ${data.problems.length - 20} more skipped rows\n`);
}
