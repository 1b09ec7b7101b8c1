// The worker's run state: the tokenizer, model weights and datasets it has loaded (cached by commit sha / content
// hash), the examples prepared under the current template and mask policy, and the backend. `run.prepare` and
// `example.get` are served here; the trainer itself lives in ./training.ts. One Playground per worker.
import { hubConfig, loadDataset, type Dataset } from '../../train/sources.ts';
import type { Backend } from '../../runtime/index.ts';
import type { RunConfig } from '../../share/run-config.ts';
import { IGNORE_INDEX } from '../../share/labels.ts';
import { readModelConfig } from '../../train/model-source.ts';
import { prepareExamples, RunSession, type SessionInit } from '../../train/session.ts';
import type { LintWarning } from '../../data/lint.ts';
import { hubSource, loadModel, loadTokenizerFrom, type FileSource, type LoadedModel, type TokenizerBundle } from '../../train/model-source.ts';
import type { BackendChoice, DatasetRef, ExampleDetail, HubLocation, PreparedRun, TemplateCheck } from '../protocol';
import { checkTemplate } from '../../train/dataset.ts';
import type { HandlerContext } from './context';
import { fetchBytes } from './dataset';
import { count } from '../../share/wording.ts';

/** What opens the training backend: onnxruntime-web in the browser worker; tests inject a Node backend. */
export type BackendOpener = (choice: BackendChoice) => Promise<{ backend: Backend; fallbackReason?: string }>;

/** The browser default, imported lazily so the host module can load where onnxruntime-web/webgpu cannot (Node). */
export const openWebBackend: BackendOpener = async (choice) => {
  const { createWebBackend } = await import('../../runtime/web.ts');
  // WASM threads: every logical core (createWebBackend's default). Leaving one to the page halved a 2-core machine.
  return createWebBackend({ prefer: choice });
};

/** Datasets read by `dataset.preview` stay available to `run.prepare` by hash (an upload's bytes were transferred). */
const KEPT_DATASETS = 4;

export interface Prepared {
  readonly location: HubLocation;
  readonly source: FileSource;
  readonly tokenizer: TokenizerBundle;
  /** The examples under the data settings they were prepared with; a run takes its hyperparameters on start. */
  readonly session: RunSession;
  readonly summary: PreparedRun;
}

export class Playground {
  private readonly datasets = new Map<string, Dataset>();
  private tokenizers = new Map<string, TokenizerBundle>();
  private model: { key: string; value: LoadedModel } | null = null;
  private readonly backends = new Map<BackendChoice, Promise<{ backend: Backend; fallbackReason?: string }>>();
  prepared: Prepared | null = null;

  constructor(private readonly openBackend: BackendOpener) {}

  /** Remembers a dataset the Data panel previewed so a run can use it without the bytes crossing again. */
  keepDataset(dataset: Dataset): void {
    this.datasets.delete(dataset.hash);
    this.datasets.set(dataset.hash, dataset);
    while (this.datasets.size > KEPT_DATASETS) this.datasets.delete(this.datasets.keys().next().value as string);
  }

  private async dataset(ref: DatasetRef, ctx: HandlerContext): Promise<Dataset> {
    if (ref.kind === 'previewed') {
      const kept = this.datasets.get(ref.hash);
      if (!kept) throw new Error(`The worker no longer holds dataset ${ref.name} (${ref.hash.slice(0, 19)}…); pick or upload it again in the Data panel.`);
      return kept;
    }
    const bytes = ref.kind === 'url' ? await fetchBytes(ref.url, ctx) : new Uint8Array(ref.bytes);
    const dataset = await loadDataset(ref.name, bytes);
    this.keepDataset(dataset);
    return dataset;
  }

  /** The model's source and config, the (maybe separate) tokenizer and the dataset rows a run is prepared from. */
  private async inputs(location: HubLocation, ref: DatasetRef, config: RunConfig, ctx: HandlerContext) {
    ctx.emit({ type: 'progress', stage: `Resolving ${location.repo}@${location.revision}`, loaded: 0, total: 3 });
    const source = await hubSource(hubConfig(location.endpoint), location.repo, location.revision, ctx.signal);
    ctx.emit({ type: 'progress', stage: 'Loading the tokenizer', loaded: 1, total: 3 });
    // A separate tokenizer (the Model panel's option): another repo on the model's Hub, pinned like the model.
    const tok = config.tokenizer;
    const tokenizerSource = tok && tok.repo !== location.repo
      ? await hubSource(hubConfig(location.endpoint), tok.repo, tok.sha ?? tok.revision, ctx.signal)
      : source;
    let tokenizer = this.tokenizers.get(tokenizerSource.id);
    if (!tokenizer) {
      tokenizer = await loadTokenizerFrom(tokenizerSource);
      // One tokenizer is enough to keep: switching models replaces it.
      this.tokenizers = new Map([[tokenizerSource.id, tokenizer]]);
    }
    ctx.emit({ type: 'progress', stage: 'Reading the dataset', loaded: 2, total: 3 });
    const data = await this.dataset(ref, ctx);
    if (data.rows.length === 0) throw new Error(`${data.name} has no usable rows (${data.errors[0]?.message ?? 'empty file'}); fix the file or pick another dataset.`);
    const { config: model } = await readModelConfig(source);
    ctx.emit({ type: 'progress', stage: `Rendering and masking ${count(data.rows.length, 'row')}`, loaded: 3, total: 3 });
    const init: SessionInit = { config, model, tokenizer, separateTokenizer: tokenizerSource !== source, data: { name: data.name, hash: data.hash, rows: data.rows } };
    return { source, tokenizer, data, init };
  }

  /** Lessons: the linter's warnings for a config, and the session's refusal when it would not prepare the run because
   * the tokenizer's ids do not fit the model's embedding table (the warnings are still counted, as the CLI does). */
  async lint(location: HubLocation, ref: DatasetRef, config: RunConfig, ctx: HandlerContext): Promise<{ warnings: LintWarning[]; refused: string | null }> {
    const { init } = await this.inputs(location, ref, config, ctx);
    try {
      return { warnings: RunSession.prepare(init).dataset.warnings, refused: null };
    } catch (err) {
      if (!init.separateTokenizer || init.tokenizer.tokenizer.vocabSize <= init.model.vocabSize) throw err;
      return { warnings: prepareExamples(config, init.tokenizer, init.data, init.model.vocabSize).warnings, refused: (err as Error).message };
    }
  }

  async prepare(location: HubLocation, ref: DatasetRef, config: RunConfig, ctx: HandlerContext): Promise<PreparedRun> {
    const { source, tokenizer, data, init } = await this.inputs(location, ref, config, ctx);
    const session = RunSession.prepare(init);
    const { dataset } = session;
    const summary: PreparedRun = {
      repo: location.repo,
      sha: source.sha ?? '',
      mask: config.mask,
      maxLength: config.maxLength,
      template: dataset.template ? config.template.kind : 'none',
      examples: dataset.examples.map((e, index) => ({
        index, id: e.id, tokens: e.ids.length, targets: e.labels.reduce((n, l) => n + (l === IGNORE_INDEX ? 0 : 1), 0),
        truncated: e.fullLength > e.ids.length, fullTokens: e.fullLength, split: session.isEval(e) ? 'eval' : 'train',
      })),
      dropped: dataset.dropped.map((d) => ({ ...d })),
      warnings: dataset.warnings.map((w) => ({ code: w.code, message: w.message, count: w.count, exampleIds: [...w.exampleIds] })),
      trainCount: session.train.length,
      evalCount: session.evalSet.length,
      dataHash: data.hash,
      dataName: data.name,
    };
    this.prepared = { location, source, tokenizer, session, summary };
    return summary;
  }

  requirePrepared(): Prepared {
    if (!this.prepared) throw new Error('No run is prepared yet: load a model and a dataset first (run.prepare).');
    return this.prepared;
  }

  /** Checks an edited template against the prepared tokenizer and the first rows of the prepared dataset. */
  checkTemplate(source: string, kwargs: Record<string, unknown>): TemplateCheck {
    const p = this.requirePrepared();
    return checkTemplate(source, p.session.data.rows, p.tokenizer.tokenizer, kwargs);
  }

  example(index: number): ExampleDetail {
    const p = this.requirePrepared();
    const { dataset } = p.session;
    const e = dataset.examples[index];
    if (!e) throw new Error(`There is no example ${index}; the prepared dataset has ${dataset.examples.length} (0-based).`);
    const tok = p.tokenizer.tokenizer;
    const naive = p.session.naiveComparisons(e);
    return {
      index,
      id: e.id,
      text: e.text,
      fullLength: e.fullLength,
      tokens: e.ids.map((id, i) => ({ id, text: tok.tokenText(id), label: e.labels[i] ?? IGNORE_INDEX, special: tok.specialIds.has(id) })),
      naive: naive.map((n) => ({ method: n.method, labels: Array.from(n.labels), differs: n.differs, note: n.note })),
    };
  }

  /** Base weights of the prepared model, downloaded once per commit. */
  async loadedModel(ctx: HandlerContext, p: Prepared = this.requirePrepared()): Promise<LoadedModel> {
    if (this.model?.key === p.source.id) return this.model.value;
    ctx.emit({ type: 'progress', stage: `Downloading ${p.location.repo} weights`, loaded: 0, total: null });
    this.model = null;
    // A source of its own, pinned to the prepared commit: the one `run.prepare` opened is tied to that request's
    // abort signal, which a later settings change may have fired.
    const source = await hubSource(hubConfig(p.location.endpoint), p.location.repo, p.summary.sha || p.location.revision, ctx.signal);
    const value = await loadModel(source);
    this.model = { key: p.source.id, value };
    return value;
  }

  /** The training backend for a choice, opened once (WebGPU, or WASM with the reason). */
  openedBackend(choice: BackendChoice): Promise<{ backend: Backend; fallbackReason?: string }> {
    let opened = this.backends.get(choice);
    if (!opened) {
      opened = this.openBackend(choice);
      this.backends.set(choice, opened);
      // A failed open is not cached: the next run tries again.
      opened.catch(() => this.backends.delete(choice));
    }
    return opened;
  }

  /** Forgets a backend whose device was lost, so the next run opens a fresh one. */
  dropBackend(choice: BackendChoice): void {
    this.backends.delete(choice);
  }
}
