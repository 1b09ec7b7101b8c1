// Conventions every layer above the engine shares: the label that means "no loss here" and how an error becomes the
// text a person reads. Imports nothing.

/** Label value meaning "no loss at this position" (transformers' ignore_index; the loss graph is built with it). */
export const IGNORE_INDEX = -100;

/** The message of anything thrown: an Error's message, or the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
