// Browser benchmark (`npm run bench:browser`): the built app (dist/, served by scripts/serve.mjs) in Debian's Chromium
// through Playwright, training the bundled demo for a few steps on each backend exactly as a user would (the Training
// panel's fields and Start button), and reporting what a user feels: page ready, time to the first step, tokens/s and
// wall ms per step after the first, nodes in the step graph, and the page's long tasks (main-thread blocks ≥ 50 ms)
// while it trains. Writes bench-output/browser.json. A fresh browser profile per backend, so nothing is cached.
// Flags: --steps N (default 12), --backends wasm,webgpu (default both), --port N (default 4391).
// WebGPU here is SwiftShader (a CPU emulation): its figures say nothing about a real GPU.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import type { StateSnapshot } from '../src/ui/test-api.ts';
import { trainStepNodes } from './graph-nodes.ts';
import { readFlags } from './flags.ts';

const flags = readFlags(process.argv.slice(2), ['steps', 'backends', 'port']);
const STEPS = flags.int('steps', 12);
const PORT = flags.int('port', 4391);
const BACKENDS = (flags.get('backends') ?? 'wasm,webgpu').split(',').map((b) => {
  const kind = b.trim();
  if (kind !== 'wasm' && kind !== 'webgpu') throw new Error(`--backends takes wasm and/or webgpu, got ${kind}`);
  return kind;
});
const ROOT = join(import.meta.dirname, '..');
const ORIGIN = `http://127.0.0.1:${PORT}`;

interface Result {
  backend: string;
  label: string;
  model: string;
  batch: number;
  seqLen: number;
  nodesPerStep: number;
  pageReadyMs: number;
  firstStepMs: number;
  tokensPerSecond: number;
  msPerStep: number;
  longTasks: { count: number; maxMs: number; totalMs: number };
}

const state = (page: Page) => page.evaluate(() => window.__tabtune!.state()) as Promise<StateSnapshot>;

async function measure(backend: 'wasm' | 'webgpu'): Promise<Result> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await (await browser.newContext()).newPage();
    // Long tasks of the page's main thread, from the moment Start is pressed.
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: number[]; __watchLongTasks: boolean };
      w.__longTasks = [];
      w.__watchLongTasks = false;
      new PerformanceObserver((list) => {
        if (w.__watchLongTasks) for (const e of list.getEntries()) w.__longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const opened = performance.now();
    await page.goto(ORIGIN);
    await page.waitForFunction(() => window.__tabtune !== undefined);
    await page.evaluate(() => window.__tabtune!.startup);
    await page.waitForFunction(() => window.__tabtune!.state().preparedState.status === 'ready', undefined, { timeout: 120_000 });
    const pageReadyMs = performance.now() - opened;

    const training = page.locator('[data-panel="training"]');
    for (const [id, value] of [['hp-train-steps', STEPS], ['hp-train-evalEvery', 0], ['hp-train-sampleEvery', 0], ['hp-train-checkpointEvery', 0]] as const) {
      await training.getByTestId(id).fill(String(value));
    }
    await training.getByTestId('backend-choice').selectOption(backend);
    await page.waitForFunction((n) => window.__tabtune!.state().runConfig.train.steps === n, STEPS);
    await page.evaluate(() => { (window as unknown as { __watchLongTasks: boolean }).__watchLongTasks = true; });
    const started = performance.now();
    await training.getByTestId('train-start').click();
    // The trainer event sets `running` at once; step points reach the store in batches (once a second), so the first
    // step's own wall time comes from its metric.
    await page.waitForFunction(() => window.__tabtune!.state().phase === 'running', undefined, { timeout: 300_000, polling: 20 });
    const builtMs = performance.now() - started;
    await page.waitForFunction(() => ['completed', 'failed', 'stopped'].includes(window.__tabtune!.state().phase), undefined, { timeout: 900_000, polling: 200 });
    const s = await state(page);
    if (s.phase !== 'completed') throw new Error(`${backend}: the run ended ${s.phase}: ${s.outcome?.message ?? ''}`);
    const steps = s.metrics.filter((m) => m.trainLoss !== undefined && m.ms !== undefined);
    const after = steps.slice(1);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const long = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    const trainer = s.trainer!;
    const repo = s.runConfig.model.repo;
    const configJson = await (await fetch(`${ORIGIN}/hub/${repo}/resolve/${s.model?.sha ?? "main"}/config.json`)).json();
    return {
      backend,
      label: trainer.backendLabel,
      model: repo,
      batch: trainer.batch,
      seqLen: trainer.seqLen,
      nodesPerStep: trainStepNodes(configJson, s.runConfig, { batch: trainer.batch, seqLen: trainer.seqLen, ...(trainer.headRows === null ? {} : { trainedRows: trainer.headRows }) }, backend, trainer.backendLabel.includes('graph capture')),
      pageReadyMs: Math.round(pageReadyMs),
      firstStepMs: Math.round(builtMs + (steps[0]?.ms ?? 0)),
      tokensPerSecond: Math.round(mean(after.map((m) => m.tokensPerSecond ?? 0)) * 10) / 10,
      msPerStep: Math.round(mean(after.map((m) => m.ms!))),
      longTasks: { count: long.length, maxMs: Math.round(Math.max(0, ...long)), totalMs: Math.round(long.reduce((a, b) => a + b, 0)) },
    };
  } finally {
    await browser.close();
  }
}

const server = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', String(PORT), '--root', join(ROOT, 'dist')], { stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(ORIGIN)).ok) break;
    } catch {
      if (i > 100) throw new Error(`scripts/serve.mjs did not answer on ${ORIGIN}; is dist/ built (npm run build)?`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const results: Result[] = [];
  for (const backend of BACKENDS) {
    const r = await measure(backend);
    results.push(r);
    console.log(
      `${r.backend.padEnd(7)} ${r.model} batch ${r.batch}×${r.seqLen}, ${r.nodesPerStep} nodes/step: page ready ${r.pageReadyMs} ms, ` +
      `first step ${r.firstStepMs} ms, then ${r.msPerStep} ms/step, ${r.tokensPerSecond} target tok/s; ` +
      `long tasks while training: ${r.longTasks.count} (max ${r.longTasks.maxMs} ms, total ${r.longTasks.totalMs} ms)  [${r.label}]`,
    );
  }
  mkdirSync(join(ROOT, 'bench-output'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-output/browser.json'), `${JSON.stringify({ steps: STEPS, results }, null, 2)}\n`);
} finally {
  server.kill();
}
