// The run configuration: everything that defines a run (model, data, template, masks, LoRA, hyperparameters, seed),
// its defaults, and its schema. The browser, the CLI and share links all read defaults from here, so "a flag left out
// means the browser's default" holds by construction. Validated with zod; imports nothing from the rest of src/.
import { z } from 'zod';
import { TEMPLATE_KINDS } from './templates.ts';

export const RUN_CONFIG_VERSION = 1;

/** Longest custom template source a run config (and so a share link) carries. */
export const MAX_TEMPLATE_CHARS = 32 * 1024;

export const MASK_POLICIES = ['assistant', 'last-assistant', 'assistant-no-eot', 'completion', 'all', 'trl', 'axolotl', 'unsloth'] as const;
export type MaskPolicy = (typeof MASK_POLICIES)[number];

export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;

/** Groups of base tensors a run can train in full (src/models selects them per family; `head` is the embedding when
 * the head is tied). */
export const FULL_GROUPS = ['norms', 'biases', 'embeddings', 'head'] as const;

/** LoRA targets when none are named: the Llama-family attention projections (src/train swaps in PEFT's default for a
 * family that names its modules otherwise, e.g. GPT-2). */
export const DEFAULT_LORA_TARGETS: readonly string[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

const repoRef = z.object({
  /** `org/name` on the Hub (or the bundled demo's repo id). */
  repo: z.string().min(3).max(200).regex(/^[\w.-]+\/[\w.-]+$/, 'expected "org/name"'),
  /** Branch, tag or commit the user asked for. */
  revision: z.string().min(1).max(200).default('main'),
  /** The commit sha it resolved to; a run is always pinned to one. */
  sha: z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-character commit sha').optional(),
});

const dataRef = z.discriminatedUnion('source', [
  z.object({ source: z.literal('bundled'), name: z.string().min(1).max(100), hash: z.string().optional() }),
  z.object({
    source: z.literal('hub'),
    repo: z.string().min(3).max(200),
    revision: z.string().min(1).max(200).default('main'),
    sha: z.string().optional(),
    file: z.string().max(500).optional(),
    hash: z.string().optional(),
  }),
  z.object({
    source: z.literal('upload'),
    name: z.string().min(1).max(300),
    hash: z.string().min(1),
    /** Small uploads travel inline (compressed, base64url) so a link alone reproduces the run. */
    inline: z.string().max(64 * 1024).optional(),
  }),
]);

export const runConfigSchema = z.object({
  version: z.literal(RUN_CONFIG_VERSION).default(RUN_CONFIG_VERSION),
  hubEndpoint: z.string().url().max(500).optional(),
  model: repoRef,
  tokenizer: repoRef.optional(),
  data: dataRef,
  template: z
    .object({
      /** The tokenizer's own template, a preset (src/share/templates.ts), or `custom` with its source. */
      kind: z.enum(TEMPLATE_KINDS).default('chat'),
      /** Jinja source for `custom`; rendered only by the sandboxed interpreter. */
      source: z.string().max(MAX_TEMPLATE_CHARS, `a template may be at most ${MAX_TEMPLATE_CHARS} characters`).optional(),
      kwargs: z.record(z.string(), z.union([z.boolean(), z.string(), z.number()])).default({}),
    })
    .default({ kind: 'chat', kwargs: {} }),
  mask: z.enum(MASK_POLICIES).default('assistant'),
  maxLength: z.number().int().min(8).max(32768).default(256),
  evalFraction: z.number().min(0).max(0.5).default(0.1),
  lora: z
    .object({
      r: z.number().int().min(1).max(256).default(8),
      alpha: z.number().positive().max(4096).default(16),
      dropout: z.number().min(0).max(0.9).default(0),
      rslora: z.boolean().default(false),
      targets: z.array(z.string().regex(/^[\w.]+$/)).min(1).max(32).default([...DEFAULT_LORA_TARGETS]),
    })
    .default({ r: 8, alpha: 16, dropout: 0, rslora: false, targets: [...DEFAULT_LORA_TARGETS] }),
  /** Base tensors trained in full beside the adapter: whole groups and/or every tensor of chosen layers. */
  full: z
    .object({
      groups: z.array(z.enum(FULL_GROUPS)).max(FULL_GROUPS.length).default([]),
      layers: z.array(z.number().int().min(0).max(1023)).max(1024).default([]),
    })
    .default({ groups: [], layers: [] }),
  train: z
    .object({
      steps: z.number().int().min(1).max(1_000_000).default(60),
      batchSize: z.number().int().min(1).max(512).default(4),
      gradAccum: z.number().int().min(1).max(1024).default(1),
      lr: z.number().positive().max(1).default(2e-3),
      schedule: z.enum(SCHEDULES).default('cosine'),
      warmupSteps: z.number().int().min(0).max(100_000).default(5),
      weightDecay: z.number().min(0).max(1).default(0),
      maxGradNorm: z.number().min(0).max(1e6).default(1),
      beta1: z.number().min(0).lt(1).default(0.9),
      beta2: z.number().min(0).lt(1).default(0.999),
      eps: z.number().positive().max(1).default(1e-8),
      evalEvery: z.number().int().min(0).default(20),
      sampleEvery: z.number().int().min(0).default(20),
      checkpointEvery: z.number().int().min(0).default(20),
    })
    .default({
      steps: 60, batchSize: 4, gradAccum: 1, lr: 2e-3, schedule: 'cosine', warmupSteps: 5, weightDecay: 0,
      maxGradNorm: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, evalEvery: 20, sampleEvery: 20, checkpointEvery: 20,
    }),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
});

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** The run-config fields that decide the examples (src/train prepares them); every other field is a hyperparameter,
 * and editing one never re-renders or re-tokenises anything. */
export type DataSettings = Pick<RunConfig, 'hubEndpoint' | 'model' | 'tokenizer' | 'data' | 'template' | 'mask' | 'maxLength' | 'evalFraction' | 'seed'>;

/** A stable key of a config's data settings: two configs with equal keys prepare the same examples from the same
 * model and dataset choice. Pins (commit shas, content hashes) are left out: a link or export adds them to the same
 * choice, and the content itself is checked by hash where a run is started. */
export function dataKey(config: DataSettings): string {
  const d = config.data;
  const data = d.source === 'hub' ? ['hub', d.repo, d.revision, d.file ?? null] : [d.source, d.name];
  return JSON.stringify([
    config.hubEndpoint ?? null, config.model.repo, config.tokenizer?.repo ?? config.model.repo, data,
    config.template, config.mask, config.maxLength, config.evalFraction, config.seed,
  ]);
}

/** Fills defaults and validates; throws a readable error listing every problem with its path. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = runConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid run configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The configuration the app opens with: the bundled model (pretrained by `npm run pretrain-demo`) and dataset. */
export const DEMO_MODEL_REPO = 'tabtune/tiny-storyteller';
export function defaultRunConfig(): RunConfig {
  return parseRunConfig({
    model: { repo: DEMO_MODEL_REPO, revision: 'main' },
    data: { source: 'bundled', name: 'chat-support' },
  });
}
