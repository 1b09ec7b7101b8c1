// PEFT adapter folder, as Python PEFT saves and loads it (sft-conventions §14–17): adapter_model.safetensors (F32,
// keys `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, no adapter name), adapter_config.json (sorted
// keys, indent 2) and a model card README.md with YAML front matter. Also the reverse: an adapter folder (ours or one
// Python PEFT saved, BF16/F16/F32) → a LoRA plan and its tensors, checked against the model, refusing what TabTune
// cannot run (DoRA, per-module ranks, modules_to_save, embedding LoRA, trained biases, layer subsets).
import { preview } from '../engine/preview.ts';
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../hub/index.ts';
import type { ModelConfig } from '../models/config.ts';
import { linearModules, loraShapes, MAX_TARGET_NAMES, planLora, type LoraPlan } from '../models/lora.ts';
import { ModulePattern, ModulePatternError } from '../models/module-pattern.ts';
import { weightTable } from '../models/weights.ts';
import { fromUtf8, sortedJson, utf8 } from './json.ts';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';
/** Base tensors a run trained in full (norms, biases, embeddings, head, whole layers), F32 under the checkpoint's own
 * tensor names: PEFT loads only the LoRA part, so they travel beside it (transformers: load_state_dict(strict=False);
 * `tabtune export --merged` folds them in). */
export const FULL_TENSORS_FILE = 'full_tensors.safetensors';

/** The full tensors of a checkpoint as FULL_TENSORS_FILE bytes. */
export function fullTensorsSafetensors(cfg: ModelConfig, names: readonly string[], params: Readonly<Record<string, Float32Array>>): Uint8Array {
  const shapes = new Map(weightTable(cfg).map((s) => [s.name, s.shape] as const));
  return writeSafetensors(names.map((name) => {
    const data = params[name];
    const shape = shapes.get(name);
    if (!data || !shape) throw new Error(`full tensor ${name} is missing from the trained parameters`);
    return { name, dtype: 'F32' as const, shape: [...shape], data };
  }));
}

/** FULL_TENSORS_FILE back: each tensor checked against the model's weight table (name and shape). */
export function readFullTensors(bytes: Uint8Array, cfg: ModelConfig, where: string): Map<string, Float32Array> {
  const header = parseSafetensors(bytes, where);
  const shapes = new Map(weightTable(cfg).map((s) => [s.name, s.shape] as const));
  const out = new Map<string, Float32Array>();
  for (const info of header.tensors) {
    const name = info.name;
    const shape = shapes.get(name);
    if (!shape || shape.length !== info.shape.length || shape.some((d, i) => d !== info.shape[i])) {
      throw new Error(`${where}: ${name} [${info.shape.join(', ')}] does not fit the ${cfg.modelType} model${shape ? ` ([${shape.join(', ')}])` : ''}.`);
    }
    out.set(name, tensorToFloat32(header, bytes, name));
  }
  return out;
}

/** An adapter folder TabTune cannot load; the message names the file, the field and what to do. */
export class AdapterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdapterError';
  }
}

export interface AdapterMeta {
  /** Base model id (Hub repo or folder) and the commit it was trained on. */
  readonly baseModel: string;
  readonly revision: string | null;
}

/** The adapter tensors as an F32 safetensors file keyed by PEFT names. */
function adapterSafetensors(plan: LoraPlan, params: Readonly<Record<string, Float32Array>>, metadata: Record<string, string> = {}): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const [key, shape] of loraShapes(plan)) {
    const data = params[key];
    if (!data) throw new Error(`adapter tensor ${key} is missing from the trained parameters`);
    tensors.push({ name: key, dtype: 'F32', shape: [...shape], data });
  }
  return writeSafetensors(tensors, metadata);
}

/** Leaf module names the plan targets, sorted (PEFT stores target_modules as a set; sorting keeps files stable). */
export function targetModuleNames(plan: LoraPlan): string[] {
  if (plan.config.targets.includes('all-linear')) return [...new Set(plan.targets.map((t) => t.module.split('.').pop()!))].sort();
  return [...plan.config.targets].sort();
}

/**
 * PEFT's default target_modules per model_type (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING) for when the user
 * named none: the run config's default (q/k/v/o projections) is Llama-family vocabulary, GPT-2 calls them c_attn.
 */
export function defaultTargetModules(cfg: ModelConfig): string[] {
  return cfg.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
}

/** adapter_config.json with the fields PEFT's LoraConfig reads (§16). */
function adapterConfig(plan: LoraPlan, cfg: ModelConfig, meta: AdapterMeta): Record<string, unknown> {
  return {
    base_model_name_or_path: meta.baseModel,
    bias: 'none',
    // GPT-2's Conv1D stores [in, out]; the LoRA matrices keep Linear shapes and this flag only changes merging (§15).
    fan_in_fan_out: cfg.family === 'gpt2',
    inference_mode: true,
    lora_alpha: plan.config.alpha,
    lora_dropout: plan.config.dropout ?? 0,
    peft_type: 'LORA',
    r: plan.config.r,
    revision: meta.revision,
    target_modules: targetModuleNames(plan),
    task_type: 'CAUSAL_LM',
    use_rslora: plan.config.rslora ?? false,
  };
}

export interface ModelCardInfo {
  readonly baseModel: string;
  readonly revision: string | null;
  readonly dataset: string;
  readonly datasetHash: string;
  readonly rows: number;
  readonly mask: string;
  readonly template: string;
  readonly hyperparameters: Readonly<Record<string, string | number | boolean>>;
  readonly versions: Readonly<Record<string, string>>;
}

/** Model card (§17): YAML front matter (base_model, library_name, pipeline_tag, tags, datasets) and a short body. */
export function modelCard(info: ModelCardInfo): string {
  const yamlString = (s: string) => JSON.stringify(s);
  const lines = [
    '---',
    `base_model: ${yamlString(info.baseModel)}`,
    'library_name: peft',
    'pipeline_tag: text-generation',
    'tags:',
    '- lora',
    '- peft',
    '- tabtune',
    'datasets:',
    `- ${yamlString(info.dataset)}`,
    '---',
    '',
    `# LoRA adapter for ${info.baseModel}`,
    '',
    `Trained with TabTune on ${info.rows} rows of \`${info.dataset}\` (sha256 \`${info.datasetHash}\`).`,
    '',
    '## Data',
    '',
    `- Template: ${info.template}`,
    `- Loss mask: ${info.mask}`,
    `- Base model revision: ${info.revision ?? 'local folder'}`,
    '',
    '## Hyperparameters',
    '',
    ...Object.keys(info.hyperparameters).sort().map((k) => `- ${k}: ${String(info.hyperparameters[k])}`),
    '',
    '## Framework versions',
    '',
    ...Object.keys(info.versions).sort().map((k) => `- ${k}: ${info.versions[k]}`),
    '',
  ];
  return lines.join('\n');
}

/** The two adapter files by name. */
export function adapterFiles(plan: LoraPlan, cfg: ModelConfig, params: Readonly<Record<string, Float32Array>>, meta: AdapterMeta): Map<string, Uint8Array> {
  return new Map([
    [ADAPTER_WEIGHTS, adapterSafetensors(plan, params)],
    [ADAPTER_CONFIG, utf8(sortedJson(adapterConfig(plan, cfg, meta)))],
  ]);
}

export interface LoadedAdapter {
  readonly plan: LoraPlan;
  readonly params: Record<string, Float32Array>;
  readonly config: Record<string, unknown>;
}

/**
 * PEFT features TabTune cannot run, read from adapter_config.json: each refusal says what is set and what to do. Keys
 * PEFT writes that change nothing here (inference_mode, init_lora_weights, auto_mapping, megatron_config, fan_in_fan_out,
 * layers_pattern, ...) are accepted as they are.
 */
function refuseUnsupported(raw: Record<string, unknown>, where: string): void {
  const file = `${where}/${ADAPTER_CONFIG}`;
  const nonEmpty = (v: unknown) => v !== null && v !== undefined && (Array.isArray(v) ? v.length > 0 : typeof v === 'object' ? Object.keys(v).length > 0 : true);
  const task = raw['task_type'];
  if (task !== undefined && task !== null && task !== 'CAUSAL_LM') {
    throw new AdapterError(`${file}: task_type ${preview(task)} is not supported; TabTune trains causal language models (task_type "CAUSAL_LM").`);
  }
  if (raw['use_dora'] === true) {
    throw new AdapterError(`${file}: use_dora is true, and TabTune runs plain LoRA, not DoRA. HINT: merge the DoRA adapter into the base in Python (merge_and_unload) and load the merged checkpoint, or train a LoRA adapter.`);
  }
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    if (nonEmpty(raw[key])) {
      throw new AdapterError(`${file}: ${key} ${preview(raw[key])} gives some modules their own ${key === 'rank_pattern' ? 'rank' : 'alpha'}; TabTune uses one r and lora_alpha for every module. HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
  }
  if (nonEmpty(raw['modules_to_save'])) {
    throw new AdapterError(`${file}: modules_to_save ${preview(raw['modules_to_save'])} saves fully trained copies of whole modules, which TabTune cannot load into an adapter. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  const bias = raw['bias'];
  if (bias !== undefined && bias !== null && bias !== 'none') {
    throw new AdapterError(`${file}: bias ${preview(bias)} trains bias vectors too; TabTune reads adapters with bias "none". HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  if (raw['lora_bias'] === true) {
    throw new AdapterError(`${file}: lora_bias is true (a bias on lora_B); TabTune's adapters have none. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  for (const key of ['exclude_modules', 'layer_replication']) {
    if (nonEmpty(raw[key])) {
      throw new AdapterError(`${file}: ${key} ${preview(raw[key])} is set; TabTune reads adapters without it. HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
  }
  if (nonEmpty(raw['layers_to_transform'])) {
    throw new AdapterError(`${file}: layers_to_transform ${preview(raw['layers_to_transform'])} limits LoRA to some layers; TabTune applies it to every layer of the targeted modules. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
}

/**
 * target_modules as PEFT reads it: a list of names matched as module-path suffixes, "all-linear", or one string that
 * is a regular expression over the full module path (re.fullmatch). The expression is run by ModulePattern (a
 * linear-time matcher for the subset PEFT configs use), never compiled as a JS RegExp. It becomes the leaf names it
 * selects when it selects every module of those names, else the full module paths (planLora accepts both).
 */
function targetList(targets: unknown, cfg: ModelConfig, file: string): string[] {
  if (Array.isArray(targets)) {
    if (targets.length === 0 || targets.length > MAX_TARGET_NAMES || !targets.every((t) => typeof t === 'string')) {
      throw new AdapterError(`${file}: target_modules ${preview(targets)} must be a list of 1 to ${MAX_TARGET_NAMES} module names (e.g. ["q_proj", "v_proj"]) or one regular expression.`);
    }
    return [...new Set(targets as string[])];
  }
  if (typeof targets !== 'string') {
    throw new AdapterError(`${file}: target_modules is ${preview(targets)}; it must be a list of module names (e.g. ["q_proj", "v_proj"]) or one regular expression. HINT: is this a PEFT LoRA adapter folder?`);
  }
  if (targets === 'all-linear') return ['all-linear'];
  const modules = linearModules(cfg).map((m) => m.module);
  if (/^[\w.]+$/.test(targets) && modules.some((m) => m === targets || m.endsWith(`.${targets}`))) return [targets];
  let matched: string[];
  try {
    const pattern = new ModulePattern(targets);
    matched = modules.filter((m) => pattern.matches(m));
  } catch (e) {
    if (!(e instanceof ModulePatternError)) throw e;
    throw new AdapterError(`${file}: target_modules ${preview(targets)} is neither a module name nor a regular expression TabTune can run (${e.message}). HINT: list the module names instead, e.g. ["q_proj", "v_proj"].`, { cause: e });
  }
  if (matched.length === 0) {
    throw new AdapterError(`${file}: target_modules ${preview(targets)} matches no module of this ${cfg.modelType} model (module paths look like ${modules[0] ?? '(none)'}). HINT: was this adapter trained for a different model?`);
  }
  const leaves = [...new Set(matched.map((m) => m.split('.').pop()!))].sort();
  const leafSet = new Set(leaves);
  const byLeaf = modules.filter((m) => leafSet.has(m.split('.').pop()!));
  return byLeaf.length === matched.length ? leaves : matched;
}

/** Reads an adapter folder's two files (TabTune's or Python PEFT's) and checks every tensor against the model's LoRA plan. */
export function loadAdapter(configBytes: Uint8Array, weightBytes: Uint8Array, cfg: ModelConfig, where = 'adapter'): LoadedAdapter {
  const configFile = `${where}/${ADAPTER_CONFIG}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(configBytes));
  } catch (e) {
    throw new AdapterError(`${configFile} is not valid JSON (${(e as Error).message.slice(0, 200)}). HINT: re-download the adapter folder.`, { cause: e });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AdapterError(`${configFile} holds ${preview(parsed)}, not a JSON object. HINT: is this a PEFT LoRA adapter folder?`);
  }
  const raw = parsed as Record<string, unknown>;
  if (raw['peft_type'] !== 'LORA') throw new AdapterError(`${configFile}: peft_type ${preview(raw['peft_type'])} is not supported; TabTune reads LORA adapters`);
  refuseUnsupported(raw, where);
  const r = raw['r'];
  const alpha = raw['lora_alpha'];
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) {
    throw new AdapterError(`${configFile}: r is ${preview(r)}; it must be a positive integer (the LoRA rank). HINT: is this a PEFT LoRA adapter folder?`);
  }
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
    throw new AdapterError(`${configFile}: lora_alpha is ${preview(alpha)}; it must be a positive number. HINT: is this a PEFT LoRA adapter folder?`);
  }
  const dropout = raw['lora_dropout'] ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new AdapterError(`${configFile}: lora_dropout is ${preview(dropout)}; it must be a number in [0, 1).`);
  }
  const list = targetList(raw['target_modules'], cfg, configFile);
  const plan = planLora(cfg, { r, alpha, rslora: raw['use_rslora'] === true, dropout, targets: list });
  const file = `${where}/${ADAPTER_WEIGHTS}`;
  const header = parseSafetensors(weightBytes, file);
  const expected = loraShapes(plan);
  for (const t of header.tensors) {
    if (expected.has(t.name)) continue;
    const name = t.name.length > 120 ? `${t.name.slice(0, 120)}…` : t.name;
    if (/\.lora_embedding_[AB]\b/.test(t.name)) {
      throw new AdapterError(`${file}: ${name} is a LoRA on an embedding layer, which TabTune does not run (it adapts linear projections only). HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
    if (/\.lora_[AB]\.[^.]+\.weight$/.test(t.name)) {
      throw new AdapterError(`${file}: ${name} carries an adapter name; saved PEFT adapters have none (…lora_A.weight). HINT: save it with model.save_pretrained(), which strips the name.`);
    }
    throw new AdapterError(`${file}: tensor ${name} is not part of a LoRA on ${targetModuleNames(plan).join(', ')} for this ${cfg.modelType} model. HINT: was this adapter trained for a different model, or with settings TabTune does not read?`);
  }
  const params: Record<string, Float32Array> = {};
  for (const [key, shape] of expected) {
    const info = header.byName.get(key);
    if (!info) throw new AdapterError(`${file} has no tensor ${key}. HINT: was this adapter trained for a different model?`);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new AdapterError(`${file}: ${key} has shape [${info.shape.join(', ')}], the model needs [${shape.join(', ')}]. HINT: the adapter belongs to a model of another size.`);
    }
    // BF16/F16 adapters are widened; an F32 tensor comes back as a view into the file, copied so the file can go.
    const values = tensorToFloat32(header, weightBytes, key);
    params[key] = values.buffer === weightBytes.buffer ? values.slice() : values;
  }
  return { plan, params, config: raw };
}

/**
 * Merges an adapter into base weights (W + scale·B·A; for GPT-2 Conv1D, W[in, out] + scale·(B·A)ᵀ) and returns the
 * new weight values by weight-table name. The base map is not modified.
 */
export function mergeAdapter(cfg: ModelConfig, base: ReadonlyMap<string, Float32Array>, adapter: LoadedAdapter): Map<string, Float32Array> {
  const out = new Map(base);
  const r = adapter.plan.config.r;
  for (const t of adapter.plan.targets) {
    const name = `${t.module}.weight`;
    const w = base.get(name);
    if (!w) throw new Error(`cannot merge into ${name}: the base model has no such weight`);
    const a = adapter.params[t.keyA]!; // [r, in]
    const b = adapter.params[t.keyB]!; // [out, r]
    const merged = w.slice();
    const conv1d = cfg.family === 'gpt2';
    for (let o = 0; o < t.outFeatures; o++) {
      for (let i = 0; i < t.inFeatures; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b[o * r + k]! * a[k * t.inFeatures + i]!;
        const idx = conv1d ? i * t.outFeatures + o : o * t.inFeatures + i;
        merged[idx] = merged[idx]! + adapter.plan.scale * s;
      }
    }
    out.set(name, merged);
  }
  return out;
}

/** A merged checkpoint as transformers loads it without PEFT: base + scale·B·A in F32 `model.safetensors` under the
 * checkpoint's own tensor names (a tied head stays tied), and config.json with torch_dtype float32. */
export function mergedCheckpointFiles(cfg: ModelConfig, rawConfig: Record<string, unknown>, base: ReadonlyMap<string, Float32Array>, adapter: LoadedAdapter): Map<string, Uint8Array | string> {
  const merged = mergeAdapter(cfg, base, adapter);
  const tensors = weightTable(cfg).map((spec) => ({ name: spec.name, dtype: 'F32' as const, shape: [...spec.shape], data: merged.get(spec.name)! }));
  return new Map<string, Uint8Array | string>([
    ['model.safetensors', writeSafetensors(tensors)],
    ['config.json', `${JSON.stringify({ ...rawConfig, torch_dtype: 'float32' }, null, 2)}\n`],
  ]);
}
