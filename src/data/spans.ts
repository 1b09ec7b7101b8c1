// Where each message's content lands in a rendered chat, as UTF-16 character spans (sft-conventions §10: exact
// spans come from character offsets of the rendered text, never from marker-token search).
// Method: render once with the real contents and once with a unique placeholder per message (the "skeleton").
// The skeleton's text between placeholders is what the template itself wrote; walking those literals along the real
// render puts each content between its neighbouring literals. Templates that `trim` content are handled by trying
// the content's trimmed forms first; everything is checked, so a template we cannot follow fails loudly.
import { renderChat, type CompiledTemplate, type RenderOptions } from './template.ts';
import type { Message, TurnSpan } from './types.ts';

export interface RenderedChat {
  text: string;
  /** One entry per message whose content the template rendered, in text order. */
  turns: TurnSpan[];
  /** The template's own text between contents, in order (headers, end-of-turn markers, injected text). */
  literals: { start: number; end: number }[];
}

export class SpanError extends Error {
  override name = 'SpanError';
}

// Private-use code points: no template trims, escapes or splits on them.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

function placeholderMessages(messages: readonly Message[]): Message[] {
  return messages.map((m, i) => ({ role: m.role, content: `${OPEN}${i}${CLOSE}` }));
}

interface Skeleton {
  literals: string[];
  order: number[];
}

function skeletonOf(text: string, count: number): Skeleton {
  const literals: string[] = [];
  const order: number[] = [];
  const seen = new Set<number>();
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const index = Number(match[1]);
    if (index >= count) continue;
    if (seen.has(index)) {
      throw new SpanError(`The template writes message ${index}'s content more than once; TabTune cannot tell which copy is trained. Use a template that renders each message once.`);
    }
    seen.add(index);
    literals.push(text.slice(last, match.index));
    order.push(index);
    last = match.index + match[0].length;
  }
  literals.push(text.slice(last));
  return { literals, order };
}

/** Skeletons depend on the roles (and options), rarely on contents; cache per template, checked on every use. */
const skeletonCache = new WeakMap<CompiledTemplate, Map<string, Skeleton>>();

function skeletonFor(compiled: CompiledTemplate, messages: readonly Message[], opts: RenderOptions, fresh: boolean): Skeleton {
  const key = `${opts.addGenerationPrompt ? 1 : 0}|${opts.bosToken ?? ''}|${opts.eosToken ?? ''}|${JSON.stringify(opts.kwargs ?? {})}|${messages.map((m) => m.role).join(',')}`;
  let cache = skeletonCache.get(compiled);
  if (!cache) {
    cache = new Map();
    skeletonCache.set(compiled, cache);
  }
  const hit = fresh ? undefined : cache.get(key);
  if (hit) return hit;
  const skeleton = skeletonOf(renderChat(compiled, placeholderMessages(messages), opts), messages.length);
  if (cache.size > 256) cache.clear();
  cache.set(key, skeleton);
  return skeleton;
}

function locateContents(text: string, messages: readonly Message[], skeleton: Skeleton): RenderedChat | null {
  const { literals, order } = skeleton;
  const turns: TurnSpan[] = [];
  const literalSpans: { start: number; end: number }[] = [];
  const first = literals[0] ?? '';
  if (!text.startsWith(first)) return null;
  literalSpans.push({ start: 0, end: first.length });
  let cursor = first.length;
  for (let k = 0; k < order.length; k++) {
    const index = order[k] ?? 0;
    const message = messages[index];
    const next = literals[k + 1] ?? '';
    const isLast = k === order.length - 1;
    if (!message) return null;
    let span: { start: number; end: number } | null = null;
    const content = message.content;
    for (const form of [content, content.trim(), content.trimStart(), content.trimEnd()]) {
      const end = cursor + form.length;
      if (text.startsWith(form, cursor) && text.startsWith(next, end) && (!isLast || end + next.length === text.length)) {
        span = { start: cursor, end };
        break;
      }
    }
    if (!span) {
      // The template changed the content (e.g. split off a think block): it ends where the next literal starts.
      if (next === '' && !isLast) return null;
      const at = isLast ? text.length - next.length : text.indexOf(next, cursor);
      if (at < cursor || (isLast && !text.endsWith(next))) return null;
      span = { start: cursor, end: at };
    }
    turns.push({ message: index, role: message.role, ...span });
    literalSpans.push({ start: span.end, end: span.end + next.length });
    cursor = span.end + next.length;
  }
  if (cursor !== text.length) return null;
  return { text, turns, literals: literalSpans };
}

/** Renders `messages` and returns the text with each content's character span. */
export function renderWithSpans(compiled: CompiledTemplate, messages: readonly Message[], opts: RenderOptions = {}): RenderedChat {
  const text = renderChat(compiled, messages, opts);
  const cached = locateContents(text, messages, skeletonFor(compiled, messages, opts, false));
  if (cached) return cached;
  const located = locateContents(text, messages, skeletonFor(compiled, messages, opts, true));
  if (located) return located;
  throw new SpanError('Could not find where the template put each message: it rewrites message contents in a way that changes its own text around them. Simplify the template (render each content once, unchanged or trimmed).');
}
