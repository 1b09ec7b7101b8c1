// Public surface of src/hub (endpoint, client, cache, safetensors). Other layers import from here.
export { DEFAULT_HUB_ENDPOINT, hubConfig, hubConfigFromEnv, resolveUrl, revisionApiUrl } from './endpoint.ts';
export type { HubConfig, RepoType } from './endpoint.ts';
export { HubError } from './errors.ts';
export type { HubErrorKind } from './errors.ts';
export { CacheApiFileCache, MemoryFileCache, defaultFileCache } from './cache.ts';
export type { FileCache } from './cache.ts';
export {
  fetchFile, fetchJson, fetchResolvedFile, findFile, parseRepoRef, resolveRevision, sha256Hex,
} from './client.ts';
export type { FetchOptions, RepoFile, RepoRef, RequestOptions, ResolvedRevision } from './client.ts';
export {
  DTYPE_BYTES, MAX_HEADER_BYTES, SafetensorsError, float32ToBf16, parseSafetensors, parseSafetensorsHeader,
  readHeaderLength, tensorBytes, tensorToFloat32, toFloat32, writeSafetensors,
} from './safetensors.ts';
export type { SafetensorsDtype, SafetensorsErrorCode, SafetensorsHeader, TensorInfo, TensorToWrite } from './safetensors.ts';
export { SAFETENSORS_INDEX, SAFETENSORS_SINGLE, openRemoteCheckpoint, parseShardIndex, readRemoteSafetensors } from './safetensors-remote.ts';
export type { RemoteCheckpoint, RemoteSafetensors, ShardIndex } from './safetensors-remote.ts';
// Streaming checkpoint loads (issue 4: peak memory while loading).
export { readSafetensorsStream, streamFile } from './stream.ts';
export type { StreamedSafetensors } from './stream.ts';
export { Sha256 } from './sha256.ts';
