// The chunked LM head + loss (for 262k-token vocabularies) equals the plain path: logits as one tensor, causalLmLoss,
// autodiff. NLL sum, per-token NLL, target count, and parameter gradients seeded from d nllSum / d hidden, with and
// without Gemma's final-logit soft-cap, on the CPU EP and (where SwiftShader is set up) on WebGPU without CPU fallback.
import { describe, expect, it } from 'vitest';
import { grad } from '../../src/engine/autodiff.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import type { Value } from '../../src/engine/ir.ts';
import { causalLmLoss, chunkedHeadLoss, IGNORE_INDEX } from '../../src/engine/loss.ts';
import { Gemm, Mul, Reshape, Tanh, Div } from '../../src/engine/ops.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import type { TestEp } from './run-graph.ts';
import { WEBGPU_AVAILABLE, cpuSession } from './run-graph.ts';
import { seededRandom } from './step-fixtures.ts';

const [B, T, I, H, V] = [2, 7, 5, 6, 13];
const N = B * T;

/** hidden = x · W (W trainable), so gradients can be compared on a parameter, not just on hidden. */
function build(mode: 'plain' | 'chunked', softcap: number | null, chunkRows: number) {
  const g = new GraphBuilder(`head-${mode}`);
  const x = g.input('x', 'float32', [N, I]);
  const w = g.input('w', 'float32', [H, I], 'trainable');
  const head = g.input('head', 'float32', [V, H]);
  const labels = g.input('labels', 'int32', [B, T]);
  const hidden = Gemm(g, x, w, null, { transB: true }); // [N, H]
  let dW: Value;
  let out;
  if (mode === 'plain') {
    let logits = Gemm(g, hidden, head, null, { transB: true });
    if (softcap !== null) logits = Mul(g, Tanh(g, Div(g, logits, softcap)), softcap);
    out = causalLmLoss(g, Reshape(g, logits, [B, T, V]), labels);
    dW = grad(g, out.nllSum, [w])[0]!;
  } else {
    const c = chunkedHeadLoss(g, hidden, head, labels, { chunkRows, softcap, gradient: true });
    out = c;
    dW = grad(g, hidden, [w], c.dHidden!)[0]!;
  }
  g.output(out.nllSum, 'nll_sum');
  g.output(out.targetCount, 'target_count');
  g.output(out.tokenNll, 'token_nll');
  g.output(dW, 'grad_w');
  const graph = g.build();
  verifyGraph(graph);
  return graph;
}

function feeds() {
  const rand = seededRandom(7);
  const f32 = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
  const labels = Int32Array.from({ length: N }, (_, i) => (i % T === 0 || i === N - 2 ? IGNORE_INDEX : Math.floor(rand() * V)));
  return { x: f32(N * I, 1), w: f32(H * I, 0.8), head: f32(V * H, 1), labels };
}

const close = (a: number[], b: number[], tol: number) => {
  const scale = Math.max(...b.map(Math.abs), 1e-30);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale <= tol;
};

async function compare(ep: TestEp, softcap: number | null, chunkRows: number): Promise<void> {
  const f = feeds();
  const plain = await (await cpuSession(build('plain', softcap, chunkRows), ep))(f);
  const chunked = await (await cpuSession(build('chunked', softcap, chunkRows), ep))(f);
  expect(chunked['target_count']!.data).toEqual(plain['target_count']!.data);
  expect(close(chunked['nll_sum']!.data, plain['nll_sum']!.data, 1e-6)).toBe(true);
  expect(close(chunked['token_nll']!.data, plain['token_nll']!.data, 1e-6)).toBe(true);
  expect(close(chunked['grad_w']!.data, plain['grad_w']!.data, 1e-5)).toBe(true);
}

describe('chunked LM head + loss', () => {
  it.each([
    [null, 3],
    [null, 14],
    [2.5, 4],
  ] as const)('equals logits + causalLmLoss + autodiff (softcap %s, %i rows per chunk)', async (softcap, rows) => {
    await compare('cpu', softcap, rows);
  });

  it('refuses shapes that do not line up', () => {
    const g = new GraphBuilder();
    const hidden = g.input('h', 'float32', [N, H]);
    const labels = g.input('labels', 'int32', [B, T]);
    expect(() => chunkedHeadLoss(g, hidden, g.input('head', 'float32', [V, H + 1]), labels, { chunkRows: 4, gradient: true })).toThrow(/head \[V, H\]/);
    expect(() => chunkedHeadLoss(g, hidden, g.input('head2', 'float32', [V, H]), g.input('l2', 'int32', [B, T + 1]), { chunkRows: 4, gradient: true })).toThrow(/B·T = 14/);
    expect(() => chunkedHeadLoss(g, hidden, g.input('head3', 'float32', [V, H]), labels, { chunkRows: 0, gradient: true })).toThrow(/chunkRows/);
  });

  it.skipIf(!WEBGPU_AVAILABLE)('runs wholly on WebGPU and matches the plain path there', async () => {
    await compare('webgpu', 2.5, 4);
  });
});
