// Lessons panel: pick a lesson, read what it shows and its target, set it up (its preset config goes on the page, as
// a share link would put it) and run it; the lesson's metric is measured by the worker before the first step, at every
// sample step and at the end, and shown here before → after against the target. "You could try…" variations are one
// click each. The metric's curve is drawn beside the loss in the Charts panel. Linter lessons show the linter's count
// even when the session refuses the run (a tokenizer past the embedding table), with the refusal; the overfitting
// lesson ends with the best checkpoint's and the latest adapter's answers to held-out prompts side by side.
import { useEffect, useMemo, useState } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Panel } from '../Panel';
import { isTraining } from '../../store/run';
import { errorMessage } from '../../share/labels';
import { shareUrl } from '../../share/link';
import {
  DEFAULT_LESSON, describeTarget, findLesson, formatMetric, lessonTarget, LESSONS, meetsTarget,
} from '../../share/lessons';
import type { BestVsLatest, LessonEffectResult, LessonLint } from '../../worker/protocol';
import type { LessonEffect } from '../../share/lessons';
import { visible } from '../tokens';
import './lessons.css';

/** Which lesson (and variation) is on the page, and what it is doing. */
interface Active {
  name: string;
  variation?: string;
  status: 'opening' | 'ready' | 'error';
  message?: string;
}

/** The best-vs-latest comparison of the run shown, or where asking for it is. */
type Compared = { status: 'asking' } | { status: 'ready'; value: BestVsLatest } | { status: 'error'; message: string };

function BestVsLatestView(props: { compared: Compared; onAsk: () => void; busy: boolean }) {
  const c = props.compared;
  const fmtLoss = (x: number | null) => (x === null ? '' : `, eval loss ${x.toFixed(3)}`);
  return (
    <div data-testid="lesson-best-vs-latest">
      <div className="row">
        <h3 className="small">Best checkpoint vs latest, on held-out prompts</h3>
        <button type="button" disabled={props.busy || c.status === 'asking'} onClick={props.onAsk} data-testid="lesson-compare-best">Ask both again</button>
        {c.status === 'asking' && <span className="small muted" role="status">Generating…</span>}
      </div>
      {c.status === 'error' && <ErrorNote>{c.message}</ErrorNote>}
      {c.status === 'ready' && c.value.rows.map((r, i) => (
        <div key={i} className="compared-row" data-testid="lesson-compared-row">
          <p className="small muted completion" title={r.prompt}>{visible(r.prompt.length > 160 ? `…${r.prompt.slice(-160)}` : r.prompt)} <span>(reference: “{r.reference}”)</span></p>
          <div className="side-by-side">
            <figure>
              <figcaption className="small muted" data-testid="lesson-best-caption">Best: step {c.value.best.step}{fmtLoss(c.value.best.evalLoss)}</figcaption>
              <p className="completion" data-testid="lesson-best-answer">{visible(r.best) || <span className="muted">(empty)</span>}</p>
            </figure>
            <figure>
              <figcaption className="small muted" data-testid="lesson-latest-caption">Latest: step {c.value.latest.step}{fmtLoss(c.value.latest.evalLoss)}</figcaption>
              <p className="completion" data-testid="lesson-latest-answer">{visible(r.latest) || <span className="muted">(empty)</span>}</p>
            </figure>
          </div>
        </div>
      ))}
    </div>
  );
}

type Effect = { status: 'asking' } | { status: 'ready'; value: LessonEffectResult } | { status: 'error'; message: string };

/** Doubled BOS: the trained adapter on the held-out rows as trained and as served. */
function EffectView(props: { effect: LessonEffect; state: Effect }) {
  const c = props.state;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return (
    <div data-testid="lesson-effect">
      <h3 className="small">What training on it did</h3>
      <p className="small muted">{props.effect.about}</p>
      {c.status === 'asking' && <span className="small muted" role="status">Measuring as trained and as served…</span>}
      {c.status === 'error' && <ErrorNote>{c.message}</ErrorNote>}
      {c.status === 'ready' && (
        <div className="side-by-side">
          <figure data-testid="lesson-effect-trained">
            <figcaption className="small muted">As trained (the lesson's template), step {c.value.step}</figcaption>
            <p className="completion">{props.effect.metric.label}: <strong>{pct(c.value.asTrained.value)}</strong>; eval loss <strong>{c.value.asTrained.evalLoss.toFixed(3)}</strong></p>
          </figure>
          <figure data-testid="lesson-effect-served">
            <figcaption className="small muted">As served (the tokenizer's own template)</figcaption>
            <p className="completion">{props.effect.metric.label}: <strong>{pct(c.value.asServed.value)}</strong>; eval loss <strong>{c.value.asServed.evalLoss.toFixed(3)}</strong></p>
          </figure>
        </div>
      )}
    </div>
  );
}

export function LessonsPanel() {
  const { lessons } = useActions();
  const [picked, setPicked] = useState(DEFAULT_LESSON);
  const [active, setActive] = useState<Active | null>(null);
  const [ran, setRan] = useState<{ name: string; variation?: string } | null>(null);
  const metrics = useApp((s) => s.metrics);
  const phase = useApp((s) => s.phase);
  const prepared = useApp((s) => s.prepared);
  const preparing = useApp((s) => s.preparedState).status === 'loading';
  const [linted, setLinted] = useState<{ name: string; variation?: string; lint: LessonLint } | null>(null);
  const [compared, setCompared] = useState<Compared | null>(null);
  const [effect, setEffect] = useState<Effect | null>(null);
  const lesson = findLesson(picked);
  const busy = isTraining(phase) || active?.status === 'opening';

  const measured = useMemo(() => metrics.filter((m) => m.lessonMetric !== undefined), [metrics]);
  const shownRun = ran?.name === lesson.name ? ran : null;
  // A run the session refused was never trained: its metric is the linter's count, the same before and after.
  const refused = shownRun && linted?.name === shownRun.name && linted.variation === shownRun.variation && linted.lint.refused !== null ? linted.lint : null;
  const before = refused ? refused.count : shownRun ? measured[0]?.lessonMetric : undefined;
  const after = refused ? refused.count : shownRun && measured.length > 1 ? measured.at(-1)?.lessonMetric : undefined;
  const shownAfter = refused ? refused.count : shownRun ? measured.at(-1)?.lessonMetric : undefined;
  const target = lessonTarget(lesson, shownRun?.variation);
  // An eval-loss lesson's best is the lowest of every evaluation (the checkpoint the store keeps as best), not only of
  // the lesson's own measurements at sample steps.
  const evals = lesson.metric.kind === 'eval-loss' ? metrics.flatMap((m) => (m.evalLoss !== undefined ? [m.evalLoss] : [])) : [];
  const bestOf = [...measured.map((m) => m.lessonMetric!), ...evals];
  const best = bestOf.length > 0 ? Math.min(...bestOf) : undefined;
  const met = target && before !== undefined && after !== undefined && !isTraining(phase) ? meetsTarget(target, after, before, best) : null;
  const overfitting = lesson.target.kind === 'above-best';
  const finished = shownRun !== null && !refused && phase === 'completed';

  const askBestVsLatest = async (): Promise<void> => {
    setCompared({ status: 'asking' });
    try {
      setCompared({ status: 'ready', value: await lessons.bestVsLatest() });
    } catch (err) {
      setCompared({ status: 'error', message: errorMessage(err) });
    }
  };
  // The overfitting lesson ends with its best and latest checkpoints answering the same held-out prompts.
  useEffect(() => {
    if (overfitting && finished && compared === null) void askBestVsLatest();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- asked once per finished run; the button asks again
  }, [overfitting, finished, compared]);
  // A lesson with an effect (doubled BOS) ends with it measured as trained and as served (its own run, no variation).
  const measuresEffect = lesson.effect !== undefined && finished && shownRun?.variation === undefined;
  useEffect(() => {
    if (!measuresEffect || effect !== null) return;
    setEffect({ status: 'asking' });
    lessons.effect(lesson.name).then(
      (value) => setEffect({ status: 'ready', value }),
      (err: unknown) => setEffect({ status: 'error', message: errorMessage(err) }),
    );
  }, [measuresEffect, effect, lessons, lesson.name]);

  const open = async (variation?: string): Promise<boolean> => {
    setActive({ name: lesson.name, ...(variation ? { variation } : {}), status: 'opening' });
    try {
      await lessons.open(lesson.name, variation);
      setActive({ name: lesson.name, ...(variation ? { variation } : {}), status: 'ready' });
      return true;
    } catch (err) {
      setActive({ name: lesson.name, status: 'error', message: errorMessage(err) });
      return false;
    }
  };
  const run = async (variation?: string): Promise<void> => {
    const onPage = active?.name === lesson.name && active.variation === variation && active.status === 'ready';
    // The previous run's result goes first, so nothing is asked of its adapter while this one sets up.
    setRan(null);
    setCompared(null);
    setEffect(null);
    if (!onPage && !(await open(variation))) return;
    if (lesson.metric.kind === 'lint-flagged') {
      // The linter's count comes from rendering and tokenising alone; a run the session refuses stops here with it.
      try {
        const lint = await lessons.lint(lesson.name);
        setLinted({ name: lesson.name, ...(variation ? { variation } : {}), lint });
        if (lint.refused !== null) {
          setRan({ name: lesson.name, ...(variation ? { variation } : {}) });
          return;
        }
      } catch (err) {
        setActive({ name: lesson.name, status: 'error', message: errorMessage(err) });
        return;
      }
    }
    setRan({ name: lesson.name, ...(variation ? { variation } : {}) });
    await lessons.start(lesson.name);
  };

  const link = useMemo(() => {
    try {
      return shareUrl(location.href, lessons.config(lesson.name, active?.name === lesson.name ? active.variation : undefined));
    } catch {
      return null;
    }
  }, [lessons, lesson.name, active]);

  const onPage = active?.name === lesson.name && active.status === 'ready';
  const canRun = !busy && !preparing;
  return (
    <Panel id="lessons" title="Lessons" wide aside={<span className="small muted">guided runs with a measured result</span>}>
      <div className="lesson" data-testid="lessons">
        <label className="lesson-pick">
          Lesson
          <select value={picked} disabled={busy} data-testid="lesson-select" onChange={(e) => setPicked(e.target.value)}>
            {LESSONS.map((l) => <option key={l.name} value={l.name}>{l.title}</option>)}
          </select>
        </label>
        <p className="lesson-text" data-testid="lesson-explanation">{lesson.explanation}</p>
        <dl className="facts">
          <div className="fact"><dt>Metric</dt><dd>{lesson.metric.label}</dd></div>
          <div className="fact"><dt>Target</dt><dd data-testid="lesson-target">{target ? describeTarget(target, lesson.metric) : 'none: compare with the lesson'}</dd></div>
          {lesson.inspector && <div className="fact"><dt>Where</dt><dd>The batch inspector (Training panel): inspect, run, inspect again.</dd></div>}
        </dl>
        <div className="row controls" role="toolbar" aria-label="Lesson controls">
          <button type="button" disabled={!canRun} onClick={() => void open()} data-testid="lesson-open">Set up</button>
          <button type="button" disabled={!canRun} onClick={() => void run(onPage ? active?.variation : undefined)} data-testid="lesson-run">Run lesson</button>
          {link && <a className="small" href={link} data-testid="lesson-link">Link to this lesson</a>}
        </div>
        {active?.name === lesson.name && active.status === 'opening' && <p className="small muted" role="status">Setting up the lesson…</p>}
        {active?.name === lesson.name && active.status === 'error' && <ErrorNote>{active.message}</ErrorNote>}
        {onPage && prepared && !refused && (
          <p className="small muted" data-testid="lesson-on-page">
            On the page{active?.variation ? ` with “${lesson.variations.find((v) => v.id === active.variation)?.label}”` : ''}: {prepared.trainCount} training rows, {prepared.evalCount} held out.
          </p>
        )}
        <div className="lesson-result" data-testid="lesson-result" aria-live="polite">
          <div><span className="small muted">before</span><strong data-testid="lesson-before">{formatMetric(lesson.metric, before)}</strong></div>
          <span aria-hidden="true">→</span>
          <div><span className="small muted">{isTraining(phase) ? 'now' : 'after'}</span><strong data-testid="lesson-after">{formatMetric(lesson.metric, shownAfter)}</strong></div>
          {lesson.target.kind === 'above-best' && shownRun && best !== undefined && (
            <div><span className="small muted">best (kept as the best checkpoint)</span><strong data-testid="lesson-best">{formatMetric(lesson.metric, best)}</strong></div>
          )}
          {met !== null && <span className={met ? 'badge' : 'badge wasm'} data-testid="lesson-met">{met ? 'target met' : 'target not met'}</span>}
        </div>
        {refused && (
          <div data-testid="lesson-refused">
            <p className="small muted">Measured by the linter without training: the run was refused before its first step.</p>
            <ErrorNote>{refused.refused}</ErrorNote>
          </div>
        )}
        {measuresEffect && effect && lesson.effect && <EffectView effect={lesson.effect} state={effect} />}
        {overfitting && finished && compared && <BestVsLatestView compared={compared} busy={busy} onAsk={() => void askBestVsLatest()} />}
        {lesson.variations.length > 0 && (
          <div>
            <h3 className="small">You could try…</h3>
            <ul className="rows lesson-variations">
              {lesson.variations.map((v) => (
                <li key={v.id}>
                  <button type="button" disabled={!canRun} onClick={() => void run(v.id)} data-testid={`lesson-try-${v.id}`}>{v.label}</button>
                  <span className="small muted"> {v.expect}{v.target ? ` Target: ${describeTarget(v.target, lesson.metric)}.` : ''}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Panel>
  );
}
