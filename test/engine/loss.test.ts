// Masked causal-LM cross-entropy: values against a float64 JS reference, the label shift, -100 handling, stability.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { causalLmLoss, IGNORE_INDEX } from '../../src/engine/loss.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { runGraph } from './run-graph.ts';
import { seededRandom } from './step-fixtures.ts';

/** Reference: Σ over t < T-1 with labels[t+1] ≠ -100 of logsumexp(logits[t]) - logits[t][labels[t+1]], in float64. */
function reference(logits: Float32Array, labels: Int32Array, B: number, T: number, V: number) {
  let sum = 0;
  let count = 0;
  const perToken = new Array<number>(B * T).fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const y = labels[b * T + t + 1]!;
      if (y === IGNORE_INDEX) continue;
      const row = Array.from(logits.subarray((b * T + t) * V, (b * T + t + 1) * V));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      const nll = lse - row[y]!;
      perToken[b * T + t] = nll;
      sum += nll;
      count++;
    }
  }
  return { sum, count, perToken };
}

function lossGraph(B: number, T: number, V: number) {
  const g = new GraphBuilder('loss');
  const logits = g.input('logits', 'float32', [B, T, V]);
  const labels = g.input('labels', 'int32', [B, T]);
  const out = causalLmLoss(g, logits, labels);
  g.output(out.nllSum, 'nll_sum');
  g.output(out.targetCount, 'target_count');
  g.output(out.tokenNll, 'token_nll');
  const graph = g.build();
  verifyGraph(graph);
  return graph;
}

describe('causalLmLoss fused gradient', () => {
  it('dLogits equals autodiff of the NLL sum (softmax − onehot, masked)', async () => {
    const [B, T, V] = [2, 5, 7];
    const g = new GraphBuilder('dlogits');
    const logits = g.input('logits', 'float32', [B, T, V], 'trainable');
    const labels = g.input('labels', 'int32', [B, T]);
    const out = causalLmLoss(g, logits, labels, { gradient: true });
    const [auto] = grad(g, out.nllSum, [logits]);
    g.output(out.dLogits!, 'fused');
    g.output(auto!, 'auto');
    const graph = g.build();
    verifyGraph(graph);
    const x = Array.from({ length: B * T * V }, (_, i) => Math.sin(i * 1.3) * 3);
    const y = [3, 1, IGNORE_INDEX, 6, 0, IGNORE_INDEX, 2, 2, 5, 4];
    const r = await runGraph(graph, { logits: x, labels: y });
    expect(r.fused!.data.some((v) => v !== 0)).toBe(true);
    r.fused!.data.forEach((v, i) => expect(v).toBeCloseTo(r.auto!.data[i]!, 6));
  });
});

describe('causalLmLoss', () => {
  const B = 3;
  const T = 6;
  const V = 11;
  const rand = seededRandom(7);
  const logits = Float32Array.from({ length: B * T * V }, () => rand() * 8 - 4);
  // Row 0: every label a target; row 1: prompt masked, then targets, then padding; row 2: no targets at all.
  const labels = Int32Array.from([
    3, 1, 4, 1, 5, 9,
    -100, -100, -100, 2, 6, -100,
    -100, -100, -100, -100, -100, -100,
  ]);

  it('matches a float64 reference, shifting labels by one position', async () => {
    const out = await runGraph(lossGraph(B, T, V), { logits, labels });
    const ref = reference(logits, labels, B, T, V);
    // Row 0 has 5 targets (labels[0] is never a target), row 1 has 2 (ids 2 and 6), row 2 none.
    expect(out.target_count!.data).toEqual([7]);
    expect(ref.count).toBe(7);
    expect(out.nll_sum!.data[0]).toBeCloseTo(ref.sum, 4);
    out.token_nll!.data.forEach((x, i) => expect(x).toBeCloseTo(ref.perToken[i]!, 5));
    // The position before a target carries its loss; the last position never does.
    expect(out.token_nll!.dims).toEqual([B, T]);
    expect(out.token_nll!.data[T - 1]).toBe(0);
    expect(out.token_nll!.data[T + 1]).toBe(0);
    expect(out.token_nll!.data[T + 2]).toBeGreaterThan(0);
  });

  it('stays finite for large logits (max shift)', async () => {
    const big = logits.map((x) => x * 100 + 5000);
    const out = await runGraph(lossGraph(B, T, V), { logits: big, labels });
    const ref = reference(big, labels, B, T, V);
    expect(Number.isFinite(out.nll_sum!.data[0])).toBe(true);
    expect(out.nll_sum!.data[0]! / ref.sum).toBeCloseTo(1, 4);
  });

  it('gives zero loss and zero count when nothing is a target', async () => {
    const none = new Int32Array(B * T).fill(IGNORE_INDEX);
    const out = await runGraph(lossGraph(B, T, V), { logits, labels: none });
    expect(out.nll_sum!.data).toEqual([0]);
    expect(out.target_count!.data).toEqual([0]);
  });

  it('rejects labels that do not match the logits', () => {
    const g = new GraphBuilder('bad');
    const logits2 = g.input('logits', 'float32', [2, 4, 5]);
    expect(() => causalLmLoss(g, logits2, g.input('labels', 'int32', [2, 3]))).toThrow(/labels must be int32 \[2, 4\]/);
    expect(() => causalLmLoss(g, logits2, g.input('labels64', 'int64', [2, 4]))).toThrow(/labels must be int32/);
  });
});
