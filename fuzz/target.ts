// The interface every fuzz target implements (see fuzz/README.md for how an input is judged).

/** A class whose instances are one of the project's error types. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Deterministic randomness handed to target-specific mutations. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export interface FuzzTarget {
  name: string;
  /** Valid inputs the mutations start from. */
  seeds(): Promise<Uint8Array[]> | Uint8Array[];
  /** Feeds one input to the real entry point; resolves when accepted, throws/rejects to refuse it. */
  run(input: Uint8Array): Promise<void> | void;
  /** The project error classes a refusal may be an instance of; empty for entry points that promise never to throw. */
  rejects: readonly ErrorClass[];
  /** Extra, target-specific mutation; the harness also applies its generic ones. */
  mutate?(input: Uint8Array, rng: Rng): Uint8Array;
  /** Per-input time bound in ms, only where the entry point documents a different budget (default 2000). */
  timeMs?: number;
  /** Per-input memory bound in MB (default 500). */
  memoryMb?: number;
}

/** For entry points that promise never to throw and report problems as data (`loadDataset`, `readShareLink`): a
 * target throws this when the result holds no usable value, so the table counts it as a clean rejection. The
 * reported messages are judged like thrown ones (a raw engine message among them is a crash). */
export class ReportedProblems extends Error {
  override name = 'ReportedProblems';
}
