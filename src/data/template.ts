// Chat templates rendered like transformers' apply_chat_template: @huggingface/jinja (trim_blocks, lstrip_blocks,
// `{% generation %}` stripped), a frozen `strftime_now`, a `raise_exception` with a readable message, template
// kwargs such as `enable_thinking`. Also the built-in Alpaca and Llama 2 templates, and compile errors with a
// line/column for the user-editable template.
//
// Templates are typed by users and shipped by strangers' repos, so every render runs under explicit budgets
// (template-budget.ts), checked in the interpreter's own evaluation path.
import { Environment, Template } from '@huggingface/jinja';
import {
  budgetedInterpreter, budgetError, DEFAULT_TEMPLATE_BUDGET, makeRange, TemplateRenderError, type TemplateBudget,
} from './template-budget.ts';
import type { Message } from './types.ts';
import { MAX_TEMPLATE_CHARS } from '../share/run-config.ts';
import { PRESET_SOURCES } from '../share/templates.ts';

export { TemplateRenderError };

export interface TemplateError {
  message: string;
  /** 1-based; the smallest prefix of the source that fails the same way ends here. */
  line: number;
  column: number;
}

export interface CompiledTemplate {
  source: string;
  template: Template;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string | null;
  eosToken?: string | null;
  /** Extra template variables (`enable_thinking`, `tools`, `date_string`, …), as transformers' `**kwargs`. */
  kwargs?: Record<string, unknown>;
  /** The date `strftime_now` reports. Frozen so renders do not change daily (Llama 3.2 writes today's date). */
  date?: Date;
  /** Limits for this render, over DEFAULT_TEMPLATE_BUDGET. */
  budget?: Partial<TemplateBudget>;
}

/** The date `strftime_now` returns unless a run sets another: renders are reproducible across days. */
export const FROZEN_DATE = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));

/** Alpaca (Stanford) prompt format, as a chat template so it renders with the same machinery. */
export const ALPACA_TEMPLATE = PRESET_SOURCES.alpaca;

/** Meta's Llama 2 chat format (`[INST]`, `<<SYS>>`), for tokenizers that ship without a template (Llama 2 base). */
export const LLAMA2_CHAT_TEMPLATE = `{%- if messages[0]['role'] == 'system' -%}
{%- set system = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' -%}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{%- set system = '' -%}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
{%- endif -%}
{%- if message['role'] == 'user' -%}
{{ bos_token + '[INST] ' + (system if loop.first else '') + message['content'] | trim + ' [/INST]' }}
{%- else -%}
{{ ' ' + message['content'] | trim + ' ' + eos_token }}
{%- endif -%}
{%- endfor -%}`;


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function tryParse(source: string): string | null {
  try {
    new Template(source);
    return null;
  } catch (error) {
    return messageOf(error);
  }
}

/** The smallest `end` in [lo, hi] for which `fails(end)` holds, assuming it holds for every end past some point (true
 * of the parser: once a prefix fails with a message, longer prefixes fail the same way). O(log n) parses. */
function firstFailing(lo: number, hi: number, fails: (end: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The line/column where a failing template first fails the same way: the end of the smallest failing prefix.
 * For an unclosed block that is the block's opening tag; for a bad character, the character itself. Binary search
 * over line ends, then over the columns of that line: O(n log n), not a parse of every prefix. */
function locate(source: string, message: string): { line: number; column: number } {
  const lines = source.split('\n');
  const ends: number[] = [];
  let offset = 0;
  for (const lineText of lines) {
    ends.push(offset + lineText.length);
    offset += lineText.length + 1;
  }
  const failsAt = (end: number) => tryParse(source.slice(0, end)) === message;
  const l = firstFailing(0, lines.length - 1, (k) => failsAt(ends[k] ?? source.length));
  const lineText = lines[l] ?? '';
  const start = (ends[l] ?? 0) - lineText.length;
  if (!failsAt(start + lineText.length)) return { line: lines.length, column: Math.max(1, (lines[lines.length - 1] ?? '').length) };
  const c = firstFailing(1, Math.max(1, lineText.length), (col) => failsAt(start + col));
  return { line: l + 1, column: c };
}

const BLOCK_TAG = /\{%-?\s*(end)?(if|for|macro|call|filter|generation|set)\b([^%]*)-?%\}/g;

/** The innermost block tag that is never closed, found by matching `{% x %}` with `{% endx %}` tags. */
function unclosedBlock(source: string): { tag: string; line: number; column: number } | null {
  const stack: { tag: string; index: number }[] = [];
  for (const match of source.matchAll(BLOCK_TAG)) {
    const [, end, tag = '', rest = ''] = match;
    if (tag === 'set' && rest.includes('=')) continue; // `{% set x = … %}` has no end tag
    if (end) {
      if (stack[stack.length - 1]?.tag === tag) stack.pop();
    } else {
      stack.push({ tag, index: match.index });
    }
  }
  const open = stack[stack.length - 1];
  if (!open) return null;
  const before = source.slice(0, open.index).split('\n');
  return { tag: open.tag, line: before.length, column: (before[before.length - 1] ?? '').length + 1 };
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

export function compileTemplate(source: string): CompiledTemplate | { error: TemplateError } {
  if (source.length > MAX_TEMPLATE_CHARS) {
    return { error: { message: `The template is ${source.length} characters long; the limit is ${MAX_TEMPLATE_CHARS}. Shorten it.`, line: 1, column: 1 } };
  }
  try {
    return { source, template: new Template(source) };
  } catch (error) {
    if (isStackOverflow(error)) {
      return { error: { message: 'The template nests expressions or blocks too deeply to parse; flatten it.', line: 1, column: 1 } };
    }
    const message = messageOf(error);
    const open = unclosedBlock(source);
    // The parser reports an unclosed block as a bare TypeError at the end of input; say what is missing instead.
    if (open && (/reading '\w+'/.test(message) || /end of input/i.test(message))) {
      return { error: { message: `{% ${open.tag} %} is never closed: add {% end${open.tag} %}.`, line: open.line, column: open.column } };
    }
    const at = locate(source, message);
    // The parser's own errors name the token it expected; a TypeError from inside it means it ran off the end of a
    // tag or expression it did not finish.
    const readable = error instanceof TypeError ? 'A tag or expression here is unfinished or malformed (check its closing }} or %} and its brackets).' : message;
    return { error: { message: readable, ...at } };
  }
}

/** A template that does not parse; `line`/`column` point where, as compileTemplate reports. */
export class TemplateCompileError extends Error {
  override name = 'TemplateCompileError';
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

/** compileTemplate for code that cannot continue on a bad template (built-ins, tokenizer templates). */
export function mustCompile(source: string, what: string): CompiledTemplate {
  const compiled = compileTemplate(source);
  if ('error' in compiled) {
    const { message, line, column } = compiled.error;
    throw new TemplateCompileError(`${what} does not parse (line ${line}, column ${column}): ${message}`, line, column);
  }
  return compiled;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's strftime for the directives chat templates use, in UTC and the C locale (as a server would). */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return format.replace(/%[YmdbBaAHMSjy%]/g, (directive) => {
    switch (directive) {
      case '%Y': return String(date.getUTCFullYear());
      case '%y': return pad(date.getUTCFullYear() % 100);
      case '%m': return pad(date.getUTCMonth() + 1);
      case '%d': return pad(date.getUTCDate());
      case '%b': return (MONTHS[date.getUTCMonth()] ?? '').slice(0, 3);
      case '%B': return MONTHS[date.getUTCMonth()] ?? '';
      case '%a': return (DAYS[date.getUTCDay()] ?? '').slice(0, 3);
      case '%A': return DAYS[date.getUTCDay()] ?? '';
      case '%H': return pad(date.getUTCHours());
      case '%M': return pad(date.getUTCMinutes());
      case '%S': return pad(date.getUTCSeconds());
      case '%j': {
        const start = Date.UTC(date.getUTCFullYear(), 0, 1);
        return pad(Math.floor((date.getTime() - start) / 86_400_000) + 1, 3);
      }
      default: return '%';
    }
  });
}

const globalScopes = new WeakMap<CompiledTemplate, Map<number, Environment>>();

function globalScope(compiled: CompiledTemplate, date: Date): Environment {
  let byDate = globalScopes.get(compiled);
  if (!byDate) {
    byDate = new Map();
    globalScopes.set(compiled, byDate);
  }
  let env = byDate.get(date.getTime());
  if (!env) {
    env = new Environment();
    const globals: Record<string, unknown> = {
      true: true, false: false, none: null, True: true, False: false, None: null,
      strftime_now: (format: unknown) => strftime(date, String(format)),
      raise_exception: (message: unknown) => {
        throw new TemplateRenderError(`The chat template refused this conversation: ${String(message)}`);
      },
    };
    for (const [name, value] of Object.entries(globals)) env.set(name, value);
    if (byDate.size >= 8) byDate.clear();
    byDate.set(date.getTime(), env);
  }
  return env;
}


/** Characters of message text in a conversation: the output budget always leaves room for twice that. */
function conversationChars(messages: readonly Message[]): number {
  let total = 0;
  for (const m of messages) total += typeof m.content === 'string' ? m.content.length : 0;
  return total;
}

/** Renders `messages` with the variables transformers passes: messages, add_generation_prompt, bos/eos tokens and
 * the caller's kwargs. The globals are set here rather than by Template.render so that `strftime_now` reports the
 * frozen date and `raise_exception` says which template refused the conversation. */
export function renderChat(compiled: CompiledTemplate, messages: readonly Message[], opts: RenderOptions = {}): string {
  const budget: TemplateBudget = { ...DEFAULT_TEMPLATE_BUDGET, ...opts.budget };
  budget.maxOutputChars = Math.max(budget.maxOutputChars, 2 * conversationChars(messages) + 65_536);
  const deadline = performance.now() + budget.timeMs;
  const context: Record<string, unknown> = {
    ...opts.kwargs,
    range: makeRange(budget.maxRange),
    messages,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
    bos_token: opts.bosToken ?? '',
    eos_token: opts.eosToken ?? '',
  };
  try {
    const env = new Environment(globalScope(compiled, opts.date ?? FROZEN_DATE));
    for (const [name, value] of Object.entries(context)) env.set(name, value);
    const result = budgetedInterpreter(env, budget, deadline).run(compiled.template.parsed);
    return String(result.value);
  } catch (error) {
    if (error instanceof TemplateRenderError) throw error;
    if (isStackOverflow(error)) throw budgetError('nests too deeply to render');
    if (error instanceof RangeError && /Invalid (string|array) length/.test(error.message)) throw budgetError('builds a string or list longer than JavaScript allows');
    throw new TemplateRenderError(`The chat template failed while rendering: ${engineMessage(error)}`);
  }
}

/** The interpreter's name for a kind of value (`UndefinedValue`, `IntegerValue`) as a user would say it. */
function valueKind(kind: string): string {
  const name = kind.replace(/Value$/, '');
  if (name === 'Undefined') return 'undefined';
  if (name === 'Null') return 'none';
  const lower = name.toLowerCase();
  return `${/^[aeiou]/.test(lower) ? 'an' : 'a'} ${lower}`;
}

/** The interpreter's own message, or for an engine error inside it (the template reaching into a value it does not
 * have) a sentence that says so instead of "Cannot read properties of undefined". */
function engineMessage(error: unknown): string {
  const message = messageOf(error);
  const notCallable = /Cannot call something that is not a function: got (\w+)/.exec(message);
  if (notCallable) {
    const kind = notCallable[1] ?? '';
    return `it calls something that cannot be called (${kind === 'UndefinedValue' ? 'an undefined name: check the spelling of the function or macro' : valueKind(kind)})`;
  }
  const notIterable = /'?(\w+?)(Value)?'? object is not iterable/.exec(message);
  if (notIterable) return `it loops over or unpacks something that is not a list (${valueKind(notIterable[1] ?? '')})`;
  if (!(error instanceof TypeError)) return message.replace(/\b(\w+)Value\b/g, (_, kind: string) => valueKind(kind));
  const read = /Cannot read properties of (undefined|null) \(reading '([^']*)'\)/.exec(message);
  if (read) return `it reads "${read[2]}" from a value that is ${read[1] === 'null' ? 'none' : 'undefined'}; check the variable names and guard with "is defined"`;
  return `it uses a value in a way the template engine does not support (${message.replace(/[^\w\s'".,:()-]/g, '').slice(0, 120)})`;
}
