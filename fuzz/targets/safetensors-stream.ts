// safetensors from a download stream (readSafetensorsStream, how loadModel reads Hub shards). The input is the size
// the listing claims (8 bytes) followed by the bytes that really arrive, so mutations make the two disagree.
import { SafetensorsError } from '../../src/hub/safetensors.ts';
import { readSafetensorsStream } from '../../src/hub/stream.ts';
import { chunked, safetensorsSeeds, splitClaimedSize, withClaimedSize } from '../support/checkpoints.ts';
import type { FuzzTarget } from '../target.ts';

export default {
  name: 'safetensors-stream',
  seeds: () => safetensorsSeeds().map((file) => withClaimedSize(file)),
  async run(input) {
    const { claimed, file } = splitClaimedSize(input);
    await readSafetensorsStream(chunked(file), claimed, 'model.safetensors', (t) => t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16');
  },
  rejects: [SafetensorsError],
} satisfies FuzzTarget;
