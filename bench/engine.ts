// Engine benchmark (`npm run bench:engine [-- --json FILE]`): one LoRA train step of a Llama-shaped stack on every
// Node backend asked for (`--backends wasm,webgpu` by default; `cpu` is onnxruntime-node's CPU EP), reporting ms/step,
// tokens/s, nodes per step graph, host-side ms/step, readbacks per step, and efficiency = achieved MatMul FLOP/s of the
// step ÷ FLOP/s of one large MatMul measured on the same backend in the same run. `--frozen both` times WASM and CPU
// twice: frozen weights held by the sessions (the default) and fed on every run (the old path).
import { readFlags } from './flags.ts';
import { writeFileSync } from 'node:fs';
import { GraphBuilder } from '../src/engine/graph.ts';
import type { Graph } from '../src/engine/graph.ts';
import { serializeGraph } from '../src/engine/onnx.ts';
import { Gather, MatMul } from '../src/engine/ops.ts';
import { buildStepGraphs } from '../src/engine/step.ts';
import { summarizeGraph } from '../src/engine/summary.ts';
import type { Backend, BackendKind, HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession } from '../src/runtime/train-session.ts';
import { llamaForward, llamaWeights, type LlamaDims } from './llama-forward.ts';

interface Args {
  dims: LlamaDims;
  backends: BackendKind[];
  steps: number;
  warmup: number;
  matmul: number;
  /** Where WASM keeps frozen weights: in the sessions (default), fed every run (the old path), or both, timed in turn. */
  frozen: ('session' | 'feeds')[];
  /** Threads for WASM and CPU (default: every core). */
  threads?: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['json', 'frozen', 'threads', 'backends', 'steps', 'warmup', 'matmul', 'batch', 'seq', 'hidden', 'layers', 'heads', 'kv-heads', 'intermediate', 'vocab', 'rank']);
  const int = flags.int;
  const hidden = int('hidden', 256);
  const dims: LlamaDims = {
    batch: int('batch', 4), seq: int('seq', 128), hidden, layers: int('layers', 4), heads: int('heads', 4), kvHeads: int('kv-heads', 4),
    intermediate: int('intermediate', 688), vocab: int('vocab', 4096), rank: int('rank', 8), alpha: 16,
  };
  const backends = (flags.get('backends') ?? 'wasm,webgpu').split(',') as BackendKind[];
  for (const b of backends) if (!['wasm', 'webgpu', 'cpu'].includes(b)) throw new Error(`--backends: unknown backend "${b}" (wasm, webgpu, cpu)`);
  const json = flags.get('json');
  const frozenFlag = flags.get('frozen') ?? 'session';
  if (!['session', 'feeds', 'both'].includes(frozenFlag)) throw new Error(`--frozen must be session, feeds or both; got "${frozenFlag}"`);
  const frozen = frozenFlag === 'both' ? (['feeds', 'session'] as const) : ([frozenFlag] as ['session' | 'feeds']);
  const threads = flags.get('threads') !== undefined ? { threads: int('threads', 1) } : {};
  return { dims, backends, steps: int('steps', 5), warmup: int('warmup', 2), matmul: int('matmul', 1024), frozen: [...frozen], ...threads, ...(json ? { json } : {}) };
}

/** MatMul and Gemm FLOPs executed by a graph (2·M·N·K per product, from the static shapes). Autodiff emits Gemm for
 * the gradients of batched-by-2-D products, so both count. */
export function matmulFlops(graph: Graph): number {
  let flops = 0;
  for (const n of graph.nodes) {
    if (n.op !== 'MatMul' && n.op !== 'Gemm') continue;
    const a = n.inputs[0]!.shape;
    const y = n.outputs[0]!.shape;
    const transA = n.op === 'Gemm' && n.attrs.transA?.kind === 'int' && n.attrs.transA.value === 1;
    const k = transA ? a[0]! : a[a.length - 1]!;
    flops += 2 * k * y.reduce((p, d) => p * d, 1);
  }
  return flops;
}

/** FLOP/s of one n×n×n MatMul on `backend` (inputs uploaded once, output kept on the device where possible). */
async function matmulRate(backend: Backend, n: number): Promise<number> {
  const g = new GraphBuilder('matmul');
  g.output(MatMul(g, g.input('a', 'float32', [n, n]), g.input('b', 'float32', [n, n])), 'c');
  const session = await backend.createSession(serializeGraph(g.build()), { deviceOutputs: ['c'] });
  const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const a = await backend.upload({ dtype: 'float32', dims: [n, n], data });
  const b = await backend.upload({ dtype: 'float32', dims: [n, n], data });
  const once = async () => {
    const out = await session.run({ a, b });
    // Reading one result back forces the GPU work to finish before the clock stops.
    if (backend.deviceResident) await backend.read(out.c!);
    if (out.c!.location === 'gpu-buffer') out.c!.dispose();
  };
  await once();
  const reps = 3;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await once();
  const seconds = (performance.now() - t0) / 1000 / reps;
  await session.release();
  return (2 * n ** 3) / seconds;
}

/**
 * What feeding the frozen weights costs per run, alone: a graph that only gathers one row of each frozen matrix
 * (almost no arithmetic), timed with the weights fed on every run and held by the session. Median of `reps` runs.
 */
async function feedCost(backend: Backend, frozen: Readonly<Record<string, HostTensor>>, reps: number): Promise<{ feeds: number; session: number; bytes: number }> {
  const big = Object.entries(frozen).filter(([, t]) => t.dims.length === 2);
  const g = new GraphBuilder('feed-cost');
  const ids = g.input('ids', 'int32', [1]);
  for (const [name, t] of big) g.output(Gather(g, g.input(name, 'float32', t.dims, 'frozen'), ids, 0), `row.${name}`);
  const graph = g.build();
  const idsT = backend.tensor({ dtype: 'int32', dims: [1], data: Int32Array.of(1) });
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const time = async (run: () => Promise<unknown>) => {
    await run();
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await run();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const fedSession = await backend.createSession(serializeGraph(graph));
  const fedFeeds = Object.fromEntries(big.map(([name, t]) => [name, backend.tensor(t)]));
  const fed = await time(() => fedSession.run({ ids: idsT, ...fedFeeds }));
  await fedSession.release();
  const views = big.map(([name, t], i) => ({ name, path: `w${i}.bin`, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
  const external = new Map(views.map((v) => [v.name, { location: v.path, offset: 0, length: v.data.byteLength }]));
  const heldSession = await backend.createSession(serializeGraph(graph, { external }), { externalData: views.map((v) => ({ path: v.path, data: v.data })) });
  const held = await time(() => heldSession.run({ ids: idsT }));
  await heldSession.release();
  return { feeds: fed, session: held, bytes: views.reduce((n, v) => n + v.data.byteLength, 0) };
}

/** Wraps a backend to count host readbacks (the step loop must do exactly one per optimizer step). */
function counting(backend: Backend): { backend: Backend; reads: () => number } {
  let reads = 0;
  return { backend: { ...backend, read: (t) => ((reads += 1), backend.read(t)) }, reads: () => reads };
}

function batch(d: LlamaDims, seed: number): Record<string, HostTensor> {
  const ids = new Int32Array(d.batch * d.seq);
  let s = seed;
  for (let i = 0; i < ids.length; i++) ids[i] = (s = (s * 1103515245 + 12345) >>> 0) % d.vocab;
  return { input_ids: { dtype: 'int32', dims: [d.batch, d.seq], data: ids }, labels: { dtype: 'int32', dims: [d.batch, d.seq], data: ids.slice() } };
}

/** Mean ms per optimizer step after warmup, and the readbacks it took. */
async function timeSteps(backend: Backend, d: LlamaDims, steps: number, warmup: number, frozenIn: 'session' | 'feeds' = 'session') {
  const graphs = buildStepGraphs(llamaForward(d), { adamw: { weightDecay: 0.01 } });
  const w = llamaWeights(d, 1);
  const counted = counting(backend);
  const session = await TrainSession.create({ backend: counted.backend, graphs, params: w.params, frozen: w.frozen, frozenIn });
  const data = batch(d, 7);
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push((await session.step([data], 1e-3)).loss);
  const before = counted.reads();
  const t0 = performance.now();
  let minMs = Infinity;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    losses.push((await session.step([data], 1e-3)).loss);
    minMs = Math.min(minMs, performance.now() - t);
  }
  const ms = (performance.now() - t0) / steps;
  const readbacks = (counted.reads() - before) / steps;
  await session.release();
  return { ms, minMs, readbacks, graphs, losses };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const d = args.dims;
  // The same graph structure with every size shrunk: its step time is per-node dispatch plus host work, i.e. the
  // host-side cost of a step, with almost no arithmetic left.
  const skeleton: LlamaDims = { ...d, batch: 1, seq: 2, hidden: 2 * d.heads, intermediate: 2, vocab: 8, rank: 1 };
  const results = [];
  for (const kind of args.backends) {
    if (kind === 'webgpu' && process.env.TABTUNE_SWIFTSHADER !== '1' && process.env.VK_ICD_FILENAMES === undefined) {
      console.log(`webgpu: skipped (run through \`node scripts/with-swiftshader.mjs\`, as npm run bench:engine does)`);
      continue;
    }
    const backend = await createNodeBackend(kind, args.threads !== undefined ? { threads: args.threads } : {});
    console.log(`${backend.label}: measuring…`);
    const peak = await matmulRate(backend, args.matmul);
    if (backend.sessionWeights === 'external' && args.frozen.length > 1) {
      const c = await feedCost(backend, llamaWeights(d, 1).frozen, 9);
      console.log(`${backend.label}: feeding ${(c.bytes / 1e6).toFixed(1)} MB of frozen weights costs ${c.feeds.toFixed(1)} ms per run; held by the session ${c.session.toFixed(1)} ms (median of 9 one-row gathers)`);
      results.push({ backend: kind, label: backend.label, feedCost: { megabytes: round(c.bytes / 1e6, 1), feedsMs: round(c.feeds, 2), sessionMs: round(c.session, 2) } });
    }
    // Where frozen weights live only matters where the backend can keep them in the session (WASM, CPU).
    for (const frozenIn of backend.sessionWeights ? args.frozen : (['session'] as const)) {
      const main = await timeSteps(backend, d, args.steps, args.warmup, frozenIn);
      const host = await timeSteps(backend, skeleton, args.steps, args.warmup, frozenIn);
      const flops = matmulFlops(main.graphs.train);
      const achieved = flops / (main.ms / 1000);
      const r = {
        backend: kind,
        label: backend.sessionWeights ? `${backend.label}, frozen weights in ${frozenIn === 'session' ? 'the session' : 'the feeds'}` : backend.label,
        frozenIn: backend.sessionWeights ? frozenIn : 'device or feeds',
        msPerStep: round(main.ms, 1),
        // The fastest step: on a shared machine the least disturbed by other work.
        minMsPerStep: round(main.minMs, 1),
        tokensPerSec: Math.round((d.batch * d.seq) / (main.ms / 1000)),
        nodesPerStepGraph: summarizeGraph(main.graphs.train).nodes,
        hostMsPerStep: round(host.ms, 1),
        hostFraction: round(host.ms / main.ms, 3),
        readbacksPerStep: main.readbacks,
        stepMatmulGflop: round(flops / 1e9, 2),
        achievedGflops: round(achieved / 1e9, 2),
        largeMatmulGflops: round(peak / 1e9, 2),
        efficiency: round(achieved / peak, 3),
        lossFirst: round(main.losses[0]!, 4),
        lossLast: round(main.losses[main.losses.length - 1]!, 4),
      };
      results.push(r);
      console.log(
        `${r.label}: ${r.msPerStep} ms/step (fastest ${r.minMsPerStep}), ${r.tokensPerSec} tokens/s, ${r.nodesPerStepGraph} nodes, host ${r.hostMsPerStep} ms/step ` +
          `(${(100 * r.hostFraction).toFixed(1)}%), ${r.readbacksPerStep} readback/step, ${r.achievedGflops} GFLOP/s of ${r.stepMatmulGflop} GFLOP ` +
          `vs ${r.largeMatmulGflops} GFLOP/s large MatMul → efficiency ${r.efficiency}`,
      );
    }
    await backend.release();
  }
  const report = { bench: 'engine', config: { ...d, steps: args.steps, warmup: args.warmup, matmulSize: args.matmul }, results };
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
