// Remote safetensors: reads a file's header with HTTP Range requests before any weight bytes, then single tensors
// by range or the whole file; and checkpoints, single-file or sharded via model.safetensors.index.json.
import { fetchFile, fetchResolvedFile, findFile, type FetchOptions, type RepoFile, type ResolvedRevision } from './client.ts';
import type { HubConfig } from './endpoint.ts';
import { HubError } from './errors.ts';
import { preview } from '../engine/preview.ts';
import {
  parseSafetensorsHeader, readHeaderLength, SafetensorsError, shortName, tensorToFloat32, toFloat32,
  type SafetensorsHeader, type TensorInfo,
} from './safetensors.ts';

/** First request size: enough for the header of any checkpoint up to a few thousand tensors. */
const PROBE_BYTES = 64 * 1024;

export interface RemoteSafetensors {
  path: string;
  header: SafetensorsHeader;
  /** One tensor as float32, fetched with a Range request (or from the cached whole file). */
  readTensor(name: string, opts?: FetchOptions): Promise<Float32Array>;
  /** The whole file, verified and cached; use with `tensorToFloat32(header, bytes, name)`. */
  readFile(opts?: FetchOptions): Promise<Uint8Array>;
}

type Base = Omit<FetchOptions, 'range' | 'expected'>;

/**
 * Opens a remote safetensors file whose size (and LFS sha256, if any) come from the revision listing: Range-reads
 * the header, validates it, fetches no weights.
 */
export async function readRemoteSafetensors(
  cfg: HubConfig, repo: string, sha: string, path: string, file: Pick<RepoFile, 'size' | 'lfs'>, opts: Base = {},
): Promise<RemoteSafetensors> {
  const size = file.size;
  const probe = await fetchFile(cfg, repo, sha, path, { ...opts, range: [0, Math.min(size, PROBE_BYTES)] });
  const headerBytes = readHeaderLength(probe, size, path);
  let prefix = probe;
  if (8 + headerBytes > probe.byteLength) {
    const rest = await fetchFile(cfg, repo, sha, path, { ...opts, range: [probe.byteLength, 8 + headerBytes] });
    prefix = new Uint8Array(8 + headerBytes);
    prefix.set(probe);
    prefix.set(rest, probe.byteLength);
  }
  const header = parseSafetensorsHeader(prefix, size, path);
  return {
    path,
    header,
    async readTensor(name, more = {}) {
      const t = header.byName.get(name);
      if (!t) throw new SafetensorsError('unknown-tensor', `no tensor named ${shortName(name)} (the file has ${header.tensors.length})`, path);
      const bytes = await fetchFile(cfg, repo, sha, path, { ...opts, ...more, range: [header.dataStart + t.begin, header.dataStart + t.end] });
      return toFloat32(t.dtype, bytes, name);
    },
    async readFile(more = {}) {
      return fetchFile(cfg, repo, sha, path, { ...opts, ...more, expected: { size, sha256: file.lfs?.sha256 } });
    },
  };
}

export interface RemoteCheckpoint {
  /** One entry per safetensors file, in shard order. */
  shards: RemoteSafetensors[];
  /** Every tensor, with the shard that holds it. */
  tensors: Map<string, { shard: RemoteSafetensors; info: TensorInfo }>;
  /** Sum of the weight bytes (the data buffers, headers excluded). */
  weightBytes: number;
  readTensor(name: string, opts?: FetchOptions): Promise<Float32Array>;
  /** Downloads every shard (verified, cached) and converts every tensor; `onProgress` sees bytes over all shards. */
  readAll(onProgress?: (loaded: number, total: number) => void, opts?: Base): Promise<Map<string, Float32Array>>;
}

export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE = 'model.safetensors';

/** A sharded checkpoint's index, checked: which shard holds each tensor, and the shards in order. */
export interface ShardIndex {
  /** Tensor name → shard path (a Map: tensor names come from the file, "constructor" included). */
  weightMap: Map<string, string>;
  /** The distinct shard paths, sorted. */
  shards: string[];
}

/** More shards than any published checkpoint has (the largest have a few hundred). */
const MAX_SHARDS = 10_000;
const SHARD_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\.safetensors$/;

/**
 * Parses `model.safetensors.index.json`: a JSON object whose "weight_map" maps tensor names to shard files, each a
 * relative `.safetensors` path inside the checkpoint (no "..", no absolute path). `where` names the file in messages.
 * Throws SafetensorsError('bad-index') naming the field and the fix.
 */
export function parseShardIndex(bytes: Uint8Array, where: string): ShardIndex {
  const bad = (what: string): SafetensorsError => new SafetensorsError('bad-index', `${what}. HINT: the index is corrupt; re-download the checkpoint or fix ${SAFETENSORS_INDEX}.`, where);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`not valid UTF-8 JSON (${shortName((e as Error).message)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad(`the file holds ${preview(json)}, not a JSON object`);
  const raw = Object.hasOwn(json, 'weight_map') ? (json as Record<string, unknown>)['weight_map'] : undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`"weight_map" is ${preview(raw)}; it must be an object of tensor name → shard file`);
  const weightMap = new Map<string, string>();
  const shards = new Set<string>();
  for (const [name, path] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof path !== 'string' || !SHARD_PATH.test(path) || path.split('/').some((part) => part === '.' || part === '..')) {
      throw bad(`weight_map[${preview(name)}] is ${preview(path)}; it must name a .safetensors file inside the checkpoint, e.g. "model-00001-of-00002.safetensors"`);
    }
    weightMap.set(name, path);
    shards.add(path);
    if (shards.size > MAX_SHARDS) throw bad(`weight_map names more than ${MAX_SHARDS} shard files`);
  }
  if (weightMap.size === 0) throw bad('"weight_map" is empty; it must list every tensor of the checkpoint');
  return { weightMap, shards: [...shards].sort() };
}

/** Opens a checkpoint's weights: `model.safetensors`, or the shards listed in `model.safetensors.index.json`. */
export async function openRemoteCheckpoint(cfg: HubConfig, resolved: ResolvedRevision, opts: Base = {}): Promise<RemoteCheckpoint> {
  const has = (p: string) => resolved.files.some((f) => f.path === p);
  let shardPaths: string[];
  let weightMap: Map<string, string> | undefined;
  if (has(SAFETENSORS_INDEX)) {
    const index = parseShardIndex(await fetchResolvedFile(cfg, resolved, SAFETENSORS_INDEX, opts), `${resolved.repo}@${resolved.sha}/${SAFETENSORS_INDEX}`);
    weightMap = index.weightMap;
    shardPaths = index.shards;
    // Every shard must be in the listing before any is fetched: a shard missing after others have started would
    // leave their requests running with nobody to see them fail.
    const missing = shardPaths.filter((p) => !has(p));
    if (missing.length > 0) {
      throw new SafetensorsError('missing-shard', `${SAFETENSORS_INDEX} lists shard(s) ${missing.slice(0, 5).map(shortName).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} that ${resolved.repo}@${resolved.sha} does not have. HINT: the upload is incomplete; pick another revision.`, `${resolved.repo}@${resolved.sha}/${SAFETENSORS_INDEX}`);
    }
  } else if (has(SAFETENSORS_SINGLE)) {
    shardPaths = [SAFETENSORS_SINGLE];
  } else {
    throw new HubError('not-found', `${resolved.repo}@${resolved.sha} has no ${SAFETENSORS_SINGLE} or ${SAFETENSORS_INDEX}. `
      + 'HINT: TabTune reads safetensors weights only (pytorch_model.bin is a pickle); pick a repo or revision that has them.', resolved.repo);
  }
  const files = shardPaths.map((p) => findFile(resolved, p));
  // Promise.all watches every promise, so a second failing shard is never an unhandled rejection.
  const shards = await Promise.all(shardPaths.map((p, i) => readRemoteSafetensors(cfg, resolved.repo, resolved.sha, p, files[i]!, { repoType: resolved.repoType, ...opts })));
  const tensors = new Map<string, { shard: RemoteSafetensors; info: TensorInfo }>();
  for (const shard of shards) {
    for (const info of shard.header.tensors) {
      if (tensors.has(info.name)) {
        throw new SafetensorsError('duplicate-key', `tensor ${shortName(info.name)} is in both ${tensors.get(info.name)?.shard.path} and ${shard.path}`);
      }
      if (weightMap && weightMap.get(info.name) !== shard.path) {
        throw new SafetensorsError('bad-entry', `tensor ${shortName(info.name)} is in ${shard.path} but ${SAFETENSORS_INDEX} maps it to ${weightMap.get(info.name) ?? 'nothing'}`);
      }
      tensors.set(info.name, { shard, info });
    }
  }
  for (const name of weightMap?.keys() ?? []) {
    if (!tensors.has(name)) throw new SafetensorsError('unknown-tensor', `${SAFETENSORS_INDEX} lists ${shortName(name)} but no shard holds it`);
  }
  const weightBytes = shards.reduce((sum, s) => sum + s.header.fileSize - s.header.dataStart, 0);
  return {
    shards,
    tensors,
    weightBytes,
    async readTensor(name, more) {
      const entry = tensors.get(name);
      if (!entry) throw new SafetensorsError('unknown-tensor', `the checkpoint has no tensor named ${shortName(name)}`);
      return entry.shard.readTensor(name, more);
    },
    async readAll(onProgress, more = {}) {
      const total = shards.reduce((sum, s) => sum + s.header.fileSize, 0);
      const out = new Map<string, Float32Array>();
      let done = 0;
      for (const shard of shards) {
        const bytes = await shard.readFile({ ...more, onProgress: (loaded) => onProgress?.(done + loaded, total) });
        done += bytes.byteLength;
        for (const t of shard.header.tensors) out.set(t.name, tensorToFloat32(shard.header, bytes, t.name));
      }
      return out;
    },
  };
}
