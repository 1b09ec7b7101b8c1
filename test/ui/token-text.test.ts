// The token details pane spells a token out so a class can see exactly what it is: whitespace as signs, and the
// UTF-8 bytes behind the text (a byte-level BPE piece of "é" or "▁" is not what it looks like).
import { describe, expect, it } from 'vitest';
import { spelledOut, utf8Hex } from '../../src/ui/tokens';

describe('spelledOut', () => {
  it('shows every space, newline, tab and carriage return as a sign', () => {
    expect(spelledOut(' the')).toBe('␣the');
    expect(spelledOut('\n\n')).toBe('↵↵');
    expect(spelledOut('a\tb\r\n')).toBe('a→b␍↵');
    expect(spelledOut('<|im_end|>')).toBe('<|im_end|>');
  });
});

describe('utf8Hex', () => {
  it('lists the UTF-8 bytes as hex pairs', () => {
    expect(utf8Hex(' a')).toBe('20 61');
    expect(utf8Hex('é')).toBe('c3 a9');
    expect(utf8Hex('▁')).toBe('e2 96 81');
    expect(utf8Hex('')).toBe('');
  });
});
