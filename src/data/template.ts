// Chat templates rendered like transformers' apply_chat_template: @huggingface/jinja (trim_blocks, lstrip_blocks,
// `{% generation %}` stripped), a frozen `strftime_now`, a `raise_exception` with a readable message, template
// kwargs such as `enable_thinking`. Also the built-in Alpaca and Llama 2 templates, and compile errors with a
// line/column for the user-editable template.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import type { Message } from './types.ts';

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
}

/** The date `strftime_now` returns unless a run sets another: renders are reproducible across days. */
export const FROZEN_DATE = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));

/** Alpaca (Stanford) prompt format, as a chat template so it renders with the same machinery. */
export const ALPACA_TEMPLATE = `{%- if messages[0]['role'] == 'system' -%}
{{ messages[0]['content'] + '\\n\\n' }}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{{ 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n' }}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if message['role'] == 'user' -%}
{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}
{%- elif message['role'] == 'assistant' -%}
{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}
{%- else -%}
{{ raise_exception('Alpaca has only system, user and assistant turns, got ' + message['role']) }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '### Response:\\n' }}
{%- endif -%}`;

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

export const BUILTIN_TEMPLATES = { alpaca: ALPACA_TEMPLATE, 'llama2-chat': LLAMA2_CHAT_TEMPLATE } as const;
export type BuiltinTemplate = keyof typeof BUILTIN_TEMPLATES;

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

/** The line/column where a failing template first fails the same way: the end of the smallest failing prefix.
 * For an unclosed block that is the block's opening tag; for a bad character, the character itself. */
function locate(source: string, message: string): { line: number; column: number } {
  const lines = source.split('\n');
  let offset = 0;
  for (let l = 0; l < lines.length; l++) {
    const lineText = lines[l] ?? '';
    const end = offset + lineText.length;
    if (tryParse(source.slice(0, end)) === message) {
      for (let c = 1; c <= lineText.length; c++) {
        if (tryParse(source.slice(0, offset + c)) === message) return { line: l + 1, column: c };
      }
      return { line: l + 1, column: Math.max(1, lineText.length) };
    }
    offset = end + 1;
  }
  return { line: lines.length, column: Math.max(1, (lines[lines.length - 1] ?? '').length) };
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

export function compileTemplate(source: string): CompiledTemplate | { error: TemplateError } {
  try {
    return { source, template: new Template(source) };
  } catch (error) {
    const message = messageOf(error);
    const open = unclosedBlock(source);
    // The parser reports an unclosed block as a bare TypeError at the end of input; say what is missing instead.
    if (open && (/reading '\w+'/.test(message) || /end of input/i.test(message))) {
      return { error: { message: `{% ${open.tag} %} is never closed: add {% end${open.tag} %}.`, line: open.line, column: open.column } };
    }
    return { error: { message, ...locate(source, message) } };
  }
}

/** compileTemplate for code that cannot continue on a bad template (built-ins, tokenizer templates). */
export function mustCompile(source: string, what: string): CompiledTemplate {
  const compiled = compileTemplate(source);
  if ('error' in compiled) {
    const { message, line, column } = compiled.error;
    throw new Error(`${what} does not parse (line ${line}, column ${column}): ${message}`);
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

export class TemplateRenderError extends Error {
  override name = 'TemplateRenderError';
}

/** Python's range(), for templates that loop over indices. */
function range(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new TemplateRenderError('range() step must not be zero');
  const out: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i);
  return out;
}

/** Globals (true/false/none, range, the frozen `strftime_now`, `raise_exception`) live in a parent scope built once
 * per template and date; each render only adds a child scope with the conversation. */
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
      range,
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

/** Renders `messages` with the variables transformers passes: messages, add_generation_prompt, bos/eos tokens and
 * the caller's kwargs. The globals are set here rather than by Template.render so that `strftime_now` reports the
 * frozen date and `raise_exception` says which template refused the conversation. */
export function renderChat(compiled: CompiledTemplate, messages: readonly Message[], opts: RenderOptions = {}): string {
  const context: Record<string, unknown> = {
    ...opts.kwargs,
    messages,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
    bos_token: opts.bosToken ?? '',
    eos_token: opts.eosToken ?? '',
  };
  try {
    const env = new Environment(globalScope(compiled, opts.date ?? FROZEN_DATE));
    for (const [name, value] of Object.entries(context)) env.set(name, value);
    const result = new Interpreter(env).run(compiled.template.parsed);
    return String(result.value);
  } catch (error) {
    if (error instanceof TemplateRenderError) throw error;
    throw new TemplateRenderError(`The chat template failed while rendering: ${messageOf(error)}`);
  }
}
