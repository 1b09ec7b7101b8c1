// Lessons panel: pick a lesson, read what it shows and its target, set it up (its preset config goes on the page, as
// a share link would put it) and run it; the lesson's metric is measured by the worker before the first step, at every
// sample step and at the end, and shown here before → after against the target. "You could try…" variations are one
// click each. The metric's curve is drawn beside the loss in the Charts panel.
import { useMemo, useState } from 'react';
import { useActions, useApp } from '../app-context';
import { ErrorNote, Panel } from '../Panel';
import { isTraining } from '../../store/run';
import { errorMessage } from '../../share/labels';
import { shareUrl } from '../../share/link';
import {
  DEFAULT_LESSON, describeTarget, findLesson, formatMetric, lessonTarget, LESSONS, meetsTarget,
} from '../../share/lessons';
import './lessons.css';

/** Which lesson (and variation) is on the page, and what it is doing. */
interface Active {
  name: string;
  variation?: string;
  status: 'opening' | 'ready' | 'error';
  message?: string;
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
  const lesson = findLesson(picked);
  const busy = isTraining(phase) || active?.status === 'opening';

  const measured = useMemo(() => metrics.filter((m) => m.lessonMetric !== undefined), [metrics]);
  const shownRun = ran?.name === lesson.name ? ran : null;
  const before = shownRun ? measured[0]?.lessonMetric : undefined;
  const after = shownRun && measured.length > 1 ? measured.at(-1)?.lessonMetric : undefined;
  const target = lessonTarget(lesson, shownRun?.variation);
  const best = measured.length > 0 ? Math.min(...measured.map((m) => m.lessonMetric!)) : undefined;
  const met = target && before !== undefined && after !== undefined && !isTraining(phase) ? meetsTarget(target, after, before, best) : null;

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
    if (!onPage && !(await open(variation))) return;
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
        {onPage && prepared && (
          <p className="small muted" data-testid="lesson-on-page">
            On the page{active?.variation ? ` with “${lesson.variations.find((v) => v.id === active.variation)?.label}”` : ''}: {prepared.trainCount} training rows, {prepared.evalCount} held out.
          </p>
        )}
        <div className="lesson-result" data-testid="lesson-result" aria-live="polite">
          <div><span className="small muted">before</span><strong data-testid="lesson-before">{formatMetric(lesson.metric, before)}</strong></div>
          <span aria-hidden="true">→</span>
          <div><span className="small muted">{isTraining(phase) ? 'now' : 'after'}</span><strong data-testid="lesson-after">{formatMetric(lesson.metric, shownRun ? measured.at(-1)?.lessonMetric : undefined)}</strong></div>
          {lesson.target.kind === 'above-best' && shownRun && best !== undefined && (
            <div><span className="small muted">best (kept as the best checkpoint)</span><strong data-testid="lesson-best">{formatMetric(lesson.metric, best)}</strong></div>
          )}
          {met !== null && <span className={met ? 'badge' : 'badge wasm'} data-testid="lesson-met">{met ? 'target met' : 'target not met'}</span>}
        </div>
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
