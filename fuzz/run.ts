// `npm run fuzz`: every target in fuzz/targets (or --only some), ≥ 10,000 inputs each by default, a table of
// outcomes per target, failing inputs saved under fuzz-output/. Exit code 1 when any crash, hang or blow-up.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTable, fuzzTarget, type Tally } from './runner.ts';

const HELP = `npm run fuzz -- [options]
  --inputs N      inputs per target (default 10000; the first ones are the unmutated seeds)
  --seed S        mutation seed (default 1)
  --only a,b      only these targets (file names in fuzz/targets without .ts)
  --time-ms T     per-input time bound (default 2000)
  --memory-mb M   per-input resident-memory growth bound (default 500)
  --out DIR       where failing inputs are written (default fuzz-output)
`;

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
    'time-ms': { type: 'string', default: '2000' },
    'memory-mb': { type: 'string', default: '500' },
    out: { type: 'string', default: 'fuzz-output' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const positive = (flag: string, raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${flag} must be a whole number ≥ 0, got "${raw}"\n${HELP}`);
    process.exit(2);
  }
  return n;
};
const inputs = positive('inputs', values.inputs);
const seed = positive('seed', values.seed);
const timeMs = positive('time-ms', values['time-ms']);
const memoryMb = positive('memory-mb', values['memory-mb']);

const dir = fileURLToPath(new URL('./targets/', import.meta.url));
const all = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const only = values.only?.split(',').map((x) => x.trim()).filter(Boolean);
const unknown = only?.filter((name) => !all.includes(name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown target ${unknown.join(', ')}; targets: ${all.join(', ')}\n`);
  process.exit(2);
}
const chosen = only ?? all;

const tallies: Tally[] = [];
for (const name of chosen) {
  let last = 0;
  const tally = await fuzzTarget(join(dir, `${name}.ts`), {
    inputs, seed, timeMs, memoryMb, saveDir: values.out,
    onProgress: (t) => {
      const now = Date.now();
      if (process.stderr.isTTY && now - last > 500) {
        last = now;
        process.stderr.write(`\r${name}: ${t.inputs}/${inputs} (${t.crashes} crashes, ${t.hangs} hangs, ${t.blowups} blow-ups)   `);
      }
    },
  }).catch((error: unknown) => {
    process.stderr.write(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  tallies.push(tally);
  process.stdout.write(`${name}: ${tally.inputs} inputs in ${tally.seconds.toFixed(0)} s\n`);
  for (const f of tally.findings) process.stdout.write(`  ${f.kind} #${f.index}: ${f.detail}\n`);
}
process.stdout.write(`\nseed ${seed}, ${inputs} inputs per target, bounds ${timeMs} ms and ${memoryMb} MB per input\n\n${formatTable(tallies)}\n`);
const bad = tallies.reduce((n, t) => n + t.crashes + t.hangs + t.blowups, 0);
if (bad > 0) process.stdout.write(`\n${bad} failing inputs written to ${values.out}/<target>/\n`);
process.exit(bad > 0 ? 1 : 0);
