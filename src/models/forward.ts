// Entry point of the family graph builders: one call builds the forward pass of any supported config into a
// GraphBuilder (training, eval, prefill or one-token decode, with or without LoRA), leaving outputs to the caller.
import type { GraphBuilder } from '../engine/graph.ts';
import type { Value } from '../engine/ir.ts';
import type { ModelConfig } from './config.ts';
import { buildGemma3Forward } from './gemma3.ts';
import { buildGpt2Forward } from './gpt2.ts';
import { buildGraniteForward } from './granite.ts';
import type { ForwardGraph, ForwardOptions } from './layers.ts';
import { buildLlamaForward } from './llama.ts';
import { buildOlmo2Forward } from './olmo2.ts';

export function buildForward(g: GraphBuilder, cfg: ModelConfig, opts: ForwardOptions): ForwardGraph {
  if (cfg.family === 'gpt2') return buildGpt2Forward(g, cfg, opts);
  if (cfg.family === 'gemma3') return buildGemma3Forward(g, cfg, opts);
  if (cfg.family === 'olmo2') return buildOlmo2Forward(g, cfg, opts);
  if (cfg.family === 'granite') return buildGraniteForward(g, cfg, opts);
  return buildLlamaForward(g, cfg, opts);
}

/** position_ids for right-padded rows (or no padding): 0..T-1 on every row, as transformers uses for training. */
export function defaultPositionIds(batch: number, seqLen: number): Int32Array {
  const out = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) out[b * seqLen + t] = t;
  return out;
}

/** The LM head weight [V, H] a forward graph reads (the embedding when tied) and the final-logit soft-cap, if any. */
export function headOf(cfg: ModelConfig, fwd: ForwardGraph): { head: Value; softcap: number | null } {
  const name = cfg.family === 'gpt2' ? 'transformer.wte.weight' : cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = fwd.weights.get(name);
  if (!head) throw new Error(`forward: the head weight ${name} is not in the weight table`);
  return { head, softcap: cfg.family === 'gemma3' ? cfg.finalLogitSoftcapping : null };
}
