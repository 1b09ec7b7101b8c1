// One dataset row after field mapping: conversations (messages, or a conversational prompt/completion) as
// role-labelled turns, any other layout as its fields. Text is rendered as text; long values are clipped, with the
// full value in a tooltip.
import type { PreviewRow } from '../../worker/protocol';

const CLIP = 220;

function clip(text: string): string {
  return text.length > CLIP ? `${text.slice(0, CLIP)}…` : text;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface Turn {
  role: string;
  content: string;
}

function asTurns(v: unknown): Turn[] | null {
  if (!Array.isArray(v)) return null;
  return v.map((m) => {
    const t = (m ?? {}) as Record<string, unknown>;
    return { role: asText(t.role ?? '?'), content: asText(t.content ?? '') };
  });
}

function Turns({ turns }: { turns: Turn[] }) {
  return (
    <>
      {turns.map((t, i) => (
        <div key={i} className={`turn role-${t.role.replace(/[^a-z]/gi, '')}`}>
          <span className="role">{t.role}</span>
          <span className="content" title={t.content}>{clip(t.content)}</span>
        </div>
      ))}
    </>
  );
}

export function RowView({ row }: { row: PreviewRow }) {
  const fields = Object.entries(row).filter(([k]) => k !== 'id' && k !== 'kind');
  return (
    <div className="fields" title={row.id}>
      {fields.map(([key, value]) => {
        const turns = asTurns(value);
        if (turns) return <Turns key={key} turns={turns} />;
        return (
          <div key={key} className="field">
            <span className="key">{key}</span>
            <span className="content" title={asText(value)}>{clip(asText(value))}</span>
          </div>
        );
      })}
    </div>
  );
}
