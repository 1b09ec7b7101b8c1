// The browser backend in Chromium (WebGPU on SwiftShader, onnxruntime-web/webgpu): a training step agrees with Node's
// WASM run, and graph capture (fixed input buffers, outputs copied back, ORT replays) gives the same steps as no
// capture; a minimal reproduction keeps the ORT 1.30 capture fault it works around visible.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildStepGraphs } from '../../src/engine/step.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { TrainSession } from '../../src/runtime/train-session.ts';
import { TINY, collate, tinyForward, tinyRows, tinyWeights } from '../engine/step-fixtures.ts';
import type { BrowserRun } from './browser/entry.ts';

const CHROMIUM = process.env.TABTUNE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ORT_DIST = join(process.cwd(), 'node_modules/onnxruntime-web/dist');
const DEMO_MODEL = join(process.cwd(), 'fixtures/tiny-storyteller');
const available = existsSync(CHROMIUM);

let server: Server;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!available) return;
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'browser/entry.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error',
  });
  const js = bundle.outputFiles[0]!.contents;
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/entry.js"></script>');
    if (url === '/favicon.ico') return void res.writeHead(204).end();
    if (url === '/entry.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    const file = url.startsWith('/ort/') ? join(ORT_DIST, url.slice(5).split('?')[0]!) : url.startsWith('/model/') ? join(DEMO_MODEL, url.slice(7)) : '';
    if (file && !file.includes('..') && existsSync(file)) {
      const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.json') ? 'application/json' : file.endsWith('.mjs') || file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
      return void res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: false });
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('[page]', m.text()); });
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => typeof window.tabtuneRun === 'function', undefined, { timeout: 60_000 });
  expect(errors).toEqual([]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

const runInPage = (prefer: 'webgpu' | 'wasm', steps: number, capture: boolean | 'fixed-buffers'): Promise<BrowserRun> =>
  page.evaluate(([p, s, c]) => window.tabtuneRun(p, s, c), [prefer, steps, capture] as const);

async function nodeWasm(steps: number) {
  const backend = await createNodeBackend('wasm');
  const graphs = buildStepGraphs(tinyForward(TINY), { adamw: { weightDecay: 0.01, maxGradNorm: 1.0 } });
  const w = tinyWeights(TINY, 1);
  const rows = tinyRows(TINY, 16, 2);
  const batches = [0, 1, 2, 3].map((i) => collate(rows.slice(4 * i, 4 * i + 4), TINY.T));
  const session = await TrainSession.create({ backend, graphs, params: w.params, frozen: w.frozen });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push((await session.step([batches[(2 * s) % 4]!, batches[(2 * s + 1) % 4]!], 5e-2)).loss);
  const state = await session.exportState();
  await session.release();
  return { losses, params: state.params };
}

describe.skipIf(!available)(`browser WebGPU backend${available ? '' : ` (skipped: no Chromium at ${CHROMIUM})`}`, () => {
  it('trains on native WebGPU and matches Node WASM to 1e-5 relative', { timeout: 300_000 }, async () => {
    const gpu = await runInPage('webgpu', 3, false);
    expect(gpu.fallbackReason).toBeNull();
    expect(gpu.backend).toMatch(/WebGPU/);
    const ref = await nodeWasm(3);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i]!) / ref.losses[i]!, `step ${i + 1}`).toBeLessThan(1e-5));
    for (const [name, p] of Object.entries(ref.params)) {
      const got = gpu.params[name]!;
      const scale = Math.max(...Array.from(p, Math.abs));
      const worst = Math.max(...got.map((x, j) => Math.abs(x - p[j]!)));
      expect(worst / scale, name).toBeLessThan(2e-5);
    }
  });

  it('graph capture: fixed-buffer bindings and ORT-captured replays give the same 50 steps as plain runs, bit for bit', { timeout: 600_000 }, async () => {
    const plain = await runInPage('webgpu', 50, false);
    const fixed = await runInPage('webgpu', 50, 'fixed-buffers');
    const captured = await runInPage('webgpu', 50, true);
    for (const other of [fixed, captured]) {
      expect(other.losses).toEqual(plain.losses);
      expect(other.gradNorms).toEqual(plain.gradNorms);
      for (const [name, p] of Object.entries(plain.params)) expect(other.params[name], name).toEqual(p);
    }
    // The run really moved: a replay that read stale buffers could not match 50 changing steps.
    expect(new Set(plain.losses).size).toBeGreaterThan(40);
  });

  it('ORT 1.30 fault, minimal: graph capture replays dispatches but not the kernels\' buffer copies', { timeout: 120_000 }, async () => {
    const repro = (kind: 'scatter' | 'reshape', capture: boolean) => page.evaluate(([k, c]) => window.tabtuneCaptureRepro(k, c), [kind, capture] as const);
    // ScatterElements seeds its output with a copy of the data input: replays add onto the last run's result.
    expect(await repro('scatter', false)).toEqual([[0, 10, 0, 20], [0, 10, 0, 20], [0, 10, 0, 20]]);
    const scatter = await repro('scatter', true);
    expect(scatter[1]).not.toEqual([0, 10, 0, 20]);
    expect(scatter[2]![1]! - scatter[1]![1]!).toBe(10);
    // A Reshape that makes a graph output copies into it: the output keeps the value from capture time.
    expect(await repro('reshape', false)).toEqual([[11, 21], [21, 41], [31, 61]]);
    const reshape = await repro('reshape', true);
    expect(reshape[1]).toEqual(reshape[2]);
    expect(reshape[2]).not.toEqual([31, 61]);
  });

  it('the trainer on the demo model captures its graphs on WebGPU by default: 50 steps equal an uncaptured run, bit for bit', { timeout: 900_000 }, async () => {
    const trainDemo = (prefer: 'webgpu' | 'wasm', steps: number, capture: boolean) => page.evaluate(([p, s, c]) => window.tabtuneTrainDemo(p, s, c), [prefer, steps, capture] as const);
    const captured = await trainDemo('webgpu', 50, true);
    const plain = await trainDemo('webgpu', 50, false);
    console.log(`demo trainer, 50 steps on SwiftShader WebGPU: captured ${(captured.ms / 1000).toFixed(1)} s, uncaptured ${(plain.ms / 1000).toFixed(1)} s`);
    expect(captured.capture).toEqual({ on: true, note: null });
    expect(captured.label).toBe('WebGPU (onnxruntime-web), graph capture');
    expect(plain.capture).toEqual({ on: false, note: null });
    expect(plain.label).toBe('WebGPU (onnxruntime-web)');
    // Built for capture (StepConfig.computedOutputs), with nothing to add: every LoRA matrix comes out of a Split, a
    // kernel that writes it on each replay, so none needs a Max(p, p).
    expect(captured.graphNodes).toBe(plain.graphNodes);
    expect(captured.losses).toHaveLength(50);
    expect(captured.losses).toEqual(plain.losses);
    expect(captured.gradNorms).toEqual(plain.gradNorms);
    expect(captured.evalLosses).toEqual(plain.evalLosses);
    expect(Object.keys(captured.params).sort()).toEqual(Object.keys(plain.params).sort());
    for (const [name, p] of Object.entries(plain.params)) expect(captured.params[name], name).toEqual(p);
    expect(new Set(plain.losses).size).toBeGreaterThan(40);
    // The batch inspector on a captured trainer answers from an uncaptured session: the same loss and gradients.
    expect(captured.inspected).toEqual(plain.inspected);
    expect(captured.inspected.gradSquares).toBeGreaterThan(0);
    // On WASM a request for capture is moot: nothing to replay, nothing said.
    const wasm = await trainDemo('wasm', 1, true);
    expect(wasm.capture).toEqual({ on: false, note: null });
    expect(wasm.label).toMatch(/^WASM \(onnxruntime-web, \d+ threads?\)$/);
  });

  it('a captured graph whose first replay fails trains on uncaptured, from the state before it, with the same losses', { timeout: 300_000 }, async () => {
    const trainDemo = (capture: boolean, fail: boolean) => page.evaluate(([c, f]) => window.tabtuneTrainDemo('webgpu', 6, c, f), [capture, fail] as const);
    const recovered = await trainDemo(true, true);
    const plain = await trainDemo(false, false);
    expect(recovered.capture.on).toBe(false);
    expect(recovered.capture.note).toBe('graph capture off: its first replay failed (injected fault: the captured graph could not be recorded)');
    expect(recovered.label).toBe(`WebGPU (onnxruntime-web), ${recovered.capture.note}`);
    expect(recovered.losses).toHaveLength(6);
    expect(recovered.losses).toEqual(plain.losses);
    for (const [name, p] of Object.entries(plain.params)) expect(recovered.params[name], name).toEqual(p);
  });

  it('falls back to WASM in the page when asked, with the same losses', { timeout: 300_000 }, async () => {
    const wasm = await runInPage('wasm', 2, false);
    expect(wasm.backend).toMatch(/WASM/);
    const ref = await nodeWasm(2);
    wasm.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i]!) / ref.losses[i]!).toBeLessThan(1e-6));
  });
});
