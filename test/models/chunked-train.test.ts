// Training graphs for a 262k-token vocabulary: buildTrainGraphs switches to the chunked head + loss once the full
// logits would pass 128 MiB, and the chunked graphs give the same loss, per-token NLL and LoRA gradients as the plain
// graphs (full logits, autodiff through the loss) on the tiny Gemma 3 and Gemma 2 fixtures (real vocabulary, 262,208
// rows), and on tiny Granite, whose logits_scaling the chunked head must carry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStepGraphs } from '../../src/engine/step.ts';
import { buildForward } from '../../src/models/forward.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import type { LoraPlan } from '../../src/models/lora.ts';
import { planLora } from '../../src/models/lora.ts';
import { logitsChunkRows, memoryBill } from '../../src/models/memory.ts';
import type { Backend, HostTensor } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { TrainSession } from '../../src/runtime/train-session.ts';
import { buildTrainGraphs } from '../../src/train/graphs.ts';
import { loadFixture, relError } from './fixture.ts';
import type { Fixture } from './fixture.ts';

const T = 300;
const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
let cpu: Backend;
beforeAll(async () => {
  cpu = await createNodeBackend('cpu');
});
afterAll(async () => {
  await cpu.release();
});

// Gemma 2 as well: its configs turn final-logit soft-capping on by default, and the chunked head must keep it.
describe.each(['gemma3', 'gemma2'] as const)('chunked head in %s training graphs', (family) => {
  const fx = loadFixture(family);
  const l = fx.golden.lora;
  const plan = planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });

  it('is chosen above 128 MiB of logits, and the memory bill counts one chunk', () => {
    expect(logitsChunkRows(fx.cfg, 127)).toBeNull(); // 127 × 262,208 × 4 bytes is just under 128 MiB
    expect(logitsChunkRows(fx.cfg, T)).toBe(63); // 64 MiB / (262,208 × 4 bytes)
    const graphs = buildTrainGraphs(fx.cfg, plan, { batch: 1, seqLen: T }, ADAMW);
    const largest = Math.max(...graphs.train.nodes.flatMap((n) => n.outputs.map((o) => o.shape.reduce((a, b) => a * b, 1))));
    expect(largest).toBe(63 * fx.cfg.vocabSize);
    const bill = memoryBill(fx.cfg, { batch: 1, seqLen: T }, plan);
    expect(bill.largestTensorBytes).toBe(63 * fx.cfg.vocabSize * 4);
  });

  it('gives the loss, per-token NLL and LoRA gradients of the plain graphs', async () => {
    await expectChunkedEqualsPlain(fx.cfg, fx, plan, T);
  });
});

/** Runs the chunked step graphs (buildTrainGraphs at seqLen) and the plain ones on one row and compares them. */
async function expectChunkedEqualsPlain(cfg: ModelConfig, fx: Fixture, plan: LoraPlan, seqLen: number): Promise<void> {
  const l = fx.golden.lora;
  const chunked = buildTrainGraphs(cfg, plan, { batch: 1, seqLen }, ADAMW);
  expect(chunked.train.nodes.some((n) => n.outputs.some((o) => o.shape.length === 3 && o.shape[2] === cfg.vocabSize)), 'chunked graphs build no [B, T, V] logits').toBe(false);
  const plain = buildStepGraphs((g) => buildForward(g, cfg, { batch: 1, seqLen, lora: plan, logits: 'all' }).logits!, { adamw: ADAMW });
  const ids = fx.golden.batch.input_ids[0]!;
  const input = Int32Array.from({ length: seqLen }, (_, i) => ids[i % ids.length]! + (i % 5));
  const labels = Int32Array.from(input, (id, i) => (i < 20 || i % 17 === 0 ? -100 : id));
  const dims = [1, seqLen];
  const batch = {
    input_ids: { dtype: 'int32' as const, dims, data: input },
    position_ids: { dtype: 'int32' as const, dims, data: Int32Array.from({ length: seqLen }, (_, i) => i) },
    attention_mask: { dtype: 'int32' as const, dims, data: new Int32Array(seqLen).fill(1) },
    labels: { dtype: 'int32' as const, dims, data: labels },
  };
  const params = Object.fromEntries(Object.entries(l.tensors).map(([k, t]) => [k, Float32Array.from(t.data)]));
  const run = async (graphs: typeof plain) => {
    const frozen: Record<string, HostTensor> = {};
    for (const s of graphs.frozen) frozen[s.name] = { dtype: 'float32', dims: s.shape, data: fx.weights.get(s.name)! };
    const session = await TrainSession.create({ backend: cpu, graphs, params, frozen });
    try {
      return { grads: await session.gradients(batch), evaluation: await session.evaluate(batch) };
    } finally {
      await session.release();
    }
  };
  const a = await run(chunked);
  const b = await run(plain);
  expect(a.grads.targetTokens).toBe(b.grads.targetTokens);
  expect(Math.abs(a.grads.nllSum - b.grads.nllSum) / b.grads.nllSum).toBeLessThanOrEqual(1e-5);
  expect(relError(a.evaluation.tokenNll, b.evaluation.tokenNll)).toBeLessThanOrEqual(1e-5);
  for (const name of Object.keys(b.grads.grads)) expect(relError(a.grads.grads[name]!, b.grads.grads[name]!), name).toBeLessThanOrEqual(1e-4);
}

describe('chunked head in Granite training graphs', () => {
  it('carries logits_scaling (the head input is divided by it): loss, per-token NLL and LoRA gradients of the plain graphs', async () => {
    const fx = loadFixture('granite');
    // attention_dropout off: the plain graphs below take no dropout masks (eval-mode numbers on both sides).
    const cfg = parseModelConfig({ ...(fx.rawConfig as object), attention_dropout: 0 });
    const l = fx.golden.lora;
    const plan = planLora(cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });
    expect(logitsChunkRows(cfg, 700)).not.toBeNull(); // 700 × 50,304 × 4 bytes passes 128 MiB
    await expectChunkedEqualsPlain(cfg, fx, plan, 700);
  });
});
