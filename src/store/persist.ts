// What the page keeps across reloads, through zustand's `persist` middleware: the run configuration the user edits,
// which model, dataset and Hub endpoint it was for, the backend choice and the theme. One localStorage entry
// (`tabtune.settings`). Uploaded files are not kept (their bytes live in memory only; a saved run or a share link
// carries them), so an upload saves as "no dataset choice" and the bundled list picks its first file.
//
// Read back field by field and validated: localStorage is editable by hand and by other versions of the app, and a
// field that does not parse falls back to its default without discarding the others. Entries written before this
// middleware (one key per setting) are read once and carried over.
import type { PersistOptions, StateStorage } from 'zustand/middleware';
import { z } from 'zod';
import { runConfigSchema } from '../share/run-config';
import type { AppState } from './slices';

export const SETTINGS_KEY = 'tabtune.settings';
const LEGACY_KEYS = { runConfig: 'tabtune.runConfig', backend: 'tabtune.backend', sources: 'tabtune.sources', theme: 'tabtune.theme' } as const;

/** Larger than any real entry (a run config with an inline template is a few KiB); a bigger one is not ours. */
const MAX_SETTINGS_CHARS = 64 * 1024;

const repoId = z.string().regex(/^[\w.-]+\/[\w.-]+$/).max(200);
const revision = z.string().min(1).max(200);

/** One schema per kept field: each is validated on its own. */
const fields = {
  theme: z.enum(['system', 'light', 'dark']),
  backendChoice: z.enum(['auto', 'wasm', 'webgpu']),
  hubEndpoint: z.string().max(500).regex(/^https?:\/\/[^\s/]+(\/\S*)?$/),
  modelChoice: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('bundled') }),
    z.object({ kind: z.literal('hub'), repo: repoId, revision }),
  ]),
  datasetChoice: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('bundled'), file: z.string().min(1).max(200) }),
    z.object({ kind: z.literal('hub'), name: z.string().max(300), repo: repoId, revision, file: z.string().min(1).max(500).optional() }),
  ]).nullable(),
  runConfig: runConfigSchema,
} as const;

type Kept = Pick<AppState, keyof typeof fields>;

/** The kept part of the state (an upload is kept as no dataset choice). */
function keptSettings(s: AppState): Kept {
  return {
    theme: s.theme, backendChoice: s.backendChoice, hubEndpoint: s.hubEndpoint, modelChoice: s.modelChoice,
    datasetChoice: s.datasetChoice?.kind === 'upload' ? null : s.datasetChoice, runConfig: s.runConfig,
  };
}

/** The fields of a saved entry that validate; the rest are left out (their defaults stay). */
function validSettings(saved: unknown): Partial<Kept> {
  if (typeof saved !== 'object' || saved === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(fields)) {
    const parsed = schema.safeParse((saved as Record<string, unknown>)[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as Partial<Kept>;
}

/** The entry as the pre-middleware keys held it, or null when none of them is there. */
function legacyEntry(storage: Storage): string | null {
  const read = (key: string) => storage.getItem(key);
  const json = (raw: string | null): unknown => {
    if (raw === null || raw.length > MAX_SETTINGS_CHARS) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  };
  const [config, backend, sources, theme] = [read(LEGACY_KEYS.runConfig), read(LEGACY_KEYS.backend), read(LEGACY_KEYS.sources), read(LEGACY_KEYS.theme)];
  if (config === null && backend === null && sources === null && theme === null) return null;
  const src = json(sources);
  const state = { ...(typeof src === 'object' && src !== null ? src : {}), runConfig: json(config), backendChoice: backend, theme };
  return JSON.stringify({ state, version: 1 });
}

/** localStorage behind a size cap and the one-time carry-over; blocked storage (private-mode policies) reads as empty
 * and drops writes, so the settings then last for this page only. */
export function settingsStorage(storage: () => Storage): StateStorage {
  // persist writes after every state change (a metric point, a progress event); only a changed entry reaches the disk.
  const written = new Map<string, string>();
  return {
    getItem: (name) => {
      try {
        const raw = storage().getItem(name) ?? legacyEntry(storage());
        return raw !== null && raw.length <= MAX_SETTINGS_CHARS ? raw : null;
      } catch {
        return null;
      }
    },
    setItem: (name, value) => {
      if (written.get(name) === value) return;
      written.set(name, value);
      try {
        storage().setItem(name, value);
      } catch {
        // Storage blocked or full: the settings last for this page only.
      }
    },
    removeItem: (name) => {
      try {
        storage().removeItem(name);
      } catch {
        // Nothing to remove from a blocked storage.
      }
    },
  };
}

export function persistOptions(storage: StateStorage): PersistOptions<AppState, Kept> {
  return {
    name: SETTINGS_KEY,
    version: 1,
    storage: { // JSON in and out; createJSONStorage would also do, but the cap above needs the raw string
      getItem: (name) => {
        const raw = storage.getItem(name) as string | null;
        if (raw === null) return null;
        try {
          return JSON.parse(raw) as { state: Kept; version: number };
        } catch {
          return null;
        }
      },
      setItem: (name, value) => storage.setItem(name, JSON.stringify(value)),
      removeItem: (name) => storage.removeItem(name),
    },
    partialize: keptSettings,
    merge: (saved, current) => ({ ...current, ...validSettings(saved) }),
  };
}
