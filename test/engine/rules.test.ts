// Float64 central-difference gradient checks for every case in rule-cases.ts, run on ORT's CPU EP.
// The last test proves the table has no rule without a check.
import { describe, expect, it } from 'vitest';
import { GRAD_TABLE, opKey } from '../../src/engine/rules/index.ts';
import { gradCheck } from './gradcheck.ts';
import { RULE_CASES as cases } from './rule-cases.ts';

describe('gradient rules: float64 central differences on ORT CPU', () => {
  for (const c of cases) {
    it(`${c.op}${c.title ? ` (${c.title})` : ''}`, async () => {
      const { graph, checked } = await gradCheck(c);
      expect(graph.nodes.some((n) => opKey(n) === c.op), `the case builds a ${c.op} node`).toBe(true);
      expect(checked).toBeGreaterThan(0);
    });
  }

  it('every rule in the table has a gradient check above', () => {
    const withRule = Object.entries(GRAD_TABLE).filter(([, e]) => e.rule).map(([k]) => k);
    const covered = new Set(cases.map((c) => c.op));
    expect(withRule.filter((k) => !covered.has(k))).toEqual([]);
  });
});
