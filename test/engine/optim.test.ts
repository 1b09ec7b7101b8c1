// AdamW + global-norm clipping graphs against a plain float64 JS implementation of torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_, over several steps with state fed back (as the runtime does).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { ADAMW_INPUTS, adamwHostScalars, adamwScalarInputs, adamwUpdate, clipFactor, globalNorm, resolveAdamW, type AdamWConfig } from '../../src/engine/optim.ts';
import { Mul } from '../../src/engine/ops.ts';
import { cpuSession } from './run-graph.ts';
import { seededRandom } from './step-fixtures.ts';

/** torch.optim.AdamW (amsgrad=False, maximize=False) for a list of tensors, float64, after clip_grad_norm_. */
function referenceStep(params: number[][], grads: number[][], m: number[][], v: number[][], lr: number, t: number, c: Required<AdamWConfig>) {
  const norm = Math.sqrt(grads.flat().reduce((a, x) => a + x * x, 0));
  const clip = c.maxGradNorm === null ? 1 : Math.min(1, c.maxGradNorm / (norm + 1e-6));
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    for (let j = 0; j < p.length; j++) {
      const g = grads[i]![j]! * clip;
      p[j] = p[j]! * (1 - lr * c.weightDecay);
      m[i]![j] = c.beta1 * m[i]![j]! + (1 - c.beta1) * g;
      v[i]![j] = c.beta2 * v[i]![j]! + (1 - c.beta2) * g * g;
      p[j] = p[j]! - (lr / bc1) * (m[i]![j]! / (Math.sqrt(v[i]![j]!) / Math.sqrt(bc2) + c.eps));
    }
  }
  return norm;
}

function optimGraph(sizes: number[], config: AdamWConfig) {
  const c = resolveAdamW(config);
  const g = new GraphBuilder('adamw');
  const ps = sizes.map((n, i) => g.input(`p${i}`, 'float32', [n], 'trainable'));
  const gs = sizes.map((n, i) => g.input(`g${i}`, 'float32', [n]));
  const ms = sizes.map((n, i) => g.input(`m${i}`, 'float32', [n], 'state'));
  const vs = sizes.map((n, i) => g.input(`v${i}`, 'float32', [n], 'state'));
  const norm = globalNorm(g, gs);
  const factor = c.maxGradNorm === null ? null : clipFactor(g, norm, c.maxGradNorm);
  const clipped = factor === null ? gs : gs.map((x) => Mul(g, x, factor));
  const s = adamwScalarInputs(g, c);
  sizes.forEach((_, i) => {
    const u = adamwUpdate(g, ps[i]!, clipped[i]!, ms[i]!, vs[i]!, s, c);
    g.output(u.param, `p${i}.next`);
    g.output(u.m, `m${i}.next`);
    g.output(u.v, `v${i}.next`);
  });
  g.output(norm, 'grad_norm');
  const graph = g.build();
  verifyGraph(graph);
  return graph;
}

async function compare(config: AdamWConfig, gradScale: number) {
  const c = { ...resolveAdamW(config) } as Required<AdamWConfig>;
  const sizes = [5, 3];
  const rand = seededRandom(11);
  const run = await cpuSession(optimGraph(sizes, config));
  const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));
  let params = sizes.map((n) => f32(Array.from({ length: n }, () => rand() * 2 - 1)));
  let m = sizes.map((n) => new Array<number>(n).fill(0));
  let v = sizes.map((n) => new Array<number>(n).fill(0));
  const ref = { params: params.map((p) => [...p]), m: m.map((x) => [...x]), v: v.map((x) => [...x]) };
  let worst = 0;
  for (let t = 1; t <= 12; t++) {
    const lr = 0.01 * (1 + 0.1 * t);
    const grads = sizes.map((n) => f32(Array.from({ length: n }, () => (rand() * 2 - 1) * gradScale)));
    const h = adamwHostScalars(lr, t, resolveAdamW(config));
    const feeds: Record<string, number[]> = { [ADAMW_INPUTS.lr]: [h.lr], [ADAMW_INPUTS.stepSize]: [h.stepSize], [ADAMW_INPUTS.bc2Sqrt]: [h.bc2Sqrt] };
    sizes.forEach((_, i) => Object.assign(feeds, { [`p${i}`]: params[i]!, [`g${i}`]: grads[i]!, [`m${i}`]: m[i]!, [`v${i}`]: v[i]! }));
    const out = await run(feeds);
    const refNorm = referenceStep(ref.params, grads, ref.m, ref.v, lr, t, c);
    expect(out.grad_norm!.data[0]! / refNorm).toBeCloseTo(1, 5);
    params = sizes.map((_, i) => out[`p${i}.next`]!.data);
    m = sizes.map((_, i) => out[`m${i}.next`]!.data);
    v = sizes.map((_, i) => out[`v${i}.next`]!.data);
    params.forEach((p, i) => p.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - ref.params[i]![j]!)))));
  }
  return worst;
}

describe('AdamW graph', () => {
  it('matches float64 torch AdamW with weight decay and no clipping', async () => {
    expect(await compare({ weightDecay: 0.1, maxGradNorm: null }, 1)).toBeLessThan(2e-6);
  });

  it('matches with global-norm clipping active (gradients larger than the threshold)', async () => {
    expect(await compare({ weightDecay: 0, maxGradNorm: 0.5, beta1: 0.8, beta2: 0.95, eps: 1e-6 }, 10)).toBeLessThan(2e-6);
  });

  it('rejects invalid hyperparameters with the name of the setting', () => {
    expect(() => resolveAdamW({ beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => resolveAdamW({ eps: 0 })).toThrow(/eps must be > 0/);
    expect(() => resolveAdamW({ maxGradNorm: 0 })).toThrow(/maxGradNorm must be > 0 or null/);
    expect(() => resolveAdamW({ weightDecay: -1 })).toThrow(/weightDecay must be ≥ 0/);
    expect(() => adamwHostScalars(1e-3, 0, resolveAdamW())).toThrow(/step must be a whole number ≥ 1/);
  });
});
