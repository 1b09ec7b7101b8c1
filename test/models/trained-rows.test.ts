// Training graphs whose LM head runs on the trained positions only (GraphShape.trainedRows): buildTrainGraphs picks
// the head when at most half the positions can carry a target, and the graphs give the same loss, target count,
// per-token NLL (eval) and LoRA gradients as the plain graphs (full logits, autodiff through the loss) on a
// responses-only-like batch: Llama (GQA), Gemma 2 (final-logit soft-capping, 256k vocabulary) and GPT-2 (tied head).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainedRows } from '../../src/engine/loss.ts';
import { buildStepGraphs } from '../../src/engine/step.ts';
import { buildForward } from '../../src/models/forward.ts';
import { planLora } from '../../src/models/lora.ts';
import type { Backend, HostTensor } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { TrainSession } from '../../src/runtime/train-session.ts';
import { buildTrainGraphs, graphBuildFor, withDropoutMasks, withTrainedRows, type GraphShape } from '../../src/train/graphs.ts';
import { loadFixture, relError } from './fixture.ts';

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
let cpu: Backend;
beforeAll(async () => {
  cpu = await createNodeBackend('cpu');
});
afterAll(async () => {
  await cpu.release();
});

describe('trainedRows (host side)', () => {
  it('lists the positions whose next label is a target, padded with row 0 and -100', () => {
    // Two rows of 4: targets at (0, 2) → scored at (0, 1); (1, 1), (1, 3) → (1, 0), (1, 2). The last position of a row
    // has no next token, so its own label is never read.
    const labels = Int32Array.from([7, -100, 5, -100, -100, 9, -100, 4]);
    const { rows, targets } = trainedRows(labels, 2, 4, 5);
    expect([...rows]).toEqual([1, 4, 6, 0, 0]);
    expect([...targets]).toEqual([5, 9, 4, -100, -100]);
    expect(() => trainedRows(labels, 2, 4, 2)).toThrow(/more than 2 target tokens/);
  });
});

describe.each(['llama', 'gemma2', 'gpt2'] as const)('trained-rows head in %s training graphs', (family) => {
  const fx = loadFixture(family);
  const l = fx.golden.lora;
  const cfg = fx.cfg;
  const plan = planLora(cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });
  const [B, T] = [2, 24];
  // A prompt, then a response that is trained, per row: 9 + 7 targets of 2 × 23 scored positions.
  const ids = fx.golden.batch.input_ids[0]!;
  const input = Int32Array.from({ length: B * T }, (_, i) => ids[i % ids.length]! + (i % 7));
  const labels = Int32Array.from(input, (id, i) => ((i % T >= 14 && i % T < 23 && i < T) || (i >= T && i % T >= 17) ? id : -100));
  const shape: GraphShape = { batch: B, seqLen: T, trainedRows: 16 };

  it('gives the loss, target count, per-token NLL and LoRA gradients of the plain graphs', async () => {
    const graphs = buildTrainGraphs(cfg, plan, shape, ADAMW);
    expect(graphs.data.map((d) => d.name)).toContain('label_rows');
    expect(graphs.train.nodes.some((n) => n.outputs.some((o) => o.shape.length === 2 && o.shape[0] === 16 && o.shape[1] === cfg.vocabSize)), 'the head runs on 16 rows').toBe(true);
    expect(graphs.train.nodes.some((n) => n.outputs.some((o) => o.shape.includes(B * T) && o.shape.includes(cfg.vocabSize))), 'no logits on every position').toBe(false);
    const plain = buildStepGraphs((g) => buildForward(g, cfg, { batch: B, seqLen: T, lora: plan, logits: 'all' }).logits!, { adamw: ADAMW });
    const dims = [B, T];
    const collated = {
      input_ids: { dtype: 'int32' as const, dims, data: input },
      position_ids: { dtype: 'int32' as const, dims, data: Int32Array.from({ length: B * T }, (_, i) => i % T) },
      attention_mask: { dtype: 'int32' as const, dims, data: new Int32Array(B * T).fill(1) },
      labels: { dtype: 'int32' as const, dims, data: labels },
    };
    const params = Object.fromEntries(Object.entries(l.tensors).map(([k, t]) => [k, Float32Array.from(t.data)]));
    const run = async (g: typeof plain, batch: typeof collated) => {
      const frozen: Record<string, HostTensor> = {};
      for (const s of g.frozen) frozen[s.name] = { dtype: 'float32', dims: s.shape, data: fx.weights.get(s.name)! };
      const session = await TrainSession.create({ backend: cpu, graphs: g, params, frozen });
      try {
        return { grads: await session.gradients(batch), evaluation: await session.evaluate(batch), step: await session.step([batch], 1e-2) };
      } finally {
        await session.release();
      }
    };
    // GPT-2's own dropout sites take masks in training graphs: all ones (evaluation numbers, as the plain graphs).
    const a = await run(graphs, withTrainedRows(withDropoutMasks(collated, cfg, plan, shape, null), shape, []) as typeof collated);
    const b = await run(plain, collated);
    expect(a.grads.targetTokens).toBe(16);
    expect(b.grads.targetTokens).toBe(16);
    expect(Math.abs(a.grads.nllSum - b.grads.nllSum) / b.grads.nllSum).toBeLessThanOrEqual(1e-5);
    expect(relError(a.evaluation.tokenNll, b.evaluation.tokenNll)).toBeLessThanOrEqual(1e-6);
    for (const name of Object.keys(b.grads.grads)) expect(relError(a.grads.grads[name]!, b.grads.grads[name]!), name).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(a.step.loss - b.step.loss) / b.step.loss).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(a.step.gradNorm - b.step.gradNorm) / b.step.gradNorm).toBeLessThanOrEqual(1e-4);
  });

  it('is not used when more than half the positions can be trained, or when the head is trained in full', () => {
    expect(buildTrainGraphs(cfg, plan, { batch: B, seqLen: T, trainedRows: B * T / 2 + 1 }, ADAMW).data.map((d) => d.name)).not.toContain('label_rows');
    const head = family === 'gpt2' ? 'transformer.wte.weight' : cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    expect(buildTrainGraphs(cfg, plan, shape, ADAMW, [head]).data.map((d) => d.name)).not.toContain('label_rows');
  });
});

// The app's WebGPU build of the same graphs (Einsum attention, trained-rows head) on onnxruntime-node's WebGPU EP
// with CPU fallback disabled: every node of the head's gather, one-hot and loss runs on the GPU, with the CPU EP's numbers.
describe('trained-rows head on WebGPU', () => {
  it('runs without CPU fallback and gives the CPU EP\'s loss and LoRA gradients', { timeout: 180_000 }, async () => {
    const fx = loadFixture('qwen3');
    const l = fx.golden.lora;
    const plan = planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });
    const shape: GraphShape = { batch: 1, seqLen: 16, trainedRows: 6 };
    const graphs = buildTrainGraphs(fx.cfg, plan, shape, ADAMW, [], graphBuildFor('webgpu', false));
    const ids = fx.golden.batch.input_ids[0]!;
    const input = Int32Array.from({ length: 16 }, (_, i) => ids[i % ids.length]!);
    const dims = [1, 16];
    const batch = withTrainedRows({
      input_ids: { dtype: 'int32', dims, data: input },
      position_ids: { dtype: 'int32', dims, data: Int32Array.from({ length: 16 }, (_, i) => i) },
      attention_mask: { dtype: 'int32', dims, data: new Int32Array(16).fill(1) },
      labels: { dtype: 'int32', dims, data: Int32Array.from(input, (id, i) => (i >= 10 ? id : -100)) },
    }, shape, []);
    const params = Object.fromEntries(Object.entries(l.tensors).map(([k, t]) => [k, Float32Array.from(t.data)]));
    const frozen: Record<string, HostTensor> = {};
    for (const s of graphs.frozen) frozen[s.name] = { dtype: 'float32', dims: s.shape, data: fx.weights.get(s.name)! };
    const gpu = await createNodeBackend('webgpu');
    const on = async (backend: Backend) => {
      const session = await TrainSession.create({ backend, graphs, params, frozen });
      try {
        return await session.gradients(batch);
      } finally {
        await session.release();
      }
    };
    try {
      const a = await on(gpu);
      const b = await on(cpu);
      expect(a.targetTokens).toBe(6);
      expect(Math.abs(a.nllSum - b.nllSum) / b.nllSum).toBeLessThanOrEqual(1e-5);
      for (const name of Object.keys(b.grads)) expect(relError(a.grads[name]!, b.grads[name]!), name).toBeLessThanOrEqual(1e-4);
    } finally {
      await gpu.release();
    }
  });
});
