// LoRA as PEFT defines it (docs/architecture.md): which modules a target list selects, the scale,
// PEFT's init (A ~ U(±1/√in) from a seeded generator, B = 0), PEFT key names, dropout masks and parameter counts.
// The graph builders (layers.ts) read a LoraPlan; nothing here touches the graph.
import type { ModelConfig } from './config.ts';
import { Rng } from './rng.ts';
import { parameterCount, weightTable } from './weights.ts';

/** LoRA settings, field for field the run config's `lora` (src/share/run-config.ts), so a RunConfig['lora'] is one. */
export interface LoraConfig {
  readonly r: number;
  readonly alpha: number;
  /** rsLoRA: scale alpha / sqrt(r) instead of alpha / r. */
  readonly rslora?: boolean;
  /** Dropout probability on the adapter input (0 = none). */
  readonly dropout?: number;
  /** Module names users know (`q_proj`, `c_attn`, ...), PEFT suffix match; `all-linear` selects every projection. */
  readonly targets: readonly string[];
}

export interface LoraTarget {
  /** Module path, e.g. `model.layers.0.self_attn.q_proj` or `transformer.h.0.attn.c_attn`. */
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** PEFT keys: `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]. */
  readonly keyA: string;
  readonly keyB: string;
}

export interface LoraPlan {
  readonly config: LoraConfig;
  readonly scale: number;
  readonly targets: readonly LoraTarget[];
}

/** Projection module names per family (the leaf names PEFT users pass as target_modules). */
const LORA_MODULE_NAMES = {
  llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  gemma3: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  olmo2: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  granite: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  gpt2: ['c_attn', 'c_proj', 'c_fc'],
} as const;

const PEFT_PREFIX = 'base_model.model.';

/** A LoRA setting that cannot be planned (rank, alpha, dropout, targets); the message says what to use instead. */
export class LoraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoraError';
  }
}

/** Largest rank accepted: above any model's hidden size, where a LoRA stops being low-rank. */
const MAX_LORA_RANK = 1 << 16;
/** Most target names one config may list (PEFT configs name a handful). */
export const MAX_TARGET_NAMES = 256;

/** The linear modules of a model with their fan-in/fan-out, read from the weight table (Conv1D is [in, out]). */
export function linearModules(cfg: ModelConfig): { module: string; inFeatures: number; outFeatures: number }[] {
  return weightTable(cfg)
    .filter((s) => s.kind === 'linear')
    .map((s) => {
      const module = s.name.replace(/\.weight$/, '');
      const [a, b] = s.shape as [number, number];
      return cfg.family === 'gpt2' ? { module, inFeatures: a, outFeatures: b } : { module, inFeatures: b, outFeatures: a };
    });
}

/** Resolves target names to modules (PEFT's rule: the module path equals the target or ends with `.target`). */
export function planLora(cfg: ModelConfig, config: LoraConfig): LoraPlan {
  if (typeof config.r !== 'number' || !Number.isInteger(config.r) || config.r <= 0 || config.r > MAX_LORA_RANK) {
    throw new LoraError(`LoRA rank r must be a positive integer of at most ${MAX_LORA_RANK}, got ${String(config.r).slice(0, 40)}; 8 to 64 is usual`);
  }
  if (typeof config.alpha !== 'number' || !Number.isFinite(config.alpha) || !(config.alpha > 0)) {
    throw new LoraError(`LoRA alpha must be a positive number, got ${String(config.alpha).slice(0, 40)}; 2 × r is usual`);
  }
  const p = config.dropout ?? 0;
  if (!(typeof p === 'number' && p >= 0 && p < 1)) throw new LoraError(`LoRA dropout must be in [0, 1), got ${String(p).slice(0, 40)}`);
  if (config.targets.length === 0) throw new LoraError('LoRA target_modules is empty; name at least one module, e.g. q_proj,v_proj');
  if (config.targets.length > MAX_TARGET_NAMES) {
    throw new LoraError(`LoRA target_modules lists ${config.targets.length} names; at most ${MAX_TARGET_NAMES} are accepted (leaf names such as q_proj select every layer)`);
  }
  const modules = linearModules(cfg);
  const all = config.targets.includes('all-linear');
  const valid = LORA_MODULE_NAMES[cfg.family];
  for (const t of config.targets) {
    if (t === 'all-linear') continue;
    if (typeof t !== 'string' || !modules.some((m) => m.module === t || m.module.endsWith(`.${t}`))) {
      const shown = typeof t === 'string' ? `"${t.length > 80 ? `${t.slice(0, 80)}…` : t}"` : typeof t;
      throw new LoraError(`LoRA target module ${shown} matches no module of this ${cfg.modelType} model; use ${valid.join(', ')} or all-linear`);
    }
  }
  const targets = modules
    .filter((m) => all || config.targets.some((t) => m.module === t || m.module.endsWith(`.${t}`)))
    .map((m) => ({ ...m, keyA: `${PEFT_PREFIX}${m.module}.lora_A.weight`, keyB: `${PEFT_PREFIX}${m.module}.lora_B.weight` }));
  const scale = config.rslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
  return { config, scale, targets };
}

/**
 * PEFT's default init: A from kaiming_uniform(a=√5), which is U(-1/√in, 1/√in); B = 0 so the adapter starts as a no-op.
 * Each tensor draws from its own generator seeded with `${seed}:${key}`, so adding a target never changes the others.
 */
export function initLoraWeights(plan: LoraPlan, seed: number | string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const r = plan.config.r;
  for (const t of plan.targets) {
    const rng = Rng.fromSeed(`${seed}:${t.keyA}`);
    const bound = 1 / Math.sqrt(t.inFeatures);
    const a = new Float32Array(r * t.inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
    out.set(t.keyA, a);
    out.set(t.keyB, new Float32Array(t.outFeatures * r));
  }
  return out;
}

/** Shapes of the adapter tensors by PEFT key: A [r, in], B [out, r] (also for GPT-2's Conv1D, §15). */
export function loraShapes(plan: LoraPlan): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const t of plan.targets) {
    out.set(t.keyA, [plan.config.r, t.inFeatures]);
    out.set(t.keyB, [t.outFeatures, plan.config.r]);
  }
  return out;
}

/** Name of the dropout-mask graph input of one target. */
export function loraDropoutInputName(target: LoraTarget): string {
  return `lora_dropout.${target.module}`;
}

/** An inverted-dropout mask for `rows × inFeatures` inputs: 0 with probability p, else 1 / (1 - p). */
export function dropoutMask(rng: Rng, rows: number, inFeatures: number, p: number): Float32Array {
  const out = new Float32Array(rows * inFeatures);
  const keep = 1 / (1 - p);
  for (let i = 0; i < out.length; i++) out[i] = rng.next() < p ? 0 : keep;
  return out;
}

export interface TrainableSummary {
  readonly trainable: number;
  readonly total: number;
  /** trainable / total, where total counts the base model plus the adapter (PEFT's print_trainable_parameters). */
  readonly fraction: number;
}

/** Trainable parameters for an adapter plus any fully trained base tensors (by weight-table name). */
export function trainableSummary(cfg: ModelConfig, plan: LoraPlan | null, fullTensors: readonly string[] = []): TrainableSummary {
  const table = new Map(weightTable(cfg).map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
  let full = 0;
  for (const name of fullTensors) {
    const n = table.get(name);
    if (n === undefined) throw new LoraError(`cannot train "${name.slice(0, 120)}": the ${cfg.modelType} model has no such tensor`);
    full += n;
  }
  const adapter = plan ? plan.targets.reduce((n, t) => n + plan.config.r * (t.inFeatures + t.outFeatures), 0) : 0;
  const total = parameterCount(cfg) + adapter;
  return { trainable: adapter + full, total, fraction: (adapter + full) / total };
}

export type TensorGroup = 'norms' | 'biases' | 'embeddings' | 'head';

/**
 * Names of base tensors to train fully: whole groups and/or every tensor of chosen layers. With a tied head, `head`
 * selects the shared embedding.
 */
export function selectFullTensors(cfg: ModelConfig, groups: readonly TensorGroup[], layers: readonly number[] = []): string[] {
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= cfg.numLayers) throw new LoraError(`layer ${l} does not exist: the model has layers 0..${cfg.numLayers - 1}`);
  }
  const kinds = new Set<string>();
  if (groups.includes('norms')) kinds.add('norm');
  if (groups.includes('biases')) kinds.add('bias');
  if (groups.includes('embeddings')) kinds.add('embedding').add('position');
  if (groups.includes('head')) kinds.add(cfg.tieWordEmbeddings ? 'embedding' : 'head');
  return weightTable(cfg)
    .filter((s) => kinds.has(s.kind) || (s.layer !== null && layers.includes(s.layer)))
    .map((s) => s.name);
}
