// bin/tabtune.mjs as a user runs it: a real process (tsx loader, stdout/stderr, exit codes), and a real SIGINT in the
// middle of training that saves a checkpoint and exits 0 — which needs the trainer to yield to the event loop.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA, ROOT, fixture, readJson, tempDir } from './harness.ts';

function run(args: string[], onStdout?: (all: string, kill: () => void) => void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tabtune.mjs'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      onStdout?.(out, () => {
        if (!signalled) child.kill('SIGINT');
        signalled = true;
      });
    });
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('bin/tabtune.mjs', () => {
  it('exits 1 with the message on stderr for a user error', { timeout: 60_000 }, async () => {
    const r = await run(['step', '--model', fixture('gpt2')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tabtune step needs --data/);
  });

  it('Ctrl-C stops training after the current step, saves a resumable checkpoint and exits 0', { timeout: 120_000 }, async () => {
    const out = tempDir();
    const r = await run(
      ['train', '--model', fixture('gpt2'), '--data', join(DATA, 'text.jsonl'), '--max-length', '16', '--batch-size', '2', '--steps', '500', '--eval-fraction', '0', '--sample-every', '0', '--out', out],
      (all, kill) => void (/step 2\/500/.test(all) && kill()),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('Stopping after the current step');
    expect(r.out).toMatch(/Interrupted at step \d+\/500; checkpoint saved/);
    const state = readJson<{ step: number }>(join(out, 'checkpoint', 'tabtune_checkpoint.json'));
    expect(state.step).toBeGreaterThanOrEqual(2);
    expect(state.step).toBeLessThan(500);
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
  });
});
