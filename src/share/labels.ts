// Conventions every layer above the engine shares: the label that means "no loss here" (the loss graph's own constant,
// src/engine/labels.ts, a module with no graph code) and how an error becomes the text a person reads.

export { IGNORE_INDEX } from '../engine/labels.ts';

/** The message of anything thrown: an Error's message, or the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
