// A short, bounded description of a value read from outside input, for error messages. JSON.stringify of a hostile
// value recurses once per nesting level (a 100,000-deep array overflows the stack) and copies every byte of a huge
// string into the message; this looks three levels deep and cuts long text. It lives in src/engine only because that
// is the one layer every reader (hub, models, train) may import; it has nothing to do with graphs.

const MAX_TEXT = 60;
const MAX_ITEMS = 8;
const MAX_DEPTH = 3;
const MAX_OUTPUT = 160;

function render(value: unknown, depth: number): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value !== 'object') return typeof value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => render(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`…${value.length - MAX_ITEMS} more`);
    return `[${items.join(',')}]`;
  }
  const keys = Object.keys(value);
  const shown = keys.slice(0, MAX_ITEMS).map((k) => `${render(k, depth + 1)}:${render((value as Record<string, unknown>)[k], depth + 1)}`);
  if (keys.length > MAX_ITEMS) shown.push(`…${keys.length - MAX_ITEMS} more`);
  return `{${shown.join(',')}}`;
}

/**
 * Compact JSON for small values (`"q_proj"`, `[2,-1]`, `{"q_proj":8}`, `null`), cut past three levels (`[[[…]]]`),
 * eight items and 160 characters. Never throws, never recurses deeper than three calls.
 */
export function preview(value: unknown): string {
  const text = render(value, 0);
  return text.length > MAX_OUTPUT ? `${text.slice(0, MAX_OUTPUT)}…` : text;
}
