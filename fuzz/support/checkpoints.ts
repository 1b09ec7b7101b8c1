// Small, deterministic inputs for the binary-format fuzz targets: safetensors files of every dtype TabTune converts
// (and some it refuses), a tiny Llama checkpoint split in two shards with its index, and adapter folders that match it.
import { writeSafetensors, type TensorToWrite } from '../../src/hub/safetensors.ts';
import { parseModelConfig, type ModelConfig } from '../../src/models/config.ts';
import { loraShapes, planLora } from '../../src/models/lora.ts';
import { weightTable } from '../../src/models/weights.ts';

const enc = new TextEncoder();

/** Values that differ per element and per tensor, the same on every run. */
function values(n: number, salt: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + salt) * 0.5);
}

export function safetensorsSeeds(): Uint8Array[] {
  const bf16 = (v: Float32Array) => Uint16Array.from(v, (x) => new Uint32Array(new Float32Array([x]).buffer)[0]! >>> 16);
  return [
    writeSafetensors([
      { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [4, 3], data: values(12, 1) },
      { name: 'model.norm.weight', dtype: 'F32', shape: [3], data: values(3, 2) },
    ], { format: 'pt' }),
    writeSafetensors([
      { name: 'a', dtype: 'BF16', shape: [2, 2], data: bf16(values(4, 3)) },
      { name: 'b', dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x3555]) },
      { name: 'c', dtype: 'F32', shape: [], data: values(1, 4) },
    ]),
    writeSafetensors([
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', dtype: 'F32', shape: [2, 4], data: values(8, 5) },
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', dtype: 'F32', shape: [4, 2], data: values(8, 6) },
    ], { format: 'pt', note: 'adapter' }),
    writeSafetensors([
      { name: 'ids', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n]) },
      { name: 'mask', dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ]),
  ];
}

/** A seed with its claimed (listed) size in front: 8 bytes little-endian, then the file. Mutating the prefix makes
 * the listing lie about the file. */
export function withClaimedSize(file: Uint8Array, claimed = file.byteLength): Uint8Array {
  const out = new Uint8Array(8 + file.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(claimed), true);
  out.set(file, 8);
  return out;
}

export function splitClaimedSize(input: Uint8Array): { claimed: number; file: Uint8Array } {
  if (input.byteLength < 8) return { claimed: input.byteLength, file: input };
  const claimed = Number(new DataView(input.buffer, input.byteOffset, 8).getBigUint64(0, true));
  return { claimed, file: input.subarray(8) };
}

/** Chunks of varying size, deterministic from the bytes' length, as a download would deliver them. */
export async function* chunked(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const sizes = [7, 64, 1, 333, 4096];
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const n = sizes[(i + bytes.byteLength) % sizes.length]!;
    yield bytes.slice(at, at + n);
    at += n;
  }
}

export const TINY_LLAMA_CONFIG = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 8, num_attention_heads: 2, num_key_value_heads: 1,
  num_hidden_layers: 2, intermediate_size: 16, vocab_size: 24, rms_norm_eps: 1e-6, max_position_embeddings: 64,
  rope_theta: 10000, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
};

export const tinyLlama: ModelConfig = parseModelConfig(TINY_LLAMA_CONFIG);

export const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] as const;

/** The tiny Llama's weights in two shards (alternating by weight-table order) and the index naming them. */
export function tinyShardedCheckpoint(): { config: Uint8Array; index: Uint8Array; shards: Map<string, Uint8Array> } {
  const parts: TensorToWrite[][] = [[], []];
  const weightMap: Record<string, string> = {};
  weightTable(tinyLlama).forEach((spec, i) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    // Every third tensor in BF16 (1.0 everywhere), the rest F32, so both conversions run.
    const tensor: TensorToWrite = i % 3 === 0
      ? { name: spec.name, dtype: 'BF16', shape: [...spec.shape], data: new Uint16Array(n).fill(0x3f80) }
      : { name: spec.name, dtype: 'F32', shape: [...spec.shape], data: values(n, i) };
    parts[i % 2]!.push(tensor);
    weightMap[spec.name] = SHARDS[i % 2]!;
  });
  return {
    config: enc.encode(JSON.stringify(TINY_LLAMA_CONFIG)),
    index: enc.encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2)),
    shards: new Map(SHARDS.map((s, i) => [s, writeSafetensors(parts[i]!)])),
  };
}

/** An adapter_model.safetensors for the tiny Llama with LoRA on q_proj and v_proj, rank 2. */
export function tinyAdapterWeights(): Uint8Array {
  const plan = planLora(tinyLlama, { r: 2, alpha: 4, targets: ['q_proj', 'v_proj'] });
  return writeSafetensors([...loraShapes(plan)].map(([name, shape], i) => ({
    name, dtype: 'F32' as const, shape: [...shape], data: values(shape.reduce((a, b) => a * b, 1), i),
  })));
}
