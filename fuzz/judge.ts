// How one input ended (fuzz/README.md): parsed, a clean rejection (an instance of one of the target's project error
// classes whose message is not a raw engine message), or a crash.
import type { ErrorClass } from './target.ts';

/** Messages that come from the JavaScript engine or a library's internals, not from a check that names the input's
 * problem. Wrapping one of these in a project error class is still a crash. */
export const RAW_ENGINE_MESSAGE = new RegExp([
  'Maximum call stack size exceeded',
  'Cannot read propert(y|ies) of',
  'Cannot set propert(y|ies) of',
  'Cannot convert undefined or null',
  'Cannot use .in. operator',
  'is not a function',
  'is not iterable',
  'is not a constructor',
  '(undefined|null) is not an object',
  'Invalid typed array length',
  'Invalid array length',
  'Invalid string length',
  'Array buffer allocation failed',
  'out of memory',
  'Offset is outside the bounds of the DataView',
  'offset is out of bounds',
  'Reduce of empty array',
  'Cannot mix BigInt',
].join('|'));

export type Outcome = { kind: 'parsed' } | { kind: 'rejected'; detail: string } | { kind: 'crash'; detail: string };

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name || error.constructor.name}: ${error.message}`.slice(0, 400);
  try {
    return `non-Error thrown: ${String(error)}`.slice(0, 400);
  } catch {
    return 'non-Error thrown (not printable)';
  }
}

export function judge(error: unknown, rejects: readonly ErrorClass[]): Outcome {
  const detail = describe(error);
  if (!(error instanceof Error)) return { kind: 'crash', detail };
  if (!rejects.some((cls) => error instanceof cls)) return { kind: 'crash', detail: `not a project error of this target: ${detail}` };
  if (RAW_ENGINE_MESSAGE.test(error.message)) return { kind: 'crash', detail: `raw engine message: ${detail}` };
  return { kind: 'rejected', detail };
}
