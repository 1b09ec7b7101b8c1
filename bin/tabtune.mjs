#!/usr/bin/env node
// The `tabtune` executable: registers tsx so Node runs the TypeScript sources directly, then hands the real process to
// src/cli/main.ts. The first Ctrl-C asks the trainer to stop after the current step and save a checkpoint; a second
// one exits at once.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');

const stop = { aborted: false };
process.on('SIGINT', () => {
  if (stop.aborted) process.exit(130);
  stop.aborted = true;
  process.stderr.write('\nStopping after the current step (Ctrl-C again to quit now)...\n');
});

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
  signal: stop,
});
// ORT's WASM worker threads keep the event loop alive; exit explicitly once output is flushed.
process.stdout.write('', () => process.exit(code));
