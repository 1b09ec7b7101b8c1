// PyTorch CPU eager comparison (`npm run bench:torch [-- --backends cpu,wasm,browser --threads N --rounds R --json FILE
// --profile cpu,wasm ...]`): the LoRA train step of a LlamaForCausalLM built by the product's own graph builder
// (src/train/graphs.ts, the graphs the CLI and the app run for that backend) on onnxruntime-node's CPU EP (`cpu`),
// onnxruntime-web's WASM in Node (`wasm`) and in a Web Worker of Chromium (`browser`, bench/torch-browser.ts), and,
// asked for by name, onnxruntime-node's WebGPU EP (`webgpu`: start it through scripts/with-swiftshader.mjs on a
// machine without a GPU; pair it with `--torch-device cuda` on one with an NVIDIA GPU), and the same step in PyTorch eager
// (bench/torch_step.py) at the same shapes, seeded weights, batch, AdamW, clipping and thread count. Every round runs
// PyTorch, then each backend, from fresh weights, and asserts the losses agree. Each ratio is the median over the
// rounds of that round's PyTorch time over the backend's: the two are measured seconds apart, so a slow minute of a
// shared machine moves one round, not the ratio. Optional, never part of `npm test`: needs Debian's python3-torch and
// libopenblas0-pthread (with the reference BLAS PyTorch is about 10× slower and the ratio means nothing; the BLAS
// PyTorch loaded is printed) and, for `browser`, Debian's chromium.
import { readFlags } from './flags.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { CHROMIUM_PATH } from '../e2e/chromium.ts';
import { startBrowserBench, type BrowserBench } from './torch-browser.ts';
import { printProfile, profileStep, type StepProfile } from './torch-profile.ts';
import { ADAMW, LR, RMS_EPS, ROPE_THETA, setup, timeSteps, type Dims, type Setup, type Timing } from './torch-model.ts';

const PYTHON = process.env.TABTUNE_PYTHON ?? '/usr/bin/python3';
/** The first loss is a forward pass only: float32 sums in another order. Later ones follow a few AdamW updates. */
const FIRST_LOSS_TOL = 1e-5;
const LOSS_TOL = 1e-3;

type Path = 'cpu' | 'wasm' | 'browser' | 'webgpu';
const PATHS: readonly Path[] = ['cpu', 'wasm', 'browser', 'webgpu'];

interface Args {
  dims: Dims;
  backends: Path[];
  threads: number;
  steps: number;
  /**
   * Untimed steps first, so the timed ones are the steady state a run trains at (the first steps are bench:browser's
   * time to first step). A fresh onnxruntime-web module takes five to seven steps to get there, in Node and in each
   * round's new Chromium worker, while V8 tiers its kernels up from baseline code: 607, 542, 470, 452, 283,
   * 289, then 232 ms here (the JSON's stepMs). With `--chromium-args=--js-flags=--no-liftoff` (all optimised up front)
   * the second step is already steady. With four warm-up steps the mean counted two of the slow ones.
   */
  warmup: number;
  rounds: number;
  /** Where PyTorch runs: 'cpu' (the targets' comparison) or 'cuda' (beside `webgpu` on a machine with a GPU). */
  torchDevice: 'cpu' | 'cuda';
  /** Node paths to profile with ORT's per-node profiler after the rounds (torch-profile.ts). */
  profile: ('cpu' | 'wasm')[];
  /**
   * Extra Chromium flags for the browser path, space-separated (`--chromium-args=--js-flags=--no-liftoff`: V8 compiles
   * every WASM function optimised up front, which shows what the slow first steps and the gap to Node are made of).
   */
  chromiumArgs: string[];
  json?: string;
}

function torchDevice(s: string): Args['torchDevice'] {
  if (s !== 'cpu' && s !== 'cuda') throw new Error(`--torch-device: "${s}" is not cpu or cuda`);
  return s;
}

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['json', 'profile', 'chromium-args', 'backends', 'threads', 'steps', 'warmup', 'rounds', 'torch-device', 'batch', 'seq', 'hidden', 'layers', 'heads', 'kv-heads', 'intermediate', 'vocab', 'rank']);
  const int = flags.int;
  const dims: Dims = {
    batch: int('batch', 4), seq: int('seq', 128), hidden: int('hidden', 256), layers: int('layers', 4), heads: int('heads', 4), kvHeads: int('kv-heads', 4),
    intermediate: int('intermediate', 688), vocab: int('vocab', 4096), rank: int('rank', 8),
  };
  // By default every path; the browser one only where Chromium is installed (asked for by name, a missing one fails).
  const chromium = existsSync(CHROMIUM_PATH);
  if (!flags.get('backends') && !chromium) console.log(`no Chromium at ${CHROMIUM_PATH}: the browser path is left out`);
  const backends = (flags.get('backends') ?? (chromium ? 'cpu,wasm,browser' : 'cpu,wasm')).split(',');
  for (const b of backends) if (!PATHS.includes(b as Path)) throw new Error(`--backends: "${b}" is not one of ${PATHS.join(', ')}`);
  const json = flags.get('json');
  const profile = (flags.get('profile') ?? '').split(',').filter(Boolean);
  for (const p of profile) if (p !== 'cpu' && p !== 'wasm') throw new Error(`--profile: "${p}" is not cpu or wasm (the Node paths ORT can profile)`);
  return {
    dims, backends: backends as Args['backends'], threads: int('threads', availableParallelism()), steps: int('steps', 5), warmup: int('warmup', 8),
    rounds: int('rounds', 3), torchDevice: torchDevice(flags.get('torch-device') ?? 'cpu'), profile: profile as Args['profile'],
    chromiumArgs: (flags.get('chromium-args') ?? '').split(' ').filter(Boolean), ...(json ? { json } : {}),
  };
}

/** Writes weights, LoRA tensors and the batch for torch_step.py: manifest.json + one tensors.bin. */
function writeInputs(dir: string, a: Args, s: Setup): void {
  const all: [string, HostTensor][] = [
    ...Object.entries(s.frozen),
    ...s.plan.targets.flatMap((t): [string, HostTensor][] => [
      [t.keyA, { dtype: 'float32', dims: [a.dims.rank, t.inFeatures], data: s.params[t.keyA]! }],
      [t.keyB, { dtype: 'float32', dims: [t.outFeatures, a.dims.rank], data: s.params[t.keyB]! }],
    ]),
    ['input_ids', s.batch.input_ids!],
    ['labels', s.batch.labels!],
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
  const d = a.dims;
  const manifest = {
    config: { heads: d.heads, kvHeads: d.kvHeads, headDim: d.hidden / d.heads, layers: d.layers, eps: RMS_EPS, ropeTheta: ROPE_THETA },
    device: a.torchDevice, threads: a.threads, steps: a.steps, warmup: a.warmup, lr: LR, weightDecay: ADAMW.weightDecay, maxGradNorm: ADAMW.maxGradNorm,
    loraScale: s.plan.scale, lora: s.plan.targets.map((t) => ({ module: t.module, keyA: t.keyA, keyB: t.keyB })),
    trainable: Object.keys(s.params), tensors: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

function torchRun(dir: string, threads: number): Timing & { threads: number; torch: string; blas: string[]; device: string } {
  // GNU OpenMP's idle threads spin by default. With as many threads as cores they starve OpenBLAS's own pthreads:
  // 2 threads measured 382 ms per step spinning against 119 ms passive here. Passive waiting is PyTorch at its best.
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  let out: string;
  try {
    out = execFileSync(PYTHON, [join(import.meta.dirname, 'torch_step.py'), dir], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (err) {
    throw new Error(`PyTorch reference failed (${PYTHON} bench/torch_step.py); is python3-torch installed? ${(err as Error).message}`, { cause: err });
  }
  const r = JSON.parse(out.trim().split('\n').pop()!) as { losses: number[]; msPerStep: number; fastestMs: number; stepMs: number[]; threads: number; torch: string; blas: string[]; device: string };
  return { losses: r.losses, ms: r.msPerStep, fastest: r.fastestMs, stepMs: r.stepMs, threads: r.threads, torch: r.torch, blas: r.blas, device: r.device };
}

async function ortRun(path: Path, a: Args, s: Setup, browser: BrowserBench | null): Promise<Timing & { label: string; nodes: number }> {
  if (path === 'browser') return browser!.run({ dims: a.dims, threads: a.threads, warmup: a.warmup, steps: a.steps });
  const backend = await createNodeBackend(path, { threads: a.threads });
  try {
    return { label: backend.label, ...(await timeSteps(backend, path, s, a.warmup, a.steps)) };
  } finally {
    await backend.release();
  }
}

function checkLosses(what: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} losses, PyTorch has ${want.length}`);
  got.forEach((x, i) => {
    const rel = Math.abs(x - want[i]!) / Math.abs(want[i]!);
    const tol = i === 0 ? FIRST_LOSS_TOL : LOSS_TOL;
    if (!(rel <= tol)) throw new Error(`${what}: loss of step ${i + 1} is ${x}, PyTorch's ${want[i]} (relative difference ${rel.toExponential(2)} > ${tol})`);
  });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(PYTHON)) throw new Error(`no Python at ${PYTHON}: install Debian's python3-torch and libopenblas0-pthread, or set TABTUNE_PYTHON`);
  const d = a.dims;
  const s = setup(d);
  const tokens = d.batch * d.seq;
  const dir = mkdtempSync(join(tmpdir(), 'tabtune-torch-'));
  const paths = ['torch', ...a.backends] as const;
  const rounds: Record<string, Timing[]> = Object.fromEntries(paths.map((p) => [p, []]));
  const labels: Record<string, string> = {};
  const nodes: Record<string, number> = {};
  const browser = a.backends.includes('browser') ? await startBrowserBench(a.chromiumArgs) : null;
  try {
    writeInputs(dir, a, s);
    console.log(
      `LlamaForCausalLM (src/train/graphs.ts): batch ${d.batch} × seq ${d.seq}, hidden ${d.hidden}, ${d.layers} layers, vocab ${d.vocab}, untied head, ` +
        `LoRA r=${d.rank} on 7 projections; ${a.threads} thread(s); ${a.rounds} round(s) of ${a.warmup} warm-up + ${a.steps} timed steps`,
    );
    for (let r = 1; r <= a.rounds; r++) {
      const torch = torchRun(dir, a.threads);
      if (r === 1) {
        labels.torch =
          a.torchDevice === 'cuda'
            ? `PyTorch ${torch.torch} CUDA eager (${torch.device}, float32 without TF32)`
            : `PyTorch ${torch.torch} CPU eager (${torch.threads} thread(s), BLAS ${torch.blas.join(', ') || 'none found'})`;
        if (a.torchDevice === 'cpu' && !torch.blas.some((b) => /openblas/.test(b))) console.log('warning: PyTorch did not load OpenBLAS; install libopenblas0-pthread or the ratio means nothing');
      }
      rounds.torch!.push(torch);
      const line = [`round ${r}: PyTorch ${torch.ms.toFixed(1)} ms`];
      for (const kind of a.backends) {
        const o = await ortRun(kind, a, s, browser);
        checkLosses(o.label, o.losses, torch.losses);
        labels[kind] = o.label;
        nodes[kind] = o.nodes;
        rounds[kind]!.push(o);
        line.push(`${kind} ${o.ms.toFixed(1)} ms`);
      }
      console.log(`${line.join(', ')} per step; losses agree (last ${torch.losses.at(-1)!.toFixed(5)})`);
    }
  } finally {
    await browser?.close();
    if (process.env.TABTUNE_KEEP_TORCH_DIR) console.log(`inputs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const summary = paths.map((p) => {
    const ms = median(rounds[p]!.map((t) => t.ms));
    return { path: p, label: labels[p]!, msPerStep: ms, fastestMs: Math.min(...rounds[p]!.map((t) => t.fastest)), tokensPerSec: tokens / (ms / 1000) };
  });
  const torch = summary[0]!;
  console.log(`${torch.label}: ${torch.msPerStep.toFixed(1)} ms/step (fastest ${torch.fastestMs.toFixed(1)}), ${Math.round(torch.tokensPerSec)} tokens/s`);
  const results = summary.slice(1).map((r) => {
    const ratio = median(rounds[r.path]!.map((t, i) => rounds.torch![i]!.ms / t.ms));
    // On a shared machine the fastest steps are the least disturbed: their ratio is the steadier figure.
    const fastestRatio = torch.fastestMs / r.fastestMs;
    console.log(`${r.label}, ${nodes[r.path]} nodes: ${r.msPerStep.toFixed(1)} ms/step (fastest ${r.fastestMs.toFixed(1)}), ${Math.round(r.tokensPerSec)} tokens/s, ${ratio.toFixed(2)}× PyTorch (median of the rounds), fastest steps ${fastestRatio.toFixed(2)}×`);
    return { backend: r.path, label: r.label, nodes: nodes[r.path], msPerStep: r.msPerStep, fastestMs: r.fastestMs, tokensPerSec: r.tokensPerSec, ratioToTorch: ratio, fastestRatioToTorch: fastestRatio };
  });
  const profiles: StepProfile[] = [];
  for (const kind of a.profile) {
    const p = profileStep(kind, a.dims, a.threads, a.warmup, a.steps);
    printProfile(p);
    profiles.push(p);
  }
  if (a.json) {
    writeFileSync(a.json, `${JSON.stringify({ bench: 'torch', dims: d, threads: a.threads, steps: a.steps, warmup: a.warmup, rounds, torch, results, profiles }, null, 2)}\n`);
    console.log(`wrote ${a.json}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
