// `model.inspect`: pins a Hub repo revision to a commit, then reads what the Model and Template panels show —
// config.json, the tokenizer files' presence and chat template, and the safetensors headers (parameter count) —
// through src/hub, the same fetch code the trainer uses. Weights themselves are not downloaded here.
import { fetchFile, fetchJson, hubConfig, openRemoteCheckpoint, resolveRevision, type HubConfig } from '../../hub/index.ts';
import type {
  HubLocation, ModelConfigSummary, ModelSummary, ParameterCount, RepoFile, TokenizerSummary,
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
export function summarizeConfig(config: Json): ModelConfigSummary {
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

export async function inspectModel(location: HubLocation, ctx: HandlerContext): Promise<ModelSummary> {
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
  return { location, sha: resolved.sha, files, config: summarizeConfig(config), tokenizer, parameters };
}
