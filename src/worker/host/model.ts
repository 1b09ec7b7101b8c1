// `model.inspect`: pins a Hub repo revision to a commit, then reads what the Model and Template panels show —
// config.json, the tokenizer files' presence and chat template, and the safetensors headers (parameter count) —
// through src/hub, the same fetch code the trainer uses. Weights themselves are not downloaded here. Also the Model
// panel's other requests: the memory bill and architecture check from config.json (before any download), downloading
// the weights into the cache with byte progress, checking a separate tokenizer, and listing / deleting cached repos.
import { planMemory } from '../../train/index.ts';
import {
  CacheApiFileCache, fetchFile, fetchJson, fetchResolvedFile, hubConfig, listCachedFiles, openRemoteCheckpoint, parseModelConfig, resolveRevision,
  SAFETENSORS_INDEX, SUPPORTED_MODEL_TYPES, UnsupportedModelError, type HubConfig,
} from '../../train/sources.ts';
import type {
  ArchitectureSupport, CachedRepo, HubLocation, MemoryEstimate, MemoryShape, ModelConfigSummary, ModelSummary, ParameterCount,
  RepoFile, TokenizerCheck, TokenizerSummary,
} from '../protocol';
import type { HandlerContext } from './context';

type Json = Record<string, unknown>;

function num(config: Json, ...keys: string[]): number | null {
  for (const key of keys) {
    const v = config[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

function str(obj: Json, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' ? v : null;
}

/** Special tokens in tokenizer_config.json are a string or an AddedToken object `{ content, ... }`. */
function tokenText(obj: Json, key: string): string | null {
  const v = obj[key];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

/** Reads config.json under its upstream keys; GPT-2 spells several of them differently (n_layer, n_embd, ...). */
function summarizeConfig(config: Json): ModelConfigSummary {
  const architectures = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === 'string')
    : [];
  const tie = config.tie_word_embeddings;
  return {
    model_type: str(config, 'model_type'),
    architectures,
    num_hidden_layers: num(config, 'num_hidden_layers', 'n_layer'),
    hidden_size: num(config, 'hidden_size', 'n_embd'),
    intermediate_size: num(config, 'intermediate_size', 'n_inner'),
    num_attention_heads: num(config, 'num_attention_heads', 'n_head'),
    num_key_value_heads: num(config, 'num_key_value_heads'),
    vocab_size: num(config, 'vocab_size'),
    max_position_embeddings: num(config, 'max_position_embeddings', 'n_positions'),
    tie_word_embeddings: typeof tie === 'boolean' ? tie : null,
    torch_dtype: str(config, 'torch_dtype') ?? str(config, 'dtype'),
  };
}

export async function inspectModel(location: HubLocation, ctx: HandlerContext, shape?: MemoryShape): Promise<ModelSummary> {
  const cfg: HubConfig = hubConfig(location.endpoint);
  const opts = { signal: ctx.signal };
  ctx.emit({ type: 'progress', stage: 'Resolving revision', loaded: 0, total: null });
  const resolved = await resolveRevision(cfg, location.repo, location.revision, opts);
  const files: RepoFile[] = resolved.files.map((f) => ({ path: f.path, size: f.size }));
  const has = (path: string): boolean => files.some((f) => f.path === path);
  if (!has('config.json')) {
    throw new Error(`${location.repo}@${resolved.sha.slice(0, 10)} has no config.json, so it is not a transformers checkpoint.`);
  }
  const steps = ['config.json', 'tokenizer_config.json', 'safetensors headers'];
  let done = 0;
  const step = (stage: string): void => ctx.emit({ type: 'progress', stage, loaded: done++, total: steps.length });

  step('Reading config.json');
  const config = (await fetchJson(cfg, location.repo, resolved.sha, 'config.json', opts)) as Json;

  step('Reading tokenizer_config.json');
  const tokenizerConfig = has('tokenizer_config.json')
    ? ((await fetchJson(cfg, location.repo, resolved.sha, 'tokenizer_config.json', opts)) as Json)
    : null;
  let chatTemplate = tokenizerConfig ? str(tokenizerConfig, 'chat_template') : null;
  if (chatTemplate === null && has('chat_template.jinja')) {
    // Newer transformers versions save the template beside tokenizer_config.json instead of inside it.
    const bytes = await fetchFile(cfg, location.repo, resolved.sha, 'chat_template.jinja', opts);
    chatTemplate = new TextDecoder().decode(bytes);
  }
  const tokenizer: TokenizerSummary = {
    hasTokenizerJson: has('tokenizer.json'),
    hasTokenizerConfig: tokenizerConfig !== null,
    chatTemplate,
    tokenizerClass: tokenizerConfig ? str(tokenizerConfig, 'tokenizer_class') : null,
    bosToken: tokenizerConfig ? tokenText(tokenizerConfig, 'bos_token') : null,
    eosToken: tokenizerConfig ? tokenText(tokenizerConfig, 'eos_token') : null,
    padToken: tokenizerConfig ? tokenText(tokenizerConfig, 'pad_token') : null,
  };

  step('Reading safetensors headers');
  // Headers only (HTTP Range): the parameter count needs shapes, not weights.
  const checkpoint = await openRemoteCheckpoint(cfg, resolved, opts);
  const parameters: ParameterCount = { total: 0, tensors: 0, byDtype: {} };
  for (const { info } of checkpoint.tensors.values()) {
    const count = info.shape.reduce((a, b) => a * b, 1);
    parameters.total += count;
    parameters.tensors += 1;
    parameters.byDtype[info.dtype] = (parameters.byDtype[info.dtype] ?? 0) + count;
  }
  ctx.emit({ type: 'progress', stage: 'Done', loaded: steps.length, total: steps.length });
  const support = architectureSupport(config);
  let memory: MemoryEstimate | null = null;
  let memoryError: string | null = null;
  try {
    if (shape && support.supported) memory = estimateMemory(config, shape);
  } catch (err) {
    // The run's settings may not fit this model (LoRA targets named for another architecture): the summary still
    // loads, and the panel says why there is no bill.
    memoryError = (err as Error).message;
  }
  return { location, sha: resolved.sha, files, config: summarizeConfig(config), tokenizer, parameters, support, memory, memoryError };
}

/** Whether src/models has a forward pass for this config; the message names the supported list. */
function architectureSupport(config: Json): ArchitectureSupport {
  const supportedTypes = [...SUPPORTED_MODEL_TYPES];
  try {
    parseModelConfig(config);
    return { supported: true, message: null, supportedTypes };
  } catch (err) {
    if (err instanceof UnsupportedModelError) return { supported: false, message: err.message, supportedTypes };
    // A supported model_type with a broken config (a missing key) is a problem of this checkpoint, said as such.
    return { supported: false, message: `config.json cannot be read: ${(err as Error).message}`, supportedTypes };
  }
}

/** The memory plan for a run shape (src/train planMemory, from config.json alone), as plain data. */
function estimateMemory(configJson: unknown, shape: MemoryShape): MemoryEstimate {
  // alpha does not change memory; planMemory needs one.
  const run = {
    maxLength: shape.seqLen, lora: { r: shape.lora.r, alpha: shape.lora.r, targets: shape.lora.targets }, train: { batchSize: shape.batch },
    ...(shape.full ? { full: shape.full } : {}),
  };
  const { bill, problems } = planMemory(configJson, run, shape.limits ?? {});
  return {
    shape, weightBytes: bill.weightBytes, weightCopies: bill.weightCopies, trainableParams: bill.trainableParams, trainableBytes: bill.trainableBytes,
    gradientBytes: bill.gradientBytes, optimizerBytes: bill.optimizerBytes, activationBytes: bill.activationBytes,
    largestTensorBytes: bill.largestTensor.bytes, largestTensorName: bill.largestTensor.name, activationNote: bill.activationNote,
    totalBytes: bill.totalBytes, problems: problems.map((p) => p.message),
  };
}

/** `model.memory`: the bill again for another shape, from config.json at the pinned commit (cached after inspect). */
export async function modelMemory(location: HubLocation, shape: MemoryShape, ctx: HandlerContext): Promise<MemoryEstimate> {
  const cfg = hubConfig(location.endpoint);
  const resolved = await resolveRevision(cfg, location.repo, location.revision, { signal: ctx.signal });
  return estimateMemory(await fetchJson(cfg, location.repo, resolved.sha, 'config.json', { signal: ctx.signal }), shape);
}

/** `model.download`: every weight file (single or sharded safetensors) into the cache, with byte progress over all. */
export async function downloadWeights(location: HubLocation, ctx: HandlerContext): Promise<{ files: number; bytes: number }> {
  const cfg = hubConfig(location.endpoint);
  ctx.emit({ type: 'progress', stage: `Resolving ${location.repo}@${location.revision}`, loaded: 0, total: null });
  const resolved = await resolveRevision(cfg, location.repo, location.revision, { signal: ctx.signal });
  const weights = resolved.files.filter((f) => f.path.endsWith('.safetensors') || f.path === SAFETENSORS_INDEX);
  if (!weights.some((f) => f.path.endsWith('.safetensors'))) {
    throw new Error(`${location.repo}@${resolved.sha.slice(0, 10)} has no .safetensors weights (TabTune does not read pickled pytorch_model.bin); pick a checkpoint that has them.`);
  }
  const total = weights.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const file of weights) {
    await fetchResolvedFile(cfg, resolved, file.path, {
      signal: ctx.signal,
      onProgress: (loaded) => ctx.emit({ type: 'progress', stage: `Downloading ${file.path}`, loaded: done + loaded, total, file: file.path }),
    });
    done += file.size;
  }
  ctx.emit({ type: 'progress', stage: 'Downloaded', loaded: total, total });
  return { files: weights.length, bytes: total };
}

interface TokenizerFacts {
  sha: string;
  vocabSize: number;
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  hasChatTemplate: boolean;
}

/** What a tokenizer check compares, read from tokenizer.json and tokenizer_config.json without building the tokenizer
 * (a 128k-token BPE takes seconds to build; the JSON is enough): vocabulary size is the largest id + 1 over the
 * vocabulary and added tokens, as src/data counts it. */
async function tokenizerFacts(location: HubLocation, ctx: HandlerContext): Promise<TokenizerFacts> {
  const cfg = hubConfig(location.endpoint);
  const opts = { signal: ctx.signal };
  const resolved = await resolveRevision(cfg, location.repo, location.revision, opts);
  const has = (path: string) => resolved.files.some((f) => f.path === path);
  for (const needed of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!has(needed)) throw new Error(`${location.repo}@${resolved.sha.slice(0, 10)} has no ${needed}: TabTune needs a fast tokenizer (tokenizer.json + tokenizer_config.json). Pick a repo that has both.`);
  }
  const json = (await fetchJson(cfg, location.repo, resolved.sha, 'tokenizer.json', opts)) as Json;
  const config = (await fetchJson(cfg, location.repo, resolved.sha, 'tokenizer_config.json', opts)) as Json;
  let top = -1;
  const model = json.model as Json | undefined;
  if (model && typeof model.vocab === 'object' && model.vocab !== null && !Array.isArray(model.vocab)) {
    for (const id of Object.values(model.vocab as Record<string, unknown>)) if (typeof id === 'number' && id > top) top = id;
  }
  for (const t of Array.isArray(json.added_tokens) ? (json.added_tokens as Json[]) : []) if (typeof t.id === 'number' && t.id > top) top = t.id;
  if (top < 0) throw new Error(`${location.repo}'s tokenizer.json has no token→id vocabulary; TabTune supports BPE tokenizers.`);
  return {
    sha: resolved.sha, vocabSize: top + 1,
    bosToken: tokenText(config, 'bos_token'), eosToken: tokenText(config, 'eos_token'), padToken: tokenText(config, 'pad_token'),
    hasChatTemplate: typeof config.chat_template === 'string' || has('chat_template.jinja'),
  };
}

/** `tokenizer.check`: another repo's tokenizer against the model's embedding table and its own special tokens. */
export async function checkTokenizer(tokenizer: HubLocation, model: HubLocation, ctx: HandlerContext): Promise<TokenizerCheck> {
  ctx.emit({ type: 'progress', stage: `Reading the tokenizer of ${tokenizer.repo}`, loaded: 0, total: 2 });
  const tok = await tokenizerFacts(tokenizer, ctx);
  ctx.emit({ type: 'progress', stage: `Reading ${model.repo}`, loaded: 1, total: 2 });
  const cfg = hubConfig(model.endpoint);
  const resolved = await resolveRevision(cfg, model.repo, model.revision, { signal: ctx.signal });
  const rows = num((await fetchJson(cfg, model.repo, resolved.sha, 'config.json', { signal: ctx.signal })) as Json, 'vocab_size');
  const hasOwn = ['tokenizer.json', 'tokenizer_config.json'].every((p) => resolved.files.some((f) => f.path === p));
  const own = hasOwn ? await tokenizerFacts({ ...model, revision: resolved.sha }, ctx) : null;
  const problems: TokenizerCheck['problems'] = [];
  if (rows !== null && tok.vocabSize > rows) {
    problems.push({ level: 'error', message: `The tokenizer has ${tok.vocabSize.toLocaleString('en-US')} tokens but ${model.repo} has ${rows.toLocaleString('en-US')} embedding rows (vocab_size): ids past the table cannot be embedded. Use a tokenizer with at most ${rows.toLocaleString('en-US')} tokens, normally the model's own.` });
  }
  if (own) {
    for (const [name, mine, theirs] of [['bos', tok.bosToken, own.bosToken], ['eos', tok.eosToken, own.eosToken], ['pad', tok.padToken, own.padToken]] as const) {
      if (mine !== theirs) {
        problems.push({ level: 'warn', message: `${name}_token differs: ${show(mine)} here, ${show(theirs)} in ${model.repo}'s tokenizer. The model learnt its own; training and generation will use this one.` });
      }
    }
    if (rows !== null && tok.vocabSize <= rows && tok.vocabSize !== own.vocabSize) {
      problems.push({ level: 'warn', message: `The vocabularies differ in size (${tok.vocabSize.toLocaleString('en-US')} vs ${own.vocabSize.toLocaleString('en-US')} in ${model.repo}'s tokenizer): the same id may mean another piece.` });
    }
  }
  if (!tok.hasChatTemplate) {
    problems.push({ level: 'warn', message: `${tokenizer.repo} has no chat template: chat datasets need the alpaca or a custom template.` });
  }
  ctx.emit({ type: 'progress', stage: 'Done', loaded: 2, total: 2 });
  return {
    location: tokenizer, sha: tok.sha, vocabSize: tok.vocabSize, embeddingRows: rows,
    bosToken: tok.bosToken, eosToken: tok.eosToken, padToken: tok.padToken, hasChatTemplate: tok.hasChatTemplate, problems,
  };
}

function show(token: string | null): string {
  return token === null ? 'none' : JSON.stringify(token);
}

const RESOLVE = /^(.*?)(\/datasets)?\/([^/]+)\/([^/]+)\/resolve\/([0-9a-f]{40})\/(.+)$/;

/** Cache keys (resolve URLs at a commit) grouped by endpoint, repo and commit, largest first; other keys are skipped. */
export function groupCachedFiles(entries: readonly { key: string; bytes: number }[]): CachedRepo[] {
  const repos = new Map<string, CachedRepo>();
  for (const { key, bytes } of entries) {
    const m = RESOLVE.exec(key);
    if (!m) continue;
    const [, endpoint = '', datasets, org = '', name = '', sha = ''] = m;
    const kind = datasets ? 'dataset' : 'model';
    const repo = `${decodeURIComponent(org)}/${decodeURIComponent(name)}`;
    const id = `${kind} ${endpoint} ${repo} ${sha}`;
    const entry = repos.get(id) ?? { endpoint, kind, repo, sha, files: 0, bytes: 0 };
    entry.files += 1;
    entry.bytes += bytes;
    repos.set(id, entry);
  }
  return [...repos.values()].sort((a, b) => b.bytes - a.bytes || a.repo.localeCompare(b.repo));
}

function cacheStorage(): CacheStorage {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) throw new Error('This context has no Cache API (caches), so nothing is cached here; open TabTune in a browser over http://localhost or https.');
  return storage;
}

/** `cache.list`. */
export async function listCachedRepos(): Promise<CachedRepo[]> {
  return groupCachedFiles(await listCachedFiles(cacheStorage()));
}

/** `cache.delete`: every cached file of one repo at one commit. */
export async function deleteCachedRepo(target: { endpoint: string; repo: string; sha: string; kind: 'model' | 'dataset' }): Promise<CachedRepo[]> {
  const storage = cacheStorage();
  const cache = new CacheApiFileCache(storage);
  for (const { key } of await listCachedFiles(storage)) {
    const m = RESOLVE.exec(key);
    if (!m) continue;
    const [, endpoint, datasets, org = '', name = '', sha] = m;
    if (endpoint === target.endpoint && sha === target.sha && `${decodeURIComponent(org)}/${decodeURIComponent(name)}` === target.repo && (datasets ? 'dataset' : 'model') === target.kind) {
      await cache.delete(key);
    }
  }
  return listCachedRepos();
}
