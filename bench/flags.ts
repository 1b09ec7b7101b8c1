// The benches' command-line flags: `--name value` pairs read with node:util's parseArgs (strict: an unknown flag or a
// flag without a value is an error naming the known ones), and a whole-number reader with a default.
import { parseArgs } from 'node:util';

export interface BenchFlags {
  get(name: string): string | undefined;
  /** A whole number > 0, or `fallback` when the flag is absent. */
  int(name: string, fallback: number): number;
}

export function readFlags(argv: readonly string[], known: readonly string[]): BenchFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: Object.fromEntries(known.map((k) => [k, { type: 'string' as const }])), strict: true }).values;
  } catch (e) {
    throw new Error(`${(e as Error).message}; known flags: ${known.map((x) => `--${x}`).join(' ')}`, { cause: e });
  }
  const get = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    get,
    int(name, fallback) {
      const v = get(name);
      const n = v === undefined ? fallback : Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number > 0, got ${v}`);
      return n;
    },
  };
}
