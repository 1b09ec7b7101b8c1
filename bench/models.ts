// Model-load benchmark (`npm run bench:models [-- --backend wasm|webgpu|both] [--json FILE]`): for a checkpoint with
// SmolLM2-135M's shapes (random BF16 weights from scripts/fixtures/bench-checkpoint.ts, served by the test Hub mirror)
// it times "load" (resolve the revision) to the end of the first LoRA training step, phase by phase, and samples the
// JS heap (heapUsed, arrayBuffers) against the weight bytes. Each backend runs in its own child process so one
// backend's garbage and WASM heap do not count against the other. Goals (reported, not enforced): graph build +
// session creation ≤ 5 s on WebGPU; peak heap ≤ 1.5× the weight bytes.
import { readFlags } from './flags.ts';
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { serializeGraph } from '../src/engine/onnx.ts';
import { summarizeGraph } from '../src/engine/summary.ts';
import { hubConfig } from '../src/hub/index.ts';
import { initLoraWeights, planLora } from '../src/models/lora.ts';
import type { Backend, BackendKind } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession, type Batch } from '../src/runtime/train-session.ts';
import { buildTrainGraphs, frozenTensors, hubSource, loadModel, loadTokenizerFrom, paddingId } from '../src/train/index.ts';
import { BENCH_HUB_DIR, BENCH_REPO, writeBenchCheckpoint } from '../scripts/fixtures/bench-checkpoint.ts';
import { startMirror } from '../test/hub-mirror/server.ts';

interface Args {
  backends: BackendKind[];
  batch: number;
  seq: number;
  rank: number;
  json?: string;
  /** Internal: run one backend in this process against the mirror at this URL; prints its result as JSON. */
  child?: string;
}

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['backend', 'json', 'batch', 'seq', 'rank', 'child']);
  const int = flags.int;
  const b = flags.get('backend') ?? 'both';
  if (!['wasm', 'webgpu', 'both'].includes(b)) throw new Error(`--backend must be wasm, webgpu or both, got "${b}"`);
  const json = flags.get('json');
  const child = flags.get('child');
  return {
    backends: b === 'both' ? ['wasm', 'webgpu'] : [b as BackendKind],
    // Small defaults: the step itself is not what this measures, and 2 CPU cores run SwiftShader.
    batch: int('batch', 1), seq: int('seq', 64), rank: int('rank', 8), ...(child ? { child } : {}), ...(json ? { json } : {}),
  };
}

/** Peak of the JS heap seen by a timer plus explicit samples at phase boundaries (synchronous phases block the timer). */
class HeapSampler {
  peakHeapUsed = 0;
  peakArrayBuffers = 0;
  /** Largest heapUsed + arrayBuffers in one sample: the JS-visible bytes at that moment. */
  peakTotal = 0;
  peakAt = '';
  private phase = 'start';
  private timer: ReturnType<typeof setInterval> | undefined;

  start(): void {
    this.timer = setInterval(() => this.sample(), 5);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  enter(phase: string): void {
    this.sample();
    this.phase = phase;
  }

  sample(): void {
    const m = process.memoryUsage();
    this.peakHeapUsed = Math.max(this.peakHeapUsed, m.heapUsed);
    this.peakArrayBuffers = Math.max(this.peakArrayBuffers, m.arrayBuffers);
    if (m.heapUsed + m.arrayBuffers > this.peakTotal) {
      this.peakTotal = m.heapUsed + m.arrayBuffers;
      this.peakAt = this.phase;
    }
  }
}

export interface BackendResult {
  backend: BackendKind;
  label: string;
  batch: number;
  seq: number;
  rank: number;
  /** Bytes of model.safetensors on the mirror (BF16) and of the weights as loaded (F32). */
  fileBytes: number;
  weightBytesF32: number;
  ms: { resolveDownloadParse: number; tokenizer: number; graphBuild: number; serialisation: number; sessionCreation: number; firstStep: number; total: number };
  onnxBytes: number;
  graphNodes: number;
  peak: { heapUsed: number; arrayBuffers: number; total: number; phase: string; maxRss: number; v8TotalHeap: number; v8MallocedPeak: number };
  loss: number;
}

/** Runs in the child process; the mirror lives in the parent so its file hashing and buffers stay out of this heap. */
async function runOne(args: Args, mirrorUrl: string, backendKind: BackendKind): Promise<BackendResult> {
  const heap = new HeapSampler();
  heap.start();
  let backend: Backend | null = null;
  try {
    const hub = hubConfig(mirrorUrl);
    const time = async <T>(phase: string, f: () => T | Promise<T>): Promise<[T, number]> => {
      heap.enter(phase);
      const t0 = performance.now();
      const r = await f();
      const ms = performance.now() - t0;
      heap.sample();
      return [r, ms];
    };
    const t0 = performance.now();
    const [model, loadMs] = await time('resolve+download+parse', async () => loadModel(await hubSource(hub, BENCH_REPO, 'main')));
    const [tok, tokMs] = await time('tokenizer', async () => loadTokenizerFrom(await hubSource(hub, BENCH_REPO, 'main')));
    const plan = planLora(model.config, { r: args.rank, alpha: 2 * args.rank, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
    const shape = { batch: args.batch, seqLen: args.seq };
    const [graphs, buildMs] = await time('graph build', () =>
      buildTrainGraphs(model.config, plan, shape, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 }),
    );
    // TrainSession.create serialises the three graphs itself; serialising them once here times that part on its own,
    // and session creation is reported net of it.
    const [onnxBytes, serMs] = await time('serialisation', () =>
      [graphs.train, graphs.accumulate, graphs.eval].reduce((n, g) => n + serializeGraph(g).byteLength, 0),
    );
    const [session, createMs] = await time('session creation', async () => {
      backend = await createNodeBackend(backendKind);
      return TrainSession.create({ backend, graphs, params: Object.fromEntries(initLoraWeights(plan, 42)), frozen: frozenTensors(model, graphs) });
    });
    const [metrics, stepMs] = await time('first step', () => session.step([benchBatch(tok.tokenizer, args.batch, args.seq, paddingId(tok.tokenizer))], 1e-3));
    const total = performance.now() - t0;
    heap.stop();
    const stats = v8.getHeapStatistics();
    const result: BackendResult = {
      backend: backendKind,
      label: (backend as Backend | null)?.label ?? backendKind,
      batch: args.batch,
      seq: args.seq,
      rank: args.rank,
      fileBytes: statSync(join(BENCH_HUB_DIR, BENCH_REPO, 'model.safetensors')).size,
      weightBytesF32: [...model.weights.values()].reduce((n, w) => n + w.byteLength, 0),
      ms: { resolveDownloadParse: loadMs, tokenizer: tokMs, graphBuild: buildMs, serialisation: serMs, sessionCreation: Math.max(0, createMs - serMs), firstStep: stepMs, total },
      onnxBytes,
      // Counted like the batch inspector's graph summary (same function), so the two report the same number.
      graphNodes: summarizeGraph(graphs.train).nodes,
      peak: {
        heapUsed: heap.peakHeapUsed, arrayBuffers: heap.peakArrayBuffers, total: heap.peakTotal, phase: heap.peakAt,
        maxRss: process.resourceUsage().maxRSS * 1024, v8TotalHeap: stats.total_heap_size, v8MallocedPeak: stats.peak_malloced_memory,
      },
      loss: metrics.loss,
    };
    await session.release();
    return result;
  } finally {
    heap.stop();
    await (backend as Backend | null)?.release();
  }
}

/** One batch of real tokens: a fixed English paragraph, tokenized and repeated to fill every row (all positions train). */
function benchBatch(tokenizer: { encode(t: string, o: { addSpecialTokens: boolean }): number[] }, batch: number, seq: number, padId: number): Batch {
  const text = 'The quick brown fox jumps over the lazy dog while the model learns a small adapter in a browser tab. ';
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  const n = batch * seq;
  const input = new Int32Array(n);
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    input[i] = ids[i % ids.length] ?? padId;
    positions[i] = i % seq;
  }
  const dims = [batch, seq];
  return {
    input_ids: { dtype: 'int32', dims, data: input },
    position_ids: { dtype: 'int32', dims, data: positions },
    attention_mask: { dtype: 'int32', dims, data: new Int32Array(n).fill(1) },
    labels: { dtype: 'int32', dims, data: input.slice() },
  };
}

const MB = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
const S = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function report(r: BackendResult): string {
  const m = r.ms;
  const buildPlusSession = m.graphBuild + m.serialisation + m.sessionCreation;
  return [
    `${r.label}: batch ${r.batch} × seq ${r.seq}, LoRA r=${r.rank} on q,k,v,o; ${r.graphNodes} nodes in the train graph, ${MB(r.onnxBytes)} of ONNX (3 graphs)`,
    `  resolve+download+parse ${S(m.resolveDownloadParse)} | tokenizer ${S(m.tokenizer)} | graph build ${S(m.graphBuild)} | serialisation ${S(m.serialisation)} | session creation ${S(m.sessionCreation)} | first step ${S(m.firstStep)} | total ${S(m.total)}`,
    `  graph build + serialisation + session creation: ${S(buildPlusSession)}${r.backend === 'webgpu' ? ` (goal ≤ 5 s: ${buildPlusSession <= 5000 ? 'met' : 'NOT met'})` : ''}`,
    `  weights: ${MB(r.fileBytes)} BF16 file, ${MB(r.weightBytesF32)} as F32`,
    `  peak JS heap: heapUsed ${MB(r.peak.heapUsed)}, arrayBuffers ${MB(r.peak.arrayBuffers)}, together ${MB(r.peak.total)} (during ${r.peak.phase}) = ` +
      `${(r.peak.total / r.weightBytesF32).toFixed(2)}× the F32 weight bytes (goal ≤ 1.5×: ${r.peak.total <= 1.5 * r.weightBytesF32 ? 'met' : 'NOT met'})`,
    `  max RSS ${MB(r.peak.maxRss)}; v8 total heap at the end ${MB(r.peak.v8TotalHeap)}, peak malloced ${MB(r.peak.v8MallocedPeak)}; first loss ${r.loss.toFixed(4)}`,
  ].join('\n');
}

/** Asynchronous spawn: the parent's event loop must keep serving the mirror while the child downloads from it. */
function runChild(cmd: string, argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    const r = await runOne(args, args.child, args.backends[0]!);
    process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const written = writeBenchCheckpoint();
  process.stdout.write(`checkpoint ${written.repo}@${written.sha.slice(0, 10)}: ${MB(written.weightBytes)} model.safetensors\n`);
  const mirror = await startMirror({ root: BENCH_HUB_DIR });
  const self = fileURLToPath(import.meta.url);
  const tsx = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules/.bin/tsx');
  const results: BackendResult[] = [];
  try {
    for (const b of args.backends) {
      process.stdout.write(`running ${b} …\n`);
      const forward = ['--batch', String(args.batch), '--seq', String(args.seq), '--rank', String(args.rank)];
      const child = await runChild(existsSync(tsx) ? tsx : 'tsx', [self, '--child', mirror.url, '--backend', b, ...forward]);
      const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (child.status !== 0 || !line) {
        process.stderr.write(`${b} failed (exit ${child.status}):\n${child.stderr}${child.stdout}\n`);
        process.exitCode = 1;
        continue;
      }
      const r = JSON.parse(line.slice('RESULT '.length)) as BackendResult;
      results.push(r);
      process.stdout.write(`${report(r)}\n`);
    }
  } finally {
    await mirror.close();
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ checkpoint: BENCH_REPO, results }, null, 2)}\n`);
}

await main();
