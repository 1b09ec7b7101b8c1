// Batches: collation of examples to int32 input_ids / attention_mask / position_ids / labels, one example per row (TabTune does not pack),
// the seeded, resumable data order, and the one-batch record the batch inspector and the CLI print.
// Padding labels are IGNORE_INDEX by position, never by comparing ids with the pad id (sft-conventions §2).
import type { Example } from './example.ts';
import { createRng, permutation, streamSeed } from './rng.ts';
import type { Tokenizer } from './tokenizer.ts';
import { IGNORE_INDEX } from './types.ts';

export interface Batch {
  batchSize: number;
  seqLen: number;
  /** Row-major [batchSize, seqLen]. */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  positionIds: Int32Array;
  labels: Int32Array;
  /** The example ids in each row, in order. */
  rows: string[][];
  /** Target tokens after the shift (labels[t] for t ≥ 1 that are not IGNORE_INDEX): the loss denominator (§3). */
  targetTokens: number;
}

/** The id written on padding positions. Its value never matters (padding is masked by position); EOS when the
 * tokenizer names no pad token, as transformers does. */
export function padIdFor(tok: Tokenizer): number {
  return tok.padId ?? tok.eosId ?? 0;
}

function emptyBatch(batchSize: number, seqLen: number): Batch {
  const n = batchSize * seqLen;
  return {
    batchSize,
    seqLen,
    inputIds: new Int32Array(n),
    attentionMask: new Int32Array(n),
    positionIds: new Int32Array(n),
    labels: new Int32Array(n).fill(IGNORE_INDEX),
    rows: [],
    targetTokens: 0,
  };
}

function countShiftedTargets(batch: Batch): number {
  let n = 0;
  for (let r = 0; r < batch.batchSize; r++) {
    for (let t = 1; t < batch.seqLen; t++) if (batch.labels[r * batch.seqLen + t] !== IGNORE_INDEX) n++;
  }
  return n;
}

export interface CollateOptions {
  padId: number;
  /** Pad every row to this length (static shapes for the step graph). Default: the longest example. */
  seqLen?: number;
}

/** One example per row, right-padded. */
export function collate(examples: readonly Example[], opts: CollateOptions): Batch {
  if (examples.length === 0) throw new Error('collate needs at least one example.');
  const longest = Math.max(...examples.map((e) => e.ids.length));
  const seqLen = opts.seqLen ?? longest;
  if (longest > seqLen) {
    const worst = examples.find((e) => e.ids.length === longest);
    throw new Error(`Example ${worst?.id} has ${longest} tokens, more than the batch length ${seqLen}; set max length ≤ ${seqLen}.`);
  }
  const batch = emptyBatch(examples.length, seqLen);
  batch.inputIds.fill(opts.padId);
  examples.forEach((ex, r) => {
    const base = r * seqLen;
    batch.inputIds.set(ex.ids, base);
    batch.labels.set(ex.labels, base);
    for (let t = 0; t < ex.ids.length; t++) {
      batch.attentionMask[base + t] = 1;
      batch.positionIds[base + t] = t;
    }
    batch.rows.push([ex.id]);
  });
  batch.targetTokens = countShiftedTargets(batch);
  return batch;
}

/** Where the data order stands: enough to continue the exact sequence after a reload. */
/** How many of `n` items a seeded split holds out: `fraction` of them, at least one when fraction > 0 and n ≥ 2, and
 * never all (a run needs a training example). */
function evalCount(n: number, fraction: number): number {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`the eval fraction must be in [0, 1), got ${fraction}`);
  return fraction > 0 && n >= 2 ? Math.min(n - 1, Math.max(1, Math.round(n * fraction))) : 0;
}

/** The seeded train/eval split of `n` items as a held-out mask: the same (n, fraction, seed) always holds out the same
 * positions. The data order below draws from the same generator, on its own stream. */
export function evalMask(n: number, fraction: number, seed: number): boolean[] {
  const held = new Array<boolean>(n).fill(false);
  for (const i of permutation(n, createRng(streamSeed(seed, 'eval-split'))).slice(0, evalCount(n, fraction))) held[i] = true;
  return held;
}

export interface OrderState {
  seed: number;
  epoch: number;
  /** Index into the epoch's permutation of the next example. */
  position: number;
}

export function initialOrder(seed: number): OrderState {
  return { seed, epoch: 0, position: 0 };
}

/** The epoch's order: a permutation from the run seed and the epoch number (so any epoch can be rebuilt). */
export function epochOrder(size: number, seed: number, epoch: number): number[] {
  return permutation(size, createRng(streamSeed(seed, `data-order/${epoch}`)));
}

/** The next `count` example indices and the state after them; crosses epoch boundaries with a fresh shuffle. */
export function nextIndices(size: number, state: OrderState, count: number): { indices: number[]; state: OrderState } {
  if (size <= 0) throw new Error('The training set is empty: nothing to draw batches from.');
  const indices: number[] = [];
  let { epoch, position } = state;
  let order = epochOrder(size, state.seed, epoch);
  while (indices.length < count) {
    if (position >= size) {
      epoch++;
      position = 0;
      order = epochOrder(size, state.seed, epoch);
    }
    indices.push(order[position] ?? 0);
    position++;
  }
  return { indices, state: { seed: state.seed, epoch, position } };
}

/** The one-batch record (issue 5 item 6): what the batch inspector and `tabtune inspect/step` show. */
export interface BatchRecord {
  seqLen: number;
  targetTokens: number;
  rows: {
    exampleIds: string[];
    text: string;
    tokens: string[];
    inputIds: number[];
    labels: number[];
    attentionMask: number[];
    positionIds: number[];
  }[];
}

export function batchRecord(batch: Batch, examples: readonly Example[], tok: Tokenizer): BatchRecord {
  const byId = new Map(examples.map((e) => [e.id, e]));
  return {
    seqLen: batch.seqLen,
    targetTokens: batch.targetTokens,
    rows: batch.rows.map((ids, r) => {
      const slice = (a: Int32Array) => Array.from(a.subarray(r * batch.seqLen, (r + 1) * batch.seqLen));
      const inputIds = slice(batch.inputIds);
      return {
        exampleIds: ids,
        text: ids.map((id) => byId.get(id)?.text ?? '').join(''),
        tokens: inputIds.map((id) => tok.tokenText(id)),
        inputIds,
        labels: slice(batch.labels),
        attentionMask: slice(batch.attentionMask),
        positionIds: slice(batch.positionIds),
      };
    }),
  };
}
