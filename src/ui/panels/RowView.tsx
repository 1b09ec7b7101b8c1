// One dataset row as the file has it: chat rows (`messages` / ShareGPT `conversations`) as role-labelled turns,
// any other row as its fields. Text is rendered as text, long values clipped with the full value in a tooltip.
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

function turns(row: Record<string, unknown>): Turn[] | null {
  const list = Array.isArray(row.messages) ? row.messages : Array.isArray(row.conversations) ? row.conversations : null;
  if (!list) return null;
  return list.map((m) => {
    const t = (m ?? {}) as Record<string, unknown>;
    return { role: asText(t.role ?? t.from ?? '?'), content: asText(t.content ?? t.value ?? '') };
  });
}

export function RowView({ row }: { row: unknown }) {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return <code className="raw">{clip(asText(row))}</code>;
  const obj = row as Record<string, unknown>;
  const chat = turns(obj);
  if (chat) {
    return (
      <div className="turns">
        {chat.map((t, i) => (
          <div key={i} className={`turn role-${t.role.replace(/[^a-z]/gi, '')}`}>
            <span className="role">{t.role}</span>
            <span className="content" title={t.content}>{clip(t.content)}</span>
          </div>
        ))}
      </div>
    );
  }
  return (
    <div className="fields">
      {Object.entries(obj).map(([k, v]) => (
        <div key={k} className="field">
          <span className="key">{k}</span>
          <span className="content" title={asText(v)}>{clip(asText(v))}</span>
        </div>
      ))}
    </div>
  );
}
