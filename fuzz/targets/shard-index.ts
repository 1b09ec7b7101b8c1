// model.safetensors.index.json of a sharded checkpoint, read the three ways TabTune reads one: openRemoteCheckpoint
// over HTTP (the worker), loadModel from a local folder (the CLI: whole shards) and loadModel from a pinned Hub
// source (streamed shards). The input is the index; config.json and the two shards are a fixed tiny Llama.
import { resolveRevision } from '../../src/hub/client.ts';
import { HubError } from '../../src/hub/errors.ts';
import { SafetensorsError } from '../../src/hub/safetensors.ts';
import { openRemoteCheckpoint, SAFETENSORS_INDEX } from '../../src/hub/safetensors-remote.ts';
import { CheckpointMismatchError } from '../../src/models/weights.ts';
import { loadModel, type FileSource } from '../../src/train/model-source.ts';
import { chunked, SHARDS, tinyShardedCheckpoint } from '../support/checkpoints.ts';
import { localHub, revisionJson } from '../support/local-hub.ts';
import type { FuzzTarget } from '../target.ts';

const REPO = 'fuzz/sharded';
const SHA = 'c'.repeat(40);
const fixed = tinyShardedCheckpoint();

function memorySource(index: Uint8Array, sha: string | null): FileSource {
  const files = new Map<string, Uint8Array>([['config.json', fixed.config], [SAFETENSORS_INDEX, index], ...fixed.shards]);
  const read = async (path: string) => {
    const bytes = files.get(path);
    if (!bytes) throw new HubError('not-found', `${path}: no such file in the test folder`, path);
    return bytes;
  };
  return {
    id: sha ? `${REPO}@${sha}` : '/models/tiny',
    sha,
    list: async () => [...files.keys()],
    read,
    ...(sha ? { stream: (path: string) => ({ size: files.get(path)?.byteLength ?? 0, chunks: chunked(files.get(path) ?? new Uint8Array(0)) }) } : {}),
  };
}

export default {
  name: 'shard-index',
  seeds: () => [fixed.index],
  async run(input) {
    const hub = await localHub();
    hub.serve(`/api/models/${REPO}/revision/main`, revisionJson(SHA, [
      { path: SAFETENSORS_INDEX, size: input.byteLength }, ...SHARDS.map((s) => ({ path: s, size: fixed.shards.get(s)!.byteLength })),
    ]));
    hub.serve(`/${REPO}/resolve/${SHA}/${SAFETENSORS_INDEX}`, input);
    for (const s of SHARDS) hub.serve(`/${REPO}/resolve/${SHA}/${s}`, fixed.shards.get(s)!);
    const checkpoint = await openRemoteCheckpoint(hub.cfg, await resolveRevision(hub.cfg, REPO, 'main'), { cache: null });
    await checkpoint.readAll(undefined, { cache: null });
    await loadModel(memorySource(input, null));
    await loadModel(memorySource(input, SHA));
  },
  rejects: [SafetensorsError, HubError, CheckpointMismatchError],
} satisfies FuzzTarget;
