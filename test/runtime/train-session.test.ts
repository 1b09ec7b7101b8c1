// TrainSession on real backends: WASM (onnxruntime-web) vs WebGPU (onnxruntime-node on SwiftShader, CPU fallback
// disabled) agree; runs are bit-reproducible; accumulation normalises by the window's target tokens; resume is exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStepGraphs, type StepGraphs } from '../../src/engine/step.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import type { Backend } from '../../src/runtime/backend.ts';
import { TrainSession, type StepMetrics, type TrainState } from '../../src/runtime/train-session.ts';
import { TINY, collate, manyParamsForward, tinyForward, tinyRows, tinyWeights, type TinyDims } from '../engine/step-fixtures.ts';
import { webgpuAvailable, WEBGPU_SKIP_REASON } from './webgpu-env.ts';

const CONFIG = { adamw: { weightDecay: 0.01, maxGradNorm: 1.0 } };
const graphs4 = buildStepGraphs(tinyForward(TINY), CONFIG);
const dims1: TinyDims = { ...TINY, B: 1 };
const graphs1 = buildStepGraphs(tinyForward(dims1), CONFIG);
const weights = tinyWeights(TINY, 1);
const rows = tinyRows(TINY, 16, 2);
const batches = [0, 1, 2, 3].map((i) => collate(rows.slice(4 * i, 4 * i + 4), TINY.T));

const backends: Record<string, Backend> = {};
beforeAll(async () => {
  backends.wasm = await createNodeBackend('wasm');
  if (webgpuAvailable) backends.webgpu = await createNodeBackend('webgpu');
});
afterAll(async () => {
  for (const b of Object.values(backends)) await b.release();
});

async function train(backend: Backend, graphs: StepGraphs, steps: number, plan: (step: number) => Record<string, never>[] | ReturnType<typeof collate>[], state?: TrainState) {
  const session = await TrainSession.create({ backend, graphs, params: weights.params, frozen: weights.frozen, ...(state ? { state } : {}) });
  const metrics: StepMetrics[] = [];
  for (let i = 0; i < steps; i++) metrics.push(await session.step(plan(session.stepCount) as ReturnType<typeof collate>[], 5e-2));
  const final = await session.exportState();
  await session.release();
  return { metrics, final };
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
};

/** Cycles through the four batches, two micro-batches per optimizer step. */
const accum2 = (s: number) => [batches[(2 * s) % 4]!, batches[(2 * s + 1) % 4]!];

describe.skipIf(!webgpuAvailable)(`WASM vs WebGPU${webgpuAvailable ? '' : ` (${WEBGPU_SKIP_REASON})`}`, () => {
  it('give the same loss and updated parameters to 1e-5 relative', { timeout: 300_000 }, async () => {
    // One optimizer step over two micro-batches (the accumulate graph, then the train graph).
    const wasm = await train(backends.wasm!, graphs4, 1, accum2);
    const gpu = await train(backends.webgpu!, graphs4, 1, accum2);
    wasm.metrics.forEach((m, i) => {
      const g = gpu.metrics[i]!;
      expect(g.targetTokens).toBe(m.targetTokens);
      expect(Math.abs(g.loss - m.loss) / m.loss).toBeLessThan(1e-5);
      expect(Math.abs(g.gradNorm - m.gradNorm) / m.gradNorm).toBeLessThan(1e-5);
    });
    for (const name of Object.keys(wasm.final.params)) {
      expect(relErr(gpu.final.params[name]!, wasm.final.params[name]!), name).toBeLessThan(1e-5);
      expect(relErr(gpu.final.m[name]!, wasm.final.m[name]!), name).toBeLessThan(1e-5);
    }
    // The update really moved the parameters (a test that cannot fail would not notice a no-op step).
    expect(relErr(wasm.final.params['layer.lora_A.weight']!, weights.params['layer.lora_A.weight']!)).toBeGreaterThan(1e-3);
  });

  it('agree for 40 trainable tensors in one optimizer group (wide flatten/unflatten on the GPU)', { timeout: 180_000 }, async () => {
    const graphs = buildStepGraphs(manyParamsForward(40), { noDecay: () => false });
    const params: Record<string, Float32Array> = {};
    for (let i = 0; i < 40; i++) params[`bias.${i}`] = Float32Array.from({ length: 20 }, (_, j) => Math.sin(i + j));
    const frozen = { table: { dtype: 'float32' as const, dims: [5, 5], data: Float32Array.from({ length: 25 }, (_, j) => Math.cos(j)) } };
    const batch = { input_ids: { dtype: 'int32' as const, dims: [2, 4], data: Int32Array.from([0, 1, 2, 3, 4, 3, 2, 1]) }, labels: { dtype: 'int32' as const, dims: [2, 4], data: Int32Array.from([0, 1, 2, 3, -100, 3, 2, 1]) } };
    const results = [];
    for (const b of [backends.wasm!, backends.webgpu!]) {
      const session = await TrainSession.create({ backend: b, graphs, params, frozen });
      const m = await session.step([batch], 0.1);
      results.push({ m, state: await session.exportState() });
      await session.release();
    }
    const [cpu, gpu] = results;
    expect(Math.abs(gpu!.m.loss - cpu!.m.loss) / cpu!.m.loss).toBeLessThan(1e-5);
    for (let i = 0; i < 40; i++) expect(relErr(gpu!.state.params[`bias.${i}`]!, cpu!.state.params[`bias.${i}`]!)).toBeLessThan(1e-5);
    expect(relErr(cpu!.state.params['bias.39']!, params['bias.39']!)).toBeGreaterThan(1e-3);
  });

  it('stay together over ten steps (losses to 1e-5 relative)', { timeout: 120_000 }, async () => {
    const wasm = await train(backends.wasm!, graphs4, 10, accum2);
    const gpu = await train(backends.webgpu!, graphs4, 10, accum2);
    wasm.metrics.forEach((m, i) => expect(Math.abs(gpu.metrics[i]!.loss - m.loss) / m.loss, `step ${i + 1}`).toBeLessThan(1e-5));
  });
});

const kinds = webgpuAvailable ? (['wasm', 'webgpu'] as const) : (['wasm'] as const);
describe.each(kinds)('on %s', (kind) => {
  it('a 50-step AdamW run is bit-identical across two runs', { timeout: 120_000 }, async () => {
    const plan = (s: number) => [batches[s % 4]!];
    const a = await train(backends[kind]!, graphs4, 50, plan);
    const b = await train(backends[kind]!, graphs4, 50, plan);
    expect(b.metrics.map((m) => m.nllSum)).toEqual(a.metrics.map((m) => m.nllSum));
    for (const name of Object.keys(a.final.params)) {
      expect(Buffer.from(b.final.params[name]!.buffer).equals(Buffer.from(a.final.params[name]!.buffer)), name).toBe(true);
      expect(Buffer.from(b.final.v[name]!.buffer).equals(Buffer.from(a.final.v[name]!.buffer)), name).toBe(true);
    }
    // It trained: the loss on the repeated batches went down.
    expect(a.metrics[49]!.loss).toBeLessThan(a.metrics[0]!.loss * 0.9);
  });

  it('accumulation invariance: (batch 4, accum 1) == (batch 1, accum 4) with variable-length rows', { timeout: 120_000 }, async () => {
    const big = await train(backends[kind]!, graphs4, 2, (s) => [batches[s]!]);
    const small = await train(backends[kind]!, graphs1, 2, (s) => rows.slice(4 * s, 4 * s + 4).map((r) => collate([r], TINY.T)));
    // The rows have different target counts, so a mean of per-micro-batch means would differ clearly here.
    const counts = rows.slice(0, 4).map((r) => r.labels.slice(1).filter((l) => l !== -100).length);
    expect(new Set(counts).size).toBeGreaterThan(1);
    big.metrics.forEach((m, i) => {
      expect(small.metrics[i]!.targetTokens).toBe(m.targetTokens);
      expect(Math.abs(small.metrics[i]!.nllSum - m.nllSum) / m.nllSum).toBeLessThan(1e-5);
      expect(Math.abs(small.metrics[i]!.gradNorm - m.gradNorm) / m.gradNorm).toBeLessThan(1e-5);
    });
    for (const name of Object.keys(big.final.params)) expect(relErr(small.final.params[name]!, big.final.params[name]!), name).toBeLessThan(1e-5);
  });

  it('resuming from exported state continues bit-identically', { timeout: 120_000 }, async () => {
    const straight = await train(backends[kind]!, graphs4, 5, accum2);
    const first = await train(backends[kind]!, graphs4, 3, accum2);
    const rest = await train(backends[kind]!, graphs4, 2, accum2, first.final);
    expect(rest.final.step).toBe(5);
    expect([...first.metrics, ...rest.metrics].map((m) => m.nllSum)).toEqual(straight.metrics.map((m) => m.nllSum));
    for (const name of Object.keys(straight.final.params)) {
      expect(Array.from(rest.final.params[name]!), name).toEqual(Array.from(straight.final.params[name]!));
    }
  });

  it('evaluate and gradients agree with the train step at the same parameters', { timeout: 120_000 }, async () => {
    const session = await TrainSession.create({ backend: backends[kind]!, graphs: graphs4, params: weights.params, frozen: weights.frozen });
    const ev = await session.evaluate(batches[0]!);
    const gr = await session.gradients(batches[0]!);
    const m = await session.step([batches[0]!], 5e-2);
    await session.release();
    expect(ev.targetTokens).toBe(m.targetTokens);
    expect(Math.abs(ev.nllSum - m.nllSum) / m.nllSum).toBeLessThan(1e-6);
    expect(ev.tokenNll.reduce((a, x) => a + x, 0) / m.nllSum).toBeCloseTo(1, 5);
    const norm = Math.sqrt(Object.values(gr.grads).reduce((a, g) => a + g.reduce((s, x) => s + x * x, 0), 0));
    expect(Math.abs(norm - m.gradNorm) / m.gradNorm).toBeLessThan(1e-5);
  });

  it('rejects a batch of the wrong shape, naming the input', async () => {
    const session = await TrainSession.create({ backend: backends[kind]!, graphs: graphs4, params: weights.params, frozen: weights.frozen });
    const bad = collate(rows.slice(0, 2), TINY.T);
    await expect(session.step([bad], 1e-3)).rejects.toThrow(/batch input "input_ids": expected int32 \[4, 8\], got int32 \[2, 8\]/);
    await session.release();
  });
});

describe.each([['wasm', 'external'], ['cpu', 'inline']] as const)('frozen weights on %s', (kind, how) => {
  it(`live in the sessions (${how}, not fed each run) and give the same steps, bit for bit, as feeding them`, { timeout: 60_000 }, async () => {
    const base = kind === 'wasm' ? backends.wasm! : await createNodeBackend('cpu');
    if (kind === 'cpu') backends.cpu = base;
    expect(base.sessionWeights).toBe(how);
    const sessions: { inputs: readonly string[]; feeds: string[][] }[] = [];
    // The real backend, recording each session's graph inputs and what every run was fed.
    const recording: Backend = {
      ...base,
      async createSession(model, config) {
        const s = await base.createSession(model, config);
        const seen = { inputs: s.inputNames, feeds: [] as string[][] };
        sessions.push(seen);
        return { ...s, run: (feeds) => (seen.feeds.push(Object.keys(feeds)), s.run(feeds)) };
      },
    };
    const run = async (backend: Backend, frozenIn: 'session' | 'feeds') => {
      const session = await TrainSession.create({ backend, graphs: graphs4, params: weights.params, frozen: weights.frozen, frozenIn });
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await session.step([batches[s % 4]!, batches[(s + 1) % 4]!], 5e-2)).loss);
      const evalNll = (await session.evaluate(batches[0]!)).nllSum;
      const state = await session.exportState();
      await session.release();
      return { losses, evalNll, state };
    };
    const held = await run(recording, 'session');
    const frozenNames = graphs4.frozen.map((f) => f.name);
    expect(frozenNames.length).toBeGreaterThan(0);
    // train, then accumulate and eval on first use; none has a frozen weight as an input, no run fed one.
    expect(sessions).toHaveLength(3);
    for (const s of sessions) {
      expect(s.inputs.filter((n) => frozenNames.includes(n))).toEqual([]);
      expect(s.feeds.length).toBeGreaterThan(0);
      for (const f of s.feeds) expect(f.filter((n) => frozenNames.includes(n))).toEqual([]);
    }
    const fed = await run(base, 'feeds');
    expect(held.losses).toEqual(fed.losses);
    expect(held.evalNll).toBe(fed.evalNll);
    expect(held.state.params).toEqual(fed.state.params);
  });
});
