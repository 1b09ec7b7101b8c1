// Golden-value acceptance for every fixture family: logits, loss, LoRA loss and LoRA gradients of the graph builders
// on onnxruntime-node (CPU) against the independent float64 PyTorch reference (scripts/fixtures/reference.py).
import { describe, expect, it } from 'vitest';
import { grad } from '../../src/engine/autodiff.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { causalLmLoss } from '../../src/engine/loss.ts';
import { Div, Gather } from '../../src/engine/ops.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { ropeInvFreq } from '../../src/models/config.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import { planLora } from '../../src/models/lora.ts';
import { cpuSession } from '../engine/run-graph.ts';
import type { Feed } from '../engine/run-graph.ts';
import { FAMILIES, adapterFeeds, flat, loadFixture, relError, weightFeeds } from './fixture.ts';
import type { Fixture } from './fixture.ts';

function batchFeeds(fx: Fixture): Record<string, Feed> {
  const { input_ids, attention_mask } = fx.golden.batch;
  return {
    input_ids: flat(input_ids),
    attention_mask: flat(attention_mask),
    position_ids: defaultPositionIds(input_ids.length, input_ids[0]!.length),
  };
}

function goldenPlan(fx: Fixture, rslora = false) {
  const l = fx.golden.lora;
  return planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, rslora, targets: l.target_modules });
}

/** Logits at the golden vocabulary subset and the logsumexp, at real (unpadded) positions only. */
function compareLogits(fx: Fixture, logits: number[], V: number): { logits: number; lse: number } {
  const { attention_mask } = fx.golden.batch;
  const T = attention_mask[0]!.length;
  const got: number[] = [];
  const want: number[] = [];
  const gotLse: number[] = [];
  const wantLse: number[] = [];
  attention_mask.forEach((row, b) => {
    row.forEach((m, t) => {
      if (m === 0) return;
      const base = (b * T + t) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[base + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[base + v]! - max);
      gotLse.push(max + Math.log(sum));
      wantLse.push(fx.golden.logsumexp[b]![t]!);
      for (const id of fx.golden.vocab_subset) got.push(logits[base + id]!);
      want.push(...fx.golden.logits[b]![t]!);
    });
  });
  return { logits: relError(got, want), lse: relError(gotLse, wantLse) };
}

describe.each(FAMILIES)('%s against the PyTorch reference', (family) => {
  it('base logits and loss match', async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const g = new GraphBuilder(`${family}-forward`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T });
    const labels = g.input('labels', 'int32', [B, T]);
    const ce = causalLmLoss(g, fwd.logits!, labels);
    g.output(fwd.logits!, 'logits');
    g.output(Div(g, ce.nllSum, ce.targetCount), 'loss');
    const graph = g.build();
    verifyGraph(graph);
    const run = await cpuSession(graph);
    const out = await run({ ...batchFeeds(fx), labels: flat(fx.golden.batch.labels), ...weightFeeds(fx) });
    const err = compareLogits(fx, out['logits']!.data, fx.cfg.vocabSize);
    const lossErr = Math.abs(out['loss']!.data[0]! - fx.golden.loss) / Math.abs(fx.golden.loss);
    console.log(`${family}: logits rel err ${err.logits.toExponential(2)}, logsumexp ${err.lse.toExponential(2)}, loss ${lossErr.toExponential(2)}`);
    expect(err.logits).toBeLessThanOrEqual(1e-4);
    expect(err.lse).toBeLessThanOrEqual(1e-4);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  // Both attention layouts: Transpose + MatMul (CPU/WASM graphs) and Einsum (WebGPU graphs, ForwardOptions.einsumAttention).
  it.each([['MatMul', false], ['Einsum', true]] as const)('LoRA loss and gradients match (%s attention)', async (layout, einsumAttention) => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const plan = goldenPlan(fx);
    const g = new GraphBuilder(`${family}-lora`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: plan, einsumAttention });
    expect(g.nodes.filter((n) => n.op === 'Einsum').length, 'attention as two Einsums per layer, or none').toBe(einsumAttention ? 2 * fx.cfg.numLayers : 0);
    const labels = g.input('labels', 'int32', [B, T]);
    const ce = causalLmLoss(g, fwd.logits!, labels);
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const params = fwd.lora.flatMap((l) => [l.a, l.b]);
    expect(params.map((p) => p.name).sort()).toEqual(Object.keys(fx.golden.grads).sort());
    grad(g, loss, params).forEach((d, i) => g.output(d, `grad:${params[i]!.name}`));
    const graph = g.build();
    verifyGraph(graph);
    const out = await (await cpuSession(graph))({ ...batchFeeds(fx), labels: flat(fx.golden.batch.labels), ...weightFeeds(fx), ...adapterFeeds(fx.golden) });
    const lossErr = Math.abs(out['loss']!.data[0]! - fx.golden.loss_lora) / Math.abs(fx.golden.loss_lora);
    let worst = 0;
    for (const p of params) {
      const e = relError(out[`grad:${p.name}`]!.data, fx.golden.grads[p.name]!.data);
      worst = Math.max(worst, e);
      expect(e, p.name).toBeLessThanOrEqual(1e-3);
    }
    console.log(`${family} (${layout} attention): LoRA loss rel err ${lossErr.toExponential(2)}, worst gradient rel err ${worst.toExponential(2)}`);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  it('full training of chosen tensors: gradients match', async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const emb = fx.golden.embedding_grad;
    const names = [...Object.keys(fx.golden.full_grads), emb.name];
    const g = new GraphBuilder(`${family}-full`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, trainableWeights: names });
    const labels = g.input('labels', 'int32', [B, T]);
    const ce = causalLmLoss(g, fwd.logits!, labels);
    const loss = Div(g, ce.nllSum, ce.targetCount);
    const params = names.map((n) => fwd.weights.get(n)!);
    const grads = grad(g, loss, params);
    grads.slice(0, -1).forEach((d, i) => g.output(d, `grad:${names[i]!}`));
    // The embedding gradient is [vocab, hidden]; compare the reference's rows (tied heads give every row a gradient).
    g.output(Gather(g, grads[grads.length - 1]!, g.constant(emb.rows, 'int32')), 'grad:embedding_rows');
    const graph = g.build();
    expect(graph.inputs.filter((i) => i.role === 'trainable').map((i) => i.value.name).sort()).toEqual([...names].sort());
    const out = await (await cpuSession(graph))({ ...batchFeeds(fx), labels: flat(fx.golden.batch.labels), ...weightFeeds(fx) });
    for (const n of names.slice(0, -1)) expect(relError(out[`grad:${n}`]!.data, fx.golden.full_grads[n]!.data), n).toBeLessThanOrEqual(1e-3);
    expect(relError(out['grad:embedding_rows']!.data, emb.data)).toBeLessThanOrEqual(1e-3);
  });

  it.runIf(family !== 'gpt2')('RoPE inverse frequencies match (llama3 scaling on the llama fixture, local and linear-scaled global on gemma3, one base on gemma2)', () => {
    const fx = loadFixture(family);
    if (fx.cfg.family === 'gpt2') throw new Error('a RoPE family expected');
    expect(relError(ropeInvFreq(fx.cfg.rope, fx.cfg.headDim), fx.golden.rope_inv_freq!)).toBeLessThanOrEqual(1e-9);
    if (fx.cfg.family === 'gemma3') expect(relError(ropeInvFreq(fx.cfg.localRope, fx.cfg.headDim), fx.golden.rope_local_inv_freq!)).toBeLessThanOrEqual(1e-9);
  });

  it('rsLoRA scales by alpha / sqrt(r)', async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const g = new GraphBuilder(`${family}-rslora`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: goldenPlan(fx, true) });
    const labels = g.input('labels', 'int32', [B, T]);
    const ce = causalLmLoss(g, fwd.logits!, labels);
    g.output(Div(g, ce.nllSum, ce.targetCount), 'loss');
    const out = await (await cpuSession(g.build()))({ ...batchFeeds(fx), labels: flat(fx.golden.batch.labels), ...weightFeeds(fx), ...adapterFeeds(fx.golden) });
    expect(Math.abs(out['loss']!.data[0]! - fx.golden.loss_rslora) / fx.golden.loss_rslora).toBeLessThanOrEqual(1e-4);
  });
});

describe.each(['gpt2', 'granite'] as const)('%s in training mode against the PyTorch reference', (family) => {
  it('applies dropout where transformers does (GPT-2: embd/attn/resid; Granite: attention_dropout): LoRA loss and gradients under the same masks match', async () => {
    const fx = loadFixture(family);
    const d = fx.golden.dropout;
    if (!d) throw new Error(`test/golden/${family}.json has no dropout section: regenerate it with scripts/fixtures/reference.py`);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const g = new GraphBuilder(`${family}-dropout`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, lora: goldenPlan(fx), modelDropout: true });
    const declared = g.inputs.filter((v) => v.name.startsWith('dropout.')).map((v) => v.name).sort();
    expect(declared).toEqual(Object.keys(d.masks).sort());
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const params = fwd.lora.flatMap((l) => [l.a, l.b]);
    grad(g, loss, params).forEach((x, i) => g.output(x, `grad:${params[i]!.name}`));
    const masks = Object.fromEntries(Object.entries(d.masks).map(([k, t]) => [k, Float32Array.from(t.data)]));
    const out = await (await cpuSession(g.build()))({ ...batchFeeds(fx), labels: flat(fx.golden.batch.labels), ...weightFeeds(fx), ...adapterFeeds(fx.golden), ...masks });
    expect(Math.abs(out['loss']!.data[0]! - d.loss_lora) / d.loss_lora).toBeLessThanOrEqual(1e-4);
    // The masks change the result (Granite's ÷ logits_scaling keeps its loss shift small, its gradients move more):
    // dropout is really applied, not ignored.
    expect(Math.abs(d.loss_lora - fx.golden.loss_lora)).toBeGreaterThan(1e-4);
    expect(Math.max(...params.map((p) => relError(d.grads[p.name]!.data, fx.golden.grads[p.name]!.data)))).toBeGreaterThan(1e-2);
    for (const p of params) expect(relError(out[`grad:${p.name}`]!.data, d.grads[p.name]!.data), p.name).toBeLessThanOrEqual(1e-3);
  });
});
