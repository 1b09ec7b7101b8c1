// Lessons in the worker. "Your own prompt": the base model's and the current adapter's greedy answers to a prompt the
// user typed, with the same token budget and stop tokens; while a run trains, they are computed between two of its
// steps. The linter lessons' count, measured for a config even when the session refuses to prepare it. Overfitting:
// the saved run's best checkpoint (by eval loss) and the latest adapter answering the same held-out prompts.
import { paddingId } from '../../train/dataset.ts';
import { encodePrompt } from '../../train/generation.ts';
import { currentAdapter, greedyAnswers, heldOutPrompts, LessonProbe, referenceAnswer, servedSession, type AdapterState } from '../../train/lessons.ts';
import type { LessonMetric } from '../../share/lessons.ts';
import type { Message } from '../../data/types.ts';
import type { BackendChoice, BestVsLatest, DatasetRef, HubLocation, LessonEffectResult, LessonLint, PromptComparison } from '../protocol';
import type { RunConfig } from '../../share/run-config.ts';
import type { HandlerContext } from './context';
import type { Playground } from './playground';
import type { TrainingHost } from './training';

/** Longest answer the box asks for. */
const MAX_NEW_TOKENS = 64;

export async function comparePrompt(
  pg: Playground, training: TrainingHost, req: { prompt: string; maxNewTokens: number; backend: BackendChoice }, ctx: HandlerContext,
): Promise<PromptComparison> {
  const p = pg.requirePrepared();
  const tok = p.tokenizer.tokenizer;
  if (req.prompt.trim() === '') throw new Error('Type a prompt first.');
  const chat = tok.chatTemplate !== null;
  // The data's system prompt (when its rows have one) goes first, so the adapter is asked in the context it learned in.
  const first = p.session.data.rows.find((r) => r.kind === 'messages');
  const system = first?.kind === 'messages' ? (first.messages.find((m) => m.role === 'system')?.content ?? null) : null;
  const messages: Message[] = [...(system !== null ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: req.prompt }];
  const ids = encodePrompt(tok, chat ? { messages } : { text: req.prompt });
  const opts = { maxNewTokens: Math.max(1, Math.min(MAX_NEW_TOKENS, Math.floor(req.maxNewTokens))), stopIds: p.session.stopIds(), padId: paddingId(tok) };
  const model = await pg.loadedModel(ctx, p);
  const { backend } = await pg.openedBackend(req.backend);
  return training.atBoundary(async (trainer) => {
    // Only a trainer built on the prepared model's examples has an adapter that fits it.
    const current = trainer && training.trainedOn(p) ? trainer : null;
    const [base] = await greedyAnswers(backend, model, [ids], opts, null);
    const adapter = current ? await currentAdapter(current) : null;
    const tuned = adapter ? (await greedyAnswers(backend, model, [ids], opts, adapter))[0] : null;
    return {
      prompt: req.prompt, chat, system: chat ? system : null, base: tok.decode(base ?? []),
      adapter: tuned ? tok.decode(tuned) : null, step: adapter?.step ?? null,
    };
  });
}

export async function lintLesson(
  pg: Playground, req: { location: HubLocation; dataset: DatasetRef; config: RunConfig; code: string }, ctx: HandlerContext,
): Promise<LessonLint> {
  const { warnings, refused } = await pg.lint(req.location, req.dataset, req.config, ctx);
  return { code: req.code, count: warnings.find((w) => w.code === req.code)?.count ?? 0, refused };
}

export async function bestVsLatest(
  pg: Playground, training: TrainingHost, req: { prompts: number; maxNewTokens: number; backend: BackendChoice }, ctx: HandlerContext,
): Promise<BestVsLatest> {
  const p = pg.requirePrepared();
  const kept = await training.persist.bestAndLatest();
  if (!kept) throw new Error('This run is not saved in browser storage, so no best checkpoint was kept: allow site data and run the lesson again.');
  const best = kept.best;
  if (!best) throw new Error('The run has no checkpoint with an eval loss yet: let it reach its first evaluation and checkpoint.');
  const tok = p.tokenizer.tokenizer;
  const model = await pg.loadedModel(ctx, p);
  const { backend } = await pg.openedBackend(req.backend);
  const opts = { maxNewTokens: Math.max(1, Math.min(MAX_NEW_TOKENS, Math.floor(req.maxNewTokens))), stopIds: p.session.stopIds(), padId: paddingId(tok) };
  return training.atBoundary(async (trainer) => {
    if (!trainer || !training.trainedOn(p)) throw new Error('There is no trained adapter for the examples on the page: run the lesson first.');
    const latest = await currentAdapter(trainer);
    const from = p.session.evalSet.length > 0 ? p.session.evalSet : p.session.train;
    const examples = from.slice(0, req.prompts);
    const prompts = heldOutPrompts(p.session, req.prompts);
    const bestState: AdapterState = { plan: trainer.plan, fullTensors: trainer.fullTensors, params: best.checkpoint.params, step: best.checkpoint.step };
    const bestOut = await greedyAnswers(backend, model, prompts, opts, bestState);
    const latestOut = await greedyAnswers(backend, model, prompts, opts, latest);
    const stop = new Set(opts.stopIds);
    // Up to the first stop token: what a chat front end would show.
    const answer = (ids: readonly number[] | undefined) => {
      const all = ids ?? [];
      const end = all.findIndex((t) => stop.has(t));
      return tok.decode([...(end >= 0 ? all.slice(0, end) : all)]).trim();
    };
    return {
      best: { step: best.checkpoint.step, evalLoss: best.evalLoss },
      latest: { step: latest.step, evalLoss: kept.latest?.step === latest.step ? kept.latest.evalLoss : null },
      rows: examples.map((e, i) => ({ prompt: tok.decode(prompts[i] ?? []).trim(), reference: referenceAnswer(p.session, e), best: answer(bestOut[i]), latest: answer(latestOut[i]) })),
    };
  });
}

export async function lessonEffect(
  pg: Playground, training: TrainingHost, req: { metric: LessonMetric; servedConfig: RunConfig; backend: BackendChoice }, ctx: HandlerContext,
): Promise<LessonEffectResult> {
  const p = pg.requirePrepared();
  const model = await pg.loadedModel(ctx, p);
  const { backend } = await pg.openedBackend(req.backend);
  const served = servedSession(p.session, req.servedConfig);
  return training.atBoundary(async (trainer) => {
    if (!trainer || !training.trainedOn(p)) throw new Error('There is no trained adapter for the examples on the page: run the lesson first.');
    const probes = [LessonProbe.create(req.metric, p.session, backend, model), LessonProbe.create(req.metric, served, backend, model)] as const;
    // The served rows' eval loss comes from a second trainer holding the same weights (its graphs fit their lengths).
    const other = await served.createTrainer({ backend, model, resume: await trainer.checkpoint() });
    try {
      const [asTrained, asServed] = [await probes[0].measure(trainer), await probes[1].measure(trainer)];
      const [trainedLoss, servedLoss] = [(await trainer.evaluate()).loss, (await other.evaluate()).loss];
      return {
        step: trainer.step,
        asTrained: { value: asTrained.value, evalLoss: trainedLoss },
        asServed: { value: asServed.value, evalLoss: servedLoss },
        rows: asServed.rows.map((r, i) => ({ prompt: r.prompt, reference: r.reference, asTrained: asTrained.rows[i]?.answer ?? '', asServed: r.answer })),
      };
    } finally {
      await other.release();
      for (const probe of probes) await probe.release();
    }
  });
}
