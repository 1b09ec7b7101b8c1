// PyTorch CPU eager comparison (`npm run bench:torch [-- --backends cpu,wasm --threads N --json FILE ...]`): the
// Llama-shaped LoRA train step of bench/engine.ts on onnxruntime-node's CPU EP and onnxruntime-web's WASM, and the
// same step in PyTorch eager (bench/torch_step.py) at the same shapes, seeded weights, batch, AdamW, clipping and
// thread count. Asserts the losses agree, then prints tokens/s of each and the ratio to PyTorch. Optional, never part
// of `npm test`: needs Debian's python3-torch and libopenblas0-pthread (with the reference BLAS PyTorch is about 10×
// slower and the ratio means nothing; the BLAS PyTorch loaded is printed).
import { readFlags } from './flags.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStepGraphs } from '../src/engine/step.ts';
import type { HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession } from '../src/runtime/train-session.ts';
import { llamaForward, llamaWeights, type LlamaDims } from './llama-forward.ts';

const PYTHON = process.env.TABTUNE_PYTHON ?? '/usr/bin/python3';
const LR = 1e-3;
const WEIGHT_DECAY = 0.01;
const MAX_GRAD_NORM = 1.0;
/** The first loss is a forward pass only: float32 sums in another order. Later ones follow a few AdamW updates. */
const FIRST_LOSS_TOL = 1e-5;
const LOSS_TOL = 1e-3;

interface Args {
  dims: LlamaDims;
  backends: ('cpu' | 'wasm')[];
  threads: number;
  steps: number;
  warmup: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['json', 'backends', 'threads', 'steps', 'warmup', 'batch', 'seq', 'hidden', 'layers', 'heads', 'kv-heads', 'intermediate', 'vocab', 'rank']);
  const int = flags.int;
  const dims: LlamaDims = {
    batch: int('batch', 4), seq: int('seq', 128), hidden: int('hidden', 256), layers: int('layers', 4), heads: int('heads', 4), kvHeads: int('kv-heads', 4),
    intermediate: int('intermediate', 688), vocab: int('vocab', 4096), rank: int('rank', 8), alpha: 16,
  };
  const backends = (flags.get('backends') ?? 'cpu,wasm').split(',');
  for (const b of backends) if (b !== 'cpu' && b !== 'wasm') throw new Error(`--backends: "${b}" is not a CPU backend (cpu, wasm)`);
  const json = flags.get('json');
  return { dims, backends: backends as Args['backends'], threads: int('threads', availableParallelism()), steps: int('steps', 5), warmup: int('warmup', 2), ...(json ? { json } : {}) };
}

function batch(d: LlamaDims, seed: number): Record<string, HostTensor> {
  const ids = new Int32Array(d.batch * d.seq);
  let s = seed;
  for (let i = 0; i < ids.length; i++) ids[i] = (s = (s * 1103515245 + 12345) >>> 0) % d.vocab;
  return { input_ids: { dtype: 'int32', dims: [d.batch, d.seq], data: ids }, labels: { dtype: 'int32', dims: [d.batch, d.seq], data: ids.slice() } };
}

/** Writes weights, parameters and the batch for torch_step.py: manifest.json + one tensors.bin. */
function writeInputs(dir: string, a: Args, w: ReturnType<typeof llamaWeights>, data: Record<string, HostTensor>): void {
  const all: [string, HostTensor][] = [
    ...Object.entries(w.frozen),
    ...Object.entries(w.params).map(([k, v]): [string, HostTensor] => [k, { dtype: 'float32', dims: [v.length], data: v }]),
    ...Object.entries(data),
  ];
  const entries: { name: string; dtype: string; dims: readonly number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, t] of all) {
    entries.push({ name, dtype: t.dtype, dims: t.dims, offset, length: t.data.byteLength });
    offset += t.data.byteLength;
  }
  const bytes = new Uint8Array(offset);
  all.forEach(([, t], i) => bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), entries[i]!.offset));
  writeFileSync(join(dir, 'tensors.bin'), bytes);
  // LoRA tensors travel flat; their real shapes come from the dims.
  const shapes = Object.fromEntries(buildStepGraphs(llamaForward(a.dims), { adamw: { weightDecay: WEIGHT_DECAY } }).trainable.map((s) => [s.name, s.shape]));
  for (const e of entries) if (shapes[e.name]) e.dims = shapes[e.name]!;
  const manifest = {
    dims: a.dims, threads: a.threads, steps: a.steps, warmup: a.warmup, lr: LR, weightDecay: WEIGHT_DECAY, maxGradNorm: MAX_GRAD_NORM,
    trainable: Object.keys(w.params), tensors: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

async function ortRun(kind: 'cpu' | 'wasm', a: Args, w: ReturnType<typeof llamaWeights>, data: Record<string, HostTensor>) {
  const backend = await createNodeBackend(kind, { threads: a.threads });
  const graphs = buildStepGraphs(llamaForward(a.dims), { adamw: { weightDecay: WEIGHT_DECAY, maxGradNorm: MAX_GRAD_NORM } });
  const session = await TrainSession.create({ backend, graphs, params: w.params, frozen: w.frozen });
  const losses: number[] = [];
  for (let i = 0; i < a.warmup; i++) losses.push((await session.step([data], LR)).loss);
  const t0 = performance.now();
  let fastest = Infinity;
  for (let i = 0; i < a.steps; i++) {
    const t = performance.now();
    losses.push((await session.step([data], LR)).loss);
    fastest = Math.min(fastest, performance.now() - t);
  }
  const ms = (performance.now() - t0) / a.steps;
  await session.release();
  await backend.release();
  return { label: backend.label, losses, ms, fastest };
}

function checkLosses(what: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} losses, PyTorch has ${want.length}`);
  got.forEach((x, i) => {
    const rel = Math.abs(x - want[i]!) / Math.abs(want[i]!);
    const tol = i === 0 ? FIRST_LOSS_TOL : LOSS_TOL;
    if (!(rel <= tol)) throw new Error(`${what}: loss of step ${i + 1} is ${x}, PyTorch's ${want[i]} (relative difference ${rel.toExponential(2)} > ${tol})`);
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(PYTHON)) throw new Error(`no Python at ${PYTHON}: install Debian's python3-torch and libopenblas0-pthread, or set TABTUNE_PYTHON`);
  const d = a.dims;
  const w = llamaWeights(d, 1);
  const data = batch(d, 7);
  const dir = mkdtempSync(join(tmpdir(), 'tabtune-torch-'));
  try {
    writeInputs(dir, a, w, data);
    const tokens = d.batch * d.seq;
    console.log(`shape: batch ${d.batch} × seq ${d.seq}, hidden ${d.hidden}, ${d.layers} layers, vocab ${d.vocab}, LoRA r=${d.rank} on 7 projections; ${a.threads} threads; ${a.warmup} warmup + ${a.steps} timed steps`);
    const env = { ...process.env, OMP_NUM_THREADS: String(a.threads), OPENBLAS_NUM_THREADS: String(a.threads) };
    let out: string;
    try {
      out = execFileSync(PYTHON, [join(import.meta.dirname, 'torch_step.py'), dir], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    } catch (err) {
      throw new Error(`PyTorch reference failed (${PYTHON} bench/torch_step.py); is python3-torch installed? ${(err as Error).message}`, { cause: err });
    }
    const torch = JSON.parse(out.trim().split('\n').pop()!) as { losses: number[]; msPerStep: number; fastestMs: number; threads: number; torch: string; blas: string[] };
    const torchTps = tokens / (torch.msPerStep / 1000);
    console.log(`PyTorch ${torch.torch} CPU eager (${torch.threads} threads, BLAS ${torch.blas.join(', ') || 'none found'}): ${torch.msPerStep.toFixed(1)} ms/step (fastest ${torch.fastestMs.toFixed(1)}), ${Math.round(torchTps)} tokens/s`);
    if (!torch.blas.some((b) => /openblas/.test(b))) console.log('warning: PyTorch did not load OpenBLAS; install libopenblas0-pthread or the ratio means nothing');
    const results = [];
    for (const kind of a.backends) {
      const r = await ortRun(kind, a, w, data);
      checkLosses(r.label, r.losses, torch.losses);
      const tps = tokens / (r.ms / 1000);
      const ratio = tps / torchTps;
      // On a shared machine the fastest steps are the least disturbed: their ratio is the steadier figure.
      const fastestRatio = torch.fastestMs / r.fastest;
      console.log(`${r.label}: ${r.ms.toFixed(1)} ms/step (fastest ${r.fastest.toFixed(1)}), ${Math.round(tps)} tokens/s, ${ratio.toFixed(2)}× PyTorch, fastest steps ${fastestRatio.toFixed(2)}× (losses agree: first ${r.losses[0]!.toFixed(5)} vs ${torch.losses[0]!.toFixed(5)}, last ${r.losses.at(-1)!.toFixed(5)} vs ${torch.losses.at(-1)!.toFixed(5)})`);
      results.push({ backend: kind, label: r.label, msPerStep: r.ms, fastestMs: r.fastest, tokensPerSec: tps, ratioToTorch: ratio, fastestRatioToTorch: fastestRatio, losses: r.losses });
    }
    if (a.json) {
      writeFileSync(a.json, `${JSON.stringify({ bench: 'torch', dims: d, threads: a.threads, steps: a.steps, warmup: a.warmup, torch: { ...torch, tokensPerSec: torchTps }, results }, null, 2)}\n`);
      console.log(`wrote ${a.json}`);
    }
  } finally {
    if (process.env.TABTUNE_KEEP_TORCH_DIR) console.log(`inputs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
