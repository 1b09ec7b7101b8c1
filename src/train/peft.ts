// PEFT adapter folder, as Python PEFT saves and loads it (sft-conventions §14–17): adapter_model.safetensors (F32,
// keys `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, no adapter name), adapter_config.json (sorted
// keys, indent 2) and a model card README.md with YAML front matter. Also the reverse: an adapter folder (ours or one
// Python PEFT saved, BF16/F16/F32) → a LoRA plan and its tensors, checked against the model, refusing what TabTune
// cannot run (DoRA, per-module ranks, modules_to_save, embedding LoRA, trained biases, layer subsets).
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../hub/index.ts';
import type { ModelConfig } from '../models/config.ts';
import { linearModules, loraShapes, planLora, type LoraPlan } from '../models/lora.ts';
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

export interface AdapterMeta {
  /** Base model id (Hub repo or folder) and the commit it was trained on. */
  readonly baseModel: string;
  readonly revision: string | null;
}

/** The adapter tensors as an F32 safetensors file keyed by PEFT names. */
export function adapterSafetensors(plan: LoraPlan, params: Readonly<Record<string, Float32Array>>, metadata: Record<string, string> = {}): Uint8Array {
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
export function adapterConfig(plan: LoraPlan, cfg: ModelConfig, meta: AdapterMeta): Record<string, unknown> {
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
    throw new Error(`${file}: task_type ${JSON.stringify(task)} is not supported; TabTune trains causal language models (task_type "CAUSAL_LM").`);
  }
  if (raw['use_dora'] === true) {
    throw new Error(`${file}: use_dora is true, and TabTune runs plain LoRA, not DoRA. HINT: merge the DoRA adapter into the base in Python (merge_and_unload) and load the merged checkpoint, or train a LoRA adapter.`);
  }
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    if (nonEmpty(raw[key])) {
      throw new Error(`${file}: ${key} ${JSON.stringify(raw[key])} gives some modules their own ${key === 'rank_pattern' ? 'rank' : 'alpha'}; TabTune uses one r and lora_alpha for every module. HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
  }
  if (nonEmpty(raw['modules_to_save'])) {
    throw new Error(`${file}: modules_to_save ${JSON.stringify(raw['modules_to_save'])} saves fully trained copies of whole modules, which TabTune cannot load into an adapter. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  const bias = raw['bias'];
  if (bias !== undefined && bias !== null && bias !== 'none') {
    throw new Error(`${file}: bias ${JSON.stringify(bias)} trains bias vectors too; TabTune reads adapters with bias "none". HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  if (raw['lora_bias'] === true) {
    throw new Error(`${file}: lora_bias is true (a bias on lora_B); TabTune's adapters have none. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
  for (const key of ['exclude_modules', 'layer_replication']) {
    if (nonEmpty(raw[key])) {
      throw new Error(`${file}: ${key} ${JSON.stringify(raw[key])} is set; TabTune reads adapters without it. HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
  }
  if (nonEmpty(raw['layers_to_transform'])) {
    throw new Error(`${file}: layers_to_transform ${JSON.stringify(raw['layers_to_transform'])} limits LoRA to some layers; TabTune applies it to every layer of the targeted modules. HINT: merge the adapter in Python and load the merged checkpoint.`);
  }
}

/**
 * target_modules as PEFT reads it: a list of names matched as module-path suffixes, or one string that is a regular
 * expression over the full module path (re.fullmatch). A regex becomes the leaf names it selects when it selects every
 * module of those names, else the full module paths (planLora accepts both).
 */
function targetList(targets: unknown, cfg: ModelConfig, file: string): string[] | null {
  if (Array.isArray(targets)) return targets.every((t) => typeof t === 'string') ? (targets as string[]) : null;
  if (typeof targets !== 'string') return null;
  if (/^[\w.]+$/.test(targets) && linearModules(cfg).some((m) => m.module === targets || m.module.endsWith(`.${targets}`))) return [targets];
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${targets})$`);
  } catch (e) {
    throw new Error(`${file}: target_modules ${JSON.stringify(targets)} is neither a module name nor a valid regular expression (${(e as Error).message}).`, { cause: e });
  }
  const modules = linearModules(cfg).map((m) => m.module);
  const matched = modules.filter((m) => re.test(m));
  if (matched.length === 0) {
    throw new Error(`${file}: target_modules ${JSON.stringify(targets)} matches no module of this ${cfg.modelType} model (module paths look like ${modules[0] ?? '(none)'}). HINT: was this adapter trained for a different model?`);
  }
  const leaves = [...new Set(matched.map((m) => m.split('.').pop()!))].sort();
  const byLeaf = modules.filter((m) => leaves.includes(m.split('.').pop()!));
  return byLeaf.length === matched.length ? leaves : matched;
}

/** Reads an adapter folder's two files (TabTune's or Python PEFT's) and checks every tensor against the model's LoRA plan. */
export function loadAdapter(configBytes: Uint8Array, weightBytes: Uint8Array, cfg: ModelConfig, where = 'adapter'): LoadedAdapter {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fromUtf8(configBytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}/${ADAPTER_CONFIG} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (raw['peft_type'] !== 'LORA') throw new Error(`${where}/${ADAPTER_CONFIG}: peft_type ${JSON.stringify(raw['peft_type'])} is not supported; TabTune reads LORA adapters`);
  refuseUnsupported(raw, where);
  const list = targetList(raw['target_modules'], cfg, `${where}/${ADAPTER_CONFIG}`);
  if (!list || typeof raw['r'] !== 'number' || typeof raw['lora_alpha'] !== 'number') {
    throw new Error(`${where}/${ADAPTER_CONFIG} needs r, lora_alpha and target_modules. HINT: is this a PEFT LoRA adapter folder?`);
  }
  const plan = planLora(cfg, {
    r: raw['r'],
    alpha: raw['lora_alpha'],
    rslora: raw['use_rslora'] === true,
    dropout: typeof raw['lora_dropout'] === 'number' ? raw['lora_dropout'] : 0,
    targets: list,
  });
  const file = `${where}/${ADAPTER_WEIGHTS}`;
  const header = parseSafetensors(weightBytes, file);
  const expected = loraShapes(plan);
  for (const t of header.tensors) {
    if (expected.has(t.name)) continue;
    if (/\.lora_embedding_[AB]\b/.test(t.name)) {
      throw new Error(`${file}: ${t.name} is a LoRA on an embedding layer, which TabTune does not run (it adapts linear projections only). HINT: merge the adapter in Python and load the merged checkpoint.`);
    }
    if (/\.lora_[AB]\.[^.]+\.weight$/.test(t.name)) {
      throw new Error(`${file}: ${t.name} carries an adapter name; saved PEFT adapters have none (…lora_A.weight). HINT: save it with model.save_pretrained(), which strips the name.`);
    }
    throw new Error(`${file}: tensor ${t.name} is not part of a LoRA on ${targetModuleNames(plan).join(', ')} for this ${cfg.modelType} model. HINT: was this adapter trained for a different model, or with settings TabTune does not read?`);
  }
  const params: Record<string, Float32Array> = {};
  for (const [key, shape] of expected) {
    const info = header.byName.get(key);
    if (!info) throw new Error(`${file} has no tensor ${key}. HINT: was this adapter trained for a different model?`);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${file}: ${key} has shape [${info.shape.join(', ')}], the model needs [${shape.join(', ')}]. HINT: the adapter belongs to a model of another size.`);
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
