// Public surface of src/hub (endpoint, client, cache, safetensors). Other layers import from here.
export {  hubConfig,    } from './endpoint.ts';
export type { HubConfig,  } from './endpoint.ts';
;
;
;
;
export {
  fetchFile, fetchJson, fetchResolvedFile, findFile, parseRepoRef, resolveRevision, sha256Hex,
} from './client.ts';
export type {  RepoFile,    } from './client.ts';
export {
    SafetensorsError,  parseSafetensors, 
    tensorToFloat32,  writeSafetensors,
} from './safetensors.ts';
export type {   SafetensorsHeader,  TensorToWrite } from './safetensors.ts';
export { SAFETENSORS_INDEX, SAFETENSORS_SINGLE, openRemoteCheckpoint, parseShardIndex,  } from './safetensors-remote.ts';
;
// Streaming checkpoint loads (issue 4: peak memory while loading).
export { readSafetensorsStream, streamFile } from './stream.ts';
;
;
