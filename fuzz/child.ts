// The child process of the fuzz runner: loads one target, rebuilds inputs from their index, runs them one at a time
// and reports each outcome with its peak resident memory. The parent kills it on a hang or a blow-up.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { judge, type Outcome } from './judge.ts';
import { inputAt } from './inputs.ts';
import type { FuzzTarget } from './target.ts';

export type ParentMessage = { type: 'run'; target: string; seed: number; from: number; to: number };
export type ChildMessage =
  | { type: 'ready'; seeds: number }
  | { type: 'start'; i: number; rssKb: number }
  | { type: 'done'; i: number; outcome: Outcome; ms: number; cpuMs: number; startKb: number; peakKb: number; input?: string }
  | { type: 'finished' }
  | { type: 'fatal'; detail: string };

/** CPU time (user + system) the process has used, ms, from /proc/<pid>/stat (Linux); null elsewhere. */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/** VmRSS / VmHWM in kB (Linux); 0 elsewhere, which disables the memory bound. */
export function memoryKb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: peak stays the process's lifetime peak, still an upper bound
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 400) : String(error).slice(0, 400);
}

let stray: string | null = null;
process.on('unhandledRejection', (reason) => {
  stray ??= `unhandled rejection: ${describe(reason)}`;
});
process.on('uncaughtException', (error) => {
  stray ??= `uncaught exception: ${describe(error)}`;
});

const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

const settle = () => new Promise<void>((resolve) => setTimeout(() => setImmediate(() => setImmediate(resolve)), 0));

process.on('message', (message: ParentMessage) => {
  void (async () => {
    try {
      const target = ((await import(pathToFileURL(message.target).href)) as { default: FuzzTarget }).default;
      const seeds = await target.seeds();
      await send({ type: 'ready', seeds: seeds.length });
      for (let i = message.from; i < message.to; i++) {
        const input = inputAt(target, seeds, message.seed, i);
        await settle();
        stray = null;
        resetPeak();
        const startKb = memoryKb('self', 'VmRSS');
        await send({ type: 'start', i, rssKb: startKb });
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        let outcome: Outcome;
        try {
          await target.run(input);
          outcome = { kind: 'parsed' };
        } catch (error) {
          outcome = judge(error, target.rejects);
        }
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        await settle();
        if (stray !== null) outcome = { kind: 'crash', detail: stray };
        const peakKb = memoryKb('self', 'VmHWM');
        const keep = outcome.kind === 'crash' ? Buffer.from(input).toString('base64') : undefined;
        await send({ type: 'done', i, outcome, ms, cpuMs, startKb, peakKb, ...(keep ? { input: keep } : {}) });
      }
      await send({ type: 'finished' });
    } catch (error) {
      await send({ type: 'fatal', detail: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  })();
});
