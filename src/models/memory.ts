// The memory bill of a run, computed from config.json alone (before any download): frozen weights, trainable
// parameters with their gradients and AdamW moments, and an estimate of the activations one training step keeps
// alive for the backward pass. All float32, since that is what the graphs compute in.
import type { ModelConfig } from './config.ts';
import { modelDropoutSpecs } from './gpt2.ts';
import type { LoraPlan } from './lora.ts';
import { trainableSummary } from './lora.ts';
import { parameterCount } from './weights.ts';

export interface MemoryBill {
  /** Base weights as float32 on the device (BF16 checkpoints are widened on load). */
  readonly weightBytes: number;
  readonly trainableParams: number;
  /** Trainable parameters plus their gradients and the two AdamW moments: 4 copies. */
  readonly trainableBytes: number;
  /** Estimate of the tensors a training step keeps for backward, for the given batch × sequence. */
  readonly activationBytes: number;
  /** Largest single tensor (the logits or the embedding table): must fit one GPU buffer. */
  readonly largestTensorBytes: number;
  readonly totalBytes: number;
}

const F32 = 4;

/**
 * Full logits up to this size are built as one tensor; larger ones are computed in chunks of positions. Two chunks'
 * worth: on tiny Gemma 3 at 2 × 64 tokens (134 MB of logits) chunking halves a WASM step's resident memory (1.5 GB →
 * 0.78 GB) and its time, which is what lets the page train it without its renderer running out of memory.
 */
const FULL_LOGITS_MAX_BYTES = 128 * 2 ** 20;
/** Size of one chunk's logits [rows, V] when the head is chunked. */
const LOGITS_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * Positions per chunk of the fused head + loss in training graphs, or null when the full [tokens, V] logits are small
 * enough to build at once. Gemma 3's 262,144-token vocabulary makes the logits of one 512-token row 537 MB, and backward
 * keeps several tensors that size: chunked, each [rows, V] tensor lives only inside its chunk.
 */
export function logitsChunkRows(cfg: ModelConfig, tokens: number): number | null {
  const rowBytes = cfg.vocabSize * F32;
  if (tokens * rowBytes <= FULL_LOGITS_MAX_BYTES) return null;
  return Math.max(1, Math.floor(LOGITS_CHUNK_BYTES / rowBytes));
}

/**
 * Activations per decoder layer are counted as the projections' inputs and outputs that autodiff keeps (about
 * 12·H + 4·I floats per token, from q/k/v/o, the two norms, the MLP and residuals) plus the attention scores and
 * probabilities (2·heads·T floats per token); the head adds logits, their exponentials and gradient (3·V per token),
 * or, for vocabularies large enough to be chunked (logitsChunkRows), four [rows, V] tensors of one chunk. The model's
 * own dropout sites (GPT-2's, Granite's attention dropout [B, heads, T, T] per layer) add each mask and the masked
 * tensor autodiff keeps.
 */
export function memoryBill(cfg: ModelConfig, shape: { batch: number; seqLen: number }, plan: LoraPlan | null, fullTensors: readonly string[] = []): MemoryBill {
  const tokens = shape.batch * shape.seqLen;
  const weightBytes = parameterCount(cfg) * F32;
  const trainableParams = trainableSummary(cfg, plan, fullTensors).trainable;
  const trainableBytes = trainableParams * 4 * F32;
  const perLayer = tokens * (12 * cfg.hiddenSize + 4 * cfg.intermediateSize + 2 * cfg.numHeads * shape.seqLen);
  // Chunked heads keep about four [rows, V] tensors of the chunk being computed (logits, exponentials, gradient, its
  // masked copy) and nothing per position afterwards.
  const chunk = logitsChunkRows(cfg, tokens);
  const head = chunk === null ? tokens * 3 * cfg.vocabSize : Math.min(chunk, tokens) * 4 * cfg.vocabSize;
  const dropout = modelDropoutSpecs(cfg, shape.batch, shape.seqLen).reduce((n, s) => n + 2 * s.shape.reduce((a, b) => a * b, 1), 0);
  const activationBytes = (cfg.numLayers * perLayer + head + dropout) * F32;
  const largestTensorBytes = Math.max(chunk ?? tokens, cfg.hiddenSize) * cfg.vocabSize * F32;
  return { weightBytes, trainableParams, trainableBytes, activationBytes, largestTensorBytes, totalBytes: weightBytes + trainableBytes + activationBytes };
}

/** Refuses a tokenizer with ids beyond the embedding table (the Gather would read out of range). */
export function checkTokenizerFits(cfg: ModelConfig, tokenizerSize: number): void {
  if (tokenizerSize > cfg.vocabSize) {
    throw new Error(
      `the tokenizer has ${tokenizerSize} tokens but the model's embedding table has ${cfg.vocabSize} rows (vocab_size in config.json): ` +
        'ids past the table cannot be embedded. Use the tokenizer that belongs to this checkpoint.',
    );
  }
}
