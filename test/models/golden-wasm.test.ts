// The golden values again on onnxruntime-web's WASM backend (the browser's fallback path, run in Node): base logits
// and loss, LoRA loss and LoRA gradients of every fixture family against the float64 PyTorch reference (and, for GPT-2
// and Granite, under the reference's training-mode dropout masks), with the same bounds as golden.test.ts (which runs
// them on onnxruntime-node's CPU EP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad } from '../../src/engine/autodiff.ts';
import type { Graph } from '../../src/engine/graph.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { causalLmLoss } from '../../src/engine/loss.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { Div, Gather, Reshape } from '../../src/engine/ops.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import { planLora } from '../../src/models/lora.ts';
import { weightTable } from '../../src/models/weights.ts';
import type { Backend, OrtTensor } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { FAMILIES, flat, loadFixture, relError } from './fixture.ts';
import type { Fixture } from './fixture.ts';

let wasm: Backend;
beforeAll(async () => {
  wasm = await createNodeBackend('wasm');
});
afterAll(async () => {
  await wasm.release();
});

function feeds(fx: Fixture, withAdapter: boolean): Record<string, OrtTensor> {
  const { input_ids, attention_mask, labels } = fx.golden.batch;
  const [B, T] = [input_ids.length, input_ids[0]!.length];
  const int = (data: number[] | Int32Array) => wasm.tensor({ dtype: 'int32', dims: [B, T], data: Int32Array.from(data) });
  const out: Record<string, OrtTensor> = {
    input_ids: int(flat(input_ids)),
    attention_mask: int(flat(attention_mask)),
    position_ids: int(defaultPositionIds(B, T)),
    labels: int(flat(labels)),
  };
  for (const s of weightTable(fx.cfg)) out[s.name] = wasm.tensor({ dtype: 'float32', dims: [...s.shape], data: fx.weights.get(s.name)! });
  if (withAdapter) for (const [k, t] of Object.entries(fx.golden.lora.tensors)) out[k] = wasm.tensor({ dtype: 'float32', dims: t.shape, data: Float32Array.from(t.data) });
  return out;
}

async function run(graph: Graph, f: Record<string, OrtTensor>): Promise<Record<string, Float32Array>> {
  const session = await wasm.createSession(serializeGraph(graph));
  try {
    const out = await session.run(f);
    const res: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) res[k] = (await wasm.read(t)).data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}

/** Flat indices (b·T + t) of the real, unpadded positions. */
function realPositions(fx: Fixture): number[] {
  return fx.golden.batch.attention_mask.flatMap((row, b) => row.flatMap((m, t) => (m === 1 ? [b * row.length + t] : [])));
}

describe.each(FAMILIES)('%s against the PyTorch reference on WASM', (family) => {
  it('base logits (vocabulary subset) and loss match', async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const g = new GraphBuilder(`${family}-wasm-forward`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    g.output(Div(g, ce.nllSum, ce.targetCount), 'loss');
    // Only the golden vocabulary subset comes back: [B·T, 16] instead of [B, T, V].
    const rows = Reshape(g, fwd.logits!, [B * T, fx.cfg.vocabSize]);
    g.output(Gather(g, rows, g.constant(fx.golden.vocab_subset, 'int32'), 1), 'logits_subset');
    const out = await run(g.build(), feeds(fx, false));
    const S = fx.golden.vocab_subset.length;
    const got: number[] = [];
    const want: number[] = [];
    for (const i of realPositions(fx)) {
      got.push(...out['logits_subset']!.subarray(i * S, (i + 1) * S));
      want.push(...fx.golden.logits[Math.floor(i / T)]![i % T]!);
    }
    const logitsErr = relError(got, want);
    const lossErr = Math.abs(out['loss']![0]! - fx.golden.loss) / Math.abs(fx.golden.loss);
    console.log(`${family} (wasm): logits rel err ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}`);
    expect(logitsErr).toBeLessThanOrEqual(1e-4);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  it('LoRA loss and gradients match', async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const l = fx.golden.lora;
    const plan = planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });
    const g = new GraphBuilder(`${family}-wasm-lora`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: plan });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const params = fwd.lora.flatMap((b) => [b.a, b.b]);
    grad(g, loss, params).forEach((d, i) => g.output(d, `grad:${params[i]!.name}`));
    const out = await run(g.build(), feeds(fx, true));
    let worst = 0;
    for (const p of params) {
      const e = relError(out[`grad:${p.name}`]!, fx.golden.grads[p.name]!.data);
      worst = Math.max(worst, e);
      expect(e, p.name).toBeLessThanOrEqual(1e-3);
    }
    const lossErr = Math.abs(out['loss']![0]! - fx.golden.loss_lora) / Math.abs(fx.golden.loss_lora);
    console.log(`${family} (wasm): LoRA loss rel err ${lossErr.toExponential(2)}, worst gradient rel err ${worst.toExponential(2)}`);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  it.runIf(family === 'gpt2' || family === 'granite')('in training mode: LoRA loss and gradients under the reference\'s dropout masks match', async () => {
    const fx = loadFixture(family);
    const d = fx.golden.dropout;
    if (!d) throw new Error(`test/golden/${family}.json has no dropout section: regenerate it with scripts/fixtures/reference.py`);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const l = fx.golden.lora;
    const g = new GraphBuilder(`${family}-wasm-dropout`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules }), modelDropout: true });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const params = fwd.lora.flatMap((b) => [b.a, b.b]);
    grad(g, loss, params).forEach((x, i) => g.output(x, `grad:${params[i]!.name}`));
    const masks = Object.fromEntries(Object.entries(d.masks).map(([k, t]) => [k, wasm.tensor({ dtype: 'float32', dims: t.shape, data: Float32Array.from(t.data) })]));
    const out = await run(g.build(), { ...feeds(fx, true), ...masks });
    let worst = 0;
    for (const p of params) {
      const e = relError(out[`grad:${p.name}`]!, d.grads[p.name]!.data);
      worst = Math.max(worst, e);
      expect(e, p.name).toBeLessThanOrEqual(1e-3);
    }
    const lossErr = Math.abs(out['loss']![0]! - d.loss_lora) / Math.abs(d.loss_lora);
    console.log(`${family} (wasm, model dropout): LoRA loss rel err ${lossErr.toExponential(2)}, worst gradient rel err ${worst.toExponential(2)}`);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });
});
