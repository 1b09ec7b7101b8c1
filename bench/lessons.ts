// `npm run bench:lessons`: every lesson (and every variation that has a target) run by `tabtune lesson run` on the
// bundled base model, as a table — lesson, metric, before, after, target, met, steps, seconds — with the command of
// each row. The budget is 3 minutes per lesson on a 2-core machine; rows over it are marked.
// Flags: --backend cpu|wasm|webgpu (default cpu), --only NAME[,NAME], --out DIR (default bench-output/lessons).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LESSONS } from '../src/share/lessons.ts';
import { readFlags } from './flags.ts';

const BUDGET_S = 180;
const flags = readFlags(process.argv.slice(2), ['backend', 'only', 'out']);
const backend = flags.get('backend') ?? 'cpu';
const only = flags.get('only')?.split(',');
const outRoot = flags.get('out') ?? join('bench-output', 'lessons');
mkdirSync(outRoot, { recursive: true });

interface Report { lesson: string; variation?: string; metric: string; before: number; after: number; target: string | null; met: boolean | null; steps: number; seconds: number }

const runs = LESSONS.filter((l) => !only || only.includes(l.name)).flatMap((l) => [
  { name: l.name, variation: undefined as string | undefined },
  ...l.variations.filter((v) => v.target).map((v) => ({ name: l.name, variation: v.id as string | undefined })),
]);
const rows: string[] = ['| lesson | metric | before | after | target | met | steps | seconds | command |', '|---|---|---|---|---|---|---|---|---|'];
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
for (const r of runs) {
  const id = r.variation ? `${r.name}--${r.variation}` : r.name;
  const json = join(outRoot, `${id}.json`);
  const args = ['lesson', 'run', r.name, ...(r.variation ? ['--variation', r.variation] : []), '--backend', backend, '--out', join(outRoot, id), '--json', json];
  const command = `tabtune ${args.join(' ')}`;
  process.stderr.write(`${command}\n`);
  try {
    execFileSync(process.execPath, ['bin/tabtune.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const why = String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n').pop() ?? 'failed';
    rows.push(`| ${id} | – | – | – | – | FAILED: ${why.replace(/\|/g, '/')} | – | – | \`${command}\` |`);
    continue;
  }
  const rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const slow = rep.seconds > BUDGET_S ? ' (over 3 min)' : '';
  rows.push(`| ${id} | ${rep.metric} | ${fmt(rep.before)} | ${fmt(rep.after)} | ${rep.target ?? '–'} | ${rep.met === null ? '–' : rep.met ? 'yes' : 'NO'} | ${rep.steps} | ${rep.seconds.toFixed(1)}${slow} | \`${command}\` |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
