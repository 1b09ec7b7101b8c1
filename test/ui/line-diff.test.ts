// The template editor's diff against the model's own template: a line-level LCS edit script.
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../src/ui/template/line-diff';
import { PRESET_SOURCES } from '../../src/share/templates';

describe('lineDiff', () => {
  it('keeps common lines and marks a changed line as removed then added', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { kind: 'same', text: 'a' }, { kind: 'removed', text: 'b' }, { kind: 'added', text: 'B' }, { kind: 'same', text: 'c' }, { kind: 'added', text: 'd' },
    ]);
  });

  it('an unchanged template is all "same"; replaying the script rebuilds both sides', () => {
    const src = PRESET_SOURCES.chatml;
    expect(lineDiff(src, src)?.every((l) => l.kind === 'same')).toBe(true);
    const edited = src.replace("'<|im_end|>' + ", '');
    const script = lineDiff(src, edited) ?? [];
    expect(script.filter((l) => l.kind !== 'added').map((l) => l.text).join('\n')).toBe(src);
    expect(script.filter((l) => l.kind !== 'removed').map((l) => l.text).join('\n')).toBe(edited);
    expect(script.filter((l) => l.kind !== 'same')).toHaveLength(2);
  });

  it('gives up (null) on sources too long to compare', () => {
    const long = 'x\n'.repeat(3000);
    expect(lineDiff(long, `${long}y`)).toBeNull();
  });
});
