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
const PLACEHOLDER = /\uE000(r?)(\d+)\uE001/g;

type Part = 'content' | 'reasoning';

/** Assistant contents written as `<think>reasoning</think>answer` (Qwen3 style) are split the way Qwen3's template
 * splits them, so the reasoning and the answer each get a placeholder and the template keeps its think-block logic
 * (render it on the last turn, drop it on earlier ones). */
function reasoningParts(message: Message): { reasoning: string; answer: string } | null {
  if (message.role !== 'assistant' || !message.content.includes('</think>')) return null;
  const pieces = message.content.split('</think>');
  return { reasoning: (pieces[0] ?? '').split('<think>').pop() ?? '', answer: pieces[pieces.length - 1] ?? '' };
}

function placeholderMessages(messages: readonly Message[]): Message[] {
  return messages.map((m, i) => {
    const content = `${OPEN}${i}${CLOSE}`;
    return { role: m.role, content: reasoningParts(m) ? `<think>${OPEN}r${i}${CLOSE}</think>${content}` : content };
  });
}

function partText(message: Message, part: Part): string {
  const split = reasoningParts(message);
  if (!split) return message.content;
  return part === 'reasoning' ? split.reasoning : split.answer;
}

interface Skeleton {
  literals: string[];
  order: { index: number; part: Part }[];
}

function skeletonOf(text: string, count: number): Skeleton {
  const literals: string[] = [];
  const order: Skeleton['order'] = [];
  const seen = new Set<string>();
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const index = Number(match[2]);
    if (index >= count) continue;
    if (seen.has(match[0])) {
      throw new SpanError(`The template writes message ${index}'s content more than once; TabTune cannot tell which copy is trained. Use a template that renders each message once.`);
    }
    seen.add(match[0]);
    literals.push(text.slice(last, match.index));
    order.push({ index, part: match[1] ? 'reasoning' : 'content' });
    last = match.index + match[0].length;
  }
  literals.push(text.slice(last));
  return { literals, order };
}

/** Skeletons depend on the roles (and options), rarely on contents; cache per template, checked on every use. */
const skeletonCache = new WeakMap<CompiledTemplate, Map<string, Skeleton>>();

function skeletonFor(compiled: CompiledTemplate, messages: readonly Message[], opts: RenderOptions, fresh: boolean): Skeleton {
  const shape = messages.map((m) => (reasoningParts(m) ? `${m.role}+think` : m.role)).join(',');
  const key = `${opts.addGenerationPrompt ? 1 : 0}|${opts.bosToken ?? ''}|${opts.eosToken ?? ''}|${JSON.stringify(opts.kwargs ?? {})}|${shape}`;
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

/** One message's spans → its turn: reasoning (with the `<think>` tag the template wrote before it) through answer. */
function mergeParts(text: string, message: number, role: Message['role'], parts: Map<Part, { start: number; end: number }>): TurnSpan {
  const content = parts.get('content');
  const reasoning = parts.get('reasoning');
  if (!reasoning) return { message, role, start: content?.start ?? 0, end: content?.end ?? 0 };
  const open = /<think>\s*$/.exec(text.slice(Math.max(0, reasoning.start - 16), reasoning.start));
  const start = open ? reasoning.start - open[0].length : reasoning.start;
  return { message, role, start, end: content?.end ?? reasoning.end };
}

function locateContents(text: string, messages: readonly Message[], skeleton: Skeleton): RenderedChat | null {
  const { literals, order } = skeleton;
  const found = new Map<number, Map<Part, { start: number; end: number }>>();
  const literalSpans: { start: number; end: number }[] = [];
  const first = literals[0] ?? '';
  if (!text.startsWith(first)) return null;
  literalSpans.push({ start: 0, end: first.length });
  let cursor = first.length;
  for (let k = 0; k < order.length; k++) {
    const { index, part } = order[k] ?? { index: 0, part: 'content' };
    const message = messages[index];
    const next = literals[k + 1] ?? '';
    const isLast = k === order.length - 1;
    if (!message) return null;
    let span: { start: number; end: number } | null = null;
    const content = partText(message, part);
    for (const form of [content, content.trim(), content.trimStart(), content.trimEnd()]) {
      const end = cursor + form.length;
      if (text.startsWith(form, cursor) && text.startsWith(next, end) && (!isLast || end + next.length === text.length)) {
        span = { start: cursor, end };
        break;
      }
    }
    if (!span) {
      // The template changed the content beyond trimming: it ends where the next literal starts.
      if (next === '' && !isLast) return null;
      const at = isLast ? text.length - next.length : text.indexOf(next, cursor);
      if (at < cursor || (isLast && !text.endsWith(next))) return null;
      span = { start: cursor, end: at };
    }
    const parts = found.get(index) ?? new Map<Part, { start: number; end: number }>();
    parts.set(part, span);
    found.set(index, parts);
    literalSpans.push({ start: span.end, end: span.end + next.length });
    cursor = span.end + next.length;
  }
  if (cursor !== text.length) return null;
  const turns = [...found].map(([index, parts]) => mergeParts(text, index, messages[index]?.role ?? 'user', parts));
  turns.sort((a, b) => a.start - b.start);
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
