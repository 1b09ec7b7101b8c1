// Soak benchmark (`npm run soak`): 1,000 optimizer steps of the tiny Qwen3 fixture on onnxruntime-web WASM through the
// run session (the same trainer the app and the CLI drive), with eval, samples and checkpoints on their usual cadence,
// reporting every 100 steps the JS heap, the ArrayBuffer bytes (WASM memory and tensor copies live there) and the
// process RSS. Flat is the goal: a leak per step shows as a steady climb. Writes bench-output/soak.json.
// Flags: --steps N (default 1000), --every N (default 100), --backend wasm|cpu.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { folderSource } from '../src/cli/files.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { defaultRunConfig } from '../src/share/run-config.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { loadModel, loadTokenizerFrom } from '../src/train/model-source.ts';
import { RunSession } from '../src/train/session.ts';

const { values } = parseArgs({ options: { steps: { type: 'string' }, every: { type: 'string' }, backend: { type: 'string' } } });
const STEPS = Number(values.steps ?? 1000);
const EVERY = Number(values.every ?? 100);
const BACKEND = values.backend === 'cpu' ? 'cpu' : 'wasm';
const ROOT = join(import.meta.dirname, '..');

const source = folderSource(join(ROOT, 'fixtures/generated/hub/tabtune/tiny-qwen3'));
const [model, tokenizer] = await Promise.all([loadModel(source), loadTokenizerFrom(source)]);
const file = 'public/datasets/tiny-codewords.jsonl';
const data = await loadDataset('tiny-codewords.jsonl', new Uint8Array(readFileSync(join(ROOT, file))));
const base = defaultRunConfig();
const session = RunSession.prepare({
  config: {
    ...base, maxLength: 64, evalFraction: 0.25,
    train: { ...base.train, steps: STEPS, batchSize: 2, warmupSteps: 10, lr: 1e-3, evalEvery: 50, sampleEvery: 100, checkpointEvery: 50 },
  },
  model: model.config, tokenizer, data: { name: data.name, hash: data.hash, rows: data.rows },
});
const backend = await createNodeBackend(BACKEND, { threads: 2 });
const trainer = await session.createTrainer({ backend, model });

interface Point { step: number; heapMB: number; arrayBuffersMB: number; rssMB: number; loss: number; msPerStep: number }
const points: Point[] = [];
const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
let last = performance.now();
let lastLoss = Number.NaN;
console.log(`soak: ${STEPS} steps of tiny-qwen3 on ${backend.label}, a report every ${EVERY} steps`);
console.log('step   heap MB   arrayBuffers MB   rss MB   loss     ms/step');
const result = await trainer.run({
  onStep: (r) => {
    lastLoss = r.loss;
    if (r.step % EVERY !== 0) return;
    globalThis.gc?.();
    const m = process.memoryUsage();
    const now = performance.now();
    const p = { step: r.step, heapMB: mb(m.heapUsed), arrayBuffersMB: mb(m.arrayBuffers), rssMB: mb(m.rss), loss: lastLoss, msPerStep: Math.round(((now - last) / EVERY) * 10) / 10 };
    last = now;
    points.push(p);
    console.log(`${String(p.step).padStart(4)}   ${String(p.heapMB).padStart(7)}   ${String(p.arrayBuffersMB).padStart(15)}   ${String(p.rssMB).padStart(6)}   ${p.loss.toFixed(4)}   ${p.msPerStep}`);
  },
  // Checkpoints are taken (and dropped) as the app takes them before writing to IndexedDB.
  onCheckpoint: () => undefined,
});
await trainer.release();
await backend.release();
const first = points[0];
const lastPoint = points[points.length - 1];
if (first && lastPoint) {
  console.log(`\n${result.reason} at step ${result.step}; from step ${first.step} to ${lastPoint.step}: heap ${first.heapMB} → ${lastPoint.heapMB} MB, ` +
    `arrayBuffers ${first.arrayBuffersMB} → ${lastPoint.arrayBuffersMB} MB, rss ${first.rssMB} → ${lastPoint.rssMB} MB`);
}
mkdirSync(join(ROOT, 'bench-output'), { recursive: true });
writeFileSync(join(ROOT, 'bench-output/soak.json'), `${JSON.stringify({ backend: backend.label, steps: STEPS, points }, null, 2)}\n`);
