// A single-file checkpoint over HTTP, as the worker opens one: the revision listing (whose size for the file is the
// input's first 8 bytes, so it can lie), openRemoteCheckpoint (Range-read header), tensors by range, the whole file
// (readAll, verified against the listing) and the streaming reader over streamFile.
import { resolveRevision } from '../../src/hub/client.ts';
import { HubError } from '../../src/hub/errors.ts';
import { SafetensorsError } from '../../src/hub/safetensors.ts';
import { openRemoteCheckpoint } from '../../src/hub/safetensors-remote.ts';
import { readSafetensorsStream, streamFile } from '../../src/hub/stream.ts';
import { localHub, revisionJson } from '../support/local-hub.ts';
import { safetensorsSeeds, splitClaimedSize, withClaimedSize } from '../support/checkpoints.ts';
import type { FuzzTarget } from '../target.ts';

const REPO = 'fuzz/remote';
const SHA = 'b'.repeat(40);
const convertible = (dtype: string) => dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';

export default {
  name: 'safetensors-remote',
  // readAll converts every tensor, so the seeds are the files whose dtypes all convert (the I64/BOOL one is left out).
  seeds: () => safetensorsSeeds().slice(0, 3).map((file) => withClaimedSize(file)),
  async run(input) {
    const { claimed, file } = splitClaimedSize(input);
    const hub = await localHub();
    hub.serve(`/api/models/${REPO}/revision/main`, revisionJson(SHA, [{ path: 'model.safetensors', size: claimed }]));
    hub.serve(`/${REPO}/resolve/${SHA}/model.safetensors`, file);
    const resolved = await resolveRevision(hub.cfg, REPO, 'main');
    const checkpoint = await openRemoteCheckpoint(hub.cfg, resolved, { cache: null });
    const names = [...checkpoint.tensors.values()].filter((t) => convertible(t.info.dtype)).map((t) => t.info.name);
    for (const name of names.slice(0, 4)) await checkpoint.readTensor(name, { cache: null });
    await checkpoint.readAll(undefined, { cache: null });
    const size = resolved.files[0]!.size;
    const chunks = streamFile(hub.cfg, REPO, SHA, 'model.safetensors', { cache: null, expected: { size } });
    await readSafetensorsStream(chunks, size, 'model.safetensors', (t) => convertible(t.dtype));
  },
  rejects: [SafetensorsError, HubError],
} satisfies FuzzTarget;
