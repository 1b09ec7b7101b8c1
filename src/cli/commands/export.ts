// `tabtune export --merged`: base weights + scale·B·A folded into a plain checkpoint folder (F32 model.safetensors,
// config.json with torch_dtype float32, generation_config.json and the tokenizer files) that transformers loads
// without PEFT.
import { FULL_TENSORS_FILE, mergedCheckpointFiles, readFullTensors } from '../../train/peft.ts';
import { HUB_FLAGS, parseFlags, required } from '../args.ts';
import { CliError } from '../errors.ts';
import { existsSync, join, readBinary, resolve, writeFolder } from '../files.ts';
import { openModel, openSources, type CliIO } from '../load.ts';
import { readAdapterFolder } from '../setup.ts';
import { TOKENIZER_FILES } from '../../train/model-source.ts';

export const EXPORT_HELP = `tabtune export --model M --adapter DIR --merged OUT [--hub-endpoint URL]
Writes a merged checkpoint folder (model.safetensors in float32, config.json, tokenizer files) to OUT.
`;

export async function exportCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('export', argv, { ...HUB_FLAGS, model: { type: 'string' }, adapter: { type: 'string' }, merged: { type: 'string' } });
  if (v['help']) return io.out(EXPORT_HELP), 0;
  const adapterDir = required(v, 'adapter', 'export', 'runs/first');
  const outDir = required(v, 'merged', 'export', 'merged-model');
  const out = resolve(io.cwd, outDir);
  if (existsSync(out)) throw new CliError(`--merged ${outDir} already exists; pick a new folder so nothing is overwritten.`);
  const sources = await openSources(v, io, 'export', true);
  const model = await openModel(sources);
  const adapter = readAdapterFolder(adapterDir, model, io.cwd);
  // Base tensors the run trained in full replace the checkpoint's before the adapter is folded in.
  const fullPath = join(resolve(io.cwd, adapterDir), FULL_TENSORS_FILE);
  const full = existsSync(fullPath) ? readFullTensors(readBinary(fullPath, '--adapter'), model.config, join(adapterDir, FULL_TENSORS_FILE)) : new Map<string, Float32Array>();
  const files = mergedCheckpointFiles(model.config, model.rawConfig, new Map([...model.weights, ...full]), adapter);
  const available = new Set(await sources.model!.list());
  for (const name of ['generation_config.json', ...TOKENIZER_FILES]) {
    if (available.has(name)) files.set(name, await sources.model!.read(name));
  }
  writeFolder(out, files);
  io.out(`Merged ${adapter.plan.targets.length} LoRA modules${full.size > 0 ? ` and ${full.size} fully trained tensors` : ''} into ${model.id}; wrote ${outDir}\n`);
  return 0;
}
