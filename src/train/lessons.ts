// Lesson metrics, measured for real: greedy generation on held-out prompts (stop rate, exact-match accuracy), the
// eval loss of the run's trainer, the first batch's loss through the step graph, and the linter's findings. The CLI
// (`tabtune lesson run`) and the worker both build a run through RunSession and ask a LessonProbe for the metric before,
// during and after it; nothing here trains or orchestrates a run.
import type { Example } from '../data/example.ts';
import type { LessonMetric } from '../share/lessons.ts';
import type { RunConfig } from '../share/run-config.ts';
import { IGNORE_INDEX } from '../share/labels.ts';
import { GREEDY } from '../models/sampling.ts';
import type { Backend } from '../runtime/backend.ts';
import { Generator } from './generation.ts';
import type { LoadedModel } from './model-source.ts';
import { promptIds, RunSession } from './session.ts';
import type { Trainer } from './trainer.ts';

/** Held-out prompts measured when a metric does not say. */
const DEFAULT_PROMPTS = 20;
/** New tokens per prompt when a metric does not say. */
const DEFAULT_NEW_TOKENS = 12;

/** Reference answer of an example: its trained tokens without end-of-turn tokens, decoded and trimmed. */
export function referenceAnswer(session: RunSession, e: Example): string {
  const tok = session.tokenizer.tokenizer;
  const ids = e.ids.filter((id, i) => e.labels[i] !== IGNORE_INDEX && !tok.endOfTurnIds.has(id));
  return tok.decode(ids).trim();
}

/** Text of a generation up to (not including) its first stop token, trimmed. */
function answerText(session: RunSession, tokens: readonly number[], stop: ReadonlySet<number>): string {
  const end = tokens.findIndex((t) => stop.has(t));
  return session.tokenizer.tokenizer.decode([...(end >= 0 ? tokens.slice(0, end) : tokens)]).trim();
}

function normalise(s: string): string {
  return s.toLowerCase().replace(/[.!\s]+$/u, '').trim();
}

/** One held-out prompt, what the model answered and whether it counts. */
interface ProbeRow {
  readonly prompt: string;
  readonly reference: string;
  readonly answer: string;
  readonly stopped: boolean;
  readonly correct: boolean;
}

export interface Measurement {
  readonly value: number;
  /** Per-prompt detail for generation metrics. */
  readonly rows: readonly ProbeRow[];
}

/** Measures one lesson metric on a run session's held-out split with the trainer's current weights. */
export class LessonProbe {
  private generator: Generator | null = null;

  private constructor(
    readonly metric: LessonMetric,
    private readonly session: RunSession,
    private readonly backend: Backend,
    private readonly model: LoadedModel,
    private readonly examples: readonly Example[],
  ) {}

  /** A probe over the first `metric.prompts` held-out examples (training rows when nothing is held out). */
  static create(metric: LessonMetric, session: RunSession, backend: Backend, model: LoadedModel): LessonProbe {
    const from = session.evalSet.length > 0 ? session.evalSet : session.train;
    return new LessonProbe(metric, session, backend, model, from.slice(0, metric.prompts ?? DEFAULT_PROMPTS));
  }

  /** The metric with the trainer's current adapter (and fully trained tensors). */
  async measure(trainer: Trainer): Promise<Measurement> {
    switch (this.metric.kind) {
      case 'stop-rate':
      case 'exact-match':
        return this.generationMetric(trainer);
      case 'eval-loss': {
        const r = await trainer.evaluate();
        return { value: r.loss, rows: [] };
      }
      case 'first-batch-loss': {
        const r = await this.session.inspect(trainer);
        return { value: r.loss, rows: [] };
      }
      case 'lint-flagged':
        return { value: lintFlagged(this.session, this.metric), rows: [] };
    }
  }

  private async generationMetric(trainer: Trainer): Promise<Measurement> {
    const prompts = this.examples.map(promptIds);
    if (prompts.length === 0) throw new Error('The lesson has no held-out prompts to measure: raise the eval fraction.');
    const maxNewTokens = this.metric.maxNewTokens ?? DEFAULT_NEW_TOKENS;
    if (!this.generator) {
      const promptLen = Math.max(...prompts.map((p) => p.length));
      this.generator = await Generator.create(this.backend, this.model.config, this.model.weights, trainer.plan, {
        batch: prompts.length, promptLen, maxLen: promptLen + maxNewTokens,
      }, { replaceable: trainer.fullTensors });
    }
    const state = await trainer.checkpoint();
    const stopIds = this.session.stopIds();
    const stop = new Set(stopIds);
    const out = await this.generator.generate({
      prompts, maxNewTokens, sampling: GREEDY, stopIds, rng: null, padId: this.session.padId,
      adapter: state.params, weights: Object.fromEntries(trainer.fullTensors.map((n) => [n, state.params[n]!])),
    });
    const tok = this.session.tokenizer.tokenizer;
    const rows = this.examples.map((e, i): ProbeRow => {
      const tokens = out[i] ?? [];
      const last = tokens[tokens.length - 1];
      const stopped = last !== undefined && stop.has(last);
      const reference = referenceAnswer(this.session, e);
      const answer = answerText(this.session, tokens, stop);
      return { prompt: tok.decode(prompts[i] ?? []), reference, answer, stopped, correct: normalise(answer) === normalise(reference) };
    });
    const hits = rows.filter((r) => (this.metric.kind === 'stop-rate' ? r.stopped : r.correct)).length;
    return { value: hits / rows.length, rows };
  }

  async release(): Promise<void> {
    await this.generator?.release();
    this.generator = null;
  }
}

/** An adapter to generate with: the plan of the trainer that made it and a checkpoint's values. */
export interface AdapterState {
  readonly plan: Trainer['plan'];
  readonly fullTensors: readonly string[];
  readonly params: Readonly<Record<string, Float32Array>>;
  readonly step: number;
}

/** The trainer's current adapter as an AdapterState. */
export async function currentAdapter(trainer: Trainer): Promise<AdapterState> {
  const c = await trainer.checkpoint();
  return { plan: trainer.plan, fullTensors: trainer.fullTensors, params: c.params, step: c.step };
}

/** Greedy new tokens for some prompts from the base model (adapter null) or from an adapter and its fully trained
 * tensors: the "Your own prompt" box's two answers, and the overfitting lesson's best-vs-latest samples. */
export async function greedyAnswers(
  backend: Backend, model: LoadedModel, prompts: readonly (readonly number[])[], opts: { maxNewTokens: number; stopIds: readonly number[]; padId: number }, adapter: AdapterState | null,
): Promise<number[][]> {
  const promptLen = Math.max(...prompts.map((p) => p.length));
  const gen = await Generator.create(backend, model.config, model.weights, adapter?.plan ?? null, { batch: prompts.length, promptLen, maxLen: promptLen + opts.maxNewTokens },
    { replaceable: adapter?.fullTensors ?? [] });
  try {
    return await gen.generate({
      prompts, maxNewTokens: opts.maxNewTokens, sampling: GREEDY, stopIds: opts.stopIds, rng: null, padId: opts.padId,
      ...(adapter ? { adapter: adapter.params, weights: Object.fromEntries(adapter.fullTensors.map((n) => [n, adapter.params[n]!])) } : {}),
    });
  } finally {
    await gen.release();
  }
}

/** The held-out prompts a probe measures (their ids), for samples beside the metric. */
export function heldOutPrompts(session: RunSession, count: number): number[][] {
  const from = session.evalSet.length > 0 ? session.evalSet : session.train;
  return from.slice(0, count).map(promptIds);
}

/** Examples the linter flagged with the metric's code (0 when it raised none). */
export function lintFlagged(session: Pick<RunSession, 'dataset'>, metric: Pick<LessonMetric, 'lintCode'>): number {
  return session.dataset.warnings.find((w) => w.code === metric.lintCode)?.count ?? 0;
}

/** The same rows, model and tokenizer under another config's data settings (the doubled-BOS lesson's "as served"
 * render: the tokenizer's own template). The split is the same, so the held-out rows are the same questions. */
export function servedSession(session: RunSession, config: RunConfig): RunSession {
  return RunSession.prepare({ config, model: session.model, tokenizer: session.tokenizer, data: session.data });
}
