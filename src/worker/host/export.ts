// Run export and adapter import inside the worker. Export: the trainer's latest checkpoint becomes the PEFT adapter
// folder (+ model card), the tokenizer files the run used, generation_config.json of its samples, trainer_state.json,
// the manifest, metrics, samples and the resumable checkpoint, zipped by src/share/run-zip.ts; the bytes go back to
// the page. Import: a PEFT adapter made elsewhere is checked against the loaded model before the trainer adopts it.
import { buildManifest } from '../../share/manifest.ts';
import { buildAdapterZip, buildRunZip } from '../../share/run-zip.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, loadAdapter } from '../../train/peft.ts';
import { checkpointFiles } from '../../train/state.ts';
import { pushToHub, type PushProgress } from '../../train/sources.ts';
import type { AdapterImportResult, HubPushParams, HubPushResult, RunExportParams, RunExportResult } from '../protocol';
import type { HandlerContext } from './context';
import type { Playground } from './playground';
import type { TrainingHost } from './training';

const text = (s: string) => new TextEncoder().encode(s);

/** The PEFT adapter folder (adapter_config.json, adapter_model.safetensors, README.md model card) and trainer_state of
 * the latest checkpoint, for the zip and for the Hub — written from the inputs the run was started with. */
async function adapterFolder(pg: Playground, training: TrainingHost, device: string, ctx: HandlerContext) {
  // An imported adapter with no training since: it is the adapter to write.
  if (!training.exportable().checkpoint) await training.checkpointAdopted(ctx);
  const ex = training.exportable();
  if (ex.running) throw new Error('Pause the run first, so the adapter is one consistent checkpoint.');
  const c = ex.checkpoint;
  const run = ex.run;
  if (!c || !run) throw new Error('There is nothing to export yet: train at least one step (a run keeps a checkpoint when it pauses, stops or completes).');
  const { prepared: p, session } = run;
  const model = await pg.loadedModel(ctx, p);
  // The trainer's own plan, or (after a device loss dropped it) the one the session builds for the same config.
  const trainer = ex.plan ? { ...session.plan(model.config), plan: ex.plan, shape: { batch: ex.info?.batch ?? session.batchSize, seqLen: ex.info?.seqLen ?? 0 } } : session.plan(model.config);
  const files = session.artifacts(trainer, c, { baseModel: p.location.repo, revision: p.summary.sha, backend: ex.info?.backendLabel ?? device });
  const trainerState = files.get('trainer_state.json')!;
  files.delete('trainer_state.json');
  const adapter = new Map([...files].map(([name, v]) => [name, typeof v === 'string' ? text(v) : v] as const));
  return { adapter, trainerState: typeof trainerState === 'string' ? text(trainerState) : trainerState, c, p, session };
}

export async function exportRun(pg: Playground, training: TrainingHost, req: RunExportParams, ctx: HandlerContext): Promise<RunExportResult> {
  ctx.emit({ type: 'progress', stage: 'Writing the adapter', loaded: 0, total: 2 });
  const { adapter, trainerState, c, p, session } = await adapterFolder(pg, training, req.device.backend, ctx);
  const repo = p.location.repo;
  const sha = p.summary.sha;
  if (req.adapterOnly) {
    const bytes = buildAdapterZip(adapter);
    return { fileName: `tabtune-adapter-${repo.replace(/\//g, '--')}-step${c.step}.zip`, bytes, files: [...adapter.keys()].sort(), step: c.step };
  }
  // The manifest describes what was trained: the config and data frozen when the run started, not the page's now.
  const manifest = buildManifest(session.config, {
    modelSha: sha, tokenizer: { repo, sha: p.tokenizer.sha || sha }, datasetHash: session.data.hash.replace(/^sha256:/, ''),
    datasetRows: session.data.rows.length, datasetName: session.data.name, device: req.device,
  });
  ctx.emit({ type: 'progress', stage: 'Compressing the zip', loaded: 1, total: 2 });
  const bytes = buildRunZip({
    manifest, adapter, tokenizer: p.tokenizer.files, generationConfig: session.generationConfig(), trainerState, metrics: req.metrics, samples: req.samples,
    checkpoint: checkpointFiles(c),
  });
  const folders: [string, Iterable<string>][] = [['adapter', adapter.keys()], ['tokenizer', p.tokenizer.files.keys()], ['checkpoint', checkpointFiles(c).keys()]];
  const files = [
    'generation_config.json', 'manifest.json', 'metrics.csv', 'samples.jsonl', 'trainer_state.json',
    ...folders.flatMap(([dir, names]) => [...names].map((n) => `${dir}/${n}`)),
  ].sort();
  return { fileName: `tabtune-${repo.replace(/\//g, '--')}-step${c.step}.zip`, bytes, files, step: c.step };
}

/** Pushes the adapter folder of the latest checkpoint to a model repo through src/hub/push.ts. The token lives in
 * this request only: it is not kept, logged or echoed (push.ts scrubs it from every error). */
export async function pushAdapter(pg: Playground, training: TrainingHost, req: HubPushParams, ctx: HandlerContext): Promise<HubPushResult> {
  ctx.emit({ type: 'progress', stage: 'Writing the adapter folder', loaded: 0, total: null });
  const { adapter, c } = await adapterFolder(pg, training, 'tabtune', ctx);
  const stage = (e: PushProgress): string => {
    if (e.phase === 'creating-repo') return `Creating ${req.repo} (or finding it)`;
    if (e.phase === 'file') return `${e.state === 'hashing' ? 'Hashing' : 'Uploading'} ${e.path}`;
    return e.phase === 'committing' ? 'Committing' : e.phase === 'preuploading' ? 'Checking which files need LFS' : 'Uploading large files';
  };
  return pushToHub({
    endpoint: req.endpoint, token: req.token, repo: req.repo, files: adapter, private: req.private,
    commitTitle: `Upload LoRA adapter (step ${c.step}) trained with TabTune`, signal: ctx.signal,
    onProgress: (e) => ctx.emit({ type: 'progress', stage: stage(e), loaded: e.phase === 'file' ? e.progress : 0, total: e.phase === 'file' ? 1 : null }),
  });
}

/** Checks a PEFT adapter against the prepared run's model (every tensor name and shape) and hands it to the trainer,
 * which starts from it instead of PEFT's init. Throws with the mismatch and what to do. */
export async function importAdapter(pg: Playground, training: TrainingHost, files: Record<string, Uint8Array>, ctx: HandlerContext): Promise<AdapterImportResult> {
  const config = files[ADAPTER_CONFIG];
  const weights = files[ADAPTER_WEIGHTS];
  if (!config || !weights) throw new Error(`A PEFT adapter needs ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}; got ${Object.keys(files).join(', ') || 'no files'}.`);
  if (training.exportable().running) throw new Error('Pause or stop the run before importing an adapter.');
  const p = pg.requirePrepared();
  const model = await pg.loadedModel(ctx);
  let loaded;
  try {
    loaded = loadAdapter(config, weights, model.config, 'the adapter');
  } catch (e) {
    throw new Error(`This adapter does not fit ${p.location.repo}: ${(e as Error).message}`, { cause: e });
  }
  const base = typeof loaded.config['base_model_name_or_path'] === 'string' ? loaded.config['base_model_name_or_path'] : null;
  const lc = loaded.plan.config;
  const lora = { r: lc.r, alpha: lc.alpha, dropout: lc.dropout ?? 0, rslora: lc.rslora ?? false, targets: [...lc.targets] };
  await training.adoptAdapter(loaded.params, lora);
  return { lora, tensors: Object.keys(loaded.params).length, baseModel: base };
}
