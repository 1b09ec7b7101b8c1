// PyTorch CPU eager comparison (`npm run bench:torch [-- --backends cpu,wasm --threads N --rounds R --json FILE ...]`):
// the LoRA train step of a LlamaForCausalLM built by the product's own graph builder (src/train/graphs.ts, the graphs
// the CLI and the app run for that backend) on onnxruntime-node's CPU EP and onnxruntime-web's WASM, and the same
// step in PyTorch eager (bench/torch_step.py) at the same shapes, seeded weights, batch, AdamW, clipping and thread
// count. Every round runs PyTorch, then each backend, from fresh weights, and asserts the losses agree; the figures
// are medians over the rounds, so a slow moment of a shared machine moves one round, not the ratio. Optional, never
// part of `npm test`: needs Debian's python3-torch and libopenblas0-pthread (with the reference BLAS PyTorch is about
// 10× slower and the ratio means nothing; the BLAS PyTorch loaded is printed).
import { readFlags } from './flags.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../src/models/config.ts';
import { planLora, type LoraPlan } from '../src/models/lora.ts';
import { weightTable } from '../src/models/weights.ts';
import type { HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession, type Batch } from '../src/runtime/train-session.ts';
import { buildTrainGraphs, graphBuildFor } from '../src/train/graphs.ts';

const PYTHON = process.env.TABTUNE_PYTHON ?? '/usr/bin/python3';
const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1.0 };
const LR = 1e-3;
const ROPE_THETA = 10000;
const RMS_EPS = 1e-5;
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
/** The first loss is a forward pass only: float32 sums in another order. Later ones follow a few AdamW updates. */
const FIRST_LOSS_TOL = 1e-5;
const LOSS_TOL = 1e-3;

interface Dims {
  batch: number;
  seq: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  rank: number;
}

interface Args {
  dims: Dims;
  backends: ('cpu' | 'wasm')[];
  threads: number;
  steps: number;
  /** Untimed steps first: WASM grows its heap over its first three steps here (about 660, 530, 480 ms, then 230). */
  warmup: number;
  rounds: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const flags = readFlags(argv, ['json', 'backends', 'threads', 'steps', 'warmup', 'rounds', 'batch', 'seq', 'hidden', 'layers', 'heads', 'kv-heads', 'intermediate', 'vocab', 'rank']);
  const int = flags.int;
  const dims: Dims = {
    batch: int('batch', 4), seq: int('seq', 128), hidden: int('hidden', 256), layers: int('layers', 4), heads: int('heads', 4), kvHeads: int('kv-heads', 4),
    intermediate: int('intermediate', 688), vocab: int('vocab', 4096), rank: int('rank', 8),
  };
  const backends = (flags.get('backends') ?? 'cpu,wasm').split(',');
  for (const b of backends) if (b !== 'cpu' && b !== 'wasm') throw new Error(`--backends: "${b}" is not a CPU backend (cpu, wasm)`);
  const json = flags.get('json');
  return {
    dims, backends: backends as Args['backends'], threads: int('threads', availableParallelism()), steps: int('steps', 5), warmup: int('warmup', 4),
    rounds: int('rounds', 3), ...(json ? { json } : {}),
  };
}

/** The model as a checkpoint's config.json would describe it: Llama, untied head. */
function llamaConfig(d: Dims): ModelConfig {
  return parseModelConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d.hidden, intermediate_size: d.intermediate, num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads, num_hidden_layers: d.layers, vocab_size: d.vocab, rms_norm_eps: RMS_EPS, rope_theta: ROPE_THETA,
    tie_word_embeddings: false, hidden_act: 'silu', max_position_embeddings: Math.max(2048, d.seq),
  });
}

function seeded(seed: number): (bound: number) => number {
  let a = seed >>> 0;
  return (bound) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * bound;
  };
}

interface Setup {
  cfg: ModelConfig;
  plan: LoraPlan;
  frozen: Record<string, HostTensor>;
  params: Record<string, Float32Array>;
  batch: Batch;
}

/** Seeded weights (norms 1, the rest uniform ±1/√in; LoRA B small but non-zero so every tensor has a gradient). */
function setup(d: Dims): Setup {
  const cfg = llamaConfig(d);
  const plan = planLora(cfg, { r: d.rank, alpha: 2 * d.rank, targets: TARGETS });
  const u = seeded(1);
  const fill = (n: number, bound: number) => Float32Array.from({ length: n }, () => u(bound));
  const frozen: Record<string, HostTensor> = {};
  for (const w of weightTable(cfg)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const bound = w.kind === 'embedding' ? 1 : 1 / Math.sqrt(w.shape.at(-1)!);
    frozen[w.name] = { dtype: 'float32', dims: w.shape, data: w.kind === 'norm' ? new Float32Array(n).fill(1) : fill(n, bound) };
  }
  const params: Record<string, Float32Array> = {};
  for (const t of plan.targets) {
    params[t.keyA] = fill(d.rank * t.inFeatures, 1 / Math.sqrt(t.inFeatures));
    params[t.keyB] = fill(t.outFeatures * d.rank, 1e-3);
  }
  const n = d.batch * d.seq;
  const ids = new Int32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) ids[i] = (s = (s * 1103515245 + 12345) >>> 0) % d.vocab;
  const dims = [d.batch, d.seq];
  const batch: Batch = {
    input_ids: { dtype: 'int32', dims, data: ids },
    position_ids: { dtype: 'int32', dims, data: Int32Array.from({ length: n }, (_, i) => i % d.seq) },
    attention_mask: { dtype: 'int32', dims, data: new Int32Array(n).fill(1) },
    labels: { dtype: 'int32', dims, data: ids.slice() },
  };
  return { cfg, plan, frozen, params, batch };
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
    threads: a.threads, steps: a.steps, warmup: a.warmup, lr: LR, weightDecay: ADAMW.weightDecay, maxGradNorm: ADAMW.maxGradNorm,
    loraScale: s.plan.scale, lora: s.plan.targets.map((t) => ({ module: t.module, keyA: t.keyA, keyB: t.keyB })),
    trainable: Object.keys(s.params), tensors: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

interface Timing {
  losses: number[];
  ms: number;
  fastest: number;
}

function torchRun(dir: string, threads: number): Timing & { threads: number; torch: string; blas: string[] } {
  // GNU OpenMP's idle threads spin by default. With as many threads as cores they starve OpenBLAS's own pthreads:
  // 2 threads measured 382 ms per step spinning against 119 ms passive here. Passive waiting is PyTorch at its best.
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  let out: string;
  try {
    out = execFileSync(PYTHON, [join(import.meta.dirname, 'torch_step.py'), dir], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (err) {
    throw new Error(`PyTorch reference failed (${PYTHON} bench/torch_step.py); is python3-torch installed? ${(err as Error).message}`, { cause: err });
  }
  const r = JSON.parse(out.trim().split('\n').pop()!) as { losses: number[]; msPerStep: number; fastestMs: number; threads: number; torch: string; blas: string[] };
  return { losses: r.losses, ms: r.msPerStep, fastest: r.fastestMs, threads: r.threads, torch: r.torch, blas: r.blas };
}

async function ortRun(kind: 'cpu' | 'wasm', a: Args, s: Setup): Promise<Timing & { label: string; nodes: number }> {
  const backend = await createNodeBackend(kind, { threads: a.threads });
  const graphs = buildTrainGraphs(s.cfg, s.plan, { batch: a.dims.batch, seqLen: a.dims.seq }, ADAMW, [], graphBuildFor(kind, false));
  const params = Object.fromEntries(graphs.trainable.map((t) => [t.name, s.params[t.name]!.slice()]));
  const frozen = Object.fromEntries(graphs.frozen.map((f) => [f.name, s.frozen[f.name]!]));
  const session = await TrainSession.create({ backend, graphs, params, frozen });
  try {
    const losses: number[] = [];
    for (let i = 0; i < a.warmup; i++) losses.push((await session.step([s.batch], LR)).loss);
    const t0 = performance.now();
    let fastest = Infinity;
    for (let i = 0; i < a.steps; i++) {
      const t = performance.now();
      losses.push((await session.step([s.batch], LR)).loss);
      fastest = Math.min(fastest, performance.now() - t);
    }
    return { label: backend.label, nodes: graphs.train.nodes.length, losses, ms: (performance.now() - t0) / a.steps, fastest };
  } finally {
    await session.release();
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
  let nodes: Record<string, number> = {};
  try {
    writeInputs(dir, a, s);
    console.log(
      `LlamaForCausalLM (src/train/graphs.ts): batch ${d.batch} × seq ${d.seq}, hidden ${d.hidden}, ${d.layers} layers, vocab ${d.vocab}, untied head, ` +
        `LoRA r=${d.rank} on 7 projections; ${a.threads} thread(s); ${a.rounds} round(s) of ${a.warmup} warm-up + ${a.steps} timed steps`,
    );
    for (let r = 1; r <= a.rounds; r++) {
      const torch = torchRun(dir, a.threads);
      if (r === 1) {
        labels.torch = `PyTorch ${torch.torch} CPU eager (${torch.threads} thread(s), BLAS ${torch.blas.join(', ') || 'none found'})`;
        if (!torch.blas.some((b) => /openblas/.test(b))) console.log('warning: PyTorch did not load OpenBLAS; install libopenblas0-pthread or the ratio means nothing');
      }
      rounds.torch!.push(torch);
      const line = [`round ${r}: PyTorch ${torch.ms.toFixed(1)} ms`];
      for (const kind of a.backends) {
        const o = await ortRun(kind, a, s);
        checkLosses(o.label, o.losses, torch.losses);
        labels[kind] = o.label;
        nodes = { ...nodes, [kind]: o.nodes };
        rounds[kind]!.push(o);
        line.push(`${kind} ${o.ms.toFixed(1)} ms`);
      }
      console.log(`${line.join(', ')} per step; losses agree (last ${torch.losses.at(-1)!.toFixed(5)})`);
    }
  } finally {
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
    const ratio = torch.msPerStep / r.msPerStep;
    // On a shared machine the fastest steps are the least disturbed: their ratio is the steadier figure.
    const fastestRatio = torch.fastestMs / r.fastestMs;
    console.log(`${r.label}, ${nodes[r.path]} nodes: ${r.msPerStep.toFixed(1)} ms/step (fastest ${r.fastestMs.toFixed(1)}), ${Math.round(r.tokensPerSec)} tokens/s, ${ratio.toFixed(2)}× PyTorch, fastest steps ${fastestRatio.toFixed(2)}×`);
    return { backend: r.path, label: r.label, nodes: nodes[r.path], msPerStep: r.msPerStep, fastestMs: r.fastestMs, tokensPerSec: r.tokensPerSec, ratioToTorch: ratio, fastestRatioToTorch: fastestRatio };
  });
  if (a.json) {
    writeFileSync(a.json, `${JSON.stringify({ bench: 'torch', dims: d, threads: a.threads, steps: a.steps, warmup: a.warmup, rounds, torch, results }, null, 2)}\n`);
    console.log(`wrote ${a.json}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
