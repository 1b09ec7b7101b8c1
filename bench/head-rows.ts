// The LM head on trained rows only (`npm run bench:head-rows [-- --backends cpu,wasm --threads N --seq T --trained K
// --steps N]`): the LoRA train step at SmolLM2-135M's shapes (random weights, LoRA r = 8 on the default targets) on
// an SFT-like batch whose last K positions are trained, as responses-only masks make them, built twice: with the
// head and loss on every position, and with them on the K trained rows (train/graphs.ts GraphShape.trainedRows).
// Asserts the losses agree and prints ms per step and the speed-up per backend. Never part of `npm test`.
import { parseModelConfig } from '../src/models/config.ts';
import { planLora } from '../src/models/lora.ts';
import { weightTable } from '../src/models/weights.ts';
import type { HostTensor } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { TrainSession, type Batch } from '../src/runtime/train-session.ts';
import { summarizeGraph } from '../src/engine/summary.ts';
import { buildTrainGraphs, withTrainedRows, type GraphShape } from '../src/train/graphs.ts';
import { SMOLLM2_135M_SHAPES } from '../scripts/fixtures/bench-checkpoint.ts';
import { readFlags } from './flags.ts';

const flags = readFlags(process.argv.slice(2), ['backends', 'threads', 'seq', 'trained', 'steps']);
const SEQ = flags.int('seq', 256);
const TRAINED = flags.int('trained', 64);
const STEPS = flags.int('steps', 4);
const THREADS = flags.int('threads', 1);
const BACKENDS = (flags.get('backends') ?? 'cpu,wasm').split(',').map((b) => {
  if (b !== 'cpu' && b !== 'wasm') throw new Error(`--backends takes cpu and/or wasm, got ${b}`);
  return b;
});
if (!(TRAINED >= 1 && 2 * TRAINED <= SEQ)) throw new Error(`--trained must be between 1 and half of --seq (${SEQ / 2})`);

const cfg = parseModelConfig(SMOLLM2_135M_SHAPES.config);
const plan = planLora(cfg, { r: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };

let seed = 12345;
const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
const frozenHost: Record<string, HostTensor> = {};
for (const w of weightTable(cfg)) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const data = w.kind === 'norm' ? new Float32Array(n).fill(1) : Float32Array.from({ length: n }, () => rand() * 0.05);
  frozenHost[w.name] = { dtype: 'float32', dims: w.shape, data };
}
const ids = Int32Array.from({ length: SEQ }, () => Math.floor(((rand() + 1) / 2) * cfg.vocabSize) % cfg.vocabSize);
const labels = Int32Array.from(ids, (id, t) => (t >= SEQ - TRAINED ? id : -100)); // K targets, each scored one position earlier
const dims = [1, SEQ];
const collated: Batch = {
  input_ids: { dtype: 'int32', dims, data: ids },
  position_ids: { dtype: 'int32', dims, data: Int32Array.from({ length: SEQ }, (_, t) => t) },
  attention_mask: { dtype: 'int32', dims, data: new Int32Array(SEQ).fill(1) },
  labels: { dtype: 'int32', dims, data: labels },
};

async function measure(kind: 'cpu' | 'wasm', shape: GraphShape): Promise<{ nodes: number; ms: number; losses: number[] }> {
  const graphs = buildTrainGraphs(cfg, plan, shape, ADAMW);
  const params: Record<string, Float32Array> = {};
  for (const t of graphs.trainable) params[t.name] = Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () => rand() * 0.02);
  const frozen = Object.fromEntries(graphs.frozen.map((s) => [s.name, frozenHost[s.name]!]));
  const backend = await createNodeBackend(kind, { threads: THREADS });
  const session = await TrainSession.create({ backend, graphs, params, frozen });
  const batch = withTrainedRows(collated, shape, []);
  try {
    const losses = [(await session.step([batch], 1e-3)).loss]; // warm-up
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) losses.push((await session.step([batch], 1e-3)).loss);
    return { nodes: summarizeGraph(graphs.train).nodes, ms: (performance.now() - t0) / STEPS, losses };
  } finally {
    await session.release();
    await backend.release();
  }
}

console.log(`SmolLM2-135M shapes, batch 1 × ${SEQ}, the last ${TRAINED} positions labelled (${TRAINED} targets), LoRA r=8 on q/k/v/o; ${THREADS} thread(s), ${STEPS} timed steps`);
for (const kind of BACKENDS) {
  seed = 777; // the same LoRA initialisation for both builds
  const every = await measure(kind, { batch: 1, seqLen: SEQ });
  seed = 777;
  const rows = await measure(kind, { batch: 1, seqLen: SEQ, trainedRows: TRAINED });
  rows.losses.forEach((l, i) => {
    const rel = Math.abs(l - every.losses[i]!) / Math.abs(every.losses[i]!);
    if (!(rel <= 1e-4)) throw new Error(`${kind}: loss of step ${i + 1} differs: ${l} with the trained-rows head, ${every.losses[i]} without (relative ${rel.toExponential(2)})`);
  });
  console.log(`${kind.padEnd(4)} head on every position: ${every.ms.toFixed(0)} ms/step (${every.nodes} nodes); on ${TRAINED} trained rows: ${rows.ms.toFixed(0)} ms/step (${rows.nodes} nodes); ${(every.ms / rows.ms).toFixed(2)}× faster, losses agree (last ${rows.losses.at(-1)!.toFixed(5)})`);
}
