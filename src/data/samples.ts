// The sample datasets bundled with TabTune (public/datasets/, written by this project) and how to load them.
// The app fetches them from its own origin; Node (CLI, tests) reads the same files from disk.
import { loadDataset, type Dataset } from './dataset.ts';
import type { MaskMode } from './masks.ts';

export interface SampleDataset {
  id: string;
  file: string;
  title: string;
  description: string;
  /** The mask mode the sample is meant to be trained with. */
  mode: MaskMode;
  rows: number;
}

export const SAMPLE_DATASETS: readonly SampleDataset[] = [
  {
    id: 'prompt-injection',
    file: 'prompt-injection.jsonl',
    title: 'Is this a prompt-injection attempt? (yes/no)',
    description: 'A system prompt, a pasted text (some in French, German, Spanish, Japanese) and a one-word answer. One target token plus end-of-turn per row: the clearest view of what a mask trains.',
    mode: 'assistant',
    rows: 100,
  },
  {
    id: 'incident-summaries',
    file: 'incident-summaries.jsonl',
    title: 'Incident report → one-line status-page summary',
    description: 'Alpaca-style instruction/input/output rows: a short incident report and its summary.',
    mode: 'assistant',
    rows: 100,
  },
  {
    id: 'trail-chat',
    file: 'trail-chat.jsonl',
    title: 'Multi-turn chat with a system prompt',
    description: 'Two user/assistant exchanges per row under a hiking-club system prompt, with some French, Japanese and emoji: compare `assistant`, `last-assistant` and the framework presets.',
    mode: 'assistant',
    rows: 40,
  },
  {
    id: 'tiny-codewords',
    file: 'tiny-codewords.jsonl',
    title: 'Tiny memorisable set (8 rows)',
    description: 'Eight colour → codeword facts a small model memorises in a few dozen steps: for smoke tests of training.',
    mode: 'assistant',
    rows: 8,
  },
  {
    id: 'science-answers',
    file: 'science-answers.jsonl',
    title: 'Plain prompt/completion pairs (no chat markup)',
    description: 'Twelve science questions and short answers as prompt/completion rows with nothing between them: the linter flags the glued prompt and answer; the plain prompt/completion template adds a visible separator.',
    mode: 'completion',
    rows: 12,
  },
];

function sampleById(id: string): SampleDataset {
  const sample = SAMPLE_DATASETS.find((s) => s.id === id);
  if (!sample) throw new Error(`No bundled dataset "${id}"; choose one of ${SAMPLE_DATASETS.map((s) => s.id).join(', ')}.`);
  return sample;
}

/** Loads a bundled sample through `fetchBytes` (fetch from the app origin in the browser, readFile in Node). */
export async function loadSample(id: string, fetchBytes: (file: string) => Promise<Uint8Array>): Promise<Dataset> {
  const sample = sampleById(id);
  return loadDataset(sample.file, await fetchBytes(`datasets/${sample.file}`));
}
