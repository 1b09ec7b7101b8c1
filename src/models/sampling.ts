// Next-token choice from one row of logits, in transformers' order: repetition penalty, then temperature, top-k and
// top-p, then a draw from a seeded Rng (or argmax when not sampling). Also reads generation_config.json defaults.
// Pure functions over Float32Array; no graph, no runtime.
import type { Rng } from './rng.ts';

export interface SamplingOptions {
  /** false = greedy (argmax after the repetition penalty), as transformers' do_sample. */
  readonly doSample: boolean;
  readonly temperature: number;
  /** 0 disables top-k. */
  readonly topK: number;
  /** 1 disables top-p. */
  readonly topP: number;
  /** 1 disables the penalty. */
  readonly repetitionPenalty: number;
}

export const GREEDY: SamplingOptions = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 };

export interface GenerationDefaults extends SamplingOptions {
  /** Stop ids from generation_config.json's eos_token_id (a number or a list). */
  readonly eosTokenIds: readonly number[];
  readonly maxNewTokens: number | null;
}

/** Reads generation_config.json with transformers' defaults for absent keys (top_k 50, top_p 1, temperature 1). */
export function parseGenerationConfig(raw: unknown): GenerationDefaults {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const n = (key: string, fallback: number): number => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`generation_config.json: ${key} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const eos = c['eos_token_id'];
  const eosTokenIds = eos === undefined || eos === null ? [] : Array.isArray(eos) ? (eos as number[]) : [eos as number];
  if (!eosTokenIds.every((x) => Number.isInteger(x))) throw new Error('generation_config.json: eos_token_id must be an integer or a list of integers');
  const opts: GenerationDefaults = {
    doSample: c['do_sample'] === true,
    temperature: n('temperature', 1),
    topK: n('top_k', 50),
    topP: n('top_p', 1),
    repetitionPenalty: n('repetition_penalty', 1),
    eosTokenIds,
    maxNewTokens: c['max_new_tokens'] === undefined || c['max_new_tokens'] === null ? null : n('max_new_tokens', 0),
  };
  checkSampling(opts);
  return opts;
}

function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature > 0)) throw new Error(`temperature must be > 0, got ${o.temperature}; use greedy decoding for temperature 0`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new Error(`top_k must be a non-negative integer, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new Error(`top_p must be in (0, 1], got ${o.topP}`);
  if (!(o.repetitionPenalty > 0)) throw new Error(`repetition_penalty must be > 0, got ${o.repetitionPenalty}`);
}

/**
 * Picks the next token. `previous` holds the ids already in the sequence (prompt and generated), which the
 * repetition penalty discourages: logits < 0 are multiplied by it, others divided (transformers' rule).
 */
export function chooseToken(logits: Float32Array, previous: Iterable<number>, o: SamplingOptions, rng: Rng | null): number {
  const scores = Float64Array.from(logits);
  if (o.repetitionPenalty !== 1) {
    for (const id of new Set(previous)) {
      const s = scores[id];
      if (s === undefined) continue;
      scores[id] = s < 0 ? s * o.repetitionPenalty : s / o.repetitionPenalty;
    }
  }
  if (!o.doSample) return argmax(scores);
  if (!rng) throw new Error('sampling needs a seeded Rng; pass one or set doSample false');
  checkSampling(o);
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / o.temperature;
  // Candidates in descending score order; top-k keeps ties with the k-th score, as transformers' `< kth` filter.
  const candidates = o.topK > 0 && o.topK < scores.length ? topKCandidates(scores, o.topK) : Array.from(scores.keys());
  const order = candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const max = scores[order[0]!]!;
  const weights = order.map((id) => Math.exp(scores[id]! - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let keep = order.length;
  if (o.topP < 1) {
    // Keep the smallest high-probability prefix whose mass reaches top_p: transformers drops a token when the mass of
    // it and every less likely token is <= 1 - top_p, and always keeps the most likely one.
    let tail = 0;
    keep = 1;
    for (let i = order.length - 1; i >= 1; i--) {
      tail += weights[i]! / total;
      if (tail > 1 - o.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const kept = weights.slice(0, keep);
  const mass = kept.reduce((a, b) => a + b, 0);
  let u = rng.next() * mass;
  for (let i = 0; i < keep; i++) {
    u -= kept[i]!;
    if (u < 0) return order[i]!;
  }
  return order[keep - 1]!;
}

/** Ids whose score is >= the k-th largest, found without sorting the whole vocabulary. */
function topKCandidates(scores: Float64Array, k: number): number[] {
  // `best` holds the k largest scores seen so far in ascending order; best[0] is the running k-th largest.
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (best.length === k && s <= best[0]!) continue;
    let j = best.findIndex((b) => b > s);
    if (j < 0) j = best.length;
    best.splice(j, 0, s);
    if (best.length > k) best.shift();
  }
  const kth = best[0]!;
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= kth) out.push(i);
  return out;
}

function argmax(x: Float64Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
