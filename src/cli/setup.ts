// The part `step` and `train` share: flags → model, tokenizer, dataset, run config, backend, and an imported adapter
// (`--adapter DIR`, whose adapter_config.json then decides r, alpha, dropout and targets).
import { createNodeBackend } from '../runtime/node.ts';
import type { Backend } from '../runtime/backend.ts';
import type { RunConfig } from '../share/run-config.ts';
import { formatMemoryPlan, planMemory, WASM_BUDGET_BYTES, type MemoryLimits } from '../train/memory-plan.ts';
import { readModelConfig, type LoadedModel, type TokenizerBundle } from '../train/model-source.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, loadAdapter, targetModuleNames, type LoadedAdapter } from '../train/peft.ts';
import { RunSession } from '../train/session.ts';
import { BACKENDS, DEFAULT_BACKEND, num, oneOf, runConfigFromFlags, str, type BackendFlag, type Values } from './args.ts';
import { CliError } from './errors.ts';
import { existsSync, join, readBinary, resolve } from './files.ts';
import { modelRepoFor, openModel, openSources, openTokenizer, readData, reportProblems, type CliIO, type DataFile, type Sources } from './load.ts';

export interface Setup {
  readonly sources: Sources;
  readonly model: LoadedModel;
  readonly tokenizer: TokenizerBundle;
  readonly data: DataFile;
  /** The run: resolved config, prepared examples, split, first batch, trainer, artifacts. */
  readonly session: RunSession;
  readonly adapter: LoadedAdapter | null;
  readonly backendKind: BackendFlag;
}

export function readAdapterFolder(dir: string, model: LoadedModel, cwd: string): LoadedAdapter {
  const root = resolve(cwd, dir);
  if (!existsSync(root)) throw new CliError(`--adapter ${dir}: no such folder. HINT: pass the folder \`tabtune train --out\` wrote (adapter_config.json + adapter_model.safetensors).`);
  for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) {
    if (!existsSync(join(root, f))) throw new CliError(`--adapter ${dir} has no ${f}. HINT: a PEFT adapter folder holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}.`);
  }
  return loadAdapter(readBinary(join(root, ADAPTER_CONFIG), '--adapter'), readBinary(join(root, ADAPTER_WEIGHTS), '--adapter'), model.config, dir);
}

export async function setup(v: Values, io: CliIO, command: string, fallback: { model?: string; data?: string; config?: RunConfig } = {}): Promise<Setup> {
  const backendKind = oneOf(v, 'backend', BACKENDS) ?? DEFAULT_BACKEND;
  const sources = await openSources(v, io, command, true, fallback);
  // Cheap checks first (flags, data file, tokenizer, masks) so a user mistake surfaces before weights are read.
  const data = await readData(v, io, command, fallback.data);
  reportProblems(data, io);
  const tokenizer = await openTokenizer(sources);
  const ref = modelRepoFor(sources.modelRef!, sources.model!.sha);
  let config =
    fallback.config ??
    runConfigFromFlags(v, {
      modelRepo: ref.repo,
      modelRevision: ref.revision,
      modelSha: sources.model!.sha,
      dataName: data.name,
      dataHash: data.sha256,
      ...(data.templateSource !== undefined ? { templateSource: data.templateSource } : {}),
      ...(str(v, 'hub-endpoint') ? { hubEndpoint: str(v, 'hub-endpoint')! } : {}),
    });
  // config.json alone decides the family and the memory bill: a run that cannot fit is refused before the weights
  // are fetched.
  const { raw: rawConfig } = await readModelConfig(sources.model!); // parses it: an unsupported family is refused here
  checkMemory(rawConfig, config, memoryLimits(v, io, backendKind), io); // planMemory resolves the family's LoRA targets itself
  const model = await openModel(sources);
  const adapterDir = str(v, 'adapter');
  const adapter = adapterDir ? readAdapterFolder(adapterDir, model, io.cwd) : null;
  if (adapter) {
    const c = adapter.plan.config;
    config = { ...config, lora: { r: c.r, alpha: c.alpha, dropout: c.dropout ?? 0, rslora: c.rslora ?? false, targets: targetModuleNames(adapter.plan) } };
  }
  const session = RunSession.prepare({
    config, model: model.config, tokenizer, separateTokenizer: sources.tokenizer !== sources.model,
    data: { name: data.name, hash: data.sha256, rows: data.rows, ...(data.templateSource !== undefined ? { templateSource: data.templateSource, templateName: str(v, 'template')! } : {}) },
  });
  const dataset = session.dataset;
  if (dataset.examples.length === 0) {
    const first = dataset.dropped[0];
    throw new CliError(`${data.name}: every row was dropped${first ? ` (e.g. ${first.id}: ${first.message})` : ''}. HINT: run \`tabtune inspect\` to see the masks, or change --mask / --max-length.`);
  }
  return { sources, model, tokenizer, data, session, adapter, backendKind };
}

/** `--max-buffer-bytes N` (or TABTUNE_MAX_BUFFER_BYTES) stands for a GPU's buffer limits; `--memory-budget N` caps the
 * total, which on the WASM backend defaults to what wasm32 can address. */
function memoryLimits(v: Values, io: CliIO, backend: BackendFlag): MemoryLimits {
  const envBuffer = io.env['TABTUNE_MAX_BUFFER_BYTES'];
  const buffer = num(v, 'max-buffer-bytes', { int: true, min: 1 }) ?? (envBuffer ? num({ 'max-buffer-bytes': envBuffer }, 'max-buffer-bytes', { int: true, min: 1 }) : undefined);
  const budget = num(v, 'memory-budget', { int: true, min: 1 }) ?? (backend === 'wasm' ? WASM_BUDGET_BYTES : undefined);
  return {
    ...(buffer !== undefined ? { maxBufferSize: buffer, maxStorageBufferBindingSize: buffer } : {}),
    ...(budget !== undefined ? { budgetBytes: budget } : {}),
    // WASM and CPU sessions hold their own copies of the frozen weights (runtime/held-weights.ts).
    ...(backend === 'wasm' || backend === 'cpu' ? { sessionWeights: true } : {}),
  };
}

/** Prints the memory bill (stderr, like the other notes) and refuses a run that does not fit. */
function checkMemory(rawConfig: unknown, config: RunConfig, limits: MemoryLimits, io: CliIO): void {
  const plan = planMemory(rawConfig, config, limits);
  io.err(formatMemoryPlan(plan));
  if (!plan.fits) throw new CliError(`the run does not fit in memory: ${plan.problems.map((p) => p.message).join(' Also, ')}`);
}

export async function openBackend(kind: BackendFlag): Promise<Backend> {
  return createNodeBackend(kind);
}
