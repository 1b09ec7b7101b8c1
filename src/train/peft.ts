// PEFT adapter folder, as Python PEFT saves and loads it (sft-conventions §14–17): adapter_model.safetensors (F32,
// keys `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, no adapter name), adapter_config.json (sorted
// keys, indent 2) and a model card README.md with YAML front matter. Also the reverse: an adapter folder → a LoRA plan
// and its tensors, checked against the model it is applied to.
import { parseSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../hub/index.ts';
import type { ModelConfig } from '../models/config.ts';
import { loraShapes, planLora, type LoraPlan } from '../models/lora.ts';
import { fromUtf8, sortedJson, utf8 } from './json.ts';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

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
  if (plan.config.targetModules.includes('all-linear')) return [...new Set(plan.targets.map((t) => t.module.split('.').pop()!))].sort();
  return [...plan.config.targetModules].sort();
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
    use_rslora: plan.config.useRslora ?? false,
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

/** Reads an adapter folder's two files and checks every tensor against the model's LoRA plan. */
export function loadAdapter(configBytes: Uint8Array, weightBytes: Uint8Array, cfg: ModelConfig, where = 'adapter'): LoadedAdapter {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fromUtf8(configBytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}/${ADAPTER_CONFIG} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (raw['peft_type'] !== 'LORA') throw new Error(`${where}/${ADAPTER_CONFIG}: peft_type ${JSON.stringify(raw['peft_type'])} is not supported; TabTune reads LORA adapters`);
  const targets = raw['target_modules'];
  const list = typeof targets === 'string' ? [targets] : Array.isArray(targets) ? (targets as string[]) : null;
  if (!list || typeof raw['r'] !== 'number' || typeof raw['lora_alpha'] !== 'number') {
    throw new Error(`${where}/${ADAPTER_CONFIG} needs r, lora_alpha and target_modules. HINT: is this a PEFT LoRA adapter folder?`);
  }
  const plan = planLora(cfg, {
    r: raw['r'],
    alpha: raw['lora_alpha'],
    useRslora: raw['use_rslora'] === true,
    dropout: typeof raw['lora_dropout'] === 'number' ? raw['lora_dropout'] : 0,
    targetModules: list,
  });
  const header = parseSafetensors(weightBytes, `${where}/${ADAPTER_WEIGHTS}`);
  const params: Record<string, Float32Array> = {};
  for (const [key, shape] of loraShapes(plan)) {
    const info = header.byName.get(key);
    if (!info) throw new Error(`${where}/${ADAPTER_WEIGHTS} has no tensor ${key}. HINT: was this adapter trained for a different model?`);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${where}/${ADAPTER_WEIGHTS}: ${key} has shape [${info.shape.join(', ')}], the model needs [${shape.join(', ')}]. HINT: the adapter belongs to a model of another size.`);
    }
    params[key] = tensorToFloat32(header, weightBytes, key).slice();
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
