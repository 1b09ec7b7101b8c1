// `tabtune generate`: continues a prompt (raw text, or a chat from --messages rendered with the generation prompt)
// with the base model or base + adapter, greedy by default or sampled with a seed; prints the new text.
import type { Message } from '../../data/types.ts';
import { paddingId } from '../../train/dataset.ts';
import { encodePrompt, Generator, samplingFor, samplingRng } from '../../train/generation.ts';
import { HUB_FLAGS, BACKENDS, DEFAULT_BACKEND, num, oneOf, parseFlags, str } from '../args.ts';
import { CliError } from '../errors.ts';
import { readTextFile } from '../files.ts';
import { openModel, openSources, openTokenizer, type CliIO } from '../load.ts';
import { openBackend, readAdapterFolder } from '../setup.ts';

export const GENERATE_HELP = `tabtune generate --model M [--adapter DIR] (--prompt TEXT | --messages FILE.json) [--max-new-tokens N]
  [--temperature T] [--top-p P] [--seed S] [--backend cpu|wasm|webgpu] [--hub-endpoint URL]
Greedy unless --temperature > 0 (or the checkpoint's generation_config.json samples).
`;

function readMessages(path: string, io: CliIO): Message[] {
  const { text } = readTextFile(path, '--messages', io.cwd);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--messages ${path} is not valid JSON (${(e as Error).message}). HINT: a JSON list like [{"role": "user", "content": "Hi"}].`);
  }
  const list = Array.isArray(value) ? value : (value as { messages?: unknown })?.messages;
  if (!Array.isArray(list) || list.length === 0 || !list.every((m) => typeof m?.role === 'string' && typeof m?.content === 'string')) {
    throw new CliError(`--messages ${path} must hold a non-empty list of {"role", "content"} objects (or {"messages": [...]}).`);
  }
  return list as Message[];
}

export async function generateCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('generate', argv, {
    ...HUB_FLAGS, model: { type: 'string' }, tokenizer: { type: 'string' }, adapter: { type: 'string' }, prompt: { type: 'string' }, messages: { type: 'string' },
    'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' },
  });
  if (v['help']) return io.out(GENERATE_HELP), 0;
  const prompt = str(v, 'prompt');
  const messagesPath = str(v, 'messages');
  if ((prompt === undefined) === (messagesPath === undefined)) throw new CliError('tabtune generate needs exactly one of --prompt TEXT or --messages FILE.json');
  const maxNew = num(v, 'max-new-tokens', { int: true, min: 1, max: 4096 });
  const temperature = num(v, 'temperature', { min: 0 });
  const topP = num(v, 'top-p', { min: Number.MIN_VALUE, max: 1 });
  const seed = num(v, 'seed', { int: true, min: 0 }) ?? 42;
  const kind = oneOf(v, 'backend', BACKENDS) ?? DEFAULT_BACKEND;
  const sources = await openSources(v, io, 'generate', true);
  const model = await openModel(sources);
  const { tokenizer: tok } = await openTokenizer(sources);
  const adapterDir = str(v, 'adapter');
  const adapter = adapterDir ? readAdapterFolder(adapterDir, model, io.cwd) : null;
  let ids: number[];
  try {
    ids = encodePrompt(tok, messagesPath !== undefined ? { messages: readMessages(messagesPath, io) } : { text: prompt! });
  } catch (e) {
    throw new CliError(`${(e as Error).message.replace('give the exact prompt text instead', 'use --prompt with the exact text instead')}`);
  }
  if (ids.length === 0) throw new CliError('the prompt is empty after tokenization; give some text.');
  const { sampling, maxNewTokens, eosTokenIds } = samplingFor(model.generationConfig, {
    ...(temperature !== undefined ? { temperature } : {}), ...(topP !== undefined ? { topP } : {}), ...(maxNew !== undefined ? { maxNewTokens: maxNew } : {}),
  });
  const backend = await openBackend(kind);
  const gen = await Generator.create(backend, model.config, model.weights, adapter?.plan ?? null, { batch: 1, promptLen: ids.length, maxLen: ids.length + maxNewTokens });
  try {
    const stopIds = [...new Set([...tok.endOfTurnIds, ...model.config.eosTokenIds, ...eosTokenIds])];
    const [outIds] = await gen.generate({
      prompts: [ids], maxNewTokens, sampling, stopIds, rng: samplingRng(sampling, seed), padId: paddingId(tok),
      ...(adapter ? { adapter: adapter.params } : {}),
    });
    io.out(`${tok.decode(outIds!)}\n`);
    return 0;
  } finally {
    await gen.release();
    await backend.release();
  }
}
