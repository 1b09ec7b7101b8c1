// PEFT's string target_modules: a Python regular expression that must match a whole module path (re.fullmatch).
// Adapter configs come from strangers, so the pattern is never handed to the JS RegExp engine (a backtracking engine:
// "(.*)*%" never returns on a long name, a large pattern throws "regular expression too large"). It is parsed here
// into the subset such configs use — literals, ".", classes, \d \w \s, groups, "|", * + ? {m,n}, ^ $ — and run as a
// Thompson automaton, whose work is linear in the name for a given pattern; state sets are cached as a small lazy
// DFA, since the same pattern runs over every module of the model. Anything outside the subset (backreferences,
// lookaround, inline flags, \b) is refused with a message, never approximated.

/** A pattern that cannot be used; `offset` is the code point where the problem is. */
export class ModulePatternError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'ModulePatternError';
  }
}

/** Longest pattern accepted (published configs use a few dozen characters). */
const MAX_PATTERN_LENGTH = 1000;
/** Most automaton states after {m,n} expansion. */
const MAX_STATES = 4000;
/** Deepest group nesting. */
const MAX_DEPTH = 50;
/** Largest m or n in {m,n}. */
const MAX_REPEAT = 1000;
/** Cached DFA states before the cache is dropped and rebuilt (bounds memory; matching stays correct). */
const MAX_DFA_STATES = 2000;
/** Automaton steps one pattern may spend over all the names it is matched against (bounds time). */
const MAX_WORK = 20_000_000;

type Test = (cp: number) => boolean;
type Node =
  | { t: 'char'; test: Test }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; options: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'assert'; end: boolean };

// Python's \d, \w and \s on str patterns are Unicode-aware; these fixed expressions (not built from data) match them.
const DIGIT = /^\p{Nd}$/u;
const WORD = /^[\p{L}\p{N}_]$/u;
const SPACE = /^\s$/u;
const charOf = (cp: number) => String.fromCodePoint(cp);
const CLASSES: Readonly<Record<string, Test>> = {
  d: (cp) => DIGIT.test(charOf(cp)),
  D: (cp) => !DIGIT.test(charOf(cp)),
  w: (cp) => WORD.test(charOf(cp)),
  W: (cp) => !WORD.test(charOf(cp)),
  s: (cp) => SPACE.test(charOf(cp)),
  S: (cp) => !SPACE.test(charOf(cp)),
};
const CONTROL: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, f: 12, v: 11 };
const isAsciiAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);

class Parser {
  private at = 0;
  constructor(private readonly cps: readonly string[]) {}

  fail(what: string, at = this.at): never {
    throw new ModulePatternError(`${what} at character ${at + 1}`, at);
  }

  parse(): Node {
    const node = this.alt(0);
    if (this.at < this.cps.length) this.fail('unbalanced ")"');
    return node;
  }

  private peek(): string | undefined {
    return this.cps[this.at];
  }

  private alt(depth: number): Node {
    const options = [this.seq(depth)];
    while (this.peek() === '|') {
      this.at++;
      options.push(this.seq(depth));
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private seq(depth: number): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      items.push(this.quantified(this.atom(depth)));
    }
    return { t: 'seq', items };
  }

  private atom(depth: number): Node {
    const start = this.at;
    const c = this.cps[this.at++]!;
    switch (c) {
      case '(': {
        if (depth >= MAX_DEPTH) this.fail(`groups nested deeper than ${MAX_DEPTH}`, start);
        if (this.peek() === '?') {
          const next = this.cps[this.at + 1];
          if (next === ':') this.at += 2;
          else if (next === 'P' && this.cps[this.at + 2] === '<') {
            this.at += 3;
            while (this.peek() !== undefined && this.peek() !== '>') {
              if (!/^\w$/.test(this.peek()!)) this.fail('a group name may use letters, digits and "_" only');
              this.at++;
            }
            if (this.peek() !== '>') this.fail('unterminated group name', start);
            this.at++;
          } else this.fail(`"(?${next ?? ''}" (lookaround, inline flags, conditionals) is not supported`, start);
        }
        const inner = this.alt(depth + 1);
        if (this.peek() !== ')') this.fail('missing ")"', start);
        this.at++;
        return inner;
      }
      case '[':
        return { t: 'char', test: this.charClass(start) };
      case '.':
        return { t: 'char', test: (cp) => cp !== 10 };
      case '^':
        return { t: 'assert', end: false };
      case '$':
        return { t: 'assert', end: true };
      case '\\':
        return this.escape(start, false);
      case '*': case '+': case '?':
        return this.fail(`nothing to repeat before "${c}"`, start);
      default:
        if (c === '{' && this.repeatAt(start) !== null) this.fail('nothing to repeat before "{"', start);
        return { t: 'char', test: literal(c.codePointAt(0)!) };
    }
  }

  /** The escape after a backslash: a class (\d …), a control character or an escaped literal. */
  private escape(start: number, inClass: boolean): Node & { t: 'char' | 'assert' } {
    const e = this.cps[this.at++];
    if (e === undefined) this.fail('the pattern ends with a lone "\\"', start);
    const cls = Object.hasOwn(CLASSES, e) ? CLASSES[e] : undefined;
    if (cls) return { t: 'char', test: cls };
    if (Object.hasOwn(CONTROL, e)) return { t: 'char', test: literal(CONTROL[e]!) };
    if (!inClass && (e === 'A' || e === 'Z')) return { t: 'assert', end: e === 'Z' };
    if (!isAsciiAlnum(e)) return { t: 'char', test: literal(e.codePointAt(0)!) };
    return this.fail(`"\\${e}" (backreferences, word boundaries, code escapes) is not supported`, start);
  }

  private charClass(start: number): Test {
    const negate = this.peek() === '^';
    if (negate) this.at++;
    const tests: Test[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('missing "]"', start);
      if (c === ']' && !first) break;
      first = false;
      const itemStart = this.at;
      this.at++;
      let lo: number | null;
      if (c === '\\') {
        const esc = this.escape(itemStart, true);
        if (esc.t !== 'char') this.fail('an anchor cannot be part of a class', itemStart);
        // A class escape (\d) is a set; anything else is one character that may start a range.
        const e = this.cps[itemStart + 1]!;
        if (Object.hasOwn(CLASSES, e)) {
          tests.push(esc.test);
          continue;
        }
        lo = Object.hasOwn(CONTROL, e) ? CONTROL[e]! : e.codePointAt(0)!;
      } else lo = c.codePointAt(0)!;
      if (this.peek() === '-' && this.cps[this.at + 1] !== undefined && this.cps[this.at + 1] !== ']') {
        this.at++;
        const hiStart = this.at;
        const h = this.cps[this.at++]!;
        let hi: number;
        if (h === '\\') {
          const e = this.cps[this.at++];
          if (e === undefined || Object.hasOwn(CLASSES, e) || isAsciiAlnum(e) && !Object.hasOwn(CONTROL, e)) this.fail('bad range end', hiStart);
          hi = Object.hasOwn(CONTROL, e) ? CONTROL[e]! : e.codePointAt(0)!;
        } else hi = h.codePointAt(0)!;
        if (hi < lo) this.fail('a range whose end comes before its start', itemStart);
        const from = lo;
        tests.push((cp) => cp >= from && cp <= hi);
      } else tests.push(literal(lo));
    }
    this.at++;
    return negate ? (cp) => !tests.some((t) => t(cp)) : (cp) => tests.some((t) => t(cp));
  }

  /** {m}, {m,}, {,n} or {m,n} at `at` as [min, max, length], or null when the brace is a literal (as in Python). */
  private repeatAt(at: number): [number, number, number] | null {
    let end = at + 1;
    while (end < this.cps.length && end - at < 12 && this.cps[end] !== '}') end++;
    const body = this.cps.slice(at + 1, end).join('');
    if (this.cps[end] !== '}') return null;
    const m = /^(\d*)(,(\d*))?$/.exec(body);
    if (!m || (m[1] === '' && m[2] === undefined)) return null;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`a repeat count above ${MAX_REPEAT}`, at);
    if (max < min) this.fail('a repeat {m,n} with n < m', at);
    return [min, max, end + 1 - at];
  }

  private quantified(node: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      this.at++;
    } else if (c === '{') {
      const r = this.repeatAt(this.at);
      if (!r) return node;
      [min, max] = r;
      this.at += r[2];
    } else return node;
    if (node.t === 'assert') this.fail('nothing to repeat (an anchor)');
    // A lazy quantifier matches the same strings under fullmatch; a possessive one does not, so it is refused.
    if (this.peek() === '?') this.at++;
    else if (this.peek() === '+') this.fail('possessive quantifiers are not supported');
    const after = this.peek();
    if (after === '*' || after === '+' || after === '?' || (after === '{' && this.repeatAt(this.at) !== null)) this.fail('multiple repeat');
    return { t: 'rep', node, min, max };
  }
}

function literal(code: number): Test {
  return (cp) => cp === code;
}

/** Automaton states: a character test, an epsilon fork, an anchor, or the match. */
type State =
  | { k: 'char'; test: Test; out: number }
  | { k: 'split'; a: number; b: number }
  | { k: 'assert'; end: boolean; out: number }
  | { k: 'match' };

class Compiler {
  readonly states: State[] = [{ k: 'match' }];

  private add(s: State): number {
    if (this.states.length >= MAX_STATES) throw new ModulePatternError(`the pattern expands to more than ${MAX_STATES} states; write it shorter`, 0);
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Compiles `node` so that it continues at state `next`; returns its entry state. */
  build(node: Node, next: number): number {
    switch (node.t) {
      case 'char':
        return this.add({ k: 'char', test: node.test, out: next });
      case 'assert':
        return this.add({ k: 'assert', end: node.end, out: next });
      case 'seq':
        return node.items.reduceRight((out, item) => this.build(item, out), next);
      case 'alt':
        return node.options.map((o) => this.build(o, next)).reduceRight((b, a) => this.add({ k: 'split', a, b }));
      case 'rep': {
        let entry = next;
        if (node.max === Infinity) {
          const loop = this.add({ k: 'split', a: -1, b: next });
          (this.states[loop] as { a: number }).a = this.build(node.node, loop);
          entry = loop;
        } else {
          for (let i = node.min; i < node.max; i++) entry = this.add({ k: 'split', a: this.build(node.node, entry), b: next });
        }
        for (let i = 0; i < node.min; i++) entry = this.build(node.node, entry);
        return entry;
      }
    }
  }
}

interface DfaState {
  readonly states: readonly number[];
  readonly next: Map<number, DfaState>;
  accepting?: boolean;
}

/** A compiled target_modules pattern; `matches(name)` is Python's `re.fullmatch(pattern, name) is not None`. */
export class ModulePattern {
  private readonly states: State[];
  private readonly entry: number;
  private cache = new Map<string, DfaState>();
  private work = 0;

  constructor(readonly source: string) {
    const cps = Array.from(source);
    if (cps.length > MAX_PATTERN_LENGTH) throw new ModulePatternError(`the pattern is ${cps.length} characters long; at most ${MAX_PATTERN_LENGTH} are accepted`, MAX_PATTERN_LENGTH);
    const compiler = new Compiler();
    this.entry = compiler.build(new Parser(cps).parse(), 0);
    this.states = compiler.states;
  }

  /** The epsilon closure of `from`; "^" passes only at the start, "$" states are kept for the final check. */
  private closure(from: readonly number[], atStart: boolean, atEnd: boolean): number[] {
    const seen = new Set<number>();
    const stack = [...from];
    const out: number[] = [];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      this.work++;
      const s = this.states[id]!;
      if (s.k === 'split') stack.push(s.b, s.a);
      else if (s.k === 'assert') {
        if (s.end ? atEnd : atStart) stack.push(s.out);
        else if (s.end) out.push(id);
      } else out.push(id);
    }
    if (this.work > MAX_WORK) throw new ModulePatternError('the pattern is too complex to match against every module; write it more simply', 0);
    return out.sort((a, b) => a - b);
  }

  private dfa(states: number[]): DfaState {
    const key = states.join(',');
    let d = this.cache.get(key);
    if (!d) {
      if (this.cache.size >= MAX_DFA_STATES) this.cache = new Map();
      d = { states, next: new Map() };
      this.cache.set(key, d);
    }
    return d;
  }

  matches(name: string): boolean {
    const cps = Array.from(name);
    let cur = this.dfa(this.closure([this.entry], true, cps.length === 0));
    if (cps.length === 0) return cur.states.some((id) => this.states[id]!.k === 'match');
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i]!.codePointAt(0)!;
      let nxt = cur.next.get(cp);
      if (!nxt) {
        const moved: number[] = [];
        this.work += cur.states.length;
        for (const id of cur.states) {
          const s = this.states[id]!;
          if (s.k === 'char' && s.test(cp)) moved.push(s.out);
        }
        nxt = this.dfa(this.closure(moved, false, false));
        cur.next.set(cp, nxt);
      }
      cur = nxt;
      if (cur.states.length === 0) return false;
    }
    if (cur.accepting === undefined) {
      // At the end of the name, pending "$" anchors pass.
      cur.accepting = this.closure(cur.states, false, true).some((id) => this.states[id]!.k === 'match');
    }
    return cur.accepting;
  }
}
