// Generation: the two KV-cache graphs (prefill over a right-padded prompt batch, then one token per row per step)
// sharing weight and LoRA input names with training, and the host loop that drives them through a caller-supplied
// GenerationIO (the runtime owns sessions and keeps the cache on the device). Streams tokens through a callback.
import { GraphBuilder } from '../engine/graph.ts';
import type { Graph } from '../engine/graph.ts';
import * as O from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import { buildForward } from './forward.ts';
import type { LoraPlan } from './lora.ts';
import type { ForwardOptions } from './layers.ts';
import type { Rng } from './rng.ts';
import type { SamplingOptions } from './sampling.ts';
import { chooseToken } from './sampling.ts';

export interface GenerationShape {
  readonly batch: number;
  /** Prompt tokens per row, right-padded (the prefill graph's sequence length). */
  readonly promptLen: number;
  /** Cache slots per row: prompt plus generated tokens never exceed it. */
  readonly maxLen: number;
}

export interface GenerationGraphs {
  /** Inputs input_ids/position_ids/attention_mask [B, promptLen], logits_index [B]; outputs logits [B, V] and
   * present.<i>.key / present.<i>.value [B, KV, maxLen, D]. */
  readonly prefill: Graph;
  /** Inputs input_ids/position_ids [B, 1], attention_mask [B, maxLen], past_key_values.<i>.key/value; same outputs. */
  readonly decode: Graph;
  readonly layers: number;
}

/** Builds prefill and decode graphs. Weights are 'frozen' inputs and the adapter (if any) 'trainable', as in training;
 * `opts.einsumAttention` as in training graphs (WebGPU). */
export function buildGenerationGraphs(cfg: ModelConfig, shape: GenerationShape, lora: LoraPlan | null = null, opts: Pick<ForwardOptions, 'einsumAttention'> = {}): GenerationGraphs {
  const build = (mode: 'prefill' | 'decode'): Graph => {
    const g = new GraphBuilder(`${cfg.modelType}-${mode}`);
    const seqLen = mode === 'prefill' ? shape.promptLen : 1;
    const fwd = buildForward(g, cfg, { batch: shape.batch, seqLen, lora, cache: { mode, maxLen: shape.maxLen }, logits: mode === 'prefill' ? 'selected' : 'all', ...opts });
    const logits = fwd.logits!;
    g.output(mode === 'prefill' ? logits : O.Reshape(g, logits, [shape.batch, cfg.vocabSize]), 'logits'); // [B, V]
    fwd.cache.forEach((c, i) => {
      g.output(c.presentKey, `present.${i}.key`);
      g.output(c.presentValue, `present.${i}.value`);
    });
    return g.build();
  };
  return { prefill: build('prefill'), decode: build('decode'), layers: cfg.numLayers };
}

export interface PrefillFeeds {
  readonly input_ids: Int32Array;
  readonly position_ids: Int32Array;
  readonly attention_mask: Int32Array;
  readonly logits_index: Int32Array;
}

export interface DecodeFeeds {
  readonly input_ids: Int32Array;
  readonly position_ids: Int32Array;
  readonly attention_mask: Int32Array;
}

/**
 * Runs the graphs. Each call returns logits [B, V] (row-major). The implementation feeds the previous call's present.*
 * outputs as past_key_values.* and binds weights/adapter itself.
 */
export interface GenerationIO {
  prefill(feeds: PrefillFeeds): Promise<Float32Array>;
  decode(feeds: DecodeFeeds): Promise<Float32Array>;
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  /** EOS and end-of-turn ids: a row stops after producing one (it is included in the output). */
  readonly stopIds: readonly number[];
  /** Required when sampling; ignored for greedy decoding. */
  readonly rng?: Rng | null;
  /** Id fed for right padding and for rows that already stopped (never attended to). */
  readonly padId?: number;
  /** Called for every new token as soon as it is chosen. */
  readonly onToken?: (row: number, token: number, step: number) => void;
  /** Checked before each step; return true to stop early (cancel). */
  readonly shouldStop?: () => boolean;
}

/** Generates continuations of `prompts` (token ids per row). Returns the new tokens of each row. */
export async function generate(io: GenerationIO, shape: GenerationShape, prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<number[][]> {
  const { batch: B, promptLen: P, maxLen: S } = shape;
  if (prompts.length !== B) throw new Error(`generate: ${prompts.length} prompts for a batch of ${B}`);
  for (const p of prompts) {
    if (p.length === 0 || p.length > P) throw new Error(`generate: prompt of ${p.length} tokens; each needs 1..${P} (the prefill length)`);
  }
  const pad = opts.padId ?? 0;
  const stop = new Set(opts.stopIds);
  const lengths = prompts.map((p) => p.length);
  const feeds: PrefillFeeds = {
    input_ids: new Int32Array(B * P).fill(pad),
    position_ids: new Int32Array(B * P),
    attention_mask: new Int32Array(B * P),
    logits_index: Int32Array.from(lengths, (n, b) => b * P + n - 1),
  };
  prompts.forEach((p, b) => {
    for (let t = 0; t < P; t++) {
      feeds.position_ids[b * P + t] = t;
      if (t < p.length) {
        feeds.input_ids[b * P + t] = p[t]!;
        feeds.attention_mask[b * P + t] = 1;
      }
    }
  });
  const out: number[][] = prompts.map(() => []);
  const seen = prompts.map((p) => [...p]);
  const done = prompts.map(() => false);
  let logits = await io.prefill(feeds);
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const V = logits.length / B;
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const token = chooseToken(logits.subarray(b * V, (b + 1) * V), seen[b]!, opts.sampling, opts.rng ?? null);
      out[b]!.push(token);
      seen[b]!.push(token);
      opts.onToken?.(b, token, step);
      if (stop.has(token) || lengths[b]! + out[b]!.length >= S) done[b] = true;
    }
    if (done.every(Boolean) || step === opts.maxNewTokens - 1 || opts.shouldStop?.()) break;
    const dec: DecodeFeeds = { input_ids: new Int32Array(B).fill(pad), position_ids: new Int32Array(B), attention_mask: new Int32Array(B * S) };
    for (let b = 0; b < B; b++) {
      // The token fed now sits at position (prompt length + tokens generated before it); finished rows replay a pad
      // at their last position, which nothing reads.
      const pos = Math.min(lengths[b]! + out[b]!.length - 1, S - 1);
      dec.position_ids[b] = pos;
      if (!done[b]) dec.input_ids[b] = out[b]![out[b]!.length - 1]!;
      dec.attention_mask.fill(1, b * S, b * S + pos + 1);
    }
    logits = await io.decode(dec);
  }
  return out;
}

/**
 * Ids that end a row: EOS from config.json and generation_config.json plus end-of-turn ids the caller found in the
 * tokenizer (Llama 3's <|eot_id|>, Qwen's <|im_end|>, Gemma's <end_of_turn>), sorted and de-duplicated.
 */
export function stopTokenIds(cfg: ModelConfig, generation: { readonly eosTokenIds: readonly number[] } | null, endOfTurn: readonly number[] = []): number[] {
  return [...new Set([...cfg.eosTokenIds, ...(generation?.eosTokenIds ?? []), ...endOfTurn])].sort((a, b) => a - b);
}
