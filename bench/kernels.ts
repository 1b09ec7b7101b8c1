// Kernel rates (`npm run bench:kernels [-- --backends cpu,wasm --threads N --rows R --cols C]`): what one node of each
// op the step graphs lean on costs on onnxruntime-node's CPU EP and onnxruntime-web's WASM, in Node. Each row times a
// graph of `--chain` nodes of one op over an [R, C] float32 tensor fed once per run, so feeding and reading back are
// spread over the chain, and reports µs per node and elements (or FLOPs) per second. docs/architecture.md quotes it: on
// WASM the GEMM runs at about a quarter of the native kernel's rate, Exp/Sigmoid/Softmax at about a seventh, and a
// node's own cost is 1–2 µs, so the kernels, not the node count, set the WASM step's time.
import { GraphBuilder } from '../src/engine/graph.ts';
import type { Value } from '../src/engine/ir.ts';
import { serializeGraph } from '../src/engine/onnx.ts';
import { Add, Exp, Gemm, Mul, QuickGelu, ReduceSum, Sigmoid, Softmax, Sub, Tanh } from '../src/engine/ops.ts';
import type { Backend } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { readFlags } from './flags.ts';

interface Args {
  backends: ('cpu' | 'wasm')[];
  threads: number;
  rows: number;
  cols: number;
  chain: number;
  runs: number;
}

/** One row: the op applied to the chain's running value x (shape [R, C]); `side` inputs are fed alongside. */
interface Row {
  what: string;
  /** Work per node: elements written, or FLOPs for a GEMM. */
  work: (r: number, c: number) => number;
  unit: 'G elements/s' | 'GFLOP/s';
  side?: (r: number, c: number) => Record<string, number[]>;
  /**
   * The side inputs' values: `scale` · [-0.5, 0.5) + `offset`. Mul's y sits near 1, so twenty products stay normal floats
   * (denormals run many times slower on x86, and WASM cannot flush them to zero); the GEMM's W keeps x near unit size.
   */
  sideValues?: (c: number) => { scale?: number; offset?: number };
  /** One link of the chain (Exp's carries a Sub, so its values stay at most 1). */
  step: (g: GraphBuilder, x: Value, side: Record<string, Value>) => Value;
}

const RANK = 8;
const WARMUP = 10;

const ROWS: readonly Row[] = [
  { what: 'Add(x, y)', work: (r, c) => r * c, unit: 'G elements/s', side: (r, c) => ({ y: [r, c] }), step: (g, x, s) => Add(g, x, s['y']!) },
  { what: 'Mul(x, y)', work: (r, c) => r * c, unit: 'G elements/s', side: (r, c) => ({ y: [r, c] }), sideValues: () => ({ offset: 1 }), step: (g, x, s) => Mul(g, x, s['y']!) },
  { what: 'Mul(x, scalar)', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => Mul(g, x, 1.0001) },
  { what: 'Exp(x − 1), with its Sub', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => Exp(g, Sub(g, x, 1)) },
  { what: 'Sigmoid', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => Sigmoid(g, x) },
  { what: 'QuickGelu (SiLU)', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => QuickGelu(g, x) },
  { what: 'Tanh', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => Tanh(g, x) },
  { what: 'Softmax (last axis)', work: (r, c) => r * c, unit: 'G elements/s', step: (g, x) => Softmax(g, x, -1) },
  // Entries of variance 1/C, so each product keeps x near unit size.
  {
    what: 'Gemm x·W, W [C, C]',
    work: (r, c) => 2 * r * c * c,
    unit: 'GFLOP/s',
    side: (_r, c) => ({ w: [c, c] }),
    sideValues: (c) => ({ scale: Math.sqrt(12 / c) }),
    step: (g, x, s) => Gemm(g, x, s['w']!),
  },
  {
    what: `Gemm x + down·Bᵀ (rank ${RANK}: LoRA's B)`,
    work: (r, c) => r * c,
    unit: 'G elements/s',
    side: (r, c) => ({ down: [r, RANK], b: [c, RANK] }),
    step: (g, x, s) => Gemm(g, s['down']!, s['b']!, x, { transB: true, alpha: 0.01 }),
  },
];

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['backends', 'threads', 'rows', 'cols', 'chain', 'runs']);
  const backends = (flags.get('backends') ?? 'cpu,wasm').split(',');
  for (const b of backends) if (b !== 'cpu' && b !== 'wasm') throw new Error(`--backends: "${b}" is not cpu or wasm`);
  return {
    backends: backends as Args['backends'], threads: flags.int('threads', 2), rows: flags.int('rows', 512), cols: flags.int('cols', 688),
    chain: flags.int('chain', 20), runs: flags.int('runs', 12),
  };
}

/** Deterministic values: `scale` · [-0.5, 0.5) + `offset`. */
const values = (n: number, seed: number, scale = 1, offset = 0): Float32Array =>
  Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.37 + seed) * 0.5 * scale + offset);

/**
 * Median ms of `runs` runs of graph `build` on `backend`, after `WARMUP` untimed ones: a fresh onnxruntime-web module
 * runs its kernels as V8's baseline code until they have been hot for a while.
 */
async function timeGraph(backend: Backend, build: (g: GraphBuilder) => Record<string, { dims: number[]; data: Float32Array }>, runs: number): Promise<number> {
  const g = new GraphBuilder('kernels');
  const inputs = build(g);
  const session = await backend.createSession(serializeGraph(g.build()));
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, backend.tensor({ dtype: 'float32', dims: t.dims, data: t.data })]));
    const ms: number[] = [];
    for (let i = 0; i < runs + WARMUP; i++) {
      const t = performance.now();
      await session.run(feeds);
      if (i >= WARMUP) ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const { rows: R, cols: C, chain } = a;
  console.log(`kernel rates: [${R}, ${C}] float32, chains of ${chain} nodes, ${a.threads} thread(s), median of ${a.runs} runs`);
  for (const kind of a.backends) {
    const backend = await createNodeBackend(kind, { threads: a.threads });
    try {
      console.log(`\n${backend.label}`);
      // A node's own cost: 600 Adds of a 4-element tensor.
      const tiny = await timeGraph(backend, (g) => {
        const x0 = g.input('x', 'float32', [4]);
        let x = x0;
        for (let i = 0; i < 600; i++) x = Add(g, x, x0);
        g.output(x, 'y');
        return { x: { dims: [4], data: values(4, 1) } };
      }, a.runs);
      console.log(`  ${'a node of 4 elements (Add)'.padEnd(44)} ${((tiny * 1000) / 600).toFixed(1).padStart(8)} µs`);
      // Every row twice, the first pass only warming up: V8 tiers each WASM kernel up once it has run hot for a while,
      // and a row's own warm-up runs were not always enough for the first heavy kernel of a fresh module.
      for (const pass of ['warm-up', 'timed'] as const) for (const row of ROWS) {
        const ms = await timeGraph(backend, (g) => {
          const x0 = g.input('x', 'float32', [R, C]);
          const shapes = row.side?.(R, C) ?? {};
          const side = Object.fromEntries(Object.entries(shapes).map(([k, dims]) => [k, g.input(k, 'float32', dims)]));
          let x = x0;
          for (let i = 0; i < chain; i++) x = row.step(g, x, side);
          g.output(ReduceSum(g, x, [], { keepdims: false }), 'sum');
          const feeds: Record<string, { dims: number[]; data: Float32Array }> = { x: { dims: [R, C], data: values(R * C, 0) } };
          const { scale, offset } = row.sideValues?.(C) ?? {};
          Object.entries(shapes).forEach(([k, dims], i) => {
            feeds[k] = { dims, data: values(dims.reduce((p, d) => p * d, 1), i + 2, scale, offset) };
          });
          return feeds;
        }, pass === 'timed' ? a.runs : 1);
        if (pass === 'warm-up') continue;
        const perNode = (ms * 1000) / chain;
        const rate = row.work(R, C) / (perNode * 1000);
        console.log(`  ${row.what.padEnd(44)} ${perNode.toFixed(0).padStart(8)} µs ${rate.toFixed(2).padStart(8)} ${row.unit}`);
      }
    } finally {
      await backend.release();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
