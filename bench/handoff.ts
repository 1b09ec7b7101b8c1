// Checkpoint hand-off benchmark (`npx tsx bench/handoff.ts`, after `npm run build`): what handing one completed step's
// state to the checkpoint service worker costs the training worker (src/worker/host/handoff.ts), at the bundled
// demo's LoRA shape and at SmolLM2-135M's. The built app is served and opened in Debian's Chromium so its service
// worker is the real one; a worker in the page then posts `save` messages shaped like the app's (adapter, AdamW m and
// v, RNG, cursor, 60 metric points) on a MessageChannel whose other end that service worker holds, and times each
// postMessage, 250 ms apart (the structured-clone copy the training worker waits for; the service worker reads and skips them, as
// the run id is unknown). The trainer's own state read-back (Trainer.checkpoint) is not included.
// Flags: --reps N (default 20), --port N (default 4393), --dist DIR (default dist).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import { readFlags } from './flags.ts';

const flags = readFlags(process.argv.slice(2), ['reps', 'port', 'dist']);
const REPS = flags.int('reps', 20);
const PORT = flags.int('port', 4393);
const ROOT = join(import.meta.dirname, '..');
const ORIGIN = `http://127.0.0.1:${PORT}`;

/** LoRA r on q/k/v/o_proj of a Llama: A is [r, in], B is [out, r]; k and v project to the key/value width. */
interface Shape { name: string; layers: number; hidden: number; kv: number; r: number }
const SHAPES: Shape[] = [
  { name: 'tabtune/tiny-storyteller (demo), r 8, q/k/v/o', layers: 4, hidden: 192, kv: 192, r: 8 },
  { name: 'SmolLM2-135M, r 8, q/k/v/o', layers: 30, hidden: 576, kv: 192, r: 8 },
];

/** Runs in a worker of the page: builds the state for `shape` and times `reps` posts of it on `port`. */
const WORKER = `
onmessage = async (ev) => {
  const { shape, reps, port } = ev.data;
  const tensors = (seed) => {
    const out = [];
    for (let l = 0; l < shape.layers; l++) for (const [mod, o] of [['q', shape.hidden], ['k', shape.kv], ['v', shape.kv], ['o', shape.hidden]]) {
      for (const [ab, n, sh] of [['A', shape.r * shape.hidden, [shape.r, shape.hidden]], ['B', o * shape.r, [o, shape.r]]]) {
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.sin(seed + i);
        out.push({ name: 'base_model.model.model.layers.' + l + '.self_attn.' + mod + '_proj.lora_' + ab + '.weight', shape: [n], data });
      }
    }
    return out;
  };
  const state = {
    step: 60, adapter: tensors(1), optimizer: { step: 60, m: tensors(2), v: tensors(3) },
    rng: { dropout: [1, 2, 3, 4], sample: [5, 6, 7, 8] }, cursor: { epoch: 0, index: 240 },
    metrics: Array.from({ length: 60 }, (_, i) => ({ step: i + 1, trainLoss: 3 - i / 100, learningRate: 1e-4, gradNorm: 1 })),
    samples: [], log: [],
  };
  const bytes = [...state.adapter, ...state.optimizer.m, ...state.optimizer.v].reduce((n, t) => n + t.data.byteLength, 0);
  const ms = [];
  for (let i = 0; i < reps; i++) {
    await new Promise((r) => setTimeout(r, 250)); // one post per step, as in training
    const t = performance.now();
    port.postMessage({ type: 'save', runId: 'bench-unknown-run', state });
    ms.push(performance.now() - t);
  }
  postMessage({ bytes, tensors: state.adapter.length * 3, ms });
};`;

const server = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', String(PORT), '--root', join(ROOT, flags.get('dist') ?? 'dist')], { stdio: 'ignore' });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(ORIGIN)).ok) break;
    } catch {
      if (i > 100) throw new Error(`scripts/serve.mjs did not answer on ${ORIGIN}; is the app built (npm run build)?`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const page = await browser.newPage();
  await page.goto(ORIGIN);
  await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistrations()).some((r) => r.active), undefined, { timeout: 60_000 });
  for (const shape of SHAPES) {
    const r = await page.evaluate(async ({ shape, reps, source }) => {
      const sw = (await navigator.serviceWorker.getRegistrations()).find((x) => x.active)!.active!;
      const channel = new MessageChannel();
      sw.postMessage({ type: 'tabtune-connect', key: `bench-${crypto.randomUUID()}` }, [channel.port1]);
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      const done = new Promise<{ bytes: number; tensors: number; ms: number[] }>((resolve) => (worker.onmessage = (ev) => resolve(ev.data)));
      worker.postMessage({ shape, reps, port: channel.port2 }, [channel.port2]);
      const out = await done;
      worker.terminate();
      return out;
    }, { shape, reps: REPS, source: WORKER });
    const sorted = [...r.ms].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
    console.log(`${shape.name}: ${r.tensors} tensors, ${r.bytes} bytes (${(r.bytes / 2 ** 20).toFixed(2)} MiB) per step; post ms median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)} over ${REPS}`);
  }
} finally {
  await browser.close();
  server.kill();
}
