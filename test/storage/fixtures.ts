// Small deterministic checkpoint states and run configs for the storage tests.
import { buildManifest, type ReproManifest } from '../../src/share/manifest.ts';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config.ts';
import type { CheckpointState, StoredTensor } from '../../src/storage/types.ts';

const MODEL_SHA = 'a'.repeat(40);
const DATA_HASH = 'b'.repeat(64);

export function runInputs(): { config: RunConfig; manifest: ReproManifest } {
  const config = defaultRunConfig();
  return { config, manifest: buildManifest(config, { modelSha: MODEL_SHA, datasetHash: DATA_HASH, now: new Date('2026-01-01T00:00:00Z') }) };
}

function tensor(name: string, shape: number[], seed: number): StoredTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i)) };
}

/** A checkpoint whose every number depends on `step`, so a mixed-up or partial write cannot pass for another. */
export function stateAt(step: number, size = 64): CheckpointState {
  const names = ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight'];
  return {
    step,
    adapter: names.map((n, i) => tensor(n, [4, size / 4], step * 10 + i)),
    optimizer: {
      step,
      m: names.map((n, i) => tensor(n, [4, size / 4], step * 20 + i)),
      v: names.map((n, i) => tensor(n, [4, size / 4], step * 30 + i)),
    },
    rng: { dropout: [step, 2, 3, 4], sampling: [5, step, 7, 8] },
    cursor: { epoch: Math.floor(step / 10), index: step % 10 },
    metrics: Array.from({ length: step }, (_, i) => ({ step: i + 1, trainLoss: 3 - i * 0.01 })),
    samples: [{ step, prompt: 'Hi', completion: `reply at ${step}`, flags: [] }],
  };
}
