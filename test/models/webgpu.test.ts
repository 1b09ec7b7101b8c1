// The model graphs on onnxruntime-node's WebGPU EP (SwiftShader here) with CPU fallback disabled: session creation
// proves every node runs on the GPU, and training (LoRA loss + gradients) and KV-cache generation agree with the CPU EP.
// The fixture configs are used with a 256-token vocabulary and seeded random weights, because SwiftShader spends
// seconds per run on a 150k-row head; the full-vocabulary numbers are checked on the CPU in golden.test.ts (and, for
// Gemma 2, on WebGPU at the end of this file). Qwen3, Gemma 3, Gemma 2 (q/k norms off, one RoPE table for both layer
// kinds) and GPT-2 between them emit every op pattern the builders have (RoPE, GQA Expand, RMSNorm on 2-D and 4-D,
// LayerNorm, biased Gemm, tanh-GELU, the cache write, sliding-window masks, tanh soft-capping); Llama and Qwen2 differ only in constants and which inputs exist, and
// SwiftShader's first-run shader compilation costs ~10 s per session, so they are left to the CPU tests. OLMo 2
// (post-norms, whole-projection q/k norms) and Granite (multipliers) run here too, and also against the float64
// reference itself at their full fixture vocabulary (50,304 rows), with the golden bounds of golden.test.ts. Every
// graph here is built as the app builds it for WebGPU (ForwardOptions.einsumAttention).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grad } from '../../src/engine/autodiff.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import type { Graph } from '../../src/engine/graph.ts';
import { causalLmLoss } from '../../src/engine/loss.ts';
import { serializeGraph } from '../../src/engine/onnx.ts';
import { Div, Gather, Reshape } from '../../src/engine/ops.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import { buildForward, defaultPositionIds } from '../../src/models/forward.ts';
import type { GenerationIO, GenerationShape } from '../../src/models/generate.ts';
import { buildGenerationGraphs, generate } from '../../src/models/generate.ts';
import type { LoraPlan } from '../../src/models/lora.ts';
import { planLora } from '../../src/models/lora.ts';
import { Rng } from '../../src/models/rng.ts';
import { GREEDY } from '../../src/models/sampling.ts';
import { weightTable } from '../../src/models/weights.ts';
import type { Backend, OrtTensor } from '../../src/runtime/backend.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { flat, loadFixture, relError } from './fixture.ts';
import type { Fixture } from './fixture.ts';

const VOCAB = 256;
/** SwiftShader compiles shaders on the CPU: a training graph's first session took 35–70 s on a shared two-core box. */
const SWIFTSHADER_TIMEOUT_MS = 180_000;
let gpu: Backend;
let cpu: Backend;
beforeAll(async () => {
  gpu = await createNodeBackend('webgpu');
  cpu = await createNodeBackend('cpu');
});
afterAll(async () => {
  await gpu.release();
  await cpu.release();
});

/** Seeded random weights and a non-zero adapter: norms near 1, everything else small. */
function randomParams(cfg: ModelConfig, plan: LoraPlan): Map<string, { dims: number[]; data: Float32Array }> {
  const rng = Rng.fromSeed(`webgpu:${cfg.modelType}`);
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  const add = (name: string, dims: readonly number[], mean: number, scale: number): void => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + rng.uniform(-scale, scale);
    out.set(name, { dims: [...dims], data });
  };
  for (const s of weightTable(cfg)) add(s.name, s.shape, s.kind === 'norm' ? 1 : 0, s.kind === 'embedding' ? 1 : 0.2);
  for (const t of plan.targets) {
    add(t.keyA, [plan.config.r, t.inFeatures], 0, 0.2);
    add(t.keyB, [t.outFeatures, plan.config.r], 0, 0.2);
  }
  return out;
}

function feedsFor(be: Backend, params: ReturnType<typeof randomParams>, data: Record<string, { dims: number[]; data: Int32Array }>): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [k, v] of params) out[k] = be.tensor({ dtype: 'float32', dims: v.dims, data: v.data });
  for (const [k, v] of Object.entries(data)) out[k] = be.tensor({ dtype: 'int32', dims: v.dims, data: v.data });
  return out;
}

async function runOn(be: Backend, graph: Graph, feeds: (be: Backend) => Record<string, OrtTensor>): Promise<Record<string, Float32Array>> {
  const session = await be.createSession(serializeGraph(graph));
  try {
    const out = await session.run(feeds(be));
    const res: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) res[k] = (await be.read(t)).data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}

/** Greedy generation on one backend through its own prefill/decode sessions; returns tokens and every step's logits. */
async function generateOn(be: Backend, cfg: ModelConfig, plan: LoraPlan, params: ReturnType<typeof randomParams>, shape: GenerationShape, prompts: number[][]) {
  const graphs = buildGenerationGraphs(cfg, shape, plan, { einsumAttention: true });
  const pre = await be.createSession(serializeGraph(graphs.prefill));
  const dec = await be.createSession(serializeGraph(graphs.decode));
  const logits: Float32Array[] = [];
  let past: Record<string, OrtTensor> = {};
  const step = async (s: typeof pre, data: Record<string, { dims: number[]; data: Int32Array }>): Promise<Float32Array> => {
    const out = await s.run({ ...feedsFor(be, params, data), ...past });
    past = {};
    for (let i = 0; i < graphs.layers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
    }
    const l = (await be.read(out['logits']!)).data as Float32Array;
    logits.push(l);
    return l;
  };
  const B = shape.batch;
  const io: GenerationIO = {
    prefill: (f) => step(pre, { input_ids: { dims: [B, shape.promptLen], data: f.input_ids }, position_ids: { dims: [B, shape.promptLen], data: f.position_ids }, attention_mask: { dims: [B, shape.promptLen], data: f.attention_mask }, logits_index: { dims: [B], data: f.logits_index } }),
    decode: (f) => step(dec, { input_ids: { dims: [B, 1], data: f.input_ids }, position_ids: { dims: [B, 1], data: f.position_ids }, attention_mask: { dims: [B, shape.maxLen], data: f.attention_mask } }),
  };
  try {
    const tokens = await generate(io, shape, prompts, { maxNewTokens: 4, sampling: GREEDY, stopIds: [] });
    return { tokens, logits };
  } finally {
    await pre.release();
    await dec.release();
  }
}

describe.each(['qwen3', 'gemma3', 'gemma2', 'olmo2', 'granite', 'gpt2'] as const)('%s graphs on WebGPU without CPU fallback', (family) => {
  const cfg = parseModelConfig({ ...(loadFixture(family).rawConfig as object), vocab_size: VOCAB });
  const plan = planLora(cfg, { r: 4, alpha: 8, targets: family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['all-linear'] });
  const params = randomParams(cfg, plan);

  it('LoRA loss and gradients agree with the CPU EP', { timeout: SWIFTSHADER_TIMEOUT_MS }, async () => {
    const [B, T] = [2, 8];
    const g = new GraphBuilder(`${family}-train`);
    const fwd = buildForward(g, cfg, { batch: B, seqLen: T, einsumAttention: true, lora: plan });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const ps = fwd.lora.flatMap((l) => [l.a, l.b]);
    grad(g, loss, ps).forEach((d, i) => g.output(d, `grad:${ps[i]!.name}`));
    const graph = g.build();
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % VOCAB);
    const mask = Int32Array.from({ length: B * T }, (_, i) => (i >= T + 5 ? 0 : 1)); // row 1 right-padded
    const labels = Int32Array.from(ids, (id, i) => (mask[i] === 0 || i % T < 2 ? -100 : id));
    const data = { input_ids: { dims: [B, T], data: ids }, attention_mask: { dims: [B, T], data: mask }, position_ids: { dims: [B, T], data: defaultPositionIds(B, T) }, labels: { dims: [B, T], data: labels } };
    const onGpu = await runOn(gpu, graph, (be) => feedsFor(be, params, data));
    const onCpu = await runOn(cpu, graph, (be) => feedsFor(be, params, data));
    expect(relError(onGpu['loss']!, onCpu['loss']!)).toBeLessThanOrEqual(1e-5);
    for (const p of ps) expect(relError(onGpu[`grad:${p.name}`]!, onCpu[`grad:${p.name}`]!), p.name).toBeLessThanOrEqual(1e-4);
  });

  it('KV-cache generation agrees with the CPU EP', { timeout: SWIFTSHADER_TIMEOUT_MS }, async () => {
    const shape = { batch: 2, promptLen: 5, maxLen: 9 };
    const prompts = [[5, 9, 200, 31, 7], [44, 3]];
    const onGpu = await generateOn(gpu, cfg, plan, params, shape, prompts);
    const onCpu = await generateOn(cpu, cfg, plan, params, shape, prompts);
    expect(onGpu.tokens).toEqual(onCpu.tokens);
    onGpu.logits.forEach((l, i) => expect(relError(l, onCpu.logits[i]!)).toBeLessThanOrEqual(1e-5));
  });
});

// Gemma 2 straight against the float64 PyTorch reference on WebGPU, with the fixture's full 262,208-token vocabulary:
// base logits (vocabulary subset) and loss with the adapter's B at zero, then the golden adapter's loss and gradients,
// from one session (SwiftShader compiles its shaders once). The bounds are the acceptance's: 1e-4 and 1e-3.
describe.each(['gemma2'] as const)('%s against the PyTorch reference on WebGPU (full vocabulary)', (family) => {
  it('base logits and loss, LoRA loss and gradients match', async () => {
    const fx = loadFixture(family);
    const { input_ids, attention_mask, labels } = fx.golden.batch;
    const [B, T] = [input_ids.length, input_ids[0]!.length];
    const l = fx.golden.lora;
    const plan = planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules });
    const g = new GraphBuilder(`${family}-webgpu-golden`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, einsumAttention: true, lora: plan });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    g.output(Gather(g, Reshape(g, fwd.logits!, [B * T, fx.cfg.vocabSize]), g.constant(fx.golden.vocab_subset, 'int32'), 1), 'logits_subset'); // [B·T, 16]
    const ps = fwd.lora.flatMap((b) => [b.a, b.b]);
    grad(g, loss, ps).forEach((d, i) => g.output(d, `grad:${ps[i]!.name}`));
    const session = await gpu.createSession(serializeGraph(g.build()));
    const feeds = (zeroB: boolean): Record<string, OrtTensor> => {
      const out: Record<string, OrtTensor> = {};
      const int = (data: number[] | Int32Array) => gpu.tensor({ dtype: 'int32', dims: [B, T], data: Int32Array.from(data) });
      Object.assign(out, { input_ids: int(flat(input_ids)), attention_mask: int(flat(attention_mask)), position_ids: int(defaultPositionIds(B, T)), labels: int(flat(labels)) });
      for (const s of weightTable(fx.cfg)) out[s.name] = gpu.tensor({ dtype: 'float32', dims: [...s.shape], data: fx.weights.get(s.name)! });
      for (const [k, t] of Object.entries(l.tensors)) {
        const data = zeroB && k.endsWith('lora_B.weight') ? new Float32Array(t.data.length) : Float32Array.from(t.data);
        out[k] = gpu.tensor({ dtype: 'float32', dims: t.shape, data });
      }
      return out;
    };
    const read = async (out: Record<string, OrtTensor>, name: string) => (await gpu.read(out[name]!)).data as Float32Array;
    try {
      const base = await session.run(feeds(true));
      const S = fx.golden.vocab_subset.length;
      const subset = await read(base, 'logits_subset');
      const got: number[] = [];
      const want: number[] = [];
      attention_mask.forEach((row, b) => row.forEach((m, t) => {
        if (m === 0) return;
        got.push(...subset.subarray((b * T + t) * S, (b * T + t + 1) * S));
        want.push(...fx.golden.logits[b]![t]!);
      }));
      const logitsErr = relError(got, want);
      const lossErr = Math.abs((await read(base, 'loss'))[0]! - fx.golden.loss) / Math.abs(fx.golden.loss);
      const lora = await session.run(feeds(false));
      const loraLossErr = Math.abs((await read(lora, 'loss'))[0]! - fx.golden.loss_lora) / Math.abs(fx.golden.loss_lora);
      let worst = 0;
      for (const p of ps) {
        const e = relError(await read(lora, `grad:${p.name}`), fx.golden.grads[p.name]!.data);
        worst = Math.max(worst, e);
        expect(e, p.name).toBeLessThanOrEqual(1e-3);
      }
      console.log(`${family} (webgpu): logits rel err ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}, LoRA loss ${loraLossErr.toExponential(2)}, worst gradient ${worst.toExponential(2)}`);
      expect(logitsErr).toBeLessThanOrEqual(1e-4);
      expect(lossErr).toBeLessThanOrEqual(1e-4);
      expect(loraLossErr).toBeLessThanOrEqual(1e-4);
    } finally {
      await session.release();
    }
  }, 240_000); // ~45 s alone on SwiftShader, over a minute beside other work
});

/** The golden batch, the fixture's weights and (optionally) the golden adapter as tensors on `be`. */
function goldenFeeds(be: Backend, fx: Fixture, withAdapter: boolean): Record<string, OrtTensor> {
  const { input_ids, attention_mask, labels } = fx.golden.batch;
  const [B, T] = [input_ids.length, input_ids[0]!.length];
  const int = (data: number[] | Int32Array) => be.tensor({ dtype: 'int32', dims: [B, T], data: Int32Array.from(data) });
  const out: Record<string, OrtTensor> = {
    input_ids: int(flat(input_ids)), attention_mask: int(flat(attention_mask)), position_ids: int(defaultPositionIds(B, T)), labels: int(flat(labels)),
  };
  for (const s of weightTable(fx.cfg)) out[s.name] = be.tensor({ dtype: 'float32', dims: [...s.shape], data: fx.weights.get(s.name)! });
  if (withAdapter) for (const [k, t] of Object.entries(fx.golden.lora.tensors)) out[k] = be.tensor({ dtype: 'float32', dims: t.shape, data: Float32Array.from(t.data) });
  return out;
}

describe.each(['olmo2', 'granite'] as const)('%s against the PyTorch reference on WebGPU', (family) => {
  it('base logits (vocabulary subset) and loss match', { timeout: SWIFTSHADER_TIMEOUT_MS }, async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const g = new GraphBuilder(`${family}-webgpu-golden`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, einsumAttention: true });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    g.output(Div(g, ce.nllSum, ce.targetCount), 'loss');
    const rows = Reshape(g, fwd.logits!, [B * T, fx.cfg.vocabSize]);
    g.output(Gather(g, rows, g.constant(fx.golden.vocab_subset, 'int32'), 1), 'logits_subset');
    const out = await runOn(gpu, g.build(), (be) => goldenFeeds(be, fx, false));
    const S = fx.golden.vocab_subset.length;
    const got: number[] = [];
    const want: number[] = [];
    fx.golden.batch.attention_mask.forEach((row, b) => row.forEach((m, t) => {
      if (m === 0) return;
      const i = b * T + t;
      got.push(...out['logits_subset']!.subarray(i * S, (i + 1) * S));
      want.push(...fx.golden.logits[b]![t]!);
    }));
    const logitsErr = relError(got, want);
    const lossErr = Math.abs(out['loss']![0]! - fx.golden.loss) / Math.abs(fx.golden.loss);
    console.log(`${family} (webgpu): logits rel err ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}`);
    expect(logitsErr).toBeLessThanOrEqual(1e-4);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  it('LoRA loss and gradients match', { timeout: SWIFTSHADER_TIMEOUT_MS }, async () => {
    const fx = loadFixture(family);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const l = fx.golden.lora;
    const g = new GraphBuilder(`${family}-webgpu-golden-lora`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, einsumAttention: true, lora: planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules }) });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const ps = fwd.lora.flatMap((b) => [b.a, b.b]);
    expect(ps.map((p) => p.name).sort()).toEqual(Object.keys(fx.golden.grads).sort());
    grad(g, loss, ps).forEach((d, i) => g.output(d, `grad:${ps[i]!.name}`));
    const out = await runOn(gpu, g.build(), (be) => goldenFeeds(be, fx, true));
    let worst = 0;
    for (const p of ps) {
      const e = relError(out[`grad:${p.name}`]!, fx.golden.grads[p.name]!.data);
      worst = Math.max(worst, e);
      expect(e, p.name).toBeLessThanOrEqual(1e-3);
    }
    const lossErr = Math.abs(out['loss']![0]! - fx.golden.loss_lora) / Math.abs(fx.golden.loss_lora);
    console.log(`${family} (webgpu): LoRA loss rel err ${lossErr.toExponential(2)}, worst gradient rel err ${worst.toExponential(2)}`);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });

  it.runIf(family === 'granite')('in training mode: LoRA loss and gradients under the reference\'s attention-dropout masks match', { timeout: SWIFTSHADER_TIMEOUT_MS }, async () => {
    const fx = loadFixture(family);
    const d = fx.golden.dropout;
    if (!d) throw new Error(`test/golden/${family}.json has no dropout section: regenerate it with scripts/fixtures/reference.py`);
    const [B, T] = [fx.golden.batch.input_ids.length, fx.golden.batch.input_ids[0]!.length];
    const l = fx.golden.lora;
    const g = new GraphBuilder(`${family}-webgpu-golden-dropout`);
    const fwd = buildForward(g, fx.cfg, { batch: B, seqLen: T, einsumAttention: true, lora: planLora(fx.cfg, { r: l.r, alpha: l.lora_alpha, targets: l.target_modules }), modelDropout: true });
    const ce = causalLmLoss(g, fwd.logits!, g.input('labels', 'int32', [B, T]));
    const loss = Div(g, ce.nllSum, ce.targetCount);
    g.output(loss, 'loss');
    const ps = fwd.lora.flatMap((b) => [b.a, b.b]);
    grad(g, loss, ps).forEach((x, i) => g.output(x, `grad:${ps[i]!.name}`));
    const out = await runOn(gpu, g.build(), (be) => ({
      ...goldenFeeds(be, fx, true),
      ...Object.fromEntries(Object.entries(d.masks).map(([k, t]) => [k, be.tensor({ dtype: 'float32', dims: t.shape, data: Float32Array.from(t.data) })])),
    }));
    let worst = 0;
    for (const p of ps) {
      const e = relError(out[`grad:${p.name}`]!, d.grads[p.name]!.data);
      worst = Math.max(worst, e);
      expect(e, p.name).toBeLessThanOrEqual(1e-3);
    }
    const lossErr = Math.abs(out['loss']![0]! - d.loss_lora) / Math.abs(d.loss_lora);
    console.log(`${family} (webgpu, attention dropout): LoRA loss rel err ${lossErr.toExponential(2)}, worst gradient rel err ${worst.toExponential(2)}`);
    expect(lossErr).toBeLessThanOrEqual(1e-4);
  });
});
