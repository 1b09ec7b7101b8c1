// A fixed-seed slice of `npm run fuzz`: every target in fuzz/targets, a few hundred inputs each, through the same
// child-process runner (time and memory bounds), must give no crash, hang or blow-up. The full run (≥ 10,000 inputs
// per target) is `npm run fuzz`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/runner.ts';

const dir = fileURLToPath(new URL('../../fuzz/targets/', import.meta.url));
const targets = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const INPUTS = 200;

describe('fuzz slice (seed 7)', () => {
  it.each(targets)('%s: no crash, hang or blow-up', async (file) => {
    const tally = await fuzzTarget(`${dir}${file}`, { inputs: INPUTS, seed: 7 });
    expect(tally.inputs).toBe(INPUTS);
    expect(tally.findings).toEqual([]);
    expect(tally.crashes + tally.hangs + tally.blowups).toBe(0);
    // The unmutated seeds come first and must be accepted.
    expect(tally.parsed).toBeGreaterThan(0);
  });
});
