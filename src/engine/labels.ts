// The label convention of the loss graph, in a module of its own so that layers above can share the one constant
// without loading any graph code.

/** Label value meaning "no loss at this position" (transformers' ignore_index). */
export const IGNORE_INDEX = -100;
