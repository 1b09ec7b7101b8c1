// Pretraining tabtune/tiny-storyteller with TabTune's own engine: a seeded random Llama checkpoint built in memory,
// the corpus as plain-text rows through the run session (every token a target), full-parameter training of every
// tensor on a native CPU backend, then the trained tensors written back as an HF checkpoint. Pure function of the
// spec and the thread count: the same machine and threads give the same bytes.
import { createHash } from 'node:crypto';
import { randomTensor } from '../fixtures/prng.ts';
import { jsonBytes } from '../fixtures/tokenizers.ts';
import { writeSafetensors, type TensorToWrite } from '../../src/hub/safetensors.ts';
import { decoderTensors, type TensorSpec } from '../fixtures/families.ts';
import type { Row } from '../../src/data/types.ts';
import { createNodeBackend } from '../../src/runtime/node.ts';
import { parseRunConfig } from '../../src/share/run-config.ts';
import { loadModel, loadTokenizerFrom, type FileSource, type LoadedModel, type TokenizerBundle } from '../../src/train/model-source.ts';
import { RunSession } from '../../src/train/session.ts';
import { Generator } from '../../src/train/generation.ts';
import { GREEDY } from '../../src/models/sampling.ts';
import { corpusParagraphs, packDocuments } from './corpus.ts';
import { END_OF_TURN, EOS_TOKEN, tokenizerJsons, trainBpe } from './tokenizer.ts';

export interface PretrainSpec {
  readonly repo: string;
  readonly seed: string;
  /** Paragraphs generated, then packed into documents of at most documentTokens tokens (EOS included). */
  readonly paragraphs: number;
  readonly documentTokens: number;
  readonly merges: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly maxPositions: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly evalFraction: number;
}

export interface LogLine {
  step: number;
  loss: number;
  lr: number;
  tokens: number;
  seconds: number;
}

export interface PretrainResult {
  files: Map<string, Uint8Array>;
  modelSha256: string;
  params: number;
  corpusBytes: number;
  corpusTokens: number;
  trainRows: number;
  evalRows: number;
  seqLen: number;
  trainedTokens: number;
  seconds: number;
  finalLoss: number;
  evalLoss: number;
  log: LogLine[];
  threads: number;
  tokenizer: TokenizerBundle;
  model: LoadedModel;
  corpus: string[];
}

/** An in-memory checkpoint folder. */
function memorySource(id: string, files: ReadonlyMap<string, Uint8Array>): FileSource {
  return {
    id,
    sha: null,
    list: async () => [...files.keys()],
    read: async (path) => {
      const bytes = files.get(path);
      if (!bytes) throw new Error(`${id} has no ${path}`);
      return bytes;
    },
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function initTensor(spec: PretrainSpec, t: TensorSpec): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.name.endsWith('norm.weight')) return new Float32Array(count).fill(1);
  // GPT-2's init: 0.02, with the projections that write into the residual stream scaled by 1/sqrt(2 × layers).
  const residual = /o_proj|down_proj/.test(t.name);
  return randomTensor(spec.seed, t.name, count, residual ? 0.02 / Math.sqrt(2 * spec.layers) : 0.02);
}

export function configJson(spec: PretrainSpec, vocab: number, ids: Record<string, number>): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: ids[EOS_TOKEN],
    eos_token_id: ids[EOS_TOKEN],
    head_dim: spec.hidden / spec.heads,
    hidden_act: 'silu',
    hidden_size: spec.hidden,
    initializer_range: 0.02,
    intermediate_size: spec.intermediate,
    max_position_embeddings: spec.maxPositions,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: spec.heads,
    num_hidden_layers: spec.layers,
    num_key_value_heads: spec.kvHeads,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: 10000.0,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    transformers_version: '4.51.3',
    use_cache: true,
    vocab_size: vocab,
  };
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}

/** Tokenizer files and the untrained checkpoint, all in memory. */
export function initialCheckpoint(spec: PretrainSpec, corpus: readonly string[]): { files: Map<string, Uint8Array>; tensors: TensorSpec[]; ids: Record<string, number>; config: Record<string, unknown> } {
  const bpe = trainBpe(corpus, spec.merges); // from the paragraphs: packing does not change the words
  const tok = tokenizerJsons(bpe, spec.maxPositions);
  const vocab = bpe.vocab.size + Object.keys(tok.ids).length;
  const tensors = decoderTensors({
    hidden: spec.hidden, intermediate: spec.intermediate, heads: spec.heads, kvHeads: spec.kvHeads, headDim: spec.hidden / spec.heads,
    layers: spec.layers, vocab, tied: true, qkvBias: false, qkNorm: false,
  });
  const weights: TensorToWrite[] = tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: initTensor(spec, t) }));
  const config = configJson(spec, vocab, tok.ids);
  const files = new Map<string, Uint8Array>([
    ['config.json', jsonBytes(sortKeys(config))],
    ['generation_config.json', jsonBytes(generationConfig(tok.ids))],
    ['tokenizer.json', jsonBytes(tok.tokenizer)],
    ['tokenizer_config.json', jsonBytes(tok.config)],
    ['special_tokens_map.json', jsonBytes(tok.specialMap)],
    ['model.safetensors', writeSafetensors(weights)],
  ]);
  return { files, tensors, ids: tok.ids, config };
}

function generationConfig(ids: Record<string, number>): Record<string, unknown> {
  return {
    bos_token_id: ids[EOS_TOKEN], do_sample: false, eos_token_id: [ids[EOS_TOKEN], ids[END_OF_TURN]], max_new_tokens: 64,
    pad_token_id: ids[EOS_TOKEN], transformers_version: '4.51.3',
  };
}

/** The LoRA plan every trainer needs is kept to one rank-1 adapter on one module and merged back at the end. */
const LORA_MODULE = 'model.layers.0.self_attn.q_proj';

export async function pretrain(spec: PretrainSpec, opts: { threads: number; log?: (l: LogLine) => void; steps?: number }): Promise<PretrainResult> {
  const paragraphs = corpusParagraphs(spec.seed, spec.paragraphs);
  const init = initialCheckpoint(spec, paragraphs);
  const source = memorySource(spec.repo, init.files);
  const model = await loadModel(source);
  const tokenizer = await loadTokenizerFrom(source);
  const tok = tokenizer.tokenizer;
  const corpus = packDocuments(paragraphs, (t) => tok.encode(t, { addSpecialTokens: false }).length, spec.documentTokens);
  const corpusBytes = corpus.reduce((s, d) => s + Buffer.byteLength(d), 0);
  const steps = opts.steps ?? spec.steps;
  const config = parseRunConfig({
    model: { repo: spec.repo, revision: 'main' },
    data: { source: 'upload', name: 'corpus.jsonl', hash: sha256(new TextEncoder().encode(corpus.join('\u0000'))) },
    maxLength: spec.documentTokens + 8,
    evalFraction: spec.evalFraction,
    seed: 0,
    lora: { r: 1, alpha: 1, targets: [LORA_MODULE] },
    full: { groups: ['norms', 'embeddings', 'head'], layers: Array.from({ length: spec.layers }, (_, i) => i) },
    train: {
      steps, batchSize: spec.batchSize, lr: spec.lr, schedule: 'cosine', warmupSteps: spec.warmupSteps, weightDecay: 0, maxGradNorm: 1,
      beta1: 0.9, beta2: 0.95, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0,
    },
  });
  const rows: Row[] = corpus.map((text, i) => ({ id: `doc-${i}`, kind: 'text', text }));
  const session = RunSession.prepare({ config, model: model.config, tokenizer, data: { name: 'corpus.jsonl', hash: config.data.source === 'upload' ? config.data.hash : '', rows } });
  if (session.dataset.dropped.length > 0) throw new Error(`${session.dataset.dropped.length} corpus documents were dropped: ${session.dataset.dropped[0]!.message}`);
  const corpusTokens = session.dataset.examples.reduce((s, e) => s + e.ids.length, 0);
  const backend = await createNodeBackend('cpu', { threads: opts.threads });
  const trainer = await session.createTrainer({ backend, model, totalSteps: steps });
  const log: LogLine[] = [];
  let tokens = 0;
  const started = performance.now();
  try {
    const result = await trainer.run({
      onStep: (r) => {
        tokens += r.targetTokens;
        const line = { step: r.step, loss: r.loss, lr: r.lr, tokens, seconds: (performance.now() - started) / 1000 };
        log.push(line);
        opts.log?.(line);
      },
    });
    if (result.reason !== 'completed') throw new Error(`pretraining stopped early (${result.reason} at step ${result.badStep ?? result.step})`);
    const seconds = (performance.now() - started) / 1000;
    const evalLoss = session.evalSet.length > 0 ? (await trainer.evaluate()).loss : Number.NaN;
    const state = await trainer.checkpoint();
    const params = state.params;
    // Merge the rank-1 adapter into its module: W += scale · B A.
    const target = trainer.plan.targets[0]!;
    const a = params[target.keyA]!;
    const b = params[target.keyB]!;
    const w = Float32Array.from(params[`${LORA_MODULE}.weight`]!);
    const scale = trainer.plan.scale;
    for (let o = 0; o < target.outFeatures; o++) for (let i = 0; i < target.inFeatures; i++) w[o * target.inFeatures + i]! += scale * b[o]! * a[i]!;
    const trained: TensorToWrite[] = init.tensors.map((t) => {
      const values = t.name === `${LORA_MODULE}.weight` ? w : params[t.name];
      if (!values) throw new Error(`the trainer did not train ${t.name}`);
      return { name: t.name, dtype: 'F32', shape: t.shape, data: values };
    });
    const weightsBytes = writeSafetensors(trained);
    const files = new Map(init.files);
    files.set('model.safetensors', weightsBytes);
    const finalModel = await loadModel(memorySource(spec.repo, files));
    return {
      files, modelSha256: sha256(weightsBytes), params: init.tensors.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1), 0),
      corpusBytes, corpusTokens, trainRows: session.train.length, evalRows: session.evalSet.length, seqLen: trainer.shape.seqLen,
      trainedTokens: tokens, seconds, finalLoss: log.length ? log.slice(-20).reduce((s, l) => s + l.loss, 0) / Math.min(20, log.length) : Number.NaN,
      evalLoss, log, threads: opts.threads, tokenizer, model: finalModel, corpus,
    };
  } finally {
    await trainer.release();
    await backend.release();
  }
}

export interface Continuation {
  prompt: string;
  text: string;
}

/** Greedy continuations of plain-text prompts with a checkpoint's own generate graphs. */
export async function continuations(model: LoadedModel, tokenizer: TokenizerBundle, prompts: readonly string[], maxNewTokens: number, threads: number): Promise<Continuation[]> {
  const tok = tokenizer.tokenizer;
  const encoded = prompts.map((p) => tok.encode(p, { addSpecialTokens: false }));
  const promptLen = Math.max(...encoded.map((e) => e.length));
  const backend = await createNodeBackend('cpu', { threads });
  const gen = await Generator.create(backend, model.config, model.weights, null, { batch: prompts.length, promptLen, maxLen: promptLen + maxNewTokens });
  try {
    const out = await gen.generate({
      prompts: encoded, maxNewTokens, sampling: GREEDY, stopIds: [...tok.endOfTurnIds], rng: null, padId: tok.padId ?? 0,
    });
    return prompts.map((prompt, i) => ({ prompt, text: tok.decode(out[i]!) }));
  } finally {
    await gen.release();
    await backend.release();
  }
}

/** Lower-case words of a text (letters and apostrophes). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

export interface SpeechStats {
  /** Generated words found in the corpus vocabulary ÷ generated words. */
  wordValidity: number;
  words: number;
  /** Distinct sentences ÷ sentences, within each continuation, pooled. */
  distinctSentences: number;
  sentences: number;
}

export function speechStats(corpus: readonly string[], outs: readonly Continuation[]): SpeechStats {
  const vocab = new Set(corpus.flatMap(words));
  let total = 0;
  let known = 0;
  let sentences = 0;
  let distinct = 0;
  for (const o of outs) {
    const w = words(o.text);
    total += w.length;
    known += w.filter((x) => vocab.has(x)).length;
    // Only whole sentences count: the text up to the last full stop.
    const s = (o.text.match(/[^.!?]+[.!?]/g) ?? []).map((x) => x.trim()).filter(Boolean);
    sentences += s.length;
    distinct += new Set(s).size;
  }
  return { wordValidity: total ? known / total : 0, words: total, distinctSentences: sentences ? distinct / sentences : 1, sentences };
}
