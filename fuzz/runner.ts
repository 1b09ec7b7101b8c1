// The parent side of a fuzz run: one child process per batch of inputs, a time bound per input enforced by killing
// the child, a memory bound from the child's resident set (polled while an input runs, and its peak after), and a
// tally per target. A killed child is replaced and the run goes on with the next input.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildMessage, ParentMessage } from './child.ts';
import { cpuMsOf, memoryKb } from './child.ts';
import { inputAt } from './inputs.ts';
import type { FuzzTarget } from './target.ts';

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** Per-input time bound (ms) unless the target sets its own. */
  timeMs?: number;
  /** Per-input memory bound (MB) unless the target sets its own. */
  memoryMb?: number;
  /** Inputs per child process before a fresh one is started. */
  batch?: number;
  /** Where failing inputs are written (`<dir>/<target>/<kind>-<i>.bin`); none when unset. */
  saveDir?: string;
  /** Called after each input, for progress output. */
  onProgress?: (tally: Tally) => void;
}

interface Finding {
  kind: 'crash' | 'hang' | 'blow-up';
  index: number;
  detail: string;
}

export interface Tally {
  target: string;
  inputs: number;
  parsed: number;
  rejected: number;
  crashes: number;
  hangs: number;
  blowups: number;
  /** Most CPU time one finished input took, ms; peak memory growth over an input's start, MB. */
  slowestMs: number;
  peakGrowthMb: number;
  seconds: number;
  /** The first findings of each kind (at most 20 in all), with the input's index to rebuild it. */
  findings: Finding[];
}

/** Wall-clock backstop for the per-input bound, as a multiple of it (the bound itself is on CPU time). */
const WALL_FACTOR = 5;

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

function targetName(file: string): string {
  return basename(file).replace(/\.ts$/, '');
}

async function loadTarget(file: string): Promise<FuzzTarget> {
  return ((await import(pathToFileURL(file).href)) as { default: FuzzTarget }).default;
}

/** Runs inputs [0, opts.inputs) of one target (a path to a fuzz/targets/*.ts file). */
export async function fuzzTarget(file: string, opts: FuzzOptions): Promise<Tally> {
  const started = performance.now();
  const tally: Tally = {
    target: targetName(file), inputs: 0, parsed: 0, rejected: 0, crashes: 0, hangs: 0, blowups: 0,
    slowestMs: 0, peakGrowthMb: 0, seconds: 0, findings: [],
  };
  const meta = await loadTarget(file);
  tally.target = meta.name;
  const timeMs = meta.timeMs ?? opts.timeMs ?? 2000;
  const memoryKbLimit = (meta.memoryMb ?? opts.memoryMb ?? 500) * 1024;
  const batch = opts.batch ?? 2500;
  let seeds: Uint8Array[] | null = null;

  const record = async (kind: Finding['kind'], index: number, detail: string, input?: Uint8Array) => {
    if (kind === 'crash') tally.crashes++;
    else if (kind === 'hang') tally.hangs++;
    else tally.blowups++;
    if (tally.findings.length < 20) tally.findings.push({ kind, index, detail });
    if (opts.saveDir) {
      seeds ??= await meta.seeds();
      const bytes = input ?? inputAt(meta, seeds, opts.seed, index);
      const dir = join(opts.saveDir, meta.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${kind}-${index}.bin`), bytes);
      writeFileSync(join(dir, `${kind}-${index}.txt`), `${detail}\n`);
    }
  };

  let next = 0;
  while (next < opts.inputs) {
    const to = Math.min(opts.inputs, next + batch);
    next = await runBatch(file, opts.seed, next, to, timeMs, memoryKbLimit, tally, record, opts.onProgress);
  }
  tally.seconds = (performance.now() - started) / 1000;
  return tally;
}

/** One child for inputs [from, to); returns the index to continue from (past a killed input). */
function runBatch(
  file: string, seed: number, from: number, to: number, timeMs: number, memoryKbLimit: number, tally: Tally,
  record: (kind: Finding['kind'], index: number, detail: string, input?: Uint8Array) => Promise<void>,
  onProgress: FuzzOptions['onProgress'],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let current: { i: number; startKb: number } | null = null;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    let poll: NodeJS.Timeout | null = null;
    const pending: Promise<void>[] = [];
    const stopTimers = () => {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      timer = poll = null;
    };
    const finish = (resumeAt: number) => {
      if (done) return;
      done = true;
      stopTimers();
      child.kill('SIGKILL');
      void Promise.all(pending).then(() => resolve(resumeAt), reject);
    };
    const kill = (kind: 'hang' | 'blow-up', detail: string) => {
      if (!current || done) return;
      const i = current.i;
      tally.inputs++;
      pending.push(record(kind, i, detail));
      onProgress?.(tally);
      finish(i + 1);
    };
    // The child must load the target and its seeds in reasonable time too.
    timer = setTimeout(() => {
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`fuzz target ${file} did not load within 60 s:\n${stderr}`));
    }, 60_000);
    child.on('message', (message: ChildMessage) => {
      switch (message.type) {
        case 'ready':
          stopTimers();
          break;
        case 'start': {
          current = { i: message.i, startKb: message.rssKb };
          // The bound is on the child's CPU time, so a machine busy with other work does not turn a slow input into
          // a hang; wall time past WALL_FACTOR × the bound is a hang whatever the CPU says.
          const startedAt = performance.now();
          const cpuAtStart = cpuMsOf(child.pid ?? 0);
          poll = setInterval(() => {
            if (!current) return;
            const now = performance.now();
            if (now - startedAt > timeMs) {
              const cpu = cpuAtStart === null ? null : cpuMsOf(child.pid ?? 0);
              const cpuMs = cpu === null || cpuAtStart === null ? now - startedAt : cpu - cpuAtStart;
              if (cpuMs > timeMs || now - startedAt > WALL_FACTOR * timeMs) {
                kill('hang', `did not settle within ${timeMs} ms (${cpuMs.toFixed(0)} ms CPU, ${(now - startedAt).toFixed(0)} ms wall)`);
                return;
              }
            }
            if (memoryKbLimit <= 0) return;
            const rss = memoryKb(child.pid ?? 0, 'VmRSS');
            const growth = rss - current.startKb;
            if (growth > memoryKbLimit) kill('blow-up', `resident memory grew by ${(growth / 1024).toFixed(0)} MB (limit ${memoryKbLimit / 1024} MB)`);
          }, 10);
          break;
        }
        case 'done': {
          stopTimers();
          current = null;
          tally.inputs++;
          const growthKb = message.peakKb - message.startKb;
          tally.slowestMs = Math.max(tally.slowestMs, message.cpuMs);
          tally.peakGrowthMb = Math.max(tally.peakGrowthMb, growthKb / 1024);
          const input = message.input ? new Uint8Array(Buffer.from(message.input, 'base64')) : undefined;
          if (growthKb > memoryKbLimit) pending.push(record('blow-up', message.i, `peak resident memory grew by ${(growthKb / 1024).toFixed(0)} MB (limit ${memoryKbLimit / 1024} MB); outcome ${message.outcome.kind}`, input));
          else if (message.cpuMs > timeMs || message.ms > WALL_FACTOR * timeMs) pending.push(record('hang', message.i, `took ${message.cpuMs.toFixed(0)} ms CPU, ${message.ms.toFixed(0)} ms wall (limit ${timeMs} ms)`, input));
          else if (message.outcome.kind === 'parsed') tally.parsed++;
          else if (message.outcome.kind === 'rejected') tally.rejected++;
          else pending.push(record('crash', message.i, message.outcome.detail, input));
          onProgress?.(tally);
          break;
        }
        case 'finished':
          finish(to);
          break;
        case 'fatal':
          done = true;
          stopTimers();
          child.kill('SIGKILL');
          reject(new Error(`fuzz target ${file} could not run: ${message.detail}`));
          break;
      }
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      if (!current) {
        done = true;
        stopTimers();
        reject(new Error(`fuzz child for ${file} exited (${code ?? signal}) outside an input:\n${stderr}`));
        return;
      }
      const oom = /heap out of memory|Reached heap limit|allocation failed/i.test(stderr);
      const i = current.i;
      tally.inputs++;
      pending.push(record(oom ? 'blow-up' : 'crash', i, `child process died (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      done = true;
      stopTimers();
      void Promise.all(pending).then(() => resolve(i + 1), reject);
    });
    child.send({ type: 'run', target: file, seed, from, to } satisfies ParentMessage);
  });
}

export function formatTable(tallies: readonly Tally[]): string {
  const head = ['target', 'inputs', 'parsed', 'clean rejections', 'crashes', 'hangs', 'blow-ups', 'slowest CPU ms', 'peak MB', 's'];
  const rows = tallies.map((t) => [
    t.target, t.inputs, t.parsed, t.rejected, t.crashes, t.hangs, t.blowups, t.slowestMs.toFixed(0), t.peakGrowthMb.toFixed(0), t.seconds.toFixed(0),
  ].map(String));
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, c) => (c === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}
