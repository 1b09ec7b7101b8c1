// Runs `tabtune` commands in-process (same code path as bin/tabtune.mjs, minus the tsx loader) with captured output,
// a controllable Ctrl-C flag, and temp folders. In-process keeps the WASM runtime and tokenizer modules warm, which
// keeps the CLI suite inside its time budget on two cores.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIO } from '../../src/cli/main.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const HUB = join(ROOT, 'fixtures', 'generated', 'hub', 'tabtune');
export const DATA = join(import.meta.dirname, 'data');
export const fixture = (family: string): string => join(HUB, `tiny-${family}`);

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `onOut` sees every stdout chunk and may set `stop.aborted` (simulated Ctrl-C). */
export async function tabtune(args: readonly string[], opts: { env?: Record<string, string>; onOut?: (text: string, stop: { aborted: boolean }) => void } = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const stop = { aborted: false };
  const io: CliIO = {
    cwd: ROOT,
    env: { ...opts.env },
    out: (t) => {
      out += t;
      opts.onOut?.(t, stop);
    },
    err: (t) => void (err += t),
    isTTY: false,
    signal: stop,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'tabtune-cli-'));
export const read = (path: string): Buffer => readFileSync(path);
export const readJson = <T = Record<string, unknown>>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
