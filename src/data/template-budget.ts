// The budgets a chat-template render runs under, enforced inside @huggingface/jinja's interpreter: evaluation steps,
// loop iterations, range length, list and string sizes, nesting depth and wall-clock time. Builtins that size their
// output from an argument (indent, tojson's indent, replace, join, split, |list) are checked before they allocate, and
// Python's range() is rebuilt to take whole numbers and count its length first. template.ts renders through this.
import { Environment, Interpreter } from '@huggingface/jinja';
export class TemplateRenderError extends Error {
  override name = 'TemplateRenderError';
}

/** Limits on one render. A template that exceeds one gets a TemplateRenderError naming the limit. */
export interface TemplateBudget {
  /** Expression/statement evaluations in all (bounds work that no other limit sees). */
  maxSteps: number;
  /** Iterations of all `{% for %}` loops together. */
  maxLoopIterations: number;
  /** Longest list `range()` may build. */
  maxRange: number;
  /** Longest list any expression may build. */
  maxItems: number;
  /** Longest string any expression may build, and the longest output; at least twice the conversation's text. */
  maxOutputChars: number;
  /** Deepest nesting of evaluation (expressions in expressions, macro calls in macro calls). */
  maxDepth: number;
  /** Wall-clock time for one render, ms. */
  timeMs: number;
}

export const DEFAULT_TEMPLATE_BUDGET: TemplateBudget = {
  maxSteps: 2_000_000,
  maxLoopIterations: 100_000,
  maxRange: 100_000,
  maxItems: 100_000,
  maxOutputChars: 4_000_000,
  maxDepth: 400,
  timeMs: 1000,
};

export function budgetError(what: string): TemplateRenderError {
  return new TemplateRenderError(`The chat template ${what}. Templates are limited so that a mistake cannot freeze the page; simplify the template.`);
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Python's range(), for templates that loop over indices: whole numbers only, at most `maxRange` items, counted
 * before anything is allocated. */
export function makeRange(maxRange: number) {
  return (...args: unknown[]): number[] => {
    const numbers = args.filter((a) => !(typeof a === 'object' && a !== null));
    if (numbers.length < 1 || numbers.length > 3) throw new TemplateRenderError(`range() takes 1 to 3 whole numbers, got ${numbers.length} arguments`);
    for (const a of numbers) {
      if (!isWholeNumber(a)) throw new TemplateRenderError(`range() takes whole numbers, got ${typeof a === 'number' ? String(a) : typeof a}`);
    }
    const [a, b, c] = numbers as number[];
    const [from, to, step] = b === undefined ? [0, a ?? 0, 1] : [a ?? 0, b, c ?? 1];
    if (step === 0) throw new TemplateRenderError('range() step must not be zero');
    const count = Math.max(0, Math.ceil((to - from) / step));
    if (count > maxRange) throw budgetError(`asks for range() of ${count} numbers (limit ${maxRange})`);
    return Array.from({ length: count }, (_, i) => from + i * step);
  };
}

/** Globals (true/false/none, range, the frozen `strftime_now`, `raise_exception`) live in a parent scope built once
 * per template and date; each render only adds a child scope with the conversation. */

/** The parts of @huggingface/jinja's AST and runtime values the budgets look at (the package does not export them). */
interface Node {
  type: string;
  body?: Node[];
  callee?: Node;
  property?: Node;
  object?: Node;
  value?: unknown;
  args?: Node[];
  filter?: Node;
}
interface Value {
  type: string;
  value: unknown;
}
type Evaluate = (node: Node | undefined, env: Environment) => Value;
type EvaluateBlock = (statements: Node[], env: Environment) => Value;
type ApplyFilter = (operand: Value, filter: Node, env: Environment) => Value;
type EvaluateArguments = (args: Node[], env: Environment) => [Value[], Map<string, Value>];
interface Hooks {
  evaluate: Evaluate;
  evaluateBlock: EvaluateBlock;
  applyFilter: ApplyFilter;
  evaluateArguments: EvaluateArguments;
}

/** Characters a value would print as, counted up to `limit` (strings, list and dict contents, numbers); stops early. */
function printedSize(value: Value, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop() as Value | undefined;
    if (!v || typeof v !== 'object') continue;
    if (typeof v.value === 'string') total += v.value.length + 2;
    else if (Array.isArray(v.value)) {
      total += 2 + v.value.length * 2;
      for (const item of v.value) stack.push(item);
    } else if (v.value instanceof Map) {
      total += 2 + v.value.size * 4;
      for (const [key, item] of v.value) {
        total += String(key).length;
        stack.push(item);
      }
    } else total += 24;
  }
  return total;
}

function numberArg(value: Value | undefined): number | null {
  return value && (value.type === 'IntegerValue' || value.type === 'FloatValue') && typeof value.value === 'number' ? value.value : null;
}

/** An Interpreter whose evaluation path enforces `budget`. The hooks replace instance methods, which the interpreter
 * calls through `this` for every node, so no evaluation bypasses them. */
export function budgetedInterpreter(env: Environment, budget: TemplateBudget, deadline: number): Interpreter {
  const interpreter = new Interpreter(env);
  const hooks = interpreter as unknown as Hooks;
  const base: Hooks = {
    evaluate: hooks.evaluate.bind(interpreter),
    evaluateBlock: hooks.evaluateBlock.bind(interpreter),
    applyFilter: hooks.applyFilter.bind(interpreter),
    evaluateArguments: hooks.evaluateArguments.bind(interpreter),
  };
  let steps = 0;
  let depth = 0;
  let iterations = 0;
  const loopBodies = new WeakSet<Node[]>();

  const checkSize = (result: Value): Value => {
    if (typeof result.value === 'string' && result.value.length > budget.maxOutputChars) {
      throw budgetError(`builds a string of ${result.value.length} characters (limit ${budget.maxOutputChars})`);
    }
    if (Array.isArray(result.value) && result.value.length > budget.maxItems) {
      throw budgetError(`builds a list of ${result.value.length} items (limit ${budget.maxItems})`);
    }
    return result;
  };
  const checkOutput = (chars: number, what: string) => {
    if (chars > budget.maxOutputChars) throw budgetError(`would build ${what} of about ${chars} characters (limit ${budget.maxOutputChars})`);
  };

  hooks.evaluate = (node, scope) => {
    if (++steps > budget.maxSteps) throw budgetError(`takes more than ${budget.maxSteps} evaluation steps`);
    if ((steps & 1023) === 0 && performance.now() > deadline) throw budgetError(`took longer than ${budget.timeMs} ms to render one conversation`);
    if (depth >= budget.maxDepth) throw budgetError(`nests expressions or macro calls more than ${budget.maxDepth} deep`);
    if (node?.type === 'For' && node.body) loopBodies.add(node.body);
    if (node?.type === 'CallExpression') precheckCall(node, scope);
    depth++;
    try {
      return checkSize(base.evaluate(node, scope));
    } finally {
      depth--;
    }
  };

  // `{{ a }}{{ b }}` concatenates the printed form of each statement: count it before printing.
  let StringValue: (new (value: string) => Value) | null = null;
  hooks.evaluateBlock = (statements, scope) => {
    if (loopBodies.has(statements) && ++iterations > budget.maxLoopIterations) {
      throw budgetError(`runs more than ${budget.maxLoopIterations} loop iterations`);
    }
    StringValue ??= (base.evaluate({ type: 'StringLiteral', value: '' }, scope) as object).constructor as new (value: string) => Value;
    let out = '';
    for (const statement of statements) {
      const value = hooks.evaluate(statement, scope);
      if (value.type === 'NullValue' || value.type === 'UndefinedValue') continue;
      checkOutput(out.length + printedSize(value, budget.maxOutputChars + 1), 'output');
      out += String(value);
    }
    return new StringValue(out);
  };

  const precheckCall = (node: Node, scope: Environment) => {
    // `s.replace(old, new)` grows s by (occurrences × growth): count before the builtin allocates.
    // `s.split(sep)` makes a list of (occurrences + 1) strings: count before splitting.
    const callee = node.callee;
    const method = callee?.type === 'MemberExpression' && callee.property?.type === 'Identifier' ? callee.property.value : null;
    if (method !== 'replace' && method !== 'split') return;
    const subject = hooks.evaluate(callee?.object, scope);
    if (typeof subject.value !== 'string') return;
    const [args] = hooks.evaluateArguments(node.args ?? [], scope);
    if (method === 'replace') checkReplace(subject.value, args);
    else checkSplit(subject.value, args[0]?.value);
  };

  const checkSplit = (subject: string, separator: unknown) => {
    if (subject.length < budget.maxItems) return;
    let pieces = 1;
    if (typeof separator === 'string' && separator.length > 0) {
      for (let at = subject.indexOf(separator); at >= 0 && pieces <= budget.maxItems; at = subject.indexOf(separator, at + separator.length)) pieces++;
    } else {
      const runs = subject.match(/\s+/g);
      pieces = (runs?.length ?? 0) + 1;
    }
    if (pieces > budget.maxItems) throw budgetError(`would split a string into more than ${budget.maxItems} pieces`);
  };

  const checkReplace = (subject: string, args: Value[]) => {
    const [from, to] = args;
    if (typeof from?.value !== 'string' || typeof to?.value !== 'string') return;
    const growth = to.value.length - from.value.length;
    if (growth <= 0) return;
    let count = 0;
    if (from.value.length === 0) count = subject.length + 1;
    else for (let at = subject.indexOf(from.value); at >= 0 && count * growth <= budget.maxOutputChars; at = subject.indexOf(from.value, at + from.value.length)) count++;
    checkOutput(subject.length + count * growth, 'a replace() result');
  };

  hooks.applyFilter = (operand, filter, scope) => {
    const name = filter.type === 'CallExpression' ? filter.callee?.value : filter.value;
    const operandSize = printedSize(operand, budget.maxOutputChars + 1);
    if (filter.type === 'CallExpression' && typeof name === 'string') {
      const [args, kwargs] = hooks.evaluateArguments(filter.args ?? [], scope);
      if (name === 'indent' && typeof operand.value === 'string') {
        const width = numberArg(args[0] ?? kwargs.get('width')) ?? 4;
        const lines = operand.value.split('\n').length;
        checkOutput(operand.value.length + Math.max(0, width) * lines, 'an indent() result');
      } else if (name === 'tojson') {
        const indent = numberArg(kwargs.get('indent')) ?? 0;
        if (indent > 64) throw budgetError(`asks tojson for an indent of ${indent} (limit 64)`);
        checkOutput(operandSize * (1 + Math.max(0, indent)), 'a tojson result');
      } else if (name === 'replace' && typeof operand.value === 'string') {
        checkReplace(operand.value, args);
      } else if (name === 'join' && Array.isArray(operand.value)) {
        const separator = typeof args[0]?.value === 'string' ? args[0].value.length : 0;
        checkOutput(operandSize + separator * operand.value.length, 'a join() result');
      }
    } else {
      checkOutput(operandSize, `a "${String(name)}" filter result`);
      if (name === 'list' && typeof operand.value === 'string' && operand.value.length > budget.maxItems) {
        throw budgetError(`would turn a string of ${operand.value.length} characters into a list (limit ${budget.maxItems} items)`);
      }
    }
    return checkSize(base.applyFilter(operand, filter, scope));
  };

  return interpreter;
}
