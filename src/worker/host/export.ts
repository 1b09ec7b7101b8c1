// Run export and adapter import inside the worker. Export: the trainer's latest checkpoint becomes the PEFT adapter
// folder (+ model card), the tokenizer files the run used, generation_config.json of its samples, trainer_state.json,
// the manifest, metrics, samples and the resumable checkpoint, zipped by src/share/run-zip.ts; the bytes go back to
// the page. Import: a PEFT adapter made elsewhere is checked against the loaded model before the trainer adopts it.
import { buildManifest } from '../../share/manifest.ts';
import { buildRunZip } from '../../share/run-zip.ts';
import type { RunConfig } from '../../share/run-config.ts';
import { planLora, type LoraPlan } from '../../models/lora.ts';
import type { ModelConfig } from '../../models/config.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterFiles, defaultTargetModules, loadAdapter, modelCard } from '../../train/peft.ts';
import { checkpointFiles, TABTUNE_VERSION, trainerStateJson } from '../../train/state.ts';
import { pushToHub, type PushProgress } from '../../hub/push.ts';
import type { AdapterImportResult, HubPushParams, HubPushResult, RunExportParams, RunExportResult } from '../protocol';
import type { HandlerContext } from './context';
import type { Playground } from './playground';
import { SAMPLE_NEW_TOKENS, type TrainingHost } from './training';

const text = (s: string) => new TextEncoder().encode(s);

/** The plan a trainer for this config builds (the same GPT-2 target rule as training.ts), for a checkpoint whose
 * trainer is gone. */
function planFor(config: RunConfig, model: ModelConfig): LoraPlan {
  const gpt2 = model.family === 'gpt2' && config.lora.targets.some((t) => t.endsWith('_proj'));
  return planLora(model, {
    r: config.lora.r, alpha: config.lora.alpha, dropout: config.lora.dropout, useRslora: config.lora.rslora,
    targetModules: gpt2 ? defaultTargetModules(model) : config.lora.targets,
  });
}

/** The PEFT adapter folder (adapter_config.json, adapter_model.safetensors, README.md model card) of the latest
 * checkpoint, for the zip and for the Hub. */
async function adapterFolder(pg: Playground, training: TrainingHost, data: { name: string; hash: string; rows: number }, device: string, ctx: HandlerContext) {
  const ex = training.exportable();
  if (ex.running) throw new Error('Pause the run first, so the adapter is one consistent checkpoint.');
  const c = ex.checkpoint;
  if (!c) throw new Error('There is nothing to export yet: train at least one step (a run keeps a checkpoint when it pauses, stops or completes).');
  const p = pg.requirePrepared();
  const model = await pg.loadedModel(ctx);
  const plan = ex.plan ?? planFor(p.config, model.config);
  const repo = p.location.repo;
  const sha = p.summary.sha;
  const t = p.config.train;
  const batch = ex.info?.batch ?? Math.min(t.batchSize, p.train.length);
  const adapter = adapterFiles(plan, model.config, c.params, { baseModel: repo, revision: sha });
  adapter.set('README.md', text(modelCard({
    baseModel: repo, revision: sha, dataset: data.name, datasetHash: data.hash, rows: data.rows, mask: p.config.mask,
    template: p.config.template.kind,
    hyperparameters: {
      steps: t.steps, learning_rate: t.lr, lr_scheduler_type: t.schedule, warmup_steps: t.warmupSteps, per_device_train_batch_size: batch,
      gradient_accumulation_steps: t.gradAccum, max_grad_norm: t.maxGradNorm, weight_decay: t.weightDecay, seed: p.config.seed,
      max_length: p.config.maxLength, lora_r: plan.config.r, lora_alpha: plan.config.alpha, lora_dropout: plan.config.dropout ?? 0,
    },
    versions: { tabtune: TABTUNE_VERSION, backend: ex.info?.backendLabel ?? device },
  })));
  return { adapter, c, p, model, batch, repo, sha };
}

export async function exportRun(pg: Playground, training: TrainingHost, req: RunExportParams, ctx: HandlerContext): Promise<RunExportResult> {
  ctx.emit({ type: 'progress', stage: 'Writing the adapter', loaded: 0, total: 2 });
  const data = { name: req.datasetName, hash: req.datasetHash, rows: req.datasetRows };
  const { adapter, c, p, model, batch, repo, sha } = await adapterFolder(pg, training, data, req.device.backend, ctx);
  const t = p.config.train;
  const tok = p.tokenizer.tokenizer;
  // The settings the Samples panel's generations used (greedy, SAMPLE_NEW_TOKENS, stop at end of turn or EOS).
  const generationConfig: Record<string, unknown> = {
    do_sample: false,
    eos_token_id: [...new Set([...tok.endOfTurnIds, ...model.config.eosTokenIds])],
    max_new_tokens: SAMPLE_NEW_TOKENS,
    ...(model.config.bosTokenId !== undefined && model.config.bosTokenId !== null ? { bos_token_id: model.config.bosTokenId } : {}),
  };
  const perEpoch = Math.max(1, p.train.length / (batch * t.gradAccum));
  const last = c.logHistory[c.logHistory.length - 1];
  const trainerState = text(trainerStateJson({
    globalStep: c.step, maxSteps: t.steps, epoch: last?.epoch ?? 0, numTrainEpochs: Math.ceil(t.steps / perEpoch),
    batchSize: batch, evalSteps: t.evalEvery, saveSteps: t.checkpointEvery, logHistory: c.logHistory,
  }));
  const manifest = buildManifest(req.config, {
    modelSha: sha, tokenizer: { repo, sha: p.tokenizer.sha || sha }, datasetHash: req.datasetHash, datasetRows: req.datasetRows, device: req.device,
  });
  ctx.emit({ type: 'progress', stage: 'Compressing the zip', loaded: 1, total: 2 });
  const bytes = buildRunZip({
    manifest, adapter, tokenizer: p.tokenizer.files, generationConfig, trainerState, metrics: req.metrics, samples: req.samples,
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
  const { adapter, c } = await adapterFolder(pg, training, { name: req.datasetName, hash: req.datasetHash, rows: req.datasetRows }, 'tabtune', ctx);
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
  const lora = { r: lc.r, alpha: lc.alpha, dropout: lc.dropout ?? 0, rslora: lc.useRslora ?? false, targets: [...lc.targetModules] };
  await training.adoptAdapter(loaded.params);
  return { lora, tensors: Object.keys(loaded.params).length, baseModel: base };
}
