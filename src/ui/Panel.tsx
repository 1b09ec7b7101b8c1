// A card on the playground grid: numbered title, an optional status line, and its content. Panels share this so the
// grid keeps one rhythm and every panel has a labelled region for keyboard and screen-reader users.
import type { ReactNode } from 'react';

export function Panel(props: { id: string; step?: number; title: string; aside?: ReactNode; children: ReactNode; wide?: boolean }) {
  const headingId = `${props.id}-title`;
  return (
    <section className={props.wide ? 'panel wide' : 'panel'} aria-labelledby={headingId} data-panel={props.id}>
      <header className="panel-head">
        <h2 id={headingId}>
          {props.step !== undefined && <span className="step-no">{props.step}</span>}
          {props.title}
        </h2>
        {props.aside && <div className="panel-aside">{props.aside}</div>}
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}

/** What a panel shows when it has nothing yet: says why, and what will appear. */
export function Empty(props: { children: ReactNode }) {
  return <p className="empty">{props.children}</p>;
}

/** Loading line with determinate progress when the worker reports a total. */
export function Progress(props: { stage: string; loaded: number; total: number | null }) {
  const pct = props.total ? Math.round((100 * props.loaded) / props.total) : null;
  return (
    <div className="progress" role="status">
      <span>{props.stage}…</span>
      <progress max={props.total ?? undefined} value={props.total ? props.loaded : undefined} aria-label={props.stage}>
        {pct !== null ? `${pct}%` : ''}
      </progress>
    </div>
  );
}

export function ErrorNote(props: { children: ReactNode }) {
  return <p className="error-note" role="alert">{props.children}</p>;
}

/** Two-column facts table (label: value). */
export function Facts(props: { rows: [string, ReactNode][]; testId?: string }) {
  return (
    <dl className="facts" data-testid={props.testId}>
      {props.rows.map(([k, v]) => (
        <div key={k} className="fact">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
