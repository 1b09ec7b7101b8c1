// Weight-name tables: every tensor a family's forward graph reads, under its transformers name, with the shape it must
// have. The graph builders declare one graph input per entry (same name), so the table is also the feed list; loaders
// map checkpoint keys onto it with resolveCheckpoint(), which asserts each shape and explains what is missing.
import type { Gemma3Config, Gpt2Config, GraniteConfig, LlamaFamilyConfig, ModelConfig, Olmo2Config } from './config.ts';

type WeightKind = 'embedding' | 'position' | 'norm' | 'linear' | 'bias' | 'head';

export interface WeightSpec {
  /** transformers parameter name, e.g. `model.layers.0.self_attn.q_proj.weight`; also the graph input name. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: WeightKind;
  /** Decoder layer index, or null for embeddings, final norm and head. */
  readonly layer: number | null;
}

/** The tensors the forward graph reads, in a fixed order. Tied heads read the embedding (no lm_head entry). */
export function weightTable(cfg: ModelConfig): WeightSpec[] {
  if (cfg.family === 'olmo2') return olmo2Table(cfg);
  if (cfg.family === 'granite') return graniteTable(cfg);
  return cfg.family === 'gpt2' ? gpt2Table(cfg) : cfg.family === 'gemma3' ? gemma3Table(cfg) : llamaTable(cfg);
}

/** OLMo 2: no input_layernorm; post-attention and post-feedforward norms; q_norm / k_norm as wide as q / k. */
function olmo2Table(c: Olmo2Config): WeightSpec[] {
  const h = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const t: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, h], kind: 'embedding', layer: null }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const add = (name: string, shape: number[], kind: WeightKind): void => void t.push({ name: `${p}.${name}`, shape, kind, layer: i });
    for (const [proj, out] of [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] as const) {
      add(`self_attn.${proj}.weight`, [out, h], 'linear');
      if (c.attentionBias) add(`self_attn.${proj}.bias`, [out], 'bias');
    }
    add('self_attn.o_proj.weight', [h, q], 'linear');
    if (c.attentionBias) add('self_attn.o_proj.bias', [h], 'bias');
    add('self_attn.q_norm.weight', [q], 'norm');
    add('self_attn.k_norm.weight', [kv], 'norm');
    add('post_attention_layernorm.weight', [h], 'norm');
    add('mlp.gate_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.up_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.down_proj.weight', [h, c.intermediateSize], 'linear');
    add('post_feedforward_layernorm.weight', [h], 'norm');
  }
  t.push({ name: 'model.norm.weight', shape: [h], kind: 'norm', layer: null });
  if (!c.tieWordEmbeddings) t.push({ name: 'lm_head.weight', shape: [c.vocabSize, h], kind: 'head', layer: null });
  return t;
}

/** Granite: the Llama layout (its multipliers are config numbers, not tensors). */
function graniteTable(c: GraniteConfig): WeightSpec[] {
  return llamaTable({ ...c, family: 'llama', modelType: 'llama', qkvBias: c.attentionBias, oBias: c.attentionBias, qkNorm: false, slidingWindow: null, ropeLayers: null });
}

/** Gemma 3 text and Gemma 2 (the same tensors but q_norm/k_norm, which Gemma 2 lacks). */
function gemma3Table(c: Gemma3Config): WeightSpec[] {
  const h = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const t: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, h], kind: 'embedding', layer: null }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const add = (name: string, shape: number[], kind: WeightKind): void => void t.push({ name: `${p}.${name}`, shape, kind, layer: i });
    add('input_layernorm.weight', [h], 'norm');
    for (const [proj, out] of [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] as const) {
      add(`self_attn.${proj}.weight`, [out, h], 'linear');
      if (c.attentionBias) add(`self_attn.${proj}.bias`, [out], 'bias');
    }
    if (c.qkNorm) {
      add('self_attn.q_norm.weight', [c.headDim], 'norm');
      add('self_attn.k_norm.weight', [c.headDim], 'norm');
    }
    add('self_attn.o_proj.weight', [h, q], 'linear');
    if (c.attentionBias) add('self_attn.o_proj.bias', [h], 'bias');
    add('post_attention_layernorm.weight', [h], 'norm');
    add('pre_feedforward_layernorm.weight', [h], 'norm');
    add('mlp.gate_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.up_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.down_proj.weight', [h, c.intermediateSize], 'linear');
    add('post_feedforward_layernorm.weight', [h], 'norm');
  }
  t.push({ name: 'model.norm.weight', shape: [h], kind: 'norm', layer: null });
  if (!c.tieWordEmbeddings) t.push({ name: 'lm_head.weight', shape: [c.vocabSize, h], kind: 'head', layer: null });
  return t;
}

function llamaTable(c: LlamaFamilyConfig): WeightSpec[] {
  const h = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const t: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, h], kind: 'embedding', layer: null }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const add = (name: string, shape: number[], kind: WeightKind): void => void t.push({ name: `${p}.${name}`, shape, kind, layer: i });
    add('input_layernorm.weight', [h], 'norm');
    for (const [proj, out] of [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] as const) {
      add(`self_attn.${proj}.weight`, [out, h], 'linear');
      if (c.qkvBias) add(`self_attn.${proj}.bias`, [out], 'bias');
    }
    if (c.qkNorm) {
      add('self_attn.q_norm.weight', [c.headDim], 'norm');
      add('self_attn.k_norm.weight', [c.headDim], 'norm');
    }
    add('self_attn.o_proj.weight', [h, q], 'linear');
    if (c.oBias) add('self_attn.o_proj.bias', [h], 'bias');
    add('post_attention_layernorm.weight', [h], 'norm');
    add('mlp.gate_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.up_proj.weight', [c.intermediateSize, h], 'linear');
    add('mlp.down_proj.weight', [h, c.intermediateSize], 'linear');
    if (c.mlpBias) {
      add('mlp.gate_proj.bias', [c.intermediateSize], 'bias');
      add('mlp.up_proj.bias', [c.intermediateSize], 'bias');
      add('mlp.down_proj.bias', [h], 'bias');
    }
  }
  t.push({ name: 'model.norm.weight', shape: [h], kind: 'norm', layer: null });
  if (!c.tieWordEmbeddings) t.push({ name: 'lm_head.weight', shape: [c.vocabSize, h], kind: 'head', layer: null });
  return t;
}

function gpt2Table(c: Gpt2Config): WeightSpec[] {
  const h = c.hiddenSize;
  const f = c.intermediateSize;
  const t: WeightSpec[] = [
    { name: 'transformer.wte.weight', shape: [c.vocabSize, h], kind: 'embedding', layer: null },
    { name: 'transformer.wpe.weight', shape: [c.maxPositionEmbeddings, h], kind: 'position', layer: null },
  ];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `transformer.h.${i}`;
    const add = (name: string, shape: number[], kind: WeightKind): void => void t.push({ name: `${p}.${name}`, shape, kind, layer: i });
    add('ln_1.weight', [h], 'norm');
    add('ln_1.bias', [h], 'bias');
    // Conv1D stores [in, out], the transpose of nn.Linear.
    add('attn.c_attn.weight', [h, 3 * h], 'linear');
    add('attn.c_attn.bias', [3 * h], 'bias');
    add('attn.c_proj.weight', [h, h], 'linear');
    add('attn.c_proj.bias', [h], 'bias');
    add('ln_2.weight', [h], 'norm');
    add('ln_2.bias', [h], 'bias');
    add('mlp.c_fc.weight', [h, f], 'linear');
    add('mlp.c_fc.bias', [f], 'bias');
    add('mlp.c_proj.weight', [f, h], 'linear');
    add('mlp.c_proj.bias', [h], 'bias');
  }
  t.push({ name: 'transformer.ln_f.weight', shape: [h], kind: 'norm', layer: null });
  t.push({ name: 'transformer.ln_f.bias', shape: [h], kind: 'bias', layer: null });
  return t;
}

/** Checkpoint keys a loader may ignore: GPT-2's causal-mask buffers, and a saved copy of a tied lm_head. */
function ignorable(cfg: ModelConfig, key: string): boolean {
  if (cfg.family === 'gpt2') return /\.attn\.(masked_)?bias$/.test(key) || key === 'lm_head.weight';
  return cfg.tieWordEmbeddings && key === 'lm_head.weight';
}

/** Where each table entry comes from in a checkpoint. */
export interface CheckpointMapping {
  /** table name → checkpoint key */
  readonly sources: ReadonlyMap<string, string>;
  /** checkpoint keys no table entry reads (after the known ignorable ones), e.g. rotary caches. */
  readonly unused: readonly string[];
}

/** The checkpoint's tensors are not the ones its config.json describes (missing, or of another shape). */
export class CheckpointMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointMismatchError';
  }
}

/**
 * Maps checkpoint tensors (`key → shape`) onto the weight table. GPT-2 checkpoints come with (`transformer.h.0...`,
 * transformers saves) or without (`h.0...`, the original upload) the prefix; both are accepted. Throws one error
 * listing every missing tensor and every shape mismatch.
 */
export function resolveCheckpoint(cfg: ModelConfig, shapes: ReadonlyMap<string, readonly number[]>): CheckpointMapping {
  const sources = new Map<string, string>();
  const problems: string[] = [];
  for (const spec of weightTable(cfg)) {
    const candidates = [spec.name];
    if (cfg.family === 'gpt2') candidates.push(spec.name.replace(/^transformer\./, ''));
    const key = candidates.find((k) => shapes.has(k));
    if (key === undefined) {
      problems.push(`missing tensor ${spec.name} [${spec.shape.join(', ')}]`);
      continue;
    }
    const got = shapes.get(key)!;
    if (got.length !== spec.shape.length || got.some((d, i) => d !== spec.shape[i])) {
      problems.push(`tensor ${key} has shape [${got.join(', ')}]; config.json implies [${spec.shape.join(', ')}]`);
      continue;
    }
    sources.set(spec.name, key);
  }
  if (problems.length > 0) {
    const hint = problems.some((p) => p.startsWith('missing')) ? ' (is this checkpoint the model config.json describes, and are all shards present?)' : '';
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    throw new CheckpointMismatchError(`checkpoint does not match its ${cfg.modelType} config${hint}:\n  ${problems.slice(0, 20).join('\n  ')}${more}`);
  }
  const used = new Set(sources.values());
  const unused = [...shapes.keys()].filter((k) => !used.has(k) && !ignorable(cfg, k)).sort();
  return { sources, unused };
}

/** Total parameters of the model (tied head counted once), for the trainable-fraction display. */
export function parameterCount(cfg: ModelConfig): number {
  return weightTable(cfg).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}
