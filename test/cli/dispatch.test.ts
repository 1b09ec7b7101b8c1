// Issue 15: a command name is looked up as an own property, so names of Object.prototype members are unknown
// commands with the usual hint, not a crash inside dispatch.
import { describe, expect, it } from 'vitest';
import { tabtune } from './harness.ts';

describe('command dispatch', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])('tabtune %s is an unknown command', async (name) => {
    const run = await tabtune([name]);
    expect(run.code).toBe(1);
    expect(run.err).toBe(`tabtune: unknown command "${name}". HINT: use one of inspect, step, train, generate, export, lesson.\n`);
  });
});
