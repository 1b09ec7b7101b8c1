// The run session: the one facade the CLI and the browser worker both drive. Built from one RunConfig, it resolves the
// config once (LoRA targets for the model's family, template, tokenizer/vocabulary check, seeded train/eval split and
// data order), prepares the examples, names the first batch, builds the trainer, measures one batch by hand, and
// writes a run's artifacts (PEFT adapter, model card, trainer_state.json). Front ends only move bytes and show results.
//
// Data settings (template, mask, max length, field mapping, split) and hyperparameters (LoRA, optimizer, schedule) are
// kept apart: `withConfig` swaps the hyperparameters of a prepared session without tokenising anything again.
import type { Example } from '../data/example.ts';
import { naiveComparisons, type NaiveComparison } from '../data/naive.ts';
import { FROZEN_DATE } from '../data/template.ts';
import { writeSafetensors } from '../hub/index.ts';
import type { Row } from '../data/types.ts';
import type { ModelConfig } from '../models/config.ts';
import { linearModules, planLora, selectFullTensors } from '../models/lora.ts';
import { GREEDY } from '../models/sampling.ts';
import type { Backend } from '../runtime/backend.ts';
import { IGNORE_INDEX } from '../share/labels.ts';
import { dataKey, DEFAULT_LORA_TARGETS, type DataSettings, type RunConfig } from '../share/run-config.ts';

export { dataKey };
import { collate, DataOrder, paddingId, prepareDataset, splitExamples, type PreparedDataset, type TemplateChoice } from './dataset.ts';
import type { LoadedModel, TokenizerBundle } from './model-source.ts';
import { adapterFiles, defaultTargetModules, FULL_TENSORS_FILE, fullTensorsSafetensors, modelCard } from './peft.ts';
import { TABTUNE_VERSION, trainerStateJson, type TrainerCheckpoint } from './state.ts';
import { Trainer, type SampleSpec, type TrainedSubset } from './trainer.ts';

/** New tokens per sample, in the app and the CLI alike: enough to see a phrase form (and an end-of-turn token), few
 * enough to keep sampling cheap on a software GPU. */
export const SAMPLE_NEW_TOKENS = 16;
/** Fixed prompts sampled before training and every `sampleEvery` steps. */
const SAMPLE_PROMPTS = 2;

/**
 * The LoRA targets a run trains for this model. The schema's default names Llama-family projections; a family whose
 * modules are named otherwise (GPT-2's c_attn) gets PEFT's default for its family instead — but only when the config
 * still holds the schema default and none of those names exists in the model. Anything a user or an imported adapter
 * chose (GPT-2's `c_proj` included) is kept, and planLora refuses names the model lacks with a message.
 */
export function resolveLoraTargets(lora: RunConfig['lora'], model: ModelConfig): string[] {
  const isDefault = lora.targets.length === DEFAULT_LORA_TARGETS.length && lora.targets.every((t, i) => t === DEFAULT_LORA_TARGETS[i]);
  if (!isDefault) return [...lora.targets];
  const leaves = new Set(linearModules(model).map((m) => m.module.split('.').pop()));
  return lora.targets.some((t) => leaves.has(t)) ? [...lora.targets] : defaultTargetModules(model);
}

/** The config with everything model-dependent resolved (today: the LoRA targets). */
export function resolveConfig(config: RunConfig, model: ModelConfig): RunConfig {
  const targets = resolveLoraTargets(config.lora, model);
  const same = targets.length === config.lora.targets.length && targets.every((t, i) => t === config.lora.targets[i]);
  return same ? config : { ...config, lora: { ...config.lora, targets } };
}

/** The LoRA plan and full tensors a config trains on this model: where the LoRA rank becomes the shape of lora_A
 * (planLora), once per config. Throws with a fix for targets or groups the model lacks. */
export function resolveSubset(config: RunConfig, model: ModelConfig): TrainedSubset {
  return { plan: planLora(model, config.lora), fullTensors: selectFullTensors(model, config.full.groups, config.full.layers) };
}

/** The rows a run trains on and what identifies them. */
export interface SessionData {
  /** The dataset's name as the user knows it (a path, a bundled name, a Hub repo). */
  readonly name: string;
  /** Content hash of the source bytes (`sha256:` + hex, or bare hex). */
  readonly hash: string;
  readonly rows: readonly Row[];
  /** Source of a custom template (a --template file), when the config's own source is absent. */
  readonly templateSource?: string;
  /** How a custom template is named in errors (e.g. the file name). */
  readonly templateName?: string;
}

export interface SessionInit {
  readonly config: RunConfig;
  /** config.json of the model, parsed: the family, the vocabulary size, the projection names. */
  readonly model: ModelConfig;
  readonly tokenizer: TokenizerBundle;
  /** The tokenizer comes from another repo than the model: its ids must fit the embedding table. */
  readonly separateTokenizer?: boolean;
  readonly data: SessionData;
}

/** One batch measured by hand (no optimizer update): what `tabtune step` prints and the batch inspector shows. */
export interface BatchReport {
  /** Positions of the batch's examples in the prepared list (file order, dropped rows left out). */
  readonly indices: number[];
  readonly examples: Example[];
  readonly batch: number;
  readonly seqLen: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly labels: Int32Array;
  readonly loss: number;
  readonly targetTokens: number;
  /** [batch × seqLen] NLL of each next-token prediction (0 where nothing is trained). */
  readonly tokenNll: Float32Array;
  readonly grads: Record<string, Float32Array>;
  /** L2 norm per trainable tensor, in the graph's order. */
  readonly gradNorms: { name: string; shape: readonly number[]; size: number; norm: number }[];
  readonly gradNorm: number;
}

/** A batch's gradients as an F32 safetensors file keyed by the trainable tensors' (PEFT) names. */
export function gradientSafetensors(r: BatchReport): Uint8Array {
  return writeSafetensors(r.gradNorms.map((n) => ({ name: n.name, dtype: 'F32' as const, shape: [...n.shape], data: r.grads[n.name]! })));
}

/** What a run's folder or zip says about where it came from. */
export interface ArtifactInfo {
  /** Base model id (Hub repo or local folder) and the commit it was trained on. */
  readonly baseModel: string;
  readonly revision: string | null;
  /** Label of the backend that trained it, for the model card. */
  readonly backend: string;
  /** Epochs asked for (`--epochs`), when the run was sized by epochs. */
  readonly epochs?: number | null;
}

export interface TrainerOptions {
  readonly backend: Backend;
  readonly model: LoadedModel;
  readonly totalSteps?: number;
  readonly initialAdapter?: Readonly<Record<string, Float32Array>>;
  readonly resume?: TrainerCheckpoint;
  /** Ask for WebGPU graph capture where the backend supports it (TrainerInit.graphCapture). */
  readonly graphCapture?: boolean;
}

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

/** The prompt of an example for samples: its tokens before the first trained one (what the model is asked). */
export function promptIds(e: Example): number[] {
  const first = Array.from(e.labels).findIndex((l) => l !== IGNORE_INDEX);
  const cut = first > 0 ? first : Math.max(1, Math.min(8, Math.floor(e.ids.length / 2)));
  return e.ids.slice(0, cut);
}

/** Renders, tokenises, masks, drops and lints the rows under a config's data settings (examples in file order). Also
 * what `tabtune inspect` shows when there is no model to train. */
export function prepareExamples(config: DataSettings, tokenizer: TokenizerBundle, data: SessionData, embeddingRows?: number): PreparedDataset {
  const t = config.template;
  const template: TemplateChoice = t.kind === 'custom'
    ? { kind: 'custom', source: t.source ?? data.templateSource ?? '', name: data.templateName ?? 'the custom template' }
    : { kind: t.kind };
  return prepareDataset(data.rows, {
    tokenizer: tokenizer.tokenizer, template, mask: config.mask, maxLength: config.maxLength, kwargs: t.kwargs,
    ...(embeddingRows !== undefined ? { embeddingRows } : {}),
  });
}

export class RunSession {
  /** The eval split as a set, built on the first isEval (the Data panel asks once per example). */
  private heldOut: Set<Example> | null = null;
  private resolvedSubset: TrainedSubset | null = null;

  private constructor(
    /** The resolved config: what is trained, exactly. */
    readonly config: RunConfig,
    readonly model: ModelConfig,
    readonly tokenizer: TokenizerBundle,
    readonly data: SessionData,
    readonly dataset: PreparedDataset,
    readonly train: readonly Example[],
    readonly evalSet: readonly Example[],
    private readonly indexOf: ReadonlyMap<Example, number>,
  ) {}

  /** Renders, masks, drops, lints and splits the rows under the config's data settings. Throws with a fix when the
   * tokenizer does not fit the model or no template can render the rows. */
  static prepare(init: SessionInit): RunSession {
    const { model, tokenizer } = init;
    if (init.separateTokenizer && tokenizer.tokenizer.vocabSize > model.vocabSize) {
      throw new Error(
        `The tokenizer of ${tokenizer.id} has ${tokenizer.tokenizer.vocabSize} tokens but the model's embedding table has ${model.vocabSize} rows ` +
          "(vocab_size in config.json): ids past the table cannot be embedded. Use the model's own tokenizer.",
      );
    }
    const config = resolveConfig(init.config, model);
    const dataset = prepareExamples(config, tokenizer, init.data, model.vocabSize);
    const split = splitExamples(dataset.examples, config.evalFraction, config.seed);
    const indexOf = new Map(dataset.examples.map((e, i) => [e, i] as const));
    return new RunSession(config, model, tokenizer, init.data, dataset, split.train, split.eval, indexOf);
  }

  /** The same examples under other hyperparameters. Refuses a config whose data settings differ (prepare again). */
  withConfig(config: RunConfig): RunSession {
    if (dataKey(config) !== dataKey(this.config)) {
      throw new Error('The data settings changed (template, mask, max length, split or dataset): prepare the examples again before training.');
    }
    return new RunSession(resolveConfig(config, this.model), this.model, this.tokenizer, this.data, this.dataset, this.train, this.evalSet, this.indexOf);
  }

  /** The LoRA plan and full tensors this session's config trains (resolved on first use: a preparation that never
   * trains does not fail on targets the model lacks). */
  get subset(): TrainedSubset {
    return (this.resolvedSubset ??= resolveSubset(this.config, this.model));
  }

  get padId(): number {
    return paddingId(this.tokenizer.tokenizer);
  }

  /** What two naive collators would train on this example instead of the session's mask (the Template panel). */
  naiveComparisons(e: Example): NaiveComparison[] {
    return naiveComparisons(e, this.tokenizer.tokenizer, this.dataset.template, { kwargs: this.config.template.kwargs, date: FROZEN_DATE });
  }

  /** Whether an example is held out for evaluation. */
  isEval(e: Example): boolean {
    this.heldOut ??= new Set(this.evalSet);
    return this.heldOut.has(e);
  }

  /** Position of an example in the prepared list. */
  indexOfExample(e: Example): number {
    return this.indexOf.get(e) ?? -1;
  }

  /** The batch size the step graphs use: the config's, capped by the training examples. */
  get batchSize(): number {
    return Math.min(this.config.train.batchSize, this.train.length);
  }

  /** The run's first batch: epoch 0 of the seeded order over the training split (eval rows never appear). */
  firstBatch(): { indices: number[]; examples: Example[] } {
    if (this.train.length === 0) throw new Error('no training examples: every row was dropped or the dataset is empty. HINT: see the dropped rows and change the mask or max length.');
    const examples = new DataOrder(this.train.length, this.config.seed).next(this.batchSize).map((i) => this.train[i]!);
    return { indices: examples.map((e) => this.indexOfExample(e)), examples };
  }

  /** Prompts sampled during the run: held-out rows first (what the model has not seen), else training rows. */
  samplePrompts(): number[][] {
    const from = this.evalSet.length > 0 ? this.evalSet : this.train;
    return from.slice(0, SAMPLE_PROMPTS).map(promptIds);
  }

  /** Greedy samples of SAMPLE_NEW_TOKENS that stop at the end of a turn or EOS. */
  sampleSpec(): SampleSpec {
    return {
      prompts: this.samplePrompts(),
      maxNewTokens: SAMPLE_NEW_TOKENS,
      sampling: GREEDY,
      stopIds: this.stopIds(),
    };
  }

  /** Token ids that end a generation: the tokenizer's end-of-turn ids and the model's EOS ids. */
  stopIds(): number[] {
    return [...new Set([...this.tokenizer.tokenizer.endOfTurnIds, ...this.model.eosTokenIds])];
  }

  /** A trainer over this session's split, graphs shaped for its examples. */
  createTrainer(opts: TrainerOptions): Promise<Trainer> {
    if (opts.model.config.modelType !== this.model.modelType || opts.model.config.vocabSize !== this.model.vocabSize) {
      throw new Error(`The session was prepared for a ${this.model.modelType} model but the weights loaded are ${opts.model.config.modelType}.`);
    }
    return Trainer.create({
      backend: opts.backend, model: opts.model, config: this.config, subset: this.subset, train: this.train, eval: this.evalSet, padId: this.padId,
      samples: this.sampleSpec(),
      ...(opts.totalSteps !== undefined ? { totalSteps: opts.totalSteps } : {}),
      ...(opts.initialAdapter ? { initialAdapter: opts.initialAdapter } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
      ...(opts.graphCapture ? { graphCapture: true } : {}),
    });
  }

  /** The LoRA plan a trainer of this session builds, for a checkpoint whose trainer is gone. */
  plan(model: ModelConfig = this.model): TrainedSubset & { shape: { batch: number; seqLen: number } } {
    const subset = model === this.model ? this.subset : resolveSubset(this.config, model);
    return { ...subset, shape: { batch: this.batchSize, seqLen: 0 } };
  }

  /** The first batch through the trainer's step graph without an optimizer update. */
  async inspect(trainer: Trainer): Promise<BatchReport> {
    const { indices, examples } = this.firstBatch();
    const { batch, seqLen } = trainer.shape;
    const g = await trainer.gradients(examples);
    const tensors = collate(examples, batch, seqLen, this.padId);
    const gradNorms = trainer.graphs.trainable.map((spec) => {
      const values = g.grads[spec.name]!;
      return { name: spec.name, shape: spec.shape, size: values.length, norm: l2(values) };
    });
    return {
      indices, examples, batch, seqLen,
      inputIds: tensors['input_ids']!.data as Int32Array,
      attentionMask: tensors['attention_mask']!.data as Int32Array,
      labels: tensors['labels']!.data as Int32Array,
      loss: g.loss, targetTokens: g.targetTokens, tokenNll: g.tokenNll, grads: g.grads, gradNorms,
      gradNorm: Math.sqrt(gradNorms.reduce((s, n) => s + n.norm * n.norm, 0)),
    };
  }

  /** The PEFT adapter folder (adapter_config.json, adapter_model.safetensors, README.md) and trainer_state.json of a
   * checkpoint of this run. */
  artifacts(trainer: Pick<Trainer, 'plan' | 'shape' | 'fullTensors'>, c: TrainerCheckpoint, info: ArtifactInfo): Map<string, Uint8Array | string> {
    const { config } = this;
    const t = config.train;
    const meta = { baseModel: info.baseModel, revision: info.revision };
    const files = new Map<string, Uint8Array | string>(adapterFiles(trainer.plan, this.model, c.params, meta));
    if (trainer.fullTensors.length > 0) files.set(FULL_TENSORS_FILE, fullTensorsSafetensors(this.model, trainer.fullTensors, c.params));
    const batch = trainer.shape.batch;
    files.set('README.md', modelCard({
      ...meta, dataset: this.data.name, datasetHash: this.data.hash, rows: this.train.length, mask: config.mask, template: config.template.kind,
      hyperparameters: {
        steps: t.steps, learning_rate: t.lr, lr_scheduler_type: t.schedule, warmup_steps: t.warmupSteps, per_device_train_batch_size: batch,
        gradient_accumulation_steps: t.gradAccum, max_grad_norm: t.maxGradNorm, weight_decay: t.weightDecay, seed: config.seed,
        max_length: config.maxLength, lora_r: config.lora.r, lora_alpha: config.lora.alpha, lora_dropout: config.lora.dropout,
        ...(trainer.fullTensors.length > 0 ? { full_tensors: `${trainer.fullTensors.length} in ${FULL_TENSORS_FILE}` } : {}),
      },
      versions: { tabtune: TABTUNE_VERSION, backend: info.backend },
    }));
    const perEpoch = Math.max(1e-9, this.train.length / (batch * t.gradAccum));
    const last = c.logHistory[c.logHistory.length - 1];
    files.set('trainer_state.json', trainerStateJson({
      globalStep: c.step, maxSteps: t.steps, epoch: last?.epoch ?? 0, numTrainEpochs: info.epochs ?? Math.ceil(t.steps / perEpoch),
      batchSize: batch, evalSteps: t.evalEvery, saveSteps: t.checkpointEvery, logHistory: c.logHistory,
    }));
    return files;
  }

  /** The generation_config.json the samples used: greedy, SAMPLE_NEW_TOKENS, stop at the end of a turn or EOS. */
  generationConfig(): Record<string, unknown> {
    const bos = this.model.bosTokenId;
    return {
      do_sample: false,
      eos_token_id: this.stopIds(),
      max_new_tokens: SAMPLE_NEW_TOKENS,
      ...(bos !== undefined && bos !== null ? { bos_token_id: bos } : {}),
    };
  }
}
