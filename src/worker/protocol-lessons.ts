// Worker protocol types of lessons: the lesson metric a run measures on its held-out prompts, and the "Your own prompt"
// comparison of the base model with the current adapter. Re-exported by protocol.ts, which callers import.
import type { LessonMetric } from '../share/lessons';

/** Sent with `train.start`: the metric the worker measures before the first step, at every sample step and at the end. */
export interface LessonRunInfo {
  name: string;
  metric: LessonMetric;
}

/** One held-out prompt of a lesson measurement. */
interface LessonProbeRow {
  prompt: string;
  reference: string;
  answer: string;
  stopped: boolean;
  correct: boolean;
}

/** A lesson metric measured by the worker at a step (0 = before the first update). */
export interface LessonMeasurement {
  lesson: string;
  step: number;
  value: number;
  rows: LessonProbeRow[];
}

/** The base model's and the current adapter's greedy answers to one prompt (same seed, same token budget). */
export interface PromptComparison {
  prompt: string;
  base: string;
  /** null before any run has built an adapter. */
  adapter: string | null;
  /** The adapter's step (null without one). */
  step: number | null;
  /** Whether the prompt was rendered with the chat template as a user turn (else continued as plain text). */
  chat: boolean;
  /** The dataset's system prompt sent before the user turn, when its rows have one. */
  system: string | null;
}

/** Lessons (mismatched tokenizer, doubled BOS): the linter's count for a lesson's config, measured from rendering and
 * tokenising alone, and the session's refusal when it will not prepare the run (ids past the embedding table). */
export interface LessonLint {
  code: string;
  /** Examples the linter flags with `code` (0 when it raised no such warning). */
  count: number;
  /** The session's message when it refuses to prepare the run; null when the run can train. */
  refused: string | null;
}

/** One checkpoint of a best-vs-latest comparison. */
interface ComparedCheckpoint {
  step: number;
  /** Its eval loss as the checkpoint store recorded it (null when none was measured at that step). */
  evalLoss: number | null;
}

/** Lessons (overfitting): the best checkpoint by eval loss (from the saved run's checkpoint store) and the latest
 * adapter, asked the same held-out prompts with greedy decoding, side by side. */
export interface BestVsLatest {
  best: ComparedCheckpoint;
  latest: ComparedCheckpoint;
  rows: { prompt: string; reference: string; best: string; latest: string }[];
}

/** Lessons (doubled BOS): what training on the lesson's render did, measured after the run on the same held-out rows
 * as trained (the lesson's render) and as served (another render, e.g. the tokenizer's own template). */
export interface LessonEffectResult {
  /** The trainer's step when measured. */
  step: number;
  asTrained: { value: number; evalLoss: number };
  asServed: { value: number; evalLoss: number };
  rows: { prompt: string; reference: string; asTrained: string; asServed: string }[];
}
