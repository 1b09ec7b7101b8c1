// ModulePattern: PEFT's string target_modules (re.fullmatch over module paths) without the JS RegExp engine. The
// expected answers are Python's: each row was checked against `re.fullmatch(pattern, name) is not None`.
import { describe, expect, it } from 'vitest';
import { ModulePattern, ModulePatternError } from '../../src/models/module-pattern.ts';

const Q0 = 'model.layers.0.self_attn.q_proj';
const K0 = 'model.layers.0.self_attn.k_proj';
const UP12 = 'model.layers.12.mlp.up_proj';

describe('ModulePattern matches as re.fullmatch does', () => {
  it.each([
    ['.*\\.(q_proj|v_proj)', Q0, true],
    ['.*\\.(q_proj|v_proj)', K0, false],
    ['q_proj', Q0, false],
    ['.*q_proj', Q0, true],
    ['(.*\\.)?(q|k|v|o)_proj', K0, true],
    ['^(model.layers.[0-9]+.self_attn.(q_proj|v_proj))$', Q0, true],
    ['.*\\.layers\\.\\d+\\.self_attn\\.(q_proj|v_proj)', 'model.layers.x.self_attn.q_proj', false],
    ['.*layers\\.(?:[0-3])\\..*(?:q_proj|v_proj)', 'model.layers.2.self_attn.q_proj', true],
    ['.*layers\\.(?:[0-3])\\..*(?:q_proj|v_proj)', 'model.layers.5.self_attn.q_proj', false],
    ['.*\\.(?P<leaf>up|down)_proj', UP12, true],
    ['.*\\.1\\d\\..*', UP12, true],
    ['.*\\.1\\d{2}\\..*', UP12, false],
    ['[^.]+(\\.[^.]+)*', UP12, true],
    ['[\\w.]+_proj', UP12, true],
    ['[a-z.0-9_]*?proj', UP12, true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['a{,2}b', 'b', true],
    ['x{', 'x{', true],
    ['a|', '', true],
    ['', '', true],
    ['\\Amodel.*\\Z', Q0, true],
    ['model$.*', Q0, false],
    ['.*^model.*', Q0, true],
  ])('%s on %s → %s', (pattern, name, expected) => {
    expect(new ModulePattern(pattern).matches(name)).toBe(expected);
  });

  it('patterns that backtrack catastrophically in JS RegExp return at once here', () => {
    const long = `${'a'.repeat(20_000)}!`;
    expect(new ModulePattern('(.*)*%').matches(long)).toBe(false);
    expect(new ModulePattern('(a+)+b').matches(long)).toBe(false);
    expect(new ModulePattern('(a|aa)*c').matches(long)).toBe(false);
  });
});

describe('what ModulePattern refuses', () => {
  it.each([
    ['(?=q)q_proj', /"\(\?=" \(lookaround, inline flags, conditionals\) is not supported at character 1/],
    ['(?i)q_proj', /"\(\?i" .* is not supported/],
    ['(a)\\1', /"\\1" \(backreferences, word boundaries, code escapes\) is not supported at character 4/],
    ['\\bq', /"\\b"/],
    ['a**', /multiple repeat at character 3/],
    ['a++', /possessive quantifiers are not supported/],
    ['(q', /missing "\)" at character 1/],
    ['q)', /unbalanced "\)" at character 2/],
    ['[q', /missing "]" at character 1/],
    ['[z-a]', /a range whose end comes before its start/],
    ['*q', /nothing to repeat before "\*"/],
    ['a{2000}', /a repeat count above 1000/],
    ['(a{999}){999}', /expands to more than 4000 states/],
    [`${'('.repeat(60)}a${')'.repeat(60)}`, /groups nested deeper than 50/],
    ['x'.repeat(1001), /at most 1000 are accepted/],
    ['a\\', /ends with a lone "\\"/],
  ])('%s', (pattern, message) => {
    expect(() => new ModulePattern(pattern)).toThrow(ModulePatternError);
    expect(() => new ModulePattern(pattern)).toThrow(message);
  });
});
