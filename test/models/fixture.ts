// Test helper: loads a fixture checkpoint (config.json + safetensors, single or sharded) from
// fixtures/generated/hub/tabtune/tiny-<family> and its golden values from test/golden/<family>.json, and fails
// loudly when the golden file was computed from different fixture bytes (regenerate with scripts/fixtures/reference.py).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseSafetensors, tensorToFloat32 } from '../../src/hub/safetensors.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { parseModelConfig } from '../../src/models/config.ts';
import { resolveCheckpoint, weightTable } from '../../src/models/weights.ts';

export const FAMILIES = ['llama', 'qwen2', 'qwen3', 'smollm3', 'gemma3', 'gemma2', 'olmo2', 'granite', 'gpt2'] as const;
export type Family = (typeof FAMILIES)[number];

const ROOT = join(import.meta.dirname, '..', '..');

interface TensorJson {
  readonly shape: number[];
  readonly data: number[];
}

export interface Golden {
  readonly family: Family;
  readonly files_sha256: Record<string, string>;
  readonly batch: { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
  readonly vocab_subset: number[];
  readonly logits: number[][][];
  readonly logsumexp: number[][];
  readonly argmax: number[][];
  readonly loss: number;
  readonly lora: { r: number; lora_alpha: number; use_rslora: boolean; target_modules: string[]; tensors: Record<string, TensorJson> };
  readonly lora_logsumexp: number[][];
  readonly loss_lora: number;
  readonly loss_rslora: number;
  readonly grads: Record<string, TensorJson>;
  readonly full_grads: Record<string, TensorJson>;
  readonly embedding_grad: TensorJson & { name: string; rows: number[] };
  readonly rope_inv_freq: number[] | null;
  /** Gemma 3's sliding-window layers (rope_local_base_freq); null for other families. */
  readonly rope_local_inv_freq?: number[] | null;
  /** GPT-2 and Granite in training mode: the reference's dropout masks (graph input names) and the LoRA loss/gradients under them. */
  readonly dropout?: { masks: Record<string, TensorJson>; loss_lora: number; grads: Record<string, TensorJson> } | null;
  readonly generation: { prompt: number[]; max_new_tokens: number; eos_token_id: number[]; tokens: number[]; min_margin: number };
}

export interface Fixture {
  readonly cfg: ModelConfig;
  readonly rawConfig: unknown;
  /** Weight-table name → float32 data. */
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly golden: Golden;
}

const cache = new Map<Family, Fixture>();

export function loadFixture(family: Family): Fixture {
  const hit = cache.get(family);
  if (hit) return hit;
  const dir = join(ROOT, 'fixtures', 'generated', 'hub', 'tabtune', `tiny-${family}`);
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`npm run fixtures\``);
  const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', `${family}.json`), 'utf8')) as Golden;
  for (const [file, sha] of Object.entries(golden.files_sha256)) {
    const actual = createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');
    if (actual !== sha) {
      throw new Error(`test/golden/${family}.json was computed from a different ${file}: regenerate it with /usr/bin/python3 scripts/fixtures/reference.py`);
    }
  }
  const rawConfig: unknown = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const cfg = parseModelConfig(rawConfig);
  const indexPath = join(dir, 'model.safetensors.index.json');
  const files = existsSync(indexPath)
    ? [...new Set(Object.values((JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> }).weight_map))]
    : ['model.safetensors'];
  const shapes = new Map<string, number[]>();
  const readers = new Map<string, () => Float32Array>();
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const header = parseSafetensors(bytes, file);
    for (const t of header.tensors) {
      shapes.set(t.name, t.shape);
      readers.set(t.name, () => tensorToFloat32(header, bytes, t.name));
    }
  }
  const mapping = resolveCheckpoint(cfg, shapes);
  const weights = new Map<string, Float32Array>();
  for (const spec of weightTable(cfg)) weights.set(spec.name, readers.get(mapping.sources.get(spec.name)!)!());
  const fx = { cfg, rawConfig, weights, golden };
  cache.set(family, fx);
  return fx;
}

/** ort tensors for every weight, to feed graph inputs by name without copying through number arrays. */
export function weightFeeds(fx: Fixture): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const spec of weightTable(fx.cfg)) out[spec.name] = new ort.Tensor('float32', fx.weights.get(spec.name)!, [...spec.shape]);
  return out;
}

/** Golden adapter tensors as ort tensors keyed by PEFT name. */
export function adapterFeeds(golden: Golden): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(golden.lora.tensors)) out[k] = new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
  return out;
}

export const flat = (rows: number[][]): number[] => rows.flat();

/** max |a - b| / max |b|: error relative to the scale of the reference tensor. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? err : err / scale;
}
