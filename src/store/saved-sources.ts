// Which model, dataset and Hub endpoint the page had, kept across reloads beside the run config (main.tsx saves both
// to localStorage). A reload then comes back to what the user was looking at instead of the bundled demo. Uploaded
// files are not kept (their bytes live in memory only; a saved run or a share link carries them), so an upload
// saves as "no dataset choice" and the bundled list picks its first file. Validated on read: localStorage is
// editable by hand and by other versions of the app, and a value that does not parse is ignored, never half-applied.
import { z } from 'zod';
import type { DatasetChoice, ModelChoice } from './types';

export interface SavedSources {
  readonly hubEndpoint: string;
  readonly modelChoice: ModelChoice;
  readonly datasetChoice: DatasetChoice | null;
}

/** Larger than any real value; a bigger entry is not ours. */
const MAX_SAVED_CHARS = 4096;
const repoId = z.string().regex(/^[\w.-]+\/[\w.-]+$/).max(200);
const revision = z.string().min(1).max(200);

const schema = z.object({
  hubEndpoint: z.string().max(500).regex(/^https?:\/\/[^\s/]+(\/\S*)?$/),
  modelChoice: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('bundled') }),
    z.object({ kind: z.literal('hub'), repo: repoId, revision }),
  ]),
  datasetChoice: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('bundled'), file: z.string().min(1).max(200) }),
    z.object({ kind: z.literal('hub'), name: z.string().max(300), repo: repoId, revision, file: z.string().min(1).max(500).optional() }),
  ]).nullable(),
});

/** What to save for the current choices (an upload is saved as no dataset choice). */
export function sourcesToSave(s: SavedSources): SavedSources {
  const datasetChoice = s.datasetChoice?.kind === 'upload' ? null : s.datasetChoice;
  return { hubEndpoint: s.hubEndpoint, modelChoice: s.modelChoice, datasetChoice };
}

/** The saved choices, or null when nothing (valid) was saved. */
export function parseSavedSources(raw: string | null): SavedSources | null {
  if (raw === null || raw.length > MAX_SAVED_CHARS) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data as SavedSources) : null;
  } catch {
    return null;
  }
}
