// Lessons in the app: opening a lesson puts its preset run config on the page the way a share link does (model, data,
// template, mask, LoRA, hyperparameters), starting it asks the worker to measure the lesson's metric before, during
// and after the run, and "Your own prompt" asks the worker for the base model's and the adapter's answers side by side.
import type { WorkerClient } from '../worker/client';
import type { BestVsLatest, LessonEffectResult, LessonLint, PromptComparison } from '../worker/protocol';
import { selectModelLocation } from './selectors';
import { findLesson, lessonConfig, LESSON_MODEL_REPO, type Lesson } from '../share/lessons';
import type { RunConfig } from '../share/run-config';
import type { RunActions } from './run';
import type { ShareActions } from './share';
import type { AppStore } from './store';
import type { AppState } from './slices';

/** New tokens the "Your own prompt" box asks for. */
const OWN_PROMPT_TOKENS = 24;

export interface LessonActions {
  /** The lesson's (or a variation's) run config for the model on the page. */
  config(name: string, variation?: string): RunConfig;
  /** Puts the lesson's config on the page and loads its model and data; resolves when the examples are prepared. */
  open(name: string, variation?: string): Promise<void>;
  /** Starts the run on the page, measuring the lesson's metric. */
  start(name: string): Promise<void>;
  /** The base model's and the current adapter's greedy answers to `prompt`. */
  compare(prompt: string): Promise<PromptComparison>;
  /** Linter lessons: the linter's count for the config on the page (after `open`), and the session's refusal when it
   * will not prepare that run, measured in the worker from rendering and tokenising alone. */
  lint(name: string): Promise<LessonLint>;
  /** Overfitting: the saved run's best checkpoint and the latest adapter on the same held-out prompts. */
  bestVsLatest(): Promise<BestVsLatest>;
  /** Doubled BOS: after the run, the adapter's effect metric and eval loss on the held-out rows as trained and as
   * served (the lesson's `effect.servedAs` render). */
  effect(name: string): Promise<LessonEffectResult>;
}

/** Held-out prompts and new tokens of the best-vs-latest comparison (the CLI report's too). */
const BEST_VS_LATEST = { prompts: 3, maxNewTokens: 24 };

export interface LessonDeps {
  client: WorkerClient;
  share: ShareActions;
  run: RunActions;
  /** Reloads the chosen model and dataset and prepares the examples (main.tsx's reloadRun). */
  reloadRun(): Promise<unknown>;
}

function lessonModel(state: AppState): Parameters<typeof lessonConfig>[1] {
  // Lessons are written for the bundled base model; its chat template comes from the Model panel's summary.
  const model = state.model;
  const bundled = state.modelChoice.kind === 'bundled' && model?.location.repo === LESSON_MODEL_REPO;
  return { repo: LESSON_MODEL_REPO, ...(bundled ? { chatTemplate: model.tokenizer.chatTemplate, bosToken: model.tokenizer.bosToken } : {}) };
}

export function createLessonActions(store: AppStore, deps: LessonDeps): LessonActions {
  const config = (name: string, variation?: string): RunConfig => lessonConfig(findLesson(name), lessonModel(store.getState()), variation);
  return {
    config,
    async open(name, variation) {
      const lesson: Lesson = findLesson(name);
      const label = `the lesson "${lesson.title}"${variation ? ` (${lesson.variations.find((v) => v.id === variation)?.label ?? variation})` : ''}`;
      deps.share.openConfig(config(name, variation), label);
      await deps.reloadRun();
      await deps.share.completeRestore();
    },
    start(name) {
      const lesson = findLesson(name);
      return deps.run.start({ name: lesson.name, metric: lesson.metric });
    },
    lint(name) {
      const lesson = findLesson(name);
      const code = lesson.metric.lintCode;
      if (!code) throw new Error(`Lesson "${lesson.name}" is not measured by the linter.`);
      const s = store.getState();
      if (!s.dataset) throw new Error('Set the lesson up first: its dataset has not loaded.');
      return deps.client.request('lesson.lint', {
        location: selectModelLocation(s), dataset: { kind: 'previewed', hash: s.dataset.hash, name: s.dataset.name }, config: s.runConfig, code,
      });
    },
    bestVsLatest() {
      return deps.client.request('lesson.bestVsLatest', { ...BEST_VS_LATEST, backend: store.getState().backendChoice });
    },
    effect(name) {
      const lesson = findLesson(name);
      if (!lesson.effect) throw new Error(`Lesson "${lesson.name}" measures no effect beside its metric.`);
      const s = store.getState();
      // The served render's data settings with the run's own hyperparameters (its trainer must hold the same tensors).
      const served = config(name, lesson.effect.servedAs);
      const servedConfig = { ...s.runConfig, template: served.template };
      return deps.client.request('lesson.effect', { metric: lesson.effect.metric, servedConfig, backend: s.backendChoice });
    },
    compare(prompt) {
      return deps.client.request('prompt.compare', { prompt, maxNewTokens: OWN_PROMPT_TOKENS, backend: store.getState().backendChoice });
    },
  };
}
