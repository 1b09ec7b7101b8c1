// Rows → training examples → fixed-shape batches: picks the template (the tokenizer's chat template, Alpaca, or a user
// file), builds examples with src/data (render, tokenize, mask, truncate, drop), lints them, splits train/eval with a
// seeded shuffle, and collates right-padded batches. Collation and the data order are src/data's (batch.ts); the order
// is a function of (seed, epoch) plus a cursor, so a checkpoint stores two integers and resume replays the same batches.
import { collate as collateRows, evalMask, nextIndices, padIdFor, type OrderState } from '../data/batch.ts';
import { buildExamples, type BuiltDataset, type Example } from '../data/example.ts';
import { lintDataset, type LintWarning } from '../data/lint.ts';
import type { MaskMode } from '../data/masks.ts';
import { compileTemplate, FROZEN_DATE, mustCompile, type CompiledTemplate } from '../data/template.ts';
import { withTemplateTurnEnds, type Tokenizer } from '../data/tokenizer.ts';
import { PRESET_SOURCES, TEMPLATE_TITLES, type PresetKind } from '../share/templates.ts';
import { IGNORE_INDEX, type Row } from '../data/types.ts';
import type { Batch } from '../runtime/train-session.ts';

export type TemplateChoice = { kind: 'chat' } | { kind: PresetKind } | { kind: 'custom'; source: string; name: string };

export interface DatasetOptions {
  readonly tokenizer: Tokenizer;
  readonly template: TemplateChoice;
  readonly mask: MaskMode;
  readonly maxLength: number;
  readonly kwargs?: Record<string, unknown>;
  /** config.json vocab_size, for the linter's "token ids beyond the embedding" check. */
  readonly embeddingRows?: number;
}

export interface PreparedDataset extends BuiltDataset {
  readonly template: CompiledTemplate | null;
  readonly warnings: LintWarning[];
}

function conversational(rows: readonly Row[]): boolean {
  return rows.some((r) => r.kind === 'messages' || r.kind === 'prompt-completion-chat' || r.kind === 'instruction');
}

/** The compiled template for a choice; null when no row needs one. Throws with a fix when chat has no template. */
function resolveTemplate(choice: TemplateChoice, tokenizer: Tokenizer, rows: readonly Row[]): CompiledTemplate | null {
  if (choice.kind === 'custom') return mustCompile(choice.source, choice.name);
  if (choice.kind !== 'chat') return mustCompile(PRESET_SOURCES[choice.kind], `the ${TEMPLATE_TITLES[choice.kind]} template`);
  if (!conversational(rows)) return null;
  if (!tokenizer.chatTemplate) {
    throw new Error('the tokenizer has no chat template (tokenizer_config.json "chat_template"), and the dataset has conversations. HINT: pass --template alpaca or --template FILE.jinja.');
  }
  return mustCompile(tokenizer.chatTemplate, "the tokenizer's chat template");
}

/** Builds, drops and lints every row; examples stay in file order. */
export function prepareDataset(rows: readonly Row[], opts: DatasetOptions): PreparedDataset {
  const template = resolveTemplate(opts.template, opts.tokenizer, rows);
  // A template picked by hand renders every prompt/completion row too (the tokenizer's own leaves plain rows
  // concatenated, as TRL does), and the turn-end tokens it writes count as end of turn for the masks.
  const picked = opts.template.kind !== 'chat' && template !== null;
  const tokenizer = picked ? withTemplateTurnEnds(opts.tokenizer, template.source) : opts.tokenizer;
  const built = buildExamples(rows, {
    tokenizer,
    template,
    templatePlainRows: picked,
    mode: opts.mask,
    maxLength: opts.maxLength,
    render: { kwargs: opts.kwargs ?? {}, date: FROZEN_DATE },
  });
  const warnings = lintDataset(built, {
    tokenizer,
    mode: opts.mask,
    usesTokenizerTemplate: opts.template.kind === 'chat',
    ...(opts.embeddingRows !== undefined ? { embeddingRows: opts.embeddingRows } : {}),
  });
  return { ...built, template, warnings };
}

/** A template edit checked before it replaces the run's template: it must parse, and render the first rows. */
export type TemplateCheck = { ok: true } | { ok: false; message: string; line: number | null; column: number | null };

/** Rows of the dataset rendered to check an edited template (enough to reach every role of a typical conversation). */
const CHECK_ROWS = 4;

/** Parses `source` (errors at line:column) and renders the first rows through it in the budgeted interpreter, as
 * prepareDataset would; the first render error (raise_exception, an undefined name) is reported with its row. */
export function checkTemplate(source: string, rows: readonly Row[], tokenizer: Tokenizer, kwargs: Record<string, unknown> = {}): TemplateCheck {
  const compiled = compileTemplate(source);
  if ('error' in compiled) return { ok: false, ...compiled.error };
  const built = buildExamples(rows.slice(0, CHECK_ROWS), {
    tokenizer: withTemplateTurnEnds(tokenizer, source), template: compiled, mode: 'all', templatePlainRows: true, render: { kwargs, date: FROZEN_DATE },
  });
  const failed = built.dropped.find((d) => d.reason === 'render-error');
  return failed ? { ok: false, message: `Row ${failed.id}: ${failed.message}`, line: null, column: null } : { ok: true };
}

/** Seeded train/eval split (src/data's evalMask): both parts keep file order. */
export function splitExamples(examples: readonly Example[], fraction: number, seed: number): { train: Example[]; eval: Example[] } {
  const held = evalMask(examples.length, fraction, seed);
  return { train: examples.filter((_, i) => !held[i]), eval: examples.filter((_, i) => held[i]) };
}

/** Position in the infinite stream of shuffled epochs. */
export interface DataCursor {
  readonly epoch: number;
  /** Examples of this epoch already consumed. */
  readonly index: number;
}

/**
 * Yields batches of `size` example indices from src/data's seeded, resumable order (epochOrder/nextIndices); this class
 * only keeps the cursor in the {epoch, index} form checkpoints store.
 */
export class DataOrder {
  private state: OrderState;

  constructor(private readonly n: number, seed: number, start: DataCursor = { epoch: 0, index: 0 }) {
    if (n === 0) throw new Error('no training examples: every row was dropped or the dataset is empty. HINT: run `tabtune inspect` to see why rows were dropped.');
    this.state = { seed, epoch: start.epoch, position: start.index };
  }

  get position(): DataCursor {
    return { epoch: this.state.epoch, index: this.state.position };
  }

  /** The next `size` indices, crossing into the next epoch when this one runs out (fixed batch shapes). */
  next(size: number): number[] {
    const r = nextIndices(this.n, this.state, size);
    this.state = r.state;
    return r.indices;
  }
}

/** Sequence length for a set of examples: the longest one, capped by maxLength (graphs have static shapes). */
export function sequenceLength(examples: readonly Example[], maxLength: number): number {
  return Math.max(2, Math.min(maxLength, Math.max(0, ...examples.map((e) => e.ids.length))));
}

/**
 * The most target tokens one batch of `batch` of these examples can hold at `seqLen`: `batch` times the largest
 * per-example count (a label at position t + 1 < seqLen is scored at position t). Not the sum of the `batch` largest
 * counts: a batch that straddles two epochs of the data order can hold one example twice. The step graphs'
 * trained-rows head is built for this many rows (train/graphs.ts).
 */
export function mostTargetsPerBatch(examples: readonly Example[], batch: number, seqLen: number): number {
  let most = 0;
  for (const e of examples) {
    let n = 0;
    for (let t = 1; t < Math.min(seqLen, e.labels.length); t++) if (e.labels[t] !== IGNORE_INDEX) n++;
    most = Math.max(most, n);
  }
  return batch * most;
}

/**
 * Right-padded batch of exactly `batch` rows × `seqLen` tokens for the step graphs: src/data's collate (labels -100 on
 * padding by position, never by comparing ids with pad — sft-conventions §2) widened to the graph's static shape.
 * Missing rows (a short eval tail) are all padding and contribute no targets; position ids run 0..T-1 on every row,
 * padding included, so every slot of the position input holds a valid position.
 */
export function collate(examples: readonly Example[], batch: number, seqLen: number, padId: number): Batch {
  if (examples.length > batch) throw new Error(`collate: ${examples.length} examples for a batch of ${batch}`);
  const ids = new Int32Array(batch * seqLen).fill(padId);
  const mask = new Int32Array(batch * seqLen);
  const labels = new Int32Array(batch * seqLen).fill(IGNORE_INDEX);
  const positions = new Int32Array(batch * seqLen);
  for (let i = 0; i < positions.length; i++) positions[i] = i % seqLen;
  if (examples.length > 0) {
    const rows = collateRows(examples, { padId, seqLen });
    ids.set(rows.inputIds);
    mask.set(rows.attentionMask);
    labels.set(rows.labels);
  }
  const dims = [batch, seqLen];
  return {
    input_ids: { dtype: 'int32', dims, data: ids },
    position_ids: { dtype: 'int32', dims, data: positions },
    attention_mask: { dtype: 'int32', dims, data: mask },
    labels: { dtype: 'int32', dims, data: labels },
  };
}

/** Id used for right padding: the tokenizer's pad token, else EOS, else 0 (padding is never attended or trained). */
export function paddingId(tokenizer: Tokenizer): number {
  return padIdFor(tokenizer);
}
