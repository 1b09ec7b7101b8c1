// The memory plan of a run before any weight download: from config.json and the run config alone, the bill (weights
// as loaded, trainable parameters with gradients and AdamW moments, activations for batch × max length) and the
// checks that refuse, with numbers and a fix, a run whose largest tensor cannot live in one GPU buffer or whose total
// exceeds a budget. The worker's model.inspect and the CLI's train/step call this; the formulas live in
// src/models/memory.ts so there is one estimate.
import { parseModelConfig, type ModelConfig } from '../models/config.ts';
import { planLora, selectFullTensors, trainableSummary, type TensorGroup } from '../models/lora.ts';
import { resolveLoraTargets } from './session.ts';
import { logitsChunkRows, memoryBill } from '../models/memory.ts';
import { HELD_WEIGHTS_LIMIT_BYTES } from '../runtime/held-weights.ts';

/** A structural subset of RunConfig (src/share/run-config.ts): the RunConfig itself can be passed. */
export interface MemoryRun {
  readonly maxLength: number;
  readonly lora: { readonly r: number; readonly alpha: number; readonly rslora?: boolean; readonly dropout?: number; readonly targets: readonly string[] };
  /** The cadences say which sessions a run creates (weightCopies); absent, every one is counted. */
  readonly train: { readonly batchSize: number; readonly evalEvery?: number; readonly sampleEvery?: number };
  /** Base tensors trained fully (weight-table names), if any. */
  readonly fullTensors?: readonly string[];
  /** The run config's full-tensor choice (groups and layers), resolved per family here. */
  readonly full?: { readonly groups: readonly TensorGroup[]; readonly layers: readonly number[] };
}

export interface MemoryLimits {
  /** GPUDevice limits from the capability probe (WebGPU); leave out for WASM. */
  readonly maxBufferSize?: number;
  readonly maxStorageBufferBindingSize?: number;
  /** Total bytes the run may use (device memory estimate, or WASM_BUDGET_BYTES); left out, the total is not checked. */
  readonly budgetBytes?: number;
  /**
   * The backend's sessions hold the frozen weights themselves (WASM and the CPU EP: Backend.sessionWeights), each
   * session its own copy in the budgeted memory: the weights are then counted once per such session (weightCopies).
   */
  readonly sessionWeights?: boolean;
}

interface MemoryBillDetail {
  /** Base weights as float32 on the device (BF16/F16 checkpoints are widened on load), one copy. */
  readonly weightBytes: number;
  /** Copies of the base weights the run keeps in the budgeted memory (weightCopies); totalBytes counts them all. */
  readonly weightCopies: number;
  /** Base parameters plus the adapter's. */
  readonly totalParams: number;
  readonly trainableParams: number;
  /** trainableParams / totalParams, as PEFT's print_trainable_parameters shows it. */
  readonly trainableFraction: number;
  /** The trainable parameters themselves (float32). */
  readonly trainableBytes: number;
  readonly gradientBytes: number;
  /** AdamW's two moments. */
  readonly optimizerBytes: number;
  readonly activationBytes: number;
  /** How activationBytes is estimated, in one sentence for the UI and the CLI. */
  readonly activationNote: string;
  /** The single tensor that needs the largest GPU buffer, e.g. `embedding table [49152, 576]`. */
  readonly largestTensor: { readonly name: string; readonly bytes: number };
  readonly totalBytes: number;
  readonly batch: number;
  readonly seqLen: number;
}

interface MemoryProblem {
  readonly kind: 'tensor-too-large' | 'over-budget';
  /** A full sentence with the numbers and the fixes. */
  readonly message: string;
}

export interface MemoryPlan {
  readonly bill: MemoryBillDetail;
  /** True when there are no problems. */
  readonly fits: boolean;
  readonly problems: readonly MemoryProblem[];
}

/** onnxruntime-web's WASM build addresses at most 4 GiB (wasm32): a budget for runs on the WASM backend. */
export const WASM_BUDGET_BYTES = 4 * 1024 ** 3;

const F32 = 4;
const MIN_LENGTH = 8;

const ACTIVATION_NOTE =
  'Activations are estimated as what backward keeps per token: about 12×hidden + 4×intermediate floats per layer ' +
  '(projection inputs/outputs, norms, residuals) plus 2×heads×length for attention scores and probabilities, and ' +
  '3×vocabulary for the logits, their softmax and gradient (for large vocabularies the loss is computed in chunks of ' +
  'positions, 4×vocabulary per position of one chunk); at the max length, so shorter data needs less.';

/** "4.98 GB" / "116.0 MB" / "512 kB": decimal units, as download sizes are shown. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

interface BigTensor {
  readonly name: string;
  readonly bytes: number;
  /** The largest batch × length product (tokens) or length at which it fits `limit`; null when the data shape does not matter. */
  readonly fixFor: ((limit: number) => string) | null;
}

function bigTensors(cfg: ModelConfig, batch: number, seqLen: number): BigTensor[] {
  const V = cfg.vocabSize;
  const H = cfg.hiddenSize;
  const tokens = batch * seqLen;
  const chunk = logitsChunkRows(cfg, tokens);
  const lengthFix = (maxTokensOrLen: (limit: number) => number) => (limit: number) => {
    const len = maxTokensOrLen(limit);
    const fixes: string[] = [];
    if (len >= MIN_LENGTH) fixes.push(`lower max length to ${len}`);
    if (batch > 1) {
      const at1 = maxTokensOrLen(limit * batch);
      if (at1 >= seqLen) fixes.push('lower the batch size to 1');
    }
    return fixes.join(' or ');
  };
  return [
    { name: `embedding table [${V}, ${H}]`, bytes: V * H * F32, fixFor: null },
    chunk === null
      ? { name: `logits [${batch}×${seqLen}, ${V}]`, bytes: tokens * V * F32, fixFor: lengthFix((limit) => Math.floor(limit / (V * F32) / batch)) }
      : { name: `logits chunk [${chunk}, ${V}]`, bytes: chunk * V * F32, fixFor: null },
    {
      name: `attention scores [${batch}×${cfg.numHeads}, ${seqLen}, ${seqLen}]`,
      bytes: batch * cfg.numHeads * seqLen * seqLen * F32,
      fixFor: lengthFix((limit) => Math.floor(Math.sqrt(limit / (F32 * batch * cfg.numHeads)))),
    },
  ];
}

/**
 * Copies of the base weights in the budgeted memory. On WebGPU one (GPU buffers every session reads). On a backend whose
 * sessions hold them (runtime/held-weights.ts, up to HELD_WEIGHTS_LIMIT_BYTES) one per session that holds them: train,
 * accumulate (gradient accumulation, the batch inspector, `tabtune step`), eval (when the run evaluates) and the samples'
 * decode session (when it samples), plus the transient copy of the samples' prefill, which is fed them. Heavier weights
 * are fed to every run: one transient copy.
 */
function weightCopies(weightBytes: number, train: MemoryRun['train'], sessionWeights: boolean): number {
  if (!sessionWeights || weightBytes > HELD_WEIGHTS_LIMIT_BYTES) return 1;
  const evaluates = train.evalEvery !== 0;
  const samples = train.sampleEvery !== 0;
  return 2 + (evaluates ? 1 : 0) + (samples ? 2 : 0);
}

function detail(cfg: ModelConfig, run: MemoryRun, batch: number, seqLen: number, sessionWeights = false): MemoryBillDetail {
  // The targets a trainer would use for this family (GPT-2 gets c_attn for the schema default), so the bill matches.
  const targets = resolveLoraTargets({ r: run.lora.r, alpha: run.lora.alpha, rslora: run.lora.rslora ?? false, dropout: run.lora.dropout ?? 0, targets: [...run.lora.targets] }, cfg);
  const plan = planLora(cfg, { ...run.lora, targets });
  const full = run.full ? selectFullTensors(cfg, run.full.groups, run.full.layers) : (run.fullTensors ?? []);
  const bill = memoryBill(cfg, { batch, seqLen }, plan, full);
  const summary = trainableSummary(cfg, plan, full);
  const paramBytes = summary.trainable * F32;
  const largest = bigTensors(cfg, batch, seqLen).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const copies = weightCopies(bill.weightBytes, run.train, sessionWeights);
  return {
    weightBytes: bill.weightBytes,
    weightCopies: copies,
    totalParams: summary.total,
    trainableParams: summary.trainable,
    trainableFraction: summary.fraction,
    trainableBytes: paramBytes,
    gradientBytes: paramBytes,
    optimizerBytes: 2 * paramBytes,
    activationBytes: bill.activationBytes,
    activationNote: ACTIVATION_NOTE,
    largestTensor: { name: largest.name, bytes: largest.bytes },
    totalBytes: bill.totalBytes + (copies - 1) * bill.weightBytes,
    batch,
    seqLen,
  };
}

/** The longest length (≥ MIN_LENGTH) whose total fits the budget, by bisection (the total grows with the length). */
function longestFitting(cfg: ModelConfig, run: MemoryRun, budget: number, limits: MemoryLimits): number | null {
  const total = (len: number) => detail(cfg, run, run.train.batchSize, len, limits.sessionWeights).totalBytes;
  if (total(MIN_LENGTH) > budget) return null;
  let lo = MIN_LENGTH;
  let hi = run.maxLength;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (total(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Plans a run's memory from config.json (the parsed JSON, validated here) and the run config. Throws only when the
 * config is not a supported checkpoint or a LoRA target names no module of it; everything that does not fit comes
 * back as problems, each a sentence with the numbers and what to change.
 */
export function planMemory(configJson: unknown, run: MemoryRun, limits: MemoryLimits = {}): MemoryPlan {
  const cfg = parseModelConfig(configJson);
  const batch = run.train.batchSize;
  const seqLen = run.maxLength;
  const bill = detail(cfg, run, batch, seqLen, limits.sessionWeights);
  const problems: MemoryProblem[] = [];
  const bufferLimits: [string, number][] = [];
  if (limits.maxStorageBufferBindingSize) bufferLimits.push(['maxStorageBufferBindingSize', limits.maxStorageBufferBindingSize]);
  if (limits.maxBufferSize) bufferLimits.push(['maxBufferSize', limits.maxBufferSize]);
  // One tensor must fit the smaller of the two: a buffer can be no larger than maxBufferSize, a binding no larger than
  // maxStorageBufferBindingSize.
  const smallest = bufferLimits.sort((a, b) => a[1] - b[1])[0];
  if (smallest) {
    const [limitName, limit] = smallest;
    for (const t of bigTensors(cfg, batch, seqLen)) {
      if (t.bytes <= limit) continue;
      const dataFix = t.fixFor?.(limit) ?? '';
      const fixes = [dataFix, 'use the WASM backend', 'pick a smaller model'].filter((f) => f !== '');
      problems.push({
        kind: 'tensor-too-large',
        message: `the ${t.name} takes ${formatBytes(t.bytes)} in one GPU buffer, over this GPU's ${limitName} of ${formatBytes(limit)}: ${joinFixes(fixes)}.`,
      });
    }
  }
  if (limits.budgetBytes !== undefined && bill.totalBytes > limits.budgetBytes) {
    const len = longestFitting(cfg, run, limits.budgetBytes, limits);
    const fixes = [len !== null && len < seqLen ? `lower max length to ${len}` : '', 'pick a smaller model'].filter((f) => f !== '');
    problems.push({
      kind: 'over-budget',
      message:
        `the run needs about ${formatBytes(bill.totalBytes)} (weights ${formatBytes(bill.weightBytes * bill.weightCopies)}${copiesNote(bill)}, trainable + gradients + AdamW ` +
        `${formatBytes(bill.trainableBytes + bill.gradientBytes + bill.optimizerBytes)}, activations ${formatBytes(bill.activationBytes)} for ` +
        `${batch} × ${seqLen} tokens) but ${formatBytes(limits.budgetBytes)} is available: ${joinFixes(fixes)}.`,
    });
  }
  return { bill, fits: problems.length === 0, problems };
}

/** ", one copy per session that holds them (N × 12.3 MB)" where the weights are counted more than once, else "". */
function copiesNote(b: MemoryBillDetail): string {
  return b.weightCopies > 1 ? `, one copy per session that holds them (${b.weightCopies} × ${formatBytes(b.weightBytes)})` : '';
}

function joinFixes(fixes: readonly string[]): string {
  if (fixes.length <= 1) return fixes.join('');
  return `${fixes.slice(0, -1).join(', ')} or ${fixes.at(-1)!}`;
}

/** The bill as aligned text lines, for the CLI (and logs). */
export function formatMemoryPlan(plan: MemoryPlan): string {
  const b = plan.bill;
  const row = (label: string, bytes: number, extra = '') => `  ${label.padEnd(22)} ${formatBytes(bytes).padStart(10)}${extra ? `  ${extra}` : ''}`;
  const pct = (b.trainableFraction * 100).toFixed(b.trainableFraction < 0.01 ? 3 : 2);
  return [
    `Memory bill for batch ${b.batch} × max length ${b.seqLen} (float32):`,
    row('weights', b.weightBytes * b.weightCopies, `${b.totalParams.toLocaleString('en-US')} parameters with the adapter${copiesNote(b)}`),
    row('trainable parameters', b.trainableBytes, `${b.trainableParams.toLocaleString('en-US')} (${pct}%)`),
    row('gradients', b.gradientBytes),
    row('AdamW moments', b.optimizerBytes),
    row('activations (est.)', b.activationBytes),
    row('total', b.totalBytes),
    row('largest tensor', b.largestTensor.bytes, b.largestTensor.name),
    ...plan.problems.map((p) => `  REFUSED: ${p.message}`),
    '',
  ].join('\n');
}
