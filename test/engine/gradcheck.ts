// Test helper: float64 central-difference gradient check of a graph fragment, executed for real on ORT's CPU EP.
// The fragment's output y is reduced to a scalar loss sum(y * w) with a random weight w, so every output element
// contributes with a different factor. Analytic gradients come from grad(); numeric ones from (f(x+h) - f(x-h)) / 2h.
import { expect } from 'vitest';
import type { DType, Shape, Value } from '../../src/engine/ir.ts';
import { numel } from '../../src/engine/ir.ts';
import { GraphBuilder } from '../../src/engine/graph.ts';
import type { Graph, InputRole } from '../../src/engine/graph.ts';
import { Mul, ReduceSum } from '../../src/engine/ops.ts';
import { grad } from '../../src/engine/autodiff.ts';
import { verifyGraph } from '../../src/engine/verify.ts';
import { cpuSession } from './run-graph.ts';
import { seededRandom } from './step-fixtures.ts';
import type { Feed } from './run-graph.ts';

/** Deterministic PRNG (mulberry32) so failures reproduce; shared with the browser-safe step fixtures. */
const rng = seededRandom;

export interface InputSpec {
  readonly shape: Shape;
  readonly dtype?: DType;
  readonly role?: InputRole;
  /** Explicit values, or a sampling range [lo, hi) (default [-1, 1)). */
  readonly values?: readonly number[];
  readonly range?: readonly [number, number];
}

export interface GradCheckCase {
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Names of the float64 inputs to differentiate with respect to. */
  readonly wrt: readonly string[];
  readonly build: (g: GraphBuilder, v: Readonly<Record<string, Value>>) => Value;
  readonly seed?: number;
  readonly h?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

export interface GradCheckResult {
  readonly graph: Graph;
  readonly maxAbsError: number;
  /** Largest |analytic - numeric| / max(|numeric|, 1e-3) over the checked elements. */
  readonly maxRelError: number;
  readonly checked: number;
}

/** Builds the fragment plus loss = sum(y * w) and its gradients; float inputs take `floatType` (float64 by default). */
export function buildGradGraph(c: GradCheckCase, floatType: DType = 'float64'): { graph: Graph; feeds: Record<string, number[]> } {
  const rand = rng(c.seed ?? 1234);
  const g = new GraphBuilder('gradcheck');
  const values: Record<string, Value> = {};
  const feeds: Record<string, number[]> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const dtype = spec.dtype ?? floatType;
    values[name] = g.input(name, dtype, spec.shape, spec.role ?? (c.wrt.includes(name) ? 'trainable' : 'data'));
    const [lo, hi] = spec.range ?? [-1, 1];
    feeds[name] = spec.values ? [...spec.values] : Array.from({ length: numel(spec.shape) }, () => lo + (hi - lo) * rand());
  }
  const y = c.build(g, values);
  const w = g.input('__w', y.dtype, y.shape);
  feeds.__w = Array.from({ length: numel(y.shape) }, () => 0.5 + rand());
  const loss = ReduceSum(g, Mul(g, y, w), []);
  const grads = grad(g, loss, c.wrt.map((n) => values[n]!));
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `grad_${c.wrt[i]}`));
  const graph = g.build();
  verifyGraph(graph);
  return { graph, feeds };
}

export async function gradCheck(c: GradCheckCase): Promise<GradCheckResult> {
  const { graph, feeds } = buildGradGraph(c);
  const run = await cpuSession(graph);
  const lossAt = async (f: Record<string, Feed>): Promise<number> => (await run(f)).loss!.data[0]!;

  const base = await run(feeds);
  const h = c.h ?? 1e-6;
  const rtol = c.rtol ?? 1e-5;
  const atol = c.atol ?? 1e-7;
  let maxAbsError = 0;
  let maxRelError = 0;
  let checked = 0;
  for (const name of c.wrt) {
    const analytic = base[`grad_${name}`]!.data;
    const x = feeds[name]!;
    expect(analytic.length, `gradient of ${name} has the input's size`).toBe(x.length);
    for (let i = 0; i < x.length; i++) {
      const plus = [...x];
      const minus = [...x];
      plus[i]! += h;
      minus[i]! -= h;
      const numeric = ((await lossAt({ ...feeds, [name]: plus })) - (await lossAt({ ...feeds, [name]: minus }))) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      maxRelError = Math.max(maxRelError, err / Math.max(Math.abs(numeric), 1e-3));
      checked++;
      if (err > atol + rtol * Math.abs(numeric)) {
        expect.fail(`d loss / d ${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric} (|diff| ${err.toExponential(2)})`);
      }
    }
  }
  return { graph, maxAbsError, maxRelError, checked };
}
