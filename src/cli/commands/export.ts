// `tabtune export`: `--merged OUT` folds an adapter into a plain checkpoint folder (F32 model.safetensors, config.json
// with torch_dtype float32, generation_config.json and the tokenizer files) that transformers loads without PEFT;
// `--onnx DIR` writes the run's graphs as ONNX files (train-step, accumulate, eval, prefill, decode) with the base
// weights as external data in weights.bin, a manifest.json and the feeds of the first optimizer step (replay.bin),
// which examples/onnx-replay/replay.mjs runs with onnxruntime-node alone (docs/onnx-export.md).
import { FULL_TENSORS_FILE, mergedCheckpointFiles, readFullTensors } from '../../train/peft.ts';
import { exportRunOnnx } from '../../train/onnx-export.ts';
import { sortedJson } from '../../train/json.ts';
import { DATA_FLAGS, HUB_FLAGS, LORA_FLAGS, MEMORY_FLAGS, TRAIN_FLAGS, parseFlags, required, str, type Values } from '../args.ts';
import { CliError } from '../errors.ts';
import { existsSync, join, readBinary, resolve, writeFile, writeFolder, writeParts } from '../files.ts';
import { modelRepoFor, openModel, openSources, type CliIO } from '../load.ts';
import { openBackend, readAdapterFolder, setup } from '../setup.ts';
import { TOKENIZER_FILES } from '../../train/model-source.ts';

export const EXPORT_HELP = `tabtune export --model M (--merged OUT --adapter DIR | --onnx DIR --data FILE [run flags]) [--hub-endpoint URL]
--merged OUT: writes a merged checkpoint folder (model.safetensors in float32, config.json, tokenizer files) to OUT.
--onnx DIR: writes the run's graphs as ONNX (train-step, accumulate, eval, prefill, decode .onnx), the base weights
  once as external data (weights.bin), manifest.json (every input/output: shape, dtype, role, meaning; how a step
  feeds outputs back) and replay.bin (the feeds of the run's first optimizer step). Takes the flags of \`tabtune train\`
  (data, LoRA, --adapter DIR to start from one, --batch-size, --grad-accum, --lr, --seed, --backend, ...) since they
  shape the graphs; --json FILE writes the file list with sizes. Replay: node examples/onnx-replay/replay.mjs DIR.
`;

export async function exportCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const v = parseFlags('export', argv, {
    ...HUB_FLAGS, ...DATA_FLAGS, ...LORA_FLAGS, ...MEMORY_FLAGS, ...TRAIN_FLAGS,
    model: { type: 'string' }, tokenizer: { type: 'string' }, merged: { type: 'string' }, onnx: { type: 'string' }, json: { type: 'string' },
  });
  if (v['help']) return io.out(EXPORT_HELP), 0;
  if (str(v, 'merged') && str(v, 'onnx')) throw new CliError('give --merged OUT or --onnx DIR, not both (run `tabtune export` twice for both).');
  if (str(v, 'onnx')) return exportOnnx(v, io);
  return exportMerged(v, io);
}

async function exportMerged(v: Values, io: CliIO): Promise<number> {
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

async function exportOnnx(v: Values, io: CliIO): Promise<number> {
  const outDir = str(v, 'onnx')!;
  const out = resolve(io.cwd, outDir);
  if (existsSync(out)) throw new CliError(`--onnx ${outDir} already exists; pick a new folder so nothing is overwritten.`);
  const started = performance.now();
  const s = await setup(v, io, 'export');
  const backend = await openBackend(s.backendKind);
  const trainer = await s.session.createTrainer({ backend, model: s.model, ...(s.adapter ? { initialAdapter: s.adapter.params } : {}) });
  try {
    const ref = modelRepoFor(s.sources.modelRef!, s.model.sha);
    const exported = await exportRunOnnx(trainer, s.model, {
      model: ref.repo, revision: s.model.sha, dataset: s.data.name, datasetSha256: s.data.sha256, backend: backend.label, config: s.session.config,
    });
    for (const f of exported.files) writeParts(join(out, f.path), f.parts);
    const seconds = (performance.now() - started) / 1000;
    const graphs = exported.manifest['graphs'] as Record<string, { nodes: number }>;
    io.out(`Wrote ${exported.files.length} files to ${outDir} in ${seconds.toFixed(1)} s (batch ${trainer.shape.batch}×${trainer.shape.seqLen}):\n`);
    for (const f of exported.files) {
      const id = f.path.replace(/\.onnx$/, '');
      io.out(`  ${f.path.padEnd(16)} ${(f.bytes / 1e6).toFixed(2).padStart(10)} MB${graphs[id] ? `  ${graphs[id].nodes} nodes` : ''}\n`);
    }
    io.out(`Replay the first optimizer step: node examples/onnx-replay/replay.mjs ${outDir}\n`);
    const json = str(v, 'json');
    if (json) {
      writeFile(resolve(io.cwd, json), sortedJson({
        dir: outDir, seconds, files: exported.files.map((f) => ({ path: f.path, bytes: f.bytes })),
        nodes: Object.fromEntries(Object.entries(graphs).map(([id, g]) => [id, g.nodes])),
      }));
    }
    return 0;
  } finally {
    await trainer.release();
    await backend.release();
  }
}
