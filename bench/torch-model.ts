// The model, weights, batch and timed loop of `npm run bench:torch`, shared by its Node side (bench/torch.ts) and its
// browser worker (bench/torch-browser-worker.ts), so both build the same graphs from the same seeded tensors. Nothing
// here imports Node modules.
import { parseModelConfig, type ModelConfig } from '../src/models/config.ts';
import { planLora, type LoraPlan } from '../src/models/lora.ts';
import { weightTable } from '../src/models/weights.ts';
import type { Backend, BackendKind, HostTensor } from '../src/runtime/backend.ts';
import { TrainSession, type Batch } from '../src/runtime/train-session.ts';
import { buildTrainGraphs, graphBuildFor } from '../src/train/graphs.ts';

export const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1.0 };
export const LR = 1e-3;
export const ROPE_THETA = 10000;
export const RMS_EPS = 1e-5;
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export interface Dims {
  batch: number;
  seq: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  rank: number;
}

/** The model as a checkpoint's config.json would describe it: Llama, untied head. */
function llamaConfig(d: Dims): ModelConfig {
  return parseModelConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d.hidden, intermediate_size: d.intermediate, num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads, num_hidden_layers: d.layers, vocab_size: d.vocab, rms_norm_eps: RMS_EPS, rope_theta: ROPE_THETA,
    tie_word_embeddings: false, hidden_act: 'silu', max_position_embeddings: Math.max(2048, d.seq),
  });
}

function seeded(seed: number): (bound: number) => number {
  let a = seed >>> 0;
  return (bound) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * bound;
  };
}

export interface Setup {
  dims: Dims;
  cfg: ModelConfig;
  plan: LoraPlan;
  frozen: Record<string, HostTensor>;
  params: Record<string, Float32Array>;
  batch: Batch;
}

/** Seeded weights (norms 1, the rest uniform ±1/√in; LoRA B small but non-zero so every tensor has a gradient). */
export function setup(d: Dims): Setup {
  const cfg = llamaConfig(d);
  const plan = planLora(cfg, { r: d.rank, alpha: 2 * d.rank, targets: TARGETS });
  const u = seeded(1);
  const fill = (n: number, bound: number) => Float32Array.from({ length: n }, () => u(bound));
  const frozen: Record<string, HostTensor> = {};
  for (const w of weightTable(cfg)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const bound = w.kind === 'embedding' ? 1 : 1 / Math.sqrt(w.shape.at(-1)!);
    frozen[w.name] = { dtype: 'float32', dims: w.shape, data: w.kind === 'norm' ? new Float32Array(n).fill(1) : fill(n, bound) };
  }
  const params: Record<string, Float32Array> = {};
  for (const t of plan.targets) {
    params[t.keyA] = fill(d.rank * t.inFeatures, 1 / Math.sqrt(t.inFeatures));
    params[t.keyB] = fill(t.outFeatures * d.rank, 1e-3);
  }
  const n = d.batch * d.seq;
  const ids = new Int32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) ids[i] = (s = (s * 1103515245 + 12345) >>> 0) % d.vocab;
  const dims = [d.batch, d.seq];
  const batch: Batch = {
    input_ids: { dtype: 'int32', dims, data: ids },
    position_ids: { dtype: 'int32', dims, data: Int32Array.from({ length: n }, (_, i) => i % d.seq) },
    attention_mask: { dtype: 'int32', dims, data: new Int32Array(n).fill(1) },
    labels: { dtype: 'int32', dims, data: ids.slice() },
  };
  return { dims: d, cfg, plan, frozen, params, batch };
}

export interface Timing {
  losses: number[];
  /** Mean ms per timed step. */
  ms: number;
  fastest: number;
  /**
   * Every step's ms, the warm-up steps first (in `--json`'s rounds): how a graph change moves the first steps shows
   * here, not in the mean (docs/architecture.md has the case that was not kept for it).
   */
  stepMs: number[];
}

/**
 * Trains `warmup` untimed then `steps` timed steps of the graphs `kind` runs (graphBuildFor) on `backend`, from the
 * seeded weights of `s` (copied: every call starts from the same state), and releases the session.
 */
export async function timeSteps(backend: Backend, kind: BackendKind, s: Setup, warmup: number, steps: number): Promise<Timing & { nodes: number }> {
  const graphs = buildTrainGraphs(s.cfg, s.plan, { batch: s.dims.batch, seqLen: s.dims.seq }, ADAMW, [], graphBuildFor(kind, false));
  const params = Object.fromEntries(graphs.trainable.map((t) => [t.name, s.params[t.name]!.slice()]));
  const frozen = Object.fromEntries(graphs.frozen.map((f) => [f.name, s.frozen[f.name]!]));
  const session = await TrainSession.create({ backend, graphs, params, frozen });
  try {
    const losses: number[] = [];
    const stepMs: number[] = [];
    const timed = async (): Promise<number> => {
      const t = performance.now();
      losses.push((await session.step([s.batch], LR)).loss);
      const ms = performance.now() - t;
      stepMs.push(Math.round(ms * 10) / 10);
      return ms;
    };
    for (let i = 0; i < warmup; i++) await timed();
    const t0 = performance.now();
    let fastest = Infinity;
    for (let i = 0; i < steps; i++) fastest = Math.min(fastest, await timed());
    return { nodes: graphs.train.nodes.length, losses, ms: (performance.now() - t0) / steps, fastest, stepMs };
  } finally {
    await session.release();
  }
}
