// safetensors read from memory (adapter files, local checkpoints): parseSafetensors, then every tensor converted to
// float32 as loadModel and loadAdapter do.
import { parseSafetensors, SafetensorsError, tensorToFloat32 } from '../../src/hub/safetensors.ts';
import { safetensorsSeeds } from '../support/checkpoints.ts';
import type { FuzzTarget } from '../target.ts';

export default {
  name: 'safetensors',
  seeds: safetensorsSeeds,
  run(input) {
    const header = parseSafetensors(input, 'model.safetensors');
    for (const t of header.tensors) {
      if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16') tensorToFloat32(header, input, t.name);
    }
  },
  rejects: [SafetensorsError],
} satisfies FuzzTarget;
