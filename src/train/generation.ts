// Text generation on a runtime backend: the KV-cache prefill/decode graphs of src/models, bound to the base weights
// (uploaded once) and to the current adapter, driven by models' host loop. Used for training samples and for
// `tabtune generate`. The cache stays on the device between decode steps on WebGPU; only logits come back. On WASM/CPU
// the decode session holds the base weights (runtime/held-weights.ts), so a token feeds only what changes.
import { serializeGraph } from '../engine/onnx.ts';
import type { ModelConfig } from '../models/config.ts';
import { buildGenerationGraphs, generate, type DecodeFeeds, type GenerationShape, type PrefillFeeds } from '../models/generate.ts';
import type { LoraPlan } from '../models/lora.ts';
import { Rng as RngImpl, type Rng } from '../models/rng.ts';
import { parseGenerationConfig, type SamplingOptions } from '../models/sampling.ts';
import { FROZEN_DATE, mustCompile, renderChat } from '../data/template.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { Message } from '../data/types.ts';
import { weightTable } from '../models/weights.ts';
import { graphBuildFor } from './graphs.ts';
import type { Backend, HostTensor, OrtTensor, RuntimeSession } from '../runtime/backend.ts';
import { HeldWeights } from '../runtime/held-weights.ts';

export interface GenerateRequest {
  readonly prompts: readonly (readonly number[])[];
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  readonly stopIds: readonly number[];
  readonly rng: Rng | null;
  readonly padId: number;
  /** Adapter values by PEFT key (required when the generator was built with a LoRA plan). */
  readonly adapter?: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;
  /** Base tensors trained in full (by weight-table name): used instead of the weights uploaded at create. */
  readonly weights?: Readonly<Record<string, Float32Array>>;
  readonly onToken?: (row: number, token: number) => void;
}

export interface GeneratorOptions {
  /**
   * Base weights a request may replace (GenerateRequest.weights: tensors trained in full). They stay inputs of every
   * session; the others are held by the decode session where the backend holds weights (WASM, CPU).
   */
  readonly replaceable?: readonly string[];
  /** 'feeds' feeds every weight on every run, as on WebGPU (the old path, for benchmarks and tests). Default 'session'. */
  readonly frozenIn?: 'session' | 'feeds';
}

export class Generator {
  private constructor(
    private readonly backend: Backend,
    private readonly cfg: ModelConfig,
    private readonly plan: LoraPlan | null,
    readonly shape: GenerationShape,
    private readonly prefillSession: RuntimeSession,
    private readonly decodeSession: RuntimeSession,
    /** Every base weight, fed to prefill (one run per request). */
    private readonly weights: Record<string, OrtTensor>,
    /** The base weights decode is fed: none of those its session holds. */
    private readonly decodeWeights: Record<string, OrtTensor>,
  ) {}

  /**
   * Builds the graphs for `shape` and uploads the base weights once. Where the backend holds weights in its sessions
   * (WASM, CPU), the decode session holds them (read once, at creation): decode runs once per token, and WASM would
   * otherwise copy every weight into its heap for each one. Prefill, run once per request, is fed them, which spares
   * the heap a second held copy.
   */
  static async create(backend: Backend, cfg: ModelConfig, weights: ReadonlyMap<string, Float32Array>, plan: LoraPlan | null, shape: GenerationShape, options: GeneratorOptions = {}): Promise<Generator> {
    const graphs = buildGenerationGraphs(cfg, shape, plan, { einsumAttention: graphBuildFor(backend.kind, false).einsumAttention });
    const cacheOutputs = Array.from({ length: graphs.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    const table = weightTable(cfg);
    const host: Record<string, HostTensor> = {};
    for (const spec of table) {
      const data = weights.get(spec.name);
      if (!data) throw new Error(`generation needs weight "${spec.name}", which the checkpoint did not provide`);
      host[spec.name] = { dtype: 'float32', dims: spec.shape, data };
    }
    const replaceable = new Set(options.replaceable ?? []);
    const heldSpecs = table.filter((s) => !replaceable.has(s.name)).map((s) => ({ name: s.name, dtype: 'float32' as const, shape: s.shape }));
    const held = HeldWeights.forBackend(backend, heldSpecs, host, options.frozenIn === 'feeds');
    const prefill = await backend.createSession(serializeGraph(graphs.prefill), { deviceOutputs: cacheOutputs });
    const decode = held
      ? await held.createSession(backend, graphs.decode, { deviceOutputs: cacheOutputs })
      : await backend.createSession(serializeGraph(graphs.decode), { deviceOutputs: cacheOutputs });
    const bound: Record<string, OrtTensor> = {};
    for (const spec of table) bound[spec.name] = await backend.upload(host[spec.name]!);
    const decodeWeights = Object.fromEntries(Object.entries(bound).filter(([name]) => !held?.has(name)));
    return new Generator(backend, cfg, plan, shape, prefill, decode, bound, decodeWeights);
  }

  /** New tokens per prompt. Prompts must fit the prefill length; they are right-padded by models' loop. */
  async generate(req: GenerateRequest): Promise<number[][]> {
    const adapterFeeds: Record<string, OrtTensor> = {};
    if (this.plan) {
      if (!req.adapter) throw new Error('this generator applies a LoRA adapter: pass its tensors in GenerateRequest.adapter');
      const get = (k: string): Float32Array | undefined => (req.adapter instanceof Map ? req.adapter.get(k) : (req.adapter as Record<string, Float32Array>)[k]);
      for (const t of this.plan.targets) {
        for (const [key, dims] of [[t.keyA, [this.plan.config.r, t.inFeatures]], [t.keyB, [t.outFeatures, this.plan.config.r]]] as const) {
          const data = get(key);
          if (!data) throw new Error(`adapter tensor ${key} is missing`);
          adapterFeeds[key] = this.backend.tensor({ dtype: 'float32', dims, data });
        }
      }
    }
    for (const [name, data] of Object.entries(req.weights ?? {})) {
      const base = this.weights[name];
      if (!base) throw new Error(`generation has no base weight "${name}" to replace`);
      if (!(name in this.decodeWeights)) throw new Error(`base weight "${name}" is held by the decode session: name it in GeneratorOptions.replaceable to replace it per request`);
      adapterFeeds[name] = this.backend.tensor({ dtype: 'float32', dims: [...base.dims], data });
    }
    let cache: Record<string, OrtTensor> = {};
    const layers = this.cfg.numLayers;
    const B = this.shape.batch;
    const int = (data: Int32Array, dims: number[]) => this.backend.tensor({ dtype: 'int32', dims, data });
    const takeCache = (out: Record<string, OrtTensor>): void => {
      const next: Record<string, OrtTensor> = {};
      for (let i = 0; i < layers; i++) {
        next[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
        next[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
      }
      dispose(cache);
      cache = next;
    };
    const logitsOf = async (out: Record<string, OrtTensor>): Promise<Float32Array> => (await this.backend.read(out['logits']!)).data as Float32Array;
    const io = {
      prefill: async (f: PrefillFeeds): Promise<Float32Array> => {
        const P = this.shape.promptLen;
        const out = await this.prefillSession.run({
          ...this.weights, ...adapterFeeds,
          input_ids: int(f.input_ids, [B, P]), position_ids: int(f.position_ids, [B, P]), attention_mask: int(f.attention_mask, [B, P]), logits_index: int(f.logits_index, [B]),
        });
        takeCache(out);
        return logitsOf(out);
      },
      decode: async (f: DecodeFeeds): Promise<Float32Array> => {
        const out = await this.decodeSession.run({
          ...this.decodeWeights, ...adapterFeeds, ...cache,
          input_ids: int(f.input_ids, [B, 1]), position_ids: int(f.position_ids, [B, 1]), attention_mask: int(f.attention_mask, [B, this.shape.maxLen]),
        });
        takeCache(out);
        return logitsOf(out);
      },
    };
    try {
      return await generate(io, this.shape, req.prompts, {
        maxNewTokens: req.maxNewTokens,
        sampling: req.sampling,
        stopIds: req.stopIds,
        rng: req.rng,
        padId: req.padId,
        ...(req.onToken ? { onToken: (row: number, token: number) => req.onToken!(row, token) } : {}),
      });
    } finally {
      dispose(cache);
    }
  }

  async release(): Promise<void> {
    dispose(this.weights);
    await this.prefillSession.release();
    await this.decodeSession.release();
  }
}

function dispose(tensors: Record<string, OrtTensor>): void {
  for (const t of Object.values(tensors)) if (t.location === 'gpu-buffer') t.dispose();
}

/** What `tabtune generate` continues: raw text (tokenised with the tokenizer's special tokens) or a chat rendered with
 * the chat template and its generation prompt (which already holds the special tokens, so none are added). */
export type PromptInput = { readonly text: string } | { readonly messages: readonly Message[] };

export function encodePrompt(tok: Tokenizer, input: PromptInput): number[] {
  if ('text' in input) return tok.encode(input.text, { addSpecialTokens: true });
  if (!tok.chatTemplate) throw new Error('the tokenizer has no chat template, so a chat cannot be rendered. HINT: give the exact prompt text instead.');
  const text = renderChat(mustCompile(tok.chatTemplate, "the tokenizer's chat template"), [...input.messages], {
    addGenerationPrompt: true, bosToken: tok.bosToken, eosToken: tok.eosToken, date: FROZEN_DATE,
  });
  return tok.encode(text, { addSpecialTokens: false });
}

/** Sampling for a generation: the checkpoint's generation_config.json, overridden by what the user asked for. */
export function samplingFor(generationConfig: unknown, ask: { temperature?: number; topP?: number; maxNewTokens?: number }): {
  sampling: SamplingOptions; maxNewTokens: number; eosTokenIds: readonly number[];
} {
  const defaults = parseGenerationConfig(generationConfig ?? {});
  const doSample = ask.temperature !== undefined ? ask.temperature > 0 : defaults.doSample;
  return {
    sampling: {
      doSample,
      temperature: ask.temperature && ask.temperature > 0 ? ask.temperature : defaults.temperature,
      topK: defaults.topK,
      topP: ask.topP ?? defaults.topP,
      repetitionPenalty: defaults.repetitionPenalty,
    },
    maxNewTokens: ask.maxNewTokens ?? defaults.maxNewTokens ?? 64,
    eosTokenIds: defaults.eosTokenIds,
  };
}

/** The seeded stream sampling draws from (null when decoding greedily). */
export function samplingRng(sampling: SamplingOptions, seed: number): Rng | null {
  return sampling.doSample ? RngImpl.fromSeed(seed) : null;
}
