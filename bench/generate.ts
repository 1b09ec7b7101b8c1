// Generation benchmark (`npm run bench:generate [-- --frozen both --new-tokens 32 ...]`): greedy decoding through the
// KV-cache graphs of a Llama-family model (SmolLM2-135M's shapes by default, seeded random weights, a LoRA adapter on
// every projection) on a Node backend, reporting decode tokens/s. `--frozen both` times WASM twice, base weights held
// by the decode session (the default) and fed on every token (the old path), and checks both give the same tokens.
import { readFlags } from './flags.ts';
import { parseModelConfig } from '../src/models/config.ts';
import { planLora } from '../src/models/lora.ts';
import { Rng } from '../src/models/rng.ts';
import { GREEDY } from '../src/models/sampling.ts';
import { weightTable } from '../src/models/weights.ts';
import type { BackendKind } from '../src/runtime/backend.ts';
import { createNodeBackend } from '../src/runtime/node.ts';
import { Generator } from '../src/train/generation.ts';

const flags = readFlags(process.argv.slice(2), ['backend', 'frozen', 'threads', 'hidden', 'layers', 'heads', 'kv-heads', 'intermediate', 'vocab', 'prompt', 'new-tokens', 'batch', 'rank']);
const kind = (flags.get('backend') ?? 'wasm') as BackendKind;
if (!['wasm', 'cpu'].includes(kind)) throw new Error(`--backend must be wasm or cpu (the backends whose sessions hold weights), got "${kind}"`);
const frozenFlag = flags.get('frozen') ?? 'both';
if (!['session', 'feeds', 'both'].includes(frozenFlag)) throw new Error(`--frozen must be session, feeds or both; got "${frozenFlag}"`);
const modes = frozenFlag === 'both' ? (['feeds', 'session'] as const) : [frozenFlag as 'session' | 'feeds'];
const hidden = flags.int('hidden', 576);
const heads = flags.int('heads', 9);
const config = parseModelConfig({
  model_type: 'llama', hidden_size: hidden, num_hidden_layers: flags.int('layers', 30), num_attention_heads: heads,
  num_key_value_heads: flags.int('kv-heads', 3), intermediate_size: flags.int('intermediate', 1536), vocab_size: flags.int('vocab', 49152),
  head_dim: hidden / heads, rms_norm_eps: 1e-5, rope_theta: 100000, max_position_embeddings: 8192, tie_word_embeddings: true, hidden_act: 'silu',
});
const batch = flags.int('batch', 1);
const promptLen = flags.int('prompt', 16);
const newTokens = flags.int('new-tokens', 32);
const rng = Rng.fromSeed('bench-generate');
const weights = new Map<string, Float32Array>();
for (const spec of weightTable(config)) {
  const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  const norm = /norm/.test(spec.name);
  for (let i = 0; i < data.length; i++) data[i] = norm ? 1 : rng.uniform(-0.05, 0.05);
  weights.set(spec.name, data);
}
const plan = planLora(config, { r: flags.int('rank', 8), alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
const adapter: Record<string, Float32Array> = {};
for (const t of plan.targets) {
  adapter[t.keyA] = Float32Array.from({ length: plan.config.r * t.inFeatures }, () => rng.uniform(-0.05, 0.05));
  adapter[t.keyB] = Float32Array.from({ length: t.outFeatures * plan.config.r }, () => rng.uniform(-0.05, 0.05));
}
const prompts = Array.from({ length: batch }, (_, b) => Array.from({ length: promptLen }, (_, i) => (97 * (b + 1) + 31 * i) % config.vocabSize));
const backend = await createNodeBackend(kind, flags.get('threads') !== undefined ? { threads: flags.int('threads', 1) } : {});
const weightMb = [...weights.values()].reduce((n, w) => n + w.byteLength, 0) / 1e6;
console.log(`${backend.label}; ${config.numLayers} layers × hidden ${hidden}, vocab ${config.vocabSize} (${weightMb.toFixed(0)} MB of weights), batch ${batch}, prompt ${promptLen}, ${newTokens} new tokens, greedy, LoRA r=${plan.config.r}`);
const results: { mode: string; tokens: number[][]; perS: number }[] = [];
for (const mode of modes) {
  const gen = await Generator.create(backend, config, weights, plan, { batch, promptLen, maxLen: promptLen + newTokens }, { frozenIn: mode });
  const request = { prompts, maxNewTokens: newTokens, sampling: GREEDY, stopIds: [], rng: null, padId: 0, adapter };
  await gen.generate({ ...request, maxNewTokens: 2 }); // warm-up: first runs allocate
  let firstAt = 0;
  let count = 0;
  const started = performance.now();
  const tokens = await gen.generate({ ...request, onToken: () => (count++ === 0 ? (firstAt = performance.now()) : 0) });
  const decodeS = (performance.now() - firstAt) / 1000;
  const perS = ((count - batch) / decodeS);
  console.log(`frozen weights in ${mode === 'session' ? 'the decode session' : 'the feeds'}: prefill + first token ${(firstAt - started).toFixed(0)} ms, decode ${perS.toFixed(2)} tokens/s (${count - batch} tokens in ${decodeS.toFixed(2)} s)`);
  results.push({ mode, tokens, perS });
  await gen.release();
}
if (results.length === 2) {
  const [fed, held] = results as [(typeof results)[0], (typeof results)[0]];
  if (JSON.stringify(fed.tokens) !== JSON.stringify(held.tokens)) throw new Error('held and fed weights generated different tokens');
  console.log(`same tokens both ways; held ÷ fed = ${(held.perS / fed.perS).toFixed(2)}×`);
}
await backend.release();
