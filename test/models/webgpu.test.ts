// The model graphs on onnxruntime-node's WebGPU EP (SwiftShader here) with CPU fallback disabled: session creation
// proves every node runs on the GPU, and the LoRA loss/gradients and greedy tokens still match the PyTorch reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad } from '../../src/engine/autodiff.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { causalLmLoss } from '../../src/engine/loss.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { Div } from '../../src/engine/ops.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import type { GenerationIO } from '../../src/models/generate.ts';
import { buildGenerationGraphs, generate } from '../../src/models/generate.ts';
import { planLora } from '../../src/models/lora.ts';
import { GREEDY } from '../../src/models/sampling.ts';
import type { Backend, OrtTensor, RuntimeSession } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { FAMILIES, flat, loadFixture, relError } from './fixture.ts';
import type { Fixture } from './fixture.ts';

let backend: Backend;
beforeAll(async () => {
  backend = await createNodeBackend('webgpu');
});
afterAll(async () => {
  await backend.release();
});

function params(fx: Fixture, withAdapter: boolean): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [name, data] of fx.weights) out[name] = backend.tensor({ dtype: 'float32', dims: [...lookupShape(fx, name)], data });
  if (withAdapter) {
    for (const [k, t] of Object.entries(fx.golden.lora.tensors)) out[k] = backend.tensor({ dtype: 'float32', dims: t.shape, data: Float32Array.from(t.data) });
  }
  return out;
}

function lookupShape(fx: Fixture, name: string): readonly number[] {
  const g = new GraphBuilder();
  return buildForward(g, fx.cfg, { batch: 1, seqLen: 1, logits: 'none' }).weights.get(name)!.shape;
}

const i32 = (dims: number[], data: ArrayLike<number>): OrtTensor => backend.tensor({ dtype: 'int32', dims, data: Int32Array.from(data) });

async function floats(t: OrtTensor | undefined): Promise<Float32Array> {
  if (!t) throw new Error('missing output');
  return (await backend.read(t)).data as Float32Array;
}

describe.each(FAMILIES)('%s on WebGPU without CPU fallback', (family) => {
  it('LoRA loss and gradients match the reference', async () => {
    const fx = loadFixture(family);
    const { input_ids, attention_mask, labels } = fx.golden.batch;
    const [B, T] = [input_ids.length, input_ids[0]!.length];
    const l = fx.golden.lora;
    const g = new GraphBuilder(`${family}-lora-webgpu`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targetModules: l.target_modules }) });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const ps = fwd.lora.flatMap((x) => [x.a, x.b]);
    grad(g, loss, ps).forEach((d, i) => g.output(d, `grad:${ps[i]!.name}`));
    const session = await backend.createSession(serializeGraph(g.build()));
    try {
      const out = await session.run({
        input_ids: i32([B, T], flat(input_ids)),
        attention_mask: i32([B, T], flat(attention_mask)),
        position_ids: i32([B, T], defaultPositionIds(B, T)),
        labels: i32([B, T], flat(labels)),
        ...params(fx, true),
      });
      const got = (await floats(out['loss']))[0]!;
      expect(Math.abs(got - fx.golden.loss_lora) / fx.golden.loss_lora).toBeLessThanOrEqual(1e-4);
      for (const p of ps) expect(relError(await floats(out[`grad:${p.name}`]), fx.golden.grads[p.name]!.data), p.name).toBeLessThanOrEqual(1e-3);
    } finally {
      await session.release();
    }
  });

  it('greedy generation through the KV-cache graphs equals the reference', async () => {
    const fx = loadFixture(family);
    const { prompt, tokens, max_new_tokens: maxNew, eos_token_id: eos } = fx.golden.generation;
    const shape = { batch: 1, promptLen: prompt.length, maxLen: prompt.length + maxNew };
    const graphs = buildGenerationGraphs(fx.cfg, shape);
    const sessions: RuntimeSession[] = [];
    try {
      const pre = await backend.createSession(serializeGraph(graphs.prefill));
      sessions.push(pre);
      const dec = await backend.createSession(serializeGraph(graphs.decode));
      sessions.push(dec);
      const weights = params(fx, false);
      let past: Record<string, OrtTensor> = {};
      const step = async (s: RuntimeSession, feeds: Record<string, OrtTensor>): Promise<Float32Array> => {
        const out = await s.run({ ...feeds, ...weights, ...past });
        past = {};
        for (let i = 0; i < graphs.layers; i++) {
          past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
          past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
        }
        return floats(out['logits']);
      };
      const io: GenerationIO = {
        prefill: (f) => step(pre, { input_ids: i32([1, shape.promptLen], f.input_ids), position_ids: i32([1, shape.promptLen], f.position_ids), attention_mask: i32([1, shape.promptLen], f.attention_mask), logits_index: i32([1], f.logits_index) }),
        decode: (f) => step(dec, { input_ids: i32([1, 1], f.input_ids), position_ids: i32([1, 1], f.position_ids), attention_mask: i32([1, shape.maxLen], f.attention_mask) }),
      };
      expect((await generate(io, shape, [prompt], { maxNewTokens: maxNew, sampling: GREEDY, stopIds: eos }))[0]).toEqual(tokens);
    } finally {
      for (const s of sessions) await s.release();
    }
  });
});
