// Token strips: one span per token, coloured by its label (trained / masked / padding) or by a per-token value (the
// loss heat map), special tokens spelled out, newlines drawn as ↵. The strip is a listbox with a roving tab stop: Tab
// reaches the current token, the arrow keys (and Home/End) move, and the token in focus or clicked is described in
// the details pane under the strip (id, text with its whitespace and UTF-8 bytes, label, loss, where a naive collator
// disagrees) — readable on a shared screen and by keyboard, unlike a hover tooltip.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';

import { IGNORE_INDEX as IGNORE } from '../share/labels';
export { IGNORE };

/** How a token is drawn: whitespace made visible without changing where lines break. */
export function visible(text: string): string {
  return text.replace(/\n/g, '↵\n').replace(/\t/g, '→');
}

/** Every whitespace character shown as a sign (for the details pane and accessible names, where nothing wraps). */
export function spelledOut(text: string): string {
  return text.replace(/ /g, '␣').replace(/\n/g, '↵').replace(/\t/g, '→').replace(/\r/g, '␍');
}

/** The UTF-8 bytes of a token's text as hex pairs ("e2 96 81"). */
export function utf8Hex(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export type TokenKind = 'trained' | 'masked' | 'padding';

/** A naive collator's label at this position where it differs from the exact mask. */
interface Disagreement {
  method: string;
  label: number;
}

export interface StripToken {
  id: number;
  text: string;
  label: number;
  special?: boolean;
  /** Padding is a position property (attention_mask 0), never a comparison of ids with pad_token_id. */
  padding?: boolean;
  /** Marks a position (e.g. where a naive mask disagrees with the exact one). */
  marked?: boolean;
  /** 0..1 heat for the loss map; overrides the label colour. */
  heat?: number;
  /** Loss of predicting this token (nats), shown in the details pane. */
  loss?: number;
  /** The naive collators that label this position differently; [] when every one agrees; absent when not compared. */
  disagree?: Disagreement[];
  note?: string;
}

function kindOf(t: StripToken): TokenKind {
  if (t.padding) return 'padding';
  return t.label === IGNORE ? 'masked' : 'trained';
}

function labelText(label: number, id: number): string {
  if (label === IGNORE) return '−100: masked, no loss';
  return label === id ? `${label} (= its id): trained` : `${label}: trained`;
}

function TokenDetails({ token, index, id }: { token: StripToken | null; index: number; id: string }) {
  if (!token) {
    return (
      <p className="token-details empty small" id={id} aria-live="polite">
        Click a token, or Tab to the strip and move with the arrow keys, to see its id, bytes and label here.
      </p>
    );
  }
  const rows: [string, string][] = [
    ['position', String(index)],
    ['id', String(token.id)],
    ['text', `${JSON.stringify(token.text)}${token.text ? `  ${spelledOut(token.text)}` : ''}${token.special ? ' (special token)' : ''}`],
    ['UTF-8 bytes', utf8Hex(token.text) || 'none'],
    ['label', labelText(token.label, token.id)],
  ];
  if (token.padding) rows.push(['attention', '0: padding, ignored by the model']);
  if (token.loss !== undefined) rows.push(['loss', `${token.loss.toFixed(3)} nats for predicting this token`]);
  if (token.disagree) {
    rows.push(['naive methods', token.disagree.length === 0
      ? 'agree with the exact mask here'
      : token.disagree.map((d) => `${d.method} ${d.label === IGNORE ? 'masks it' : 'trains it'}`).join('; ')]);
  }
  if (token.note) rows.push(['note', token.note]);
  return (
    <dl className="token-details facts" id={id} aria-live="polite" data-testid="token-details">
      {rows.map(([k, v]) => (
        <div key={k} className="fact">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const MOVES: Record<string, (i: number, n: number) => number> = {
  ArrowRight: (i, n) => Math.min(n - 1, i + 1),
  ArrowDown: (i, n) => Math.min(n - 1, i + 1),
  ArrowLeft: (i) => Math.max(0, i - 1),
  ArrowUp: (i) => Math.max(0, i - 1),
  Home: () => 0,
  End: (_i, n) => n - 1,
};

export function TokenStrip(props: { tokens: StripToken[]; label: string; testId?: string }) {
  const { tokens } = props;
  const detailsId = useId();
  const strip = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<number | null>(null);
  const at = Math.min(active, Math.max(0, tokens.length - 1));
  const chosen = selected !== null && selected < tokens.length ? selected : null;
  // A marked token (where a naive method differs) scrolled into the strip's view, not left below its fold.
  const firstMarked = tokens.findIndex((t) => t.marked);
  useEffect(() => {
    const box = strip.current;
    const mark = firstMarked >= 0 ? box?.querySelector<HTMLElement>(`[data-index="${firstMarked}"]`) : null;
    if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - 8);
  }, [firstMarked]);
  const choose = (i: number) => {
    setActive(i);
    setSelected(i);
  };
  const onKeyDown = (ev: KeyboardEvent<HTMLDivElement>) => {
    const move = MOVES[ev.key];
    if (!move || tokens.length === 0) return;
    ev.preventDefault();
    const next = move(at, tokens.length);
    choose(next);
    strip.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus();
  };
  return (
    <div className="token-view">
      <div ref={strip} className="token-strip" role="listbox" aria-label={props.label} aria-describedby={detailsId}
        data-testid={props.testId} onKeyDown={onKeyDown}>
        {tokens.map((t, i) => {
          const kind = kindOf(t);
          const cls = ['tok', kind, t.special ? 'special' : '', t.marked ? 'marked' : '', t.heat !== undefined ? 'heat' : ''].filter(Boolean).join(' ');
          const style = t.heat !== undefined ? { ['--heat' as string]: String(Math.max(0, Math.min(1, t.heat))) } : undefined;
          return (
            <span key={i} className={cls} data-kind={kind} data-index={i} style={style} role="option" aria-selected={chosen === i}
              aria-label={`${spelledOut(t.text) || 'empty'}, ${kind}${t.marked ? ', differs' : ''}`} tabIndex={i === at ? 0 : -1}
              onClick={() => choose(i)} onFocus={() => choose(i)}>
              {visible(t.text) || '∅'}
            </span>
          );
        })}
      </div>
      <TokenDetails token={chosen === null ? null : tokens[chosen] ?? null} index={chosen ?? 0} id={detailsId} />
    </div>
  );
}

export function Legend(props: { kinds: TokenKind[]; marked?: string }) {
  const text: Record<TokenKind, string> = { trained: 'trained (label = id)', masked: 'masked (label −100)', padding: 'padding (attention 0)' };
  return (
    <ul className="legend" aria-label="Colour legend">
      {props.kinds.map((k) => <li key={k}><span className={`tok ${k}`}>ab</span> {text[k]}</li>)}
      {props.marked && <li><span className="tok masked marked">ab</span> {props.marked}</li>}
    </ul>
  );
}

/** The loss heat map's scale: the colour ramp from 0 to the batch's largest per-token loss. */
export function HeatLegend(props: { max: number }) {
  return (
    <div className="heat-legend" data-testid="heat-legend">
      <span className="small">loss per trained token (nats):</span>
      <span className="heat-scale">
        <span className="small">0</span>
        <span className="heat-ramp" role="img" aria-label={`colour ramp from 0 (pale) to ${props.max.toFixed(2)} (dark red)`} />
        <span className="small">{props.max.toFixed(2)}</span>
      </span>
    </div>
  );
}
