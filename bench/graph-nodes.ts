// Nodes in a run's train-step graph, counted the way the benches report them (engine/summary.ts, the function the
// batch inspector's graph summary uses), for a model config.json and a run config: `npx tsx bench/graph-nodes.ts
// CONFIG_JSON [--batch B] [--seq T] [--targets LIST]` prints the counts for the default run config (per backend: the
// graphs are built for the one that runs them), and the e2e compares the inspector's number with trainStepNodes for the
// app's own config and backend. `--targets q_proj,k_proj,...` (or all-linear) replaces the default
// LoRA targets.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { summarizeGraph } from '../src/engine/summary.ts';
import { parseModelConfig } from '../src/models/config.ts';
import { defaultRunConfig, type RunConfig } from '../src/share/run-config.ts';
import type { BackendKind } from '../src/runtime/backend.ts';
import { buildTrainGraphs, graphBuildFor, type GraphShape } from '../src/train/graphs.ts';
import { resolveConfig, resolveSubset } from '../src/train/session.ts';
import { readFlags } from './flags.ts';

/** Train-step graph nodes for `config` (LoRA targets resolved for the model, as a run does) at [batch, seqLen]. */
export function trainStepNodes(modelConfigJson: unknown, config: RunConfig, shape: GraphShape, backend: BackendKind, capture = false): number {
  const model = parseModelConfig(modelConfigJson);
  const { plan, fullTensors } = resolveSubset(resolveConfig(config, model), model);
  const t = config.train;
  const adamw = { beta1: t.beta1, beta2: t.beta2, eps: t.eps, weightDecay: t.weightDecay, maxGradNorm: t.maxGradNorm > 0 ? t.maxGradNorm : null };
  return summarizeGraph(buildTrainGraphs(model, plan, shape, adamw, fullTensors, graphBuildFor(backend, capture)).train).nodes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  if (!path || path.startsWith('--')) throw new Error('usage: npx tsx bench/graph-nodes.ts CONFIG_JSON [--batch B] [--seq T] [--targets LIST]');
  const flags = readFlags(process.argv.slice(3), ['batch', 'seq', 'targets']);
  const shape = { batch: flags.int('batch', 4), seqLen: flags.int('seq', 128) };
  const base = defaultRunConfig();
  const targets = flags.get('targets')?.split(',').filter((t) => t !== '');
  const config = targets ? { ...base, lora: { ...base.lora, targets } } : base;
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  // The graph is built for the backend that runs it (train/graphs.ts graphBuildFor): WebGPU's, with and without graph
  // capture, and the CPU/WASM one.
  console.log(`webgpu ${trainStepNodes(json, config, shape, 'webgpu')} (captured ${trainStepNodes(json, config, shape, 'webgpu', true)}), wasm/cpu ${trainStepNodes(json, config, shape, 'wasm')}`);
}
