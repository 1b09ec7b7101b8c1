// A card on the playground grid: numbered title, an optional status line, and its content. Panels share this so the
// grid keeps one rhythm and every panel has a labelled region for keyboard and screen-reader users. Every panel can
// also be presented: it fills the screen (the Fullscreen API where the browser allows it, a fixed overlay otherwise),
// its content grows through the `presenting` CSS custom properties, the rest of the page is inert, and Escape or the
// same button leaves. The ? button opens the panel's "what am I looking at" paragraph (src/ui/help.ts).
import { createContext, useCallback, useContext, useEffect, useId, useRef, useState, type ReactNode, type RefObject } from 'react';
import { PANEL_HELP } from './help';

const PresentingContext = createContext(false);

/** Whether the enclosing panel fills the screen (charts read it to size themselves). */
export function usePresenting(): boolean {
  return useContext(PresentingContext);
}

/** Makes everything outside `el` inert (not focusable, hidden from assistive tech) until the returned undo runs. */
function inertOutside(el: HTMLElement): () => void {
  const changed: HTMLElement[] = [];
  for (let node: HTMLElement | null = el; node && node !== document.body; node = node.parentElement) {
    for (const sibling of Array.from(node.parentElement?.children ?? [])) {
      if (sibling === node || !(sibling instanceof HTMLElement) || sibling.inert) continue;
      sibling.inert = true;
      changed.push(sibling);
    }
  }
  return () => changed.forEach((s) => { s.inert = false; });
}

function usePresentation(ref: RefObject<HTMLElement | null>, button: RefObject<HTMLButtonElement | null>) {
  const [presenting, setPresenting] = useState(false);
  const leave = useCallback(() => setPresenting(false), []);
  useEffect(() => {
    const el = ref.current;
    if (!presenting || !el) return undefined;
    const root = document.documentElement;
    root.classList.add('presenting');
    const undoInert = inertOutside(el);
    el.focus({ preventScroll: true });
    // True full screen hides the browser's own bars on a projector; refused (no user gesture, an iframe without
    // permission), the fixed overlay alone still fills the window.
    el.requestFullscreen?.().catch(() => undefined);
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === 'Escape' && !ev.defaultPrevented) leave();
    };
    const onFullscreen = () => {
      if (!document.fullscreenElement) leave();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('fullscreenchange', onFullscreen);
    const trigger = button.current;
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('fullscreenchange', onFullscreen);
      if (document.fullscreenElement === el) void document.exitFullscreen().catch(() => undefined);
      undoInert();
      root.classList.remove('presenting');
      trigger?.focus({ preventScroll: true });
    };
  }, [presenting, leave, ref, button]);
  return [presenting, setPresenting] as const;
}

/** Four corners of a screen, drawn rather than a font glyph (⛶ is missing from many system fonts, including those of
 * headless Chromium, and rendered as an empty box). Sized by the button's font. */
export function PresentIcon() {
  return (
    <svg className="present-icon" viewBox="0 0 16 16" width="1em" height="1em" aria-hidden="true" focusable="false">
      <path d="M1.5 5.5v-4h4M10.5 1.5h4v4M14.5 10.5v4h-4M5.5 14.5h-4v-4" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function Panel(props: { id: string; step?: number; title: string; aside?: ReactNode; children: ReactNode; wide?: boolean }) {
  const headingId = `${props.id}-title`;
  const helpId = useId();
  const ref = useRef<HTMLElement>(null);
  const presentButton = useRef<HTMLButtonElement>(null);
  const [presenting, setPresenting] = usePresentation(ref, presentButton);
  const [helpOpen, setHelpOpen] = useState(false);
  const help = PANEL_HELP[props.id];
  const cls = ['panel', props.wide ? 'wide' : '', presenting ? 'presenting' : ''].filter(Boolean).join(' ');
  return (
    <section ref={ref} className={cls} aria-labelledby={headingId} data-panel={props.id} tabIndex={presenting ? -1 : undefined}>
      <header className="panel-head">
        <h2 id={headingId}>
          {props.step !== undefined && <span className="step-no">{props.step}</span>}
          {props.title}
        </h2>
        {props.aside && <div className="panel-aside">{props.aside}</div>}
        <div className="panel-tools">
          {help && (
            <button type="button" className="tool" aria-expanded={helpOpen} aria-controls={helpId} onClick={() => setHelpOpen((o) => !o)}
              aria-label={`What is the ${props.title} panel?`} title="What am I looking at?" data-testid="panel-help-toggle">?</button>
          )}
          <button ref={presentButton} type="button" className="tool" aria-pressed={presenting} onClick={() => setPresenting((p) => !p)}
            aria-label={presenting ? `Leave full screen (Escape)` : `Present the ${props.title} panel full screen`}
            title={presenting ? 'Leave full screen (Escape)' : 'Present full screen'} data-testid="panel-present">
            {presenting ? '✕' : <PresentIcon />}
          </button>
        </div>
      </header>
      {help && <p id={helpId} className="panel-help" data-testid="panel-help" hidden={!helpOpen}>{help}</p>}
      <PresentingContext.Provider value={presenting}>
        <div className="panel-body">{props.children}</div>
      </PresentingContext.Provider>
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
