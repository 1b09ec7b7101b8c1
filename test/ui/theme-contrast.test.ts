// WCAG AA for the colours a lesson depends on, read from the real stylesheet (src/ui/styles.css) in both themes:
// token text 4.5:1 on its background (the loss heat map at its darkest included), chart lines, token edges and the
// naive-mask outline 3:1 against what they are drawn on (non-text contrast, WCAG 1.4.11). Issue 17: masked tokens and
// the raw loss line were nearly invisible in dark mode.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../src/ui/styles.css', import.meta.url), 'utf8');

/** Custom properties of every rule whose selector is exactly `selector` (at any @media depth), later ones winning. */
function variables(selector: string, inMedia: boolean): Map<string, string> {
  const out = new Map<string, string>();
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  const rule = /([^{}]+)\{([^{}]*)\}/g;
  for (let m = rule.exec(text); m; m = rule.exec(text)) {
    if (m[1]?.trim() !== selector) continue;
    const before = text.slice(0, m.index);
    const open = (before.match(/@media[^{]*\{/g) ?? []).length;
    // Inside a @media block when the braces opened before this rule are not yet closed.
    const depth = (before.match(/\{/g) ?? []).length - (before.match(/\}/g) ?? []).length;
    if ((depth > 0) !== inMedia || (inMedia && open === 0)) continue;
    for (const decl of (m[2] ?? '').split(';')) {
      const at = decl.indexOf(':');
      const name = decl.slice(0, at).trim();
      if (name.startsWith('--')) out.set(name, decl.slice(at + 1).trim());
    }
  }
  return out;
}

const light = variables(':root', false);
const darkChosen = variables(":root[data-theme='dark']", false);
const darkSystem = variables(":root:not([data-theme='light'])", true);
const dark = new Map([...light, ...darkChosen]);

type Rgb = [number, number, number];

function hex(value: string | undefined, what: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(value ?? '');
  if (!m?.[1]) throw new Error(`${what} is ${JSON.stringify(value)}, not a #rrggbb colour`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG 2.x relative luminance of an sRGB colour. */
function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `rgb(r g b / alpha)` painted over an opaque background. */
function over(rgb: Rgb, alpha: number, bg: Rgb): Rgb {
  return rgb.map((c, i) => Math.round(alpha * c + (1 - alpha) * (bg[i] ?? 0))) as Rgb;
}

describe('contrast()', () => {
  it('matches the WCAG reference values', () => {
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 5);
    expect(contrast([255, 255, 255], [255, 255, 255])).toBe(1);
    // #767676 on white is the classic 4.54:1 grey, just over AA.
    expect(contrast([0x76, 0x76, 0x76], [255, 255, 255])).toBeCloseTo(4.54, 2);
  });
});

describe('the stylesheet', () => {
  it('defines the same dark colours for the system preference and the explicit dark choice', () => {
    expect(darkSystem.size).toBeGreaterThan(20);
    expect(Object.fromEntries(darkSystem)).toEqual(Object.fromEntries(darkChosen));
  });
});

for (const [theme, vars] of [['light', light], ['dark', dark]] as const) {
  describe(`${theme} theme`, () => {
    const get = (name: string) => hex(vars.get(name), `${theme} ${name}`);
    const panel = get('--panel');

    it('token text reaches 4.5:1 on trained, masked and padding backgrounds', () => {
      expect(contrast(get('--trained-fg'), get('--trained-bg'))).toBeGreaterThanOrEqual(4.5);
      expect(contrast(get('--masked-fg'), get('--masked-bg'))).toBeGreaterThanOrEqual(4.5);
      const stripes = (vars.get('--padding-bg') ?? '').match(/#[0-9a-f]{6}/gi) ?? [];
      expect(stripes.length).toBeGreaterThan(0);
      for (const s of stripes) expect(contrast(get('--padding-fg'), hex(s, 'padding stripe'))).toBeGreaterThanOrEqual(4.5);
    });

    it('masked tokens have an edge of 3:1 against the panel, and the naive-mask outline 3:1 against the tokens', () => {
      expect(contrast(get('--masked-edge'), panel)).toBeGreaterThanOrEqual(3);
      for (const bg of ['--masked-bg', '--trained-bg', '--panel']) expect(contrast(get('--accent-4'), get(bg))).toBeGreaterThanOrEqual(3);
    });

    it('loss heat keeps its text at 4.5:1 from no loss to the largest', () => {
      const rgb = (vars.get('--heat-rgb') ?? '').split(/\s+/).map(Number) as Rgb;
      const floor = Number(vars.get('--heat-floor'));
      const span = Number(vars.get('--heat-span'));
      expect(rgb).toHaveLength(3);
      for (const heat of [0, 0.25, 0.5, 0.75, 1]) {
        expect(contrast(get('--text'), over(rgb, floor + span * heat, panel)), `heat ${heat}`).toBeGreaterThanOrEqual(4.5);
      }
    });

    it('every chart line, raw lines included, reaches 3:1 against the panel; axis text 4.5:1', () => {
      for (const line of ['--line-loss', '--line-loss-raw', '--line-eval', '--line-grad', '--line-grad-raw', '--line-lr']) {
        expect(contrast(get(line), panel), line).toBeGreaterThanOrEqual(3);
      }
      expect(contrast(get('--muted'), panel)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(get('--text'), panel)).toBeGreaterThanOrEqual(4.5);
    });

    it('button labels reach 4.5:1 on the accent, and role names in the data preview on the panel', () => {
      expect(contrast(get('--on-accent'), get('--accent'))).toBeGreaterThanOrEqual(4.5);
      for (const role of ['--ok', '--warn-text']) expect(contrast(get(role), panel), role).toBeGreaterThanOrEqual(4.5);
    });
  });
}
