// What `npm run pretrain-demo` trains: the corpus, tokenizer, model and optimizer settings of tabtune/tiny-storyteller.
// Changing any value changes the checkpoint (and its recorded sha256): retrain and commit both.
import type { PretrainSpec } from './train.ts';

export const SPEC: PretrainSpec = {
  repo: 'tabtune/tiny-storyteller',
  seed: 'tabtune/tiny-storyteller:v1',
  paragraphs: 24000,
  documentTokens: 200,
  merges: 765,
  hidden: 192,
  intermediate: 512,
  layers: 4,
  heads: 4,
  kvHeads: 4,
  maxPositions: 512,
  steps: 1100,
  batchSize: 8,
  lr: 3e-3,
  warmupSteps: 50,
  evalFraction: 0.02,
};

/** Prompts for the speech check: openings of each kind of corpus prose, and a few the corpus never starts with. */
export const PROMPTS: readonly string[] = [
  'Once upon a time, there was',
  'One day, Tom went to',
  'The capital of France is',
  'How do you make a cup of tea?',
  'An assistant follows its instructions.',
  'A screener reads text and answers',
  'For a 10 km day hike, bring',
  'The dog was very',
  'Anna asked Ben',
  'Here is how to',
];
