// What the front ends (the CLI and the worker host) read before and around a run, in one place: Hub access (revision
// pinning, file fetch, cache listing, push), dataset files (every format, field mapping, Hub splits, the bundled
// samples), model configs for the Model panel, and the debug view of an example. These are I/O and display helpers,
// not orchestration; the run itself — template, examples, split, trainer, artifacts — is RunSession's (session.ts).
// Lint lets src/cli and src/worker/host import values from src/data, src/models and src/hub only through src/train.
export { CacheApiFileCache, listCachedFiles } from '../hub/cache.ts';
export {
  fetchFile, fetchJson, fetchResolvedFile, findFile, hubConfig, openRemoteCheckpoint, parseRepoRef, resolveRevision, SAFETENSORS_INDEX,
} from '../hub/index.ts';
export type { HubConfig } from '../hub/index.ts';
export { pushToHub } from '../hub/push.ts';
export type { PushProgress } from '../hub/push.ts';
export { loadDataset, loadDatasetFiles, mapRecords, parseFile, pickSplitFiles, sha256 } from '../data/index.ts';
export type { Dataset,  FieldMapping, SourceRecord } from '../data/index.ts';
export { SAMPLE_DATASETS } from '../data/samples.ts';
export { formatDebug } from '../data/debug.ts';
export { parseModelConfig, SUPPORTED_MODEL_TYPES, UnsupportedModelError } from '../models/config.ts';
