// The reproduction manifest (what a run was pinned to: model and tokenizer commits — or a local folder's content
// hash — dataset hash, TabTune version, the full run config; the one manifest the app and the CLI write) and the plain records every run keeps (metric points, generated samples). Stored with each
// checkpoint, written into exported zips and read back on import, so all three use these zod schemas.
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { runConfigSchema, type RunConfig } from './run-config.ts';

export const TABTUNE_VERSION: string = pkg.version;
const MANIFEST_VERSION = 1;

const sha40 = z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-character commit sha');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a 64-character sha256');

/** A diverged step logs NaN or ±Infinity, and the record must keep it rather than fail to load. */
const measured = z.union([z.number(), z.nan()]).optional();

export const metricPointSchema = z.object({
  step: z.number().int().min(0),
  trainLoss: measured,
  evalLoss: measured,
  learningRate: measured,
  gradNorm: measured,
  tokensPerSecond: measured,
});
/** One logged optimizer step; the same fields as the store's MetricPoint so the store can keep these as they are. */
export type MetricPoint = z.infer<typeof metricPointSchema>;

export const sampleRecordSchema = z.object({
  step: z.number().int().min(0),
  prompt: z.string(),
  completion: z.string(),
  flags: z.array(z.string()).default([]),
});
export type SampleRecord = z.infer<typeof sampleRecordSchema>;

/**
 * A checkpoint's pin: a Hub commit sha, or for a local folder (`local` = the path as the user gave it) a sha256 content
 * hash of the files read, since a folder has no commit.
 */
function checkPin(v: { sha: string; local?: string | undefined }, ctx: z.RefinementCtx): void {
  const ok = v.local === undefined ? sha40.safeParse(v.sha).success : sha256.safeParse(v.sha).success;
  if (!ok) {
    ctx.addIssue({
      code: 'custom',
      path: ['sha'],
      message: v.local === undefined ? 'expected a 40-character commit sha' : 'expected a 64-character content hash for a local folder',
    });
  }
}
const localPath = z.string().min(1).max(1000).optional();

const reproManifestSchema = z.object({
  format: z.literal('tabtune-manifest'),
  manifestVersion: z.literal(MANIFEST_VERSION),
  tabtuneVersion: z.string().min(1).max(50),
  /** Left out by the CLI so that two runs with the same seed write byte-identical folders. */
  createdAt: z.string().datetime().optional(),
  config: runConfigSchema,
  model: z.object({ repo: z.string().min(3).max(200), revision: z.string().min(1).max(200), sha: z.string(), local: localPath }).superRefine(checkPin),
  tokenizer: z.object({ repo: z.string().min(3).max(200), sha: z.string(), local: localPath }).superRefine(checkPin),
  dataset: z.object({
    /** sha256 of the dataset file as loaded (before splitting), so a reproduction can verify it has the same rows. */
    hash: sha256,
    rows: z.number().int().min(0).optional(),
    /** The file as the user named it and its detected format/layout (CLI: what --resume reopens). */
    name: z.string().min(1).max(1000).optional(),
    format: z.string().min(1).max(100).optional(),
  }),
  /** Where it ran: losses match step for step only on the same kind of device. */
  device: z.object({ backend: z.string().max(50), adapter: z.string().max(200).optional() }).optional(),
});
export type ReproManifest = z.infer<typeof reproManifestSchema>;

export interface ManifestParts {
  /** Commit sha, or the content hash of a local folder (then `modelLocal` is its path). */
  modelSha: string;
  modelLocal?: string;
  /** Defaults to the model's repo and sha (most repos ship their tokenizer). */
  tokenizer?: { repo: string; sha: string; local?: string };
  datasetHash: string;
  datasetRows?: number;
  datasetName?: string;
  datasetFormat?: string;
  device?: { backend: string; adapter?: string };
  /** Injected so manifests are reproducible in tests; null leaves createdAt out (identical files for identical runs). */
  now?: Date | null;
}

/** A manifest for a run about to start; validates everything, so a run is never recorded unpinned. */
export function buildManifest(config: RunConfig, parts: ManifestParts): ReproManifest {
  return parseManifest({
    format: 'tabtune-manifest',
    manifestVersion: MANIFEST_VERSION,
    tabtuneVersion: TABTUNE_VERSION,
    ...(parts.now === null ? {} : { createdAt: (parts.now ?? new Date()).toISOString() }),
    config,
    model: { repo: config.model.repo, revision: config.model.revision, sha: parts.modelSha, ...(parts.modelLocal !== undefined ? { local: parts.modelLocal } : {}) },
    tokenizer: parts.tokenizer ?? {
      repo: config.tokenizer?.repo ?? config.model.repo,
      sha: config.tokenizer?.sha ?? parts.modelSha,
      ...(config.tokenizer === undefined && parts.modelLocal !== undefined ? { local: parts.modelLocal } : {}),
    },
    dataset: {
      hash: parts.datasetHash,
      ...(parts.datasetRows !== undefined ? { rows: parts.datasetRows } : {}),
      ...(parts.datasetName !== undefined ? { name: parts.datasetName } : {}),
      ...(parts.datasetFormat !== undefined ? { format: parts.datasetFormat } : {}),
    },
    ...(parts.device ? { device: parts.device } : {}),
  });
}

/** Validates a manifest from storage, a zip or a caller; the error lists every problem with its path. */
export function parseManifest(input: unknown): ReproManifest {
  const result = reproManifestSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid run manifest:\n${lines.join('\n')}`);
  }
  return result.data;
}
