// Step-graph assembly: IO contract with the runtime, determinism, and that the train graph's update equals the
// accumulate graph's gradient sums pushed through token-count normalisation, clipping and a float64 AdamW.
import { describe, expect, it } from 'vitest';
import { buildStepGraphs, defaultNoDecay, MAX_FAN, STEP_IO } from '../../src/engine/step.ts';
import { ADAMW_INPUTS, adamwHostScalars } from '../../src/engine/optim.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { cpuSession, type Feed } from './run-graph.ts';
import { TINY, collate, manyParamsForward, tinyForward, tinyRows, tinyWeights } from './step-fixtures.ts';

const CONFIG = { adamw: { weightDecay: 0.1, maxGradNorm: 0.05 } };

describe('buildStepGraphs', () => {
  const graphs = buildStepGraphs(tinyForward(TINY), CONFIG);

  it('builds verified graphs whose state outputs pair with state inputs', () => {
    for (const g of [graphs.train, graphs.accumulate, graphs.eval]) verifyGraph(g);
    expect(graphs.trainable.map((t) => t.name)).toEqual(['layer.lora_A.weight', 'layer.lora_B.weight', 'norm.weight']);
    expect(graphs.frozen.map((t) => t.name)).toEqual(['embed.weight', 'layer.weight', 'lm_head.weight']);
    expect(graphs.data.map((t) => t.name)).toEqual(['input_ids', STEP_IO.labels]);
    const inputs = (g: typeof graphs.train) => g.inputs.map((i) => i.value.name);
    const outputs = (g: typeof graphs.train) => g.outputs.map((o) => o.value.name);
    for (const g of [graphs.train, graphs.accumulate]) {
      const stateIns = g.inputs.filter((i) => i.role === 'state' || i.role === 'trainable').map((i) => i.value.name);
      const fed = stateIns.filter((n) => outputs(g).includes(STEP_IO.next(n)));
      // train: every parameter and moment comes back; accumulate: every accumulator comes back.
      if (g === graphs.train) expect(fed.length).toBe(graphs.trainable.length + 2 * graphs.groups.length);
      else expect(fed.sort()).toEqual(stateIns.filter((n) => n.startsWith('accum.')).sort());
    }
    expect(inputs(graphs.train)).toEqual(expect.arrayContaining(Object.values(ADAMW_INPUTS)));
    expect(outputs(graphs.train)).toContain(STEP_IO.metrics);
    expect(outputs(graphs.eval)).toEqual([STEP_IO.evalMetrics, STEP_IO.tokenNll]);
    // LoRA matrices decay, the norm weight does not (HF rule): two flat optimizer groups with contiguous slots.
    expect(graphs.groups.map((gr) => [gr.id, gr.params.map((p) => p.name)])).toEqual([
      ['decay', ['layer.lora_A.weight', 'layer.lora_B.weight']],
      ['no_decay', ['norm.weight']],
    ]);
    expect(graphs.groups[0]!.params[1]!.offset).toBe(TINY.R * TINY.D);
    expect(graphs.groups[0]!.size).toBe(2 * TINY.R * TINY.D);
    // Frozen weights stay graph inputs: no initializer is larger than the small constants the model itself uses.
    for (const init of graphs.train.initializers) expect(init.tensor.data.length).toBeLessThanOrEqual(TINY.T * TINY.T);
  });

  it('is deterministic: the same configuration serialises to identical bytes', () => {
    const again = buildStepGraphs(tinyForward(TINY), CONFIG);
    for (const k of ['train', 'accumulate', 'eval'] as const) {
      expect(Buffer.from(serializeGraph(again[k])).equals(Buffer.from(serializeGraph(graphs[k])))).toBe(true);
    }
  });

  it('train = accumulate gradients ÷ target tokens → clip → AdamW (float64 reference), norms exempt from decay', async () => {
    const w = tinyWeights(TINY, 3);
    const batch = collate(tinyRows(TINY, 4, 5), TINY.T);
    const feeds: Record<string, Feed> = {};
    for (const [k, t] of Object.entries(w.frozen)) feeds[k] = t.data as Float32Array;
    for (const [k, p] of Object.entries(w.params)) feeds[k] = p;
    for (const [k, t] of Object.entries(batch)) feeds[k] = t.data as Int32Array;
    for (const gr of graphs.groups) feeds[STEP_IO.gradAcc(gr.id)] = new Float32Array(gr.size);
    feeds[STEP_IO.nllAcc] = [0];
    feeds[STEP_IO.countAcc] = [0];
    const acc = await (await cpuSession(graphs.accumulate))(feeds);
    const count = acc[STEP_IO.next(STEP_IO.countAcc)]!.data[0]!;
    expect(count).toBeGreaterThan(4);

    const lr = 0.02;
    const h = adamwHostScalars(lr, 1, graphs.adamw);
    for (const gr of graphs.groups) {
      feeds[STEP_IO.m(gr.id)] = new Float32Array(gr.size);
      feeds[STEP_IO.v(gr.id)] = new Float32Array(gr.size);
    }
    Object.assign(feeds, { [ADAMW_INPUTS.lr]: [h.lr], [ADAMW_INPUTS.stepSize]: [h.stepSize], [ADAMW_INPUTS.bc2Sqrt]: [h.bc2Sqrt] });
    const out = await (await cpuSession(graphs.train))(feeds);
    const [nll, targets, norm] = out[STEP_IO.metrics]!.data;
    expect(targets).toBe(count);
    expect(nll! / acc[STEP_IO.next(STEP_IO.nllAcc)]!.data[0]!).toBeCloseTo(1, 6);

    const grads = graphs.trainable.map((t) => {
      const gr = graphs.groups.find((x) => x.params.some((p) => p.name === t.name))!;
      const slot = gr.params.find((p) => p.name === t.name)!;
      return acc[STEP_IO.next(STEP_IO.gradAcc(gr.id))]!.data.slice(slot.offset, slot.offset + slot.size).map((x) => x / count);
    });
    const refNorm = Math.sqrt(grads.flat().reduce((a, x) => a + x * x, 0));
    expect(norm! / refNorm).toBeCloseTo(1, 5);
    const clip = Math.min(1, 0.05 / (refNorm + 1e-6));
    expect(clip).toBeLessThan(1); // the threshold is low enough that clipping is exercised
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = graphs.adamw;
    graphs.trainable.forEach((t, i) => {
      const p0 = w.params[t.name]!;
      const decay = defaultNoDecay(t.name) ? 1 : 1 - lr * wd;
      const got = out[STEP_IO.next(t.name)]!.data;
      p0.forEach((x, j) => {
        const g = grads[i]![j]! * clip;
        const m = (1 - b1) * g;
        const v = (1 - b2) * g * g;
        const want = x * decay - (lr / (1 - b1)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2) + eps));
        expect(Math.abs(got[j]! - want), `${t.name}[${j}]`).toBeLessThan(2e-6);
      });
    });
  });

  it('says what is wrong with a forward that cannot be trained', () => {
    const noTrainable = (g: GraphBuilder) => {
      const x = g.input('x', 'float32', [1, 2, 3], 'frozen');
      return x;
    };
    expect(() => buildStepGraphs(noTrainable)).toThrow(/declared no trainable inputs/);
    expect(() => buildStepGraphs((g) => g.input('p', 'float32', [2, 3], 'trainable'))).toThrow(/must return float32 logits \[batch, seq, vocab\]/);
  });

  it('exempts biases and norm weights from weight decay by default, like HF Trainer', () => {
    expect(['model.norm.weight', 'layers.0.input_layernorm.weight', 'q_proj.bias'].every(defaultNoDecay)).toBe(true);
    expect(['q_proj.lora_A.weight', 'embed_tokens.weight', 'biased_thing.weight'].some(defaultNoDecay)).toBe(false);
  });

  it('keeps every Concat and Split within MAX_FAN operands however many tensors are trained', () => {
    const wide = buildStepGraphs(manyParamsForward(40), { noDecay: () => false });
    expect(wide.groups.map((gr) => gr.params.length)).toEqual([40]);
    for (const graph of [wide.train, wide.accumulate]) {
      for (const n of graph.nodes) {
        if (n.op === 'Concat') expect(n.inputs.length, n.name).toBeLessThanOrEqual(MAX_FAN);
        if (n.op === 'Split') expect(n.outputs.length, n.name).toBeLessThanOrEqual(MAX_FAN);
      }
    }
    // The tree still puts every tensor back where it came from: one output per parameter, same shapes.
    for (let i = 0; i < 40; i++) {
      const out = wide.train.outputs.find((o) => o.value.name === STEP_IO.next(`bias.${i}`));
      expect(out?.value.shape).toEqual([4, 5]);
    }
  });

  it('computedOutputs: every train/accumulate output is written by a compute kernel, with the same values', async () => {
    // WebGPU graph capture replays dispatches only; a Reshape (or other copying kernel) that makes a graph output would
    // keep its capture-time value. TrainSession refuses such graphs for capture.
    const copying = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity', 'ScatterElements']);
    const producers = (graphs: ReturnType<typeof buildStepGraphs>) =>
      [graphs.train, graphs.accumulate].flatMap((graph) => {
        const outs = new Set(graph.outputs.map((o) => o.value.id));
        return graph.nodes.filter((n) => n.outputs.some((v) => outs.has(v.id))).map((n) => n.op);
      });
    const plain = buildStepGraphs(tinyForward(TINY), CONFIG);
    const computed = buildStepGraphs(tinyForward(TINY), { ...CONFIG, computedOutputs: true });
    expect(producers(plain).some((op) => copying.has(op))).toBe(true);
    expect(producers(computed).filter((op) => copying.has(op))).toEqual([]);
    expect(computed.train.nodes.length - plain.train.nodes.length).toBe(plain.trainable.length);
    // Same update: one optimizer step from the same feeds gives identical outputs.
    const w = tinyWeights(TINY, 3);
    const batch = collate(tinyRows(TINY, 4, 5), TINY.T);
    const h = adamwHostScalars(0.02, 1, plain.adamw);
    const feeds: Record<string, Feed> = { [ADAMW_INPUTS.lr]: [h.lr], [ADAMW_INPUTS.stepSize]: [h.stepSize], [ADAMW_INPUTS.bc2Sqrt]: [h.bc2Sqrt], [STEP_IO.nllAcc]: [0], [STEP_IO.countAcc]: [0] };
    for (const [k, t] of Object.entries(w.frozen)) feeds[k] = t.data as Float32Array;
    for (const [k, p] of Object.entries(w.params)) feeds[k] = p;
    for (const [k, t] of Object.entries(batch)) feeds[k] = t.data as Int32Array;
    for (const gr of plain.groups) for (const n of [STEP_IO.gradAcc(gr.id), STEP_IO.m(gr.id), STEP_IO.v(gr.id)]) feeds[n] = new Float32Array(gr.size);
    const run = async (graphs: ReturnType<typeof buildStepGraphs>) => (await cpuSession(graphs.train))(feeds);
    const a = await run(plain);
    const b = await run(computed);
    for (const spec of plain.trainable) expect(b[STEP_IO.next(spec.name)], spec.name).toEqual(a[STEP_IO.next(spec.name)]);
  });
});
