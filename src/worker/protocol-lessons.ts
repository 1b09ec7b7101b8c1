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
