// Where a checkpoint's files come from: a local folder in Hugging Face layout (read through a FileSource the caller
// injects — the CLI passes one over node:fs, since src/train must not import node: modules) or a Hub repo pinned to a
// commit through src/hub. loadModel() turns either into a parsed config, float32 weights under weight-table names,
// the tokenizer and the pins the reproduction manifest records.
import {
  SAFETENSORS_INDEX, SAFETENSORS_SINGLE, SafetensorsError, fetchResolvedFile, findFile, parseSafetensors, parseShardIndex, readSafetensorsStream,
  resolveRevision, sha256Hex, streamFile, tensorToFloat32,
} from '../hub/index.ts';
import type { HubConfig, SafetensorsHeader } from '../hub/index.ts';
import { loadTokenizer, type Tokenizer } from '../data/tokenizer.ts';
import { ModelConfigError, parseModelConfig, type ModelConfig } from '../models/config.ts';
import { resolveCheckpoint, weightTable } from '../models/weights.ts';
import { fromUtf8 } from './json.ts';

/** Read access to one checkpoint's files, by repo-relative path. */
export interface FileSource {
  /** Human-readable origin for messages and the manifest: a folder path or `org/name@sha`. */
  readonly id: string;
  /** Commit sha when the files are pinned to a Hub commit; null for a local folder. */
  readonly sha: string | null;
  list(): Promise<string[]>;
  read(path: string): Promise<Uint8Array>;
  /**
   * The file's bytes as a verified chunk stream (size and sha256 checked when it ends), where the source can stream:
   * loadModel converts safetensors shards from it so a whole shard is never in memory next to its float32 tensors.
   */
  stream?(path: string): { size: number; chunks: AsyncIterable<Uint8Array> };
}

/** A Hub repo resolved to a commit: every read is pinned to that sha and verified by size/sha256. */
export async function hubSource(cfg: HubConfig, repo: string, revision: string, signal?: AbortSignal): Promise<FileSource> {
  const opts = signal ? { signal } : {};
  const resolved = await resolveRevision(cfg, repo, revision, opts);
  return {
    id: `${repo}@${resolved.sha}`,
    sha: resolved.sha,
    list: async () => resolved.files.map((f) => f.path),
    // Network retries (ECONNRESET on a stale keep-alive socket) happen inside src/hub's request().
    read: (path) => fetchResolvedFile(cfg, resolved, path, opts),
    stream: (path) => {
      const file = findFile(resolved, path);
      const expected = file.lfs ? { size: file.size, sha256: file.lfs.sha256 } : { size: file.size };
      return { size: file.size, chunks: streamFile(cfg, resolved.repo, resolved.sha, path, { repoType: resolved.repoType, expected, ...opts }) };
    },
  };
}

export interface TokenizerBundle {
  readonly tokenizer: Tokenizer;
  /** The raw files, copied into the output folder of a run so the adapter ships with its tokenizer. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Commit sha (Hub) or content hash (local folder). */
  readonly sha: string;
  readonly id: string;
}

export interface LoadedModel {
  readonly id: string;
  /** Commit sha (Hub) or a content hash of the files read (local folder). */
  readonly sha: string;
  readonly config: ModelConfig;
  readonly rawConfig: Record<string, unknown>;
  /** Weight-table name → float32 values. */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** Parsed generation_config.json, or null when the checkpoint has none. */
  readonly generationConfig: unknown;
}

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'] as const;

/** A checkpoint file TabTune cannot use (missing, not JSON, the wrong shape): `file` names it; the message says why
 * and what to do. */
export class CheckpointFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'CheckpointFileError';
  }
}

/** A JSON file of a checkpoint: an object, or CheckpointFileError naming the file. */
function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new CheckpointFileError(what, `${what} is not valid JSON (${(e as Error).message.slice(0, 200)}). HINT: re-download the checkpoint file.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckpointFileError(what, `${what} does not hold a JSON object. HINT: re-download the checkpoint file, or point at a Hugging Face checkpoint.`);
  }
  return value as Record<string, unknown>;
}

/** config.json's bytes as the JSON object parseModelConfig reads; ModelConfigError when it is not JSON at all. */
export function readConfigJson(bytes: Uint8Array, where: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new ModelConfigError('(file)', `${where} is not valid JSON (${(e as Error).message.slice(0, 200)}). HINT: re-download the checkpoint's config.json.`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelConfigError('(root)', `${where} does not hold a JSON object. HINT: point at a transformers checkpoint's config.json.`);
  }
  return raw as Record<string, unknown>;
}

/** Content hash of several files: sha256 over "path:sha256(file)" lines, sorted by path. */
async function contentHash(files: ReadonlyMap<string, Uint8Array>): Promise<string> {
  const hashes = new Map<string, string>();
  for (const [path, bytes] of files) hashes.set(path, (await sha256Hex(bytes)) ?? '');
  return hashOfHashes(hashes);
}

/** The same hash from per-file sha256s taken as the files were read, so large shards need not stay in memory. */
async function hashOfHashes(hashes: ReadonlyMap<string, string>): Promise<string> {
  const lines = [...hashes.keys()].sort().map((path) => `${path}:${hashes.get(path)!}`);
  return (await sha256Hex(new TextEncoder().encode(lines.join('\n')))) ?? '';
}

/** One tensor as an array that owns its memory: a view into the shard (aligned F32) is copied so the shard can go. */
function ownedFloat32(header: SafetensorsHeader, file: Uint8Array, name: string): Float32Array {
  const values = tensorToFloat32(header, file, name);
  return values.buffer === file.buffer ? values.slice() : values;
}

/** config.json of a checkpoint, raw (for the memory bill) and parsed (family, sizes, names) — no weights read. */
export async function readModelConfig(source: FileSource): Promise<{ config: ModelConfig; raw: unknown }> {
  const raw = readConfigJson(await source.read('config.json'), `${source.id}/config.json`);
  return { config: parseModelConfig(raw), raw };
}

/** Reads config.json and the safetensors weights (single file or sharded) and maps them onto the weight table. */
export async function loadModel(source: FileSource): Promise<LoadedModel> {
  const files = new Set(await source.list());
  if (!files.has('config.json')) {
    throw new CheckpointFileError(`${source.id}/config.json`, `${source.id} has no config.json, so it is not a transformers checkpoint. HINT: point --model at a folder (or Hub repo) in Hugging Face layout.`);
  }
  // A local folder has no commit sha: the manifest records a hash of the files read instead. Only the per-file
  // sha256s are kept, so a shard's bytes can be dropped as soon as its tensors are converted.
  const hashes = new Map<string, string>();
  const get = async (path: string): Promise<Uint8Array> => {
    const bytes = await source.read(path);
    if (source.sha === null) hashes.set(path, (await sha256Hex(bytes)) ?? '');
    return bytes;
  };
  const rawConfig = readConfigJson(await get('config.json'), `${source.id}/config.json`);
  const config = parseModelConfig(rawConfig);
  let shards: string[];
  if (files.has(SAFETENSORS_INDEX)) {
    shards = parseShardIndex(await get(SAFETENSORS_INDEX), `${source.id}/${SAFETENSORS_INDEX}`).shards;
    const missing = shards.filter((s) => !files.has(s));
    if (missing.length > 0) {
      throw new SafetensorsError('missing-shard', `${source.id} is missing shard(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} listed in ${SAFETENSORS_INDEX}. HINT: download every shard.`);
    }
  } else if (files.has(SAFETENSORS_SINGLE)) {
    shards = [SAFETENSORS_SINGLE];
  } else {
    throw new CheckpointFileError(`${source.id}/${SAFETENSORS_SINGLE}`, `${source.id} has no ${SAFETENSORS_SINGLE} or ${SAFETENSORS_INDEX}. HINT: TabTune reads safetensors weights only (pytorch_model.bin is a pickle); convert or pick a checkpoint that has them.`);
  }
  // Tensors are widened to float32 shard by shard, and only those the weight table can use (not GPT-2's attention
  // mask buffers, not a tied checkpoint's duplicate lm_head): peak memory is one shard plus the float32 weights.
  const table = weightTable(config);
  const wanted = new Set(table.flatMap((s) => (config.family === 'gpt2' ? [s.name, s.name.replace(/^transformer\./, '')] : [s.name])));
  const shapes = new Map<string, number[]>();
  const converted = new Map<string, Float32Array>();
  for (const shard of shards) {
    // A pinned Hub source streams: each tensor is widened as its bytes arrive and the shard is never whole in memory.
    // (A local folder is read whole: its content hash needs the bytes, and the CLI's peak matters less.)
    if (source.stream && source.sha !== null) {
      const { size, chunks } = source.stream(shard);
      const streamed = await readSafetensorsStream(chunks, size, shard, (t) => wanted.has(t.name));
      for (const t of streamed.header.tensors) shapes.set(t.name, t.shape);
      for (const [name, values] of streamed.tensors) converted.set(name, values);
      continue;
    }
    const bytes = await get(shard);
    const header = parseSafetensors(bytes, shard);
    for (const t of header.tensors) {
      shapes.set(t.name, t.shape);
      if (wanted.has(t.name)) converted.set(t.name, ownedFloat32(header, bytes, t.name));
    }
  }
  const mapping = resolveCheckpoint(config, shapes);
  const weights = new Map<string, Float32Array>();
  for (const spec of table) weights.set(spec.name, converted.get(mapping.sources.get(spec.name)!)!);
  const generationConfig = files.has('generation_config.json') ? parseJson(await get('generation_config.json'), `${source.id}/generation_config.json`) : null;
  const sha = source.sha ?? (await hashOfHashes(hashes));
  return { id: source.id, sha, config, rawConfig, weights, generationConfig };
}

/** Loads tokenizer.json + tokenizer_config.json (and a separate chat_template.jinja, as newer transformers saves). */
export async function loadTokenizerFrom(source: FileSource): Promise<TokenizerBundle> {
  const files = new Set(await source.list());
  for (const needed of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!files.has(needed)) {
      throw new CheckpointFileError(`${source.id}/${needed}`, `${source.id} has no ${needed}. HINT: TabTune needs a fast tokenizer (tokenizer.json + tokenizer_config.json); pass --tokenizer with a folder or repo that has both.`);
    }
  }
  const raw = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) if (files.has(name)) raw.set(name, await source.read(name));
  const tokenizerJson = parseJson(raw.get('tokenizer.json')!, `${source.id}/tokenizer.json`);
  const tokenizerConfig = parseJson(raw.get('tokenizer_config.json')!, `${source.id}/tokenizer_config.json`);
  const template = raw.get('chat_template.jinja');
  if (template && tokenizerConfig['chat_template'] === undefined) tokenizerConfig['chat_template'] = fromUtf8(template);
  const tokenizer = loadTokenizer({ tokenizerJson, tokenizerConfig });
  return { tokenizer, files: raw, sha: source.sha ?? (await contentHash(raw)), id: source.id };
}
