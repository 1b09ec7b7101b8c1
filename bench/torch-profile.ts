// `npm run bench:torch -- --profile cpu,wasm`: where one train step's time goes on onnxruntime-node's CPU EP and on
// onnxruntime-web's WASM in Node, from ORT's own per-node profile, after the timed rounds (profiling slows each node a
// little, so these sessions are never the timed ones). The table is per op type, with the thin GEMMs (a matrix
// dimension of at most 32: LoRA's rank-r products) apart from the rest, and per phase (forward, backward, optimizer:
// the builder's /grad/ and /optim/ name scopes). The steps run in a child process (this file with --child), whose
// stdout carries the profile: onnxruntime-node's file, copied there, or onnxruntime-web's own print.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Ort from 'onnxruntime-common';
import type { Backend, OrtModule, RuntimeSession, SessionConfig } from '../src/runtime/backend.ts';
import { sessionOptions, wrapSession } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { setup, timeSteps, type Dims } from './torch-model.ts';

/** One event of ORT's profile (Chrome trace format): a session run or one node's kernel. */
interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  ts?: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

/** A dimension this small makes a GEMM thin (LoRA's rank r, or r times the projections that share an A). */
const THIN = 32;

export interface StepProfile {
  label: string;
  steps: number;
  /** Mean ms of the profiled runs (profiling included). */
  runMs: number;
  /** Sum of the kernels' ms per step, by row: op type, with Gemm/MatMul split into thin and the rest. */
  rows: { what: string; ms: number; nodes: number }[];
  phases: { forward: number; backward: number; optimizer: number };
}

/**
 * Profiles `steps` train steps (after `warmup`) of backend `kind` on the seeded weights of `dims`, in a child process:
 * onnxruntime-web prints its profile from a WASM thread straight to file descriptor 1, past any hook in this process,
 * so the child's stdout is where it is read.
 */
export function profileStep(kind: 'cpu' | 'wasm', dims: Dims, threads: number, warmup: number, steps: number): StepProfile {
  const tsx = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules/.bin/tsx');
  const request: ChildRequest = { kind, dims, threads, warmup, steps };
  const run = spawnSync(existsSync(tsx) ? tsx : 'tsx', [fileURLToPath(import.meta.url), '--child', JSON.stringify(request)], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (run.status !== 0) throw new Error(`profiling ${kind} failed (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const label = /^LABEL (.*)$/m.exec(run.stdout)?.[1] ?? kind;
  return summarise(label, parseEvents(run.stdout), steps);
}

interface ChildRequest {
  kind: 'cpu' | 'wasm';
  dims: Dims;
  threads: number;
  warmup: number;
  steps: number;
}

/** The child: the profiled steps; onnxruntime-node's profile file is copied to stdout, onnxruntime-web's lands there. */
async function child(r: ChildRequest): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tabtune-profile-'));
  const base = await createNodeBackend(r.kind, { threads: r.threads });
  const ort = (await (r.kind === 'wasm' ? import('onnxruntime-web') : import('onnxruntime-node'))) as unknown as OrtModule & { default?: OrtModule };
  const module = ort.default ?? ort;
  try {
    const backend: Backend = {
      ...base,
      async createSession(model: Uint8Array, config: SessionConfig = {}): Promise<RuntimeSession> {
        const options: Ort.InferenceSession.SessionOptions = { ...sessionOptions(r.kind, config), enableProfiling: true, profileFilePrefix: join(dir, 'ort') };
        if (r.kind === 'cpu') options.intraOpNumThreads = r.threads;
        return wrapSession(await module.InferenceSession.create(model, options), `${base.label} (profiled)`);
      },
    };
    process.stdout.write(`LABEL ${base.label}\n`);
    await timeSteps(backend, r.kind, setup(r.dims), r.warmup, r.steps);
    for (const f of readdirSync(dir)) process.stdout.write(`${readFileSync(join(dir, f), 'utf8')}\n`);
  } finally {
    await base.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The events of the child's profile: both runtimes write a JSON array with one event per line. */
function parseEvents(text: string): TraceEvent[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/,$/, ''))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as TraceEvent);
}

/** The matrix dimensions (the last two axes) of each shape: a batched attention product is not thin for its batch. */
const matrixDims = (shapes: Record<string, number[]>[] | undefined): number[] => (shapes ?? []).flatMap((s) => (Object.values(s)[0] ?? []).slice(-2));

function summarise(label: string, events: TraceEvent[], steps: number): StepProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts! - b.ts!);
  if (runs.length < steps) throw new Error(`the profile holds ${runs.length} runs, fewer than the ${steps} profiled steps`);
  const last = runs.slice(-steps);
  const from = last[0]!.ts!;
  const byRow = new Map<string, { ms: number; nodes: Set<string> }>();
  const phases = { forward: 0, backward: 0, optimizer: 0 };
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts! < from) continue;
    const op = e.args?.op_name ?? '?';
    const gemm = op === 'Gemm' || op === 'MatMul' || op === 'FusedMatMul';
    const thin = gemm && [...matrixDims(e.args?.input_type_shape), ...matrixDims(e.args?.output_type_shape)].some((d) => d <= THIN);
    const what = gemm ? `${op}${thin ? ` (thin: a matrix dimension ≤ ${THIN})` : ''}` : op;
    const row = byRow.get(what) ?? { ms: 0, nodes: new Set<string>() };
    const ms = e.dur! / 1000 / steps;
    row.ms += ms;
    row.nodes.add(e.name);
    byRow.set(what, row);
    phases[e.name.startsWith('/optim/') ? 'optimizer' : e.name.startsWith('/grad/') ? 'backward' : 'forward'] += ms;
  }
  const rows = [...byRow].map(([what, r]) => ({ what, ms: r.ms, nodes: r.nodes.size })).sort((a, b) => b.ms - a.ms);
  return { label, steps, runMs: last.reduce((n, r) => n + r.dur! / 1000, 0) / steps, rows, phases };
}

/** The profile as a table: the top `top` rows, the rest summed. */
export function printProfile(p: StepProfile, top = 12): void {
  const total = p.rows.reduce((n, r) => n + r.ms, 0);
  const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)} %`;
  console.log(`\nprofile of ${p.label}: ${p.steps} steps, ${p.runMs.toFixed(1)} ms per profiled run, kernels ${total.toFixed(1)} ms per step`);
  console.log(`  ${'op'.padEnd(40)} ${'ms/step'.padStart(8)} ${'share'.padStart(7)} ${'nodes'.padStart(6)}`);
  for (const r of p.rows.slice(0, top)) console.log(`  ${r.what.padEnd(40)} ${r.ms.toFixed(2).padStart(8)} ${pct(r.ms)} ${String(r.nodes).padStart(6)}`);
  const rest = p.rows.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((n, r) => n + r.ms, 0);
    console.log(`  ${`${rest.length} other op types`.padEnd(40)} ${ms.toFixed(2).padStart(8)} ${pct(ms)} ${String(rest.reduce((n, r) => n + r.nodes, 0)).padStart(6)}`);
  }
  const { forward, backward, optimizer } = p.phases;
  console.log(`  by phase: forward ${forward.toFixed(1)} ms (${pct(forward).trim()}), backward ${backward.toFixed(1)} ms (${pct(backward).trim()}), optimizer ${optimizer.toFixed(1)} ms (${pct(optimizer).trim()})`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]!) as ChildRequest).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
