// Token strips: one span per token, coloured by its label (trained / masked / padding) or by a per-token value (the
// loss heat map), special tokens spelled out, newlines drawn as ↵. Hover (or focus) shows id, label and the text.
import type { ReactNode } from 'react';

import { IGNORE_INDEX as IGNORE } from '../share/labels';
export { IGNORE };

/** How a token is drawn: whitespace made visible without changing where lines break. */
export function visible(text: string): string {
  return text.replace(/\n/g, '↵\n').replace(/\t/g, '→');
}

export type TokenKind = 'trained' | 'masked' | 'padding';

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
  note?: string;
}

function kindOf(t: StripToken): TokenKind {
  if (t.padding) return 'padding';
  return t.label === IGNORE ? 'masked' : 'trained';
}

function title(t: StripToken): string {
  const kind = kindOf(t);
  const label = t.label === IGNORE ? '-100 (no loss)' : `${t.label}${kind === 'trained' ? ' (trained)' : ''}`;
  return `id ${t.id} · label ${label}${t.padding ? ' · padding' : ''} · ${JSON.stringify(t.text)}${t.note ? ` · ${t.note}` : ''}`;
}

export function TokenStrip(props: { tokens: StripToken[]; label: string; testId?: string; footer?: ReactNode }) {
  return (
    <div className="token-strip" role="group" aria-label={props.label} data-testid={props.testId} tabIndex={0}>
      {props.tokens.map((t, i) => {
        const kind = kindOf(t);
        const cls = ['tok', kind, t.special ? 'special' : '', t.marked ? 'marked' : '', t.heat !== undefined ? 'heat' : ''].filter(Boolean).join(' ');
        const style = t.heat !== undefined ? { ['--heat' as string]: String(Math.max(0, Math.min(1, t.heat))) } : undefined;
        return (
          <span key={i} className={cls} title={title(t)} data-kind={kind} style={style}>
            {visible(t.text) || '∅'}
          </span>
        );
      })}
      {props.footer}
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
