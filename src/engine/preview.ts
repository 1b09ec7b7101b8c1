// A short, bounded description of a value read from outside input, for error messages. JSON.stringify of a hostile
// value recurses once per nesting level (a 100,000-deep array overflows the stack) and copies every byte of a huge
// string into the message; this looks one level deep and cuts long text. It lives in src/engine only because that
// is the one layer every reader (hub, models, train) may import; it has nothing to do with graphs.

const MAX_TEXT = 60;
const MAX_ITEMS = 6;

function scalar(value: unknown): string | null {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return null;
}

/** E.g. `"q_proj"`, `1e+30`, `[2, -1]`, `[[…], "a", … 998 more]`, `{"a": …, "b": …}`, `null`. Never throws. */
export function preview(value: unknown): string {
  const s = scalar(value);
  if (s !== null) return s;
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => scalar(v) ?? (Array.isArray(v) ? '[…]' : '{…}'));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`);
    return `[${items.join(', ')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const shown = keys.slice(0, MAX_ITEMS).map((k) => `${scalar(k) ?? '?'}: …`);
    if (keys.length > MAX_ITEMS) shown.push(`… ${keys.length - MAX_ITEMS} more`);
    return `{${shown.join(', ')}}`;
  }
  return typeof value;
}
