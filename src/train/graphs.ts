// Model + LoRA → the engine's step graphs (train, accumulate, eval) for one static batch shape, and the host tensors
// the runtime binds to their frozen inputs. The forward pass comes from src/models, the loss/backward/AdamW from
// src/engine/step.ts; nothing here runs a graph.
import type { AdamWConfig } from '../engine/optim.ts';
import { trainedRows } from '../engine/loss.ts';
import { buildStepGraphs, STEP_IO, type StepConfig, type StepGraphs } from '../engine/step.ts';
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
  /**
   * The most target tokens a batch of the run holds (mostTargetsPerBatch). When at most half the positions, training
   * graphs compute the LM head and loss on those rows only (engine trainedRowsLoss): an SFT batch with responses-only
   * masks trains on a fraction of its positions, and the head is the widest Gemm of a small model. Batches then carry
   * label_rows / label_targets (withTrainedRows). Unset: the head runs on every position.
   */
  readonly trainedRows?: number;
}

/** Whether graphs of `shape` use the trained-rows head (see GraphShape.trainedRows). */
function trainedRowsHead(shape: GraphShape, fullTensors: readonly string[]): number | null {
  const k = shape.trainedRows;
  if (k === undefined || k < 1 || 2 * k > shape.batch * shape.seqLen) return null;
  // A head trained in full needs its gradient, which the trained-rows loss does not compute.
  if (fullTensors.some((n) => HEAD_TENSORS.has(n))) return null;
  return k;
}

/** The tensors an LM head reads, tied or not, in every family's weight table. */
const HEAD_TENSORS: ReadonlySet<string> = new Set(['lm_head.weight', 'model.embed_tokens.weight', 'transformer.wte.weight']);

/** Adds the trained-rows inputs to a collated batch when the graphs of `shape` take them (see GraphShape.trainedRows). */
export function withTrainedRows(batch: Batch, shape: GraphShape, fullTensors: readonly string[]): Batch {
  const k = trainedRowsHead(shape, fullTensors);
  const labels = batch[STEP_IO.labels];
  if (k === null || !labels) return batch;
  const { rows, targets } = trainedRows(labels.data as Int32Array, shape.batch, shape.seqLen, k);
  return { ...batch, [STEP_IO.labelRows]: { dtype: 'int32', dims: [k], data: rows }, [STEP_IO.labelTargets]: { dtype: 'int32', dims: [k], data: targets } };
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
      const rows = trainedRowsHead(shape, fullTensors);
      if (chunkRows === null && rows !== null) {
        const fwd = buildForward(g, cfg, { ...opts, logits: 'none' });
        return { hidden: fwd.hidden, ...headOf(cfg, fwd), batch: shape.batch, seqLen: shape.seqLen, trainedRows: rows };
      }
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
