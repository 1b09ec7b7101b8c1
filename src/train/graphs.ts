// Model + LoRA → the engine's step graphs (train, accumulate, eval) for one static batch shape, and the host tensors
// the runtime binds to their frozen inputs. The forward pass comes from src/models, the loss/backward/AdamW from
// src/engine/step.ts; nothing here runs a graph.
import type { AdamWConfig } from '../engine/optim.ts';
import { buildStepGraphs, type StepConfig, type StepGraphs } from '../engine/step.ts';
import type { ModelConfig } from '../models/config.ts';
import { buildForward, headOf } from '../models/forward.ts';
import { modelDropoutSpecs, type DropoutSpec } from '../models/gpt2.ts';
import { loraDropoutInputName, type LoraPlan } from '../models/lora.ts';
import type { Rng } from '../models/rng.ts';
import { dropoutMask } from '../models/lora.ts';
import { logitsChunkRows } from '../models/memory.ts';
import type { BackendKind, HostTensor } from '../runtime/backend.ts';
import type { Batch } from '../runtime/train-session.ts';
import type { LoadedModel } from './model-source.ts';

export interface GraphShape {
  readonly batch: number;
  readonly seqLen: number;
}

/** How the graphs are built for the backend that runs them (the numbers are the same either way). */
export interface GraphBuild extends Pick<StepConfig, 'computedOutputs'> {
  /** ForwardOptions.einsumAttention: fewer nodes, for WebGPU (see graphBuildFor). */
  readonly einsumAttention?: boolean;
}

/** The graph build a backend runs best: Einsum attention on WebGPU, where each node is a dispatch; MatMul elsewhere. */
export function graphBuildFor(kind: BackendKind, capture: boolean): GraphBuild {
  return { computedOutputs: capture, einsumAttention: kind === 'webgpu' };
}

/**
 * Step graphs for LoRA training of `cfg` at a fixed [batch, seqLen], plus any base tensors trained in full (by
 * weight-table name). LoRA dropout masks become data inputs. Logits over 128 MiB (logitsChunkRows: Gemma 3's 262k
 * vocabulary, or long batches) go through the chunked head + loss.
 */
export function buildTrainGraphs(cfg: ModelConfig, plan: LoraPlan, shape: GraphShape, adamw: AdamWConfig, fullTensors: readonly string[] = [], build: GraphBuild = {}): StepGraphs {
  const withDropout = (plan.config.dropout ?? 0) > 0;
  const chunkRows = logitsChunkRows(cfg, shape.batch * shape.seqLen);
  const modelDropout = modelDropoutOf(cfg, shape).length > 0;
  const { einsumAttention = false, ...step } = build;
  return buildStepGraphs(
    (g) => {
      const opts = { batch: shape.batch, seqLen: shape.seqLen, lora: plan, loraDropout: withDropout, modelDropout, trainableWeights: fullTensors, einsumAttention };
      if (chunkRows === null) return buildForward(g, cfg, { ...opts, logits: 'all' }).logits!;
      const fwd = buildForward(g, cfg, { ...opts, logits: 'none' });
      return { hidden: fwd.hidden, ...headOf(cfg, fwd), batch: shape.batch, seqLen: shape.seqLen, chunkRows };
    },
    { adamw, ...step },
  );
}

/** Frozen inputs (every base weight) as host tensors, by graph input name. */
export function frozenTensors(model: LoadedModel, graphs: Pick<StepGraphs, 'frozen'>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const spec of graphs.frozen) {
    const data = model.weights.get(spec.name);
    if (!data) throw new Error(`the step graph reads "${spec.name}" but the checkpoint provided no such weight`);
    out[spec.name] = { dtype: 'float32', dims: spec.shape, data };
  }
  return out;
}

/** The model's own dropout sites in training graphs (GPT-2's embd/attn/resid dropout, Granite's attention dropout). */
function modelDropoutOf(cfg: ModelConfig, shape: GraphShape): DropoutSpec[] {
  return modelDropoutSpecs(cfg, shape.batch, shape.seqLen);
}

/**
 * Adds the dropout mask inputs to a batch: one per LoRA target, and one per dropout site of the model itself (GPT-2,
 * as transformers trains it). Drawn from `rng` when training (inverted dropout), all ones for evaluation and
 * inspection (`rng` null). Without any dropout the batch is returned unchanged.
 */
export function withDropoutMasks(batch: Batch, cfg: ModelConfig, plan: LoraPlan, shape: GraphShape, rng: Rng | null): Batch {
  const p = plan.config.dropout ?? 0;
  const sites = modelDropoutOf(cfg, shape);
  if (p <= 0 && sites.length === 0) return batch;
  const rows = shape.batch * shape.seqLen;
  const out: Record<string, HostTensor> = { ...batch };
  const mask = (count: number, prob: number): Float32Array => (rng ? dropoutMask(rng, 1, count, prob) : new Float32Array(count).fill(1));
  if (p > 0) {
    for (const t of plan.targets) out[loraDropoutInputName(t)] = { dtype: 'float32', dims: [rows, t.inFeatures], data: mask(rows * t.inFeatures, p) };
  }
  for (const s of sites) out[s.name] = { dtype: 'float32', dims: s.shape, data: mask(s.shape.reduce((a, b) => a * b, 1), s.p) };
  return out;
}
