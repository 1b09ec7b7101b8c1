// The worker protocol: the only module both sides of the thread boundary share (types plus two tiny helpers).
// One discriminated union of requests (main → worker) and one of events (worker → main), wrapped in envelopes that
// carry request ids, streamed progress events, results, errors and cancellation. Imports nothing but share.
import type { MaskPolicy, RunConfig } from '../share/run-config';
import type { ArchitectureSupport, CachedRepo, HubModelHit, HubRefs, MemoryEstimate, MemoryShape, TokenizerCheck } from './protocol-model';
import type { GraphExportResult, GraphSummaryView } from './protocol-graph';
import type { LessonMetric } from '../share/lessons';
import type { BestVsLatest, LessonEffectResult, LessonLint, LessonMeasurement, LessonRunInfo, PromptComparison } from './protocol-lessons';
import type { AdapterImportResult, ClusterExportResult, HubPushParams, HubPushResult, RunExportParams, RunExportResult, RunSaveInfo, StoredCheckpoint, StoredCheckpointLoad, StoredRun, StoredRuns } from './protocol-runs';

export type * from './protocol-model';
export type * from './protocol-runs';
export type * from './protocol-lessons';

/** Where the app fetches Hub files from: the public Hub, a mirror, or the bundled demo under `${origin}/hub`. */
export interface HubLocation {
  /** Base URL serving `/{repo}/resolve/{revision}/{file}` and `/api/models/{repo}/revision/{revision}`. */
  endpoint: string;
  /** `org/name`. */
  repo: string;
  /** Branch, tag or commit sha; the worker pins it to a sha before fetching anything. */
  revision: string;
}

// ---- capability ------------------------------------------------------------------------------------------------

/** What `navigator.gpu.requestAdapter()` found in the worker, copied into plain data. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** Every feature the adapter lists, sorted (e.g. `shader-f16`, `subgroups`, `timestamp-query`). */
  features: string[];
  /** Every numeric limit (`maxBufferSize`, `maxStorageBufferBindingSize`, `maxComputeWorkgroupSizeX`, ...). */
  limits: Record<string, number>;
}

export type WebGpuProbe =
  | { available: true; adapter: AdapterSummary }
  | { available: false; reason: string; hint: string };

export interface Capability {
  webgpu: WebGpuProbe;
  /** The backend `auto` trains on: WebGPU on a hardware adapter, else onnxruntime-web's WASM (CPU). */
  backend: 'webgpu' | 'wasm';
  /** Why `auto` is WASM although WebGPU exists (the adapter is a software one), in one line; absent otherwise. */
  backendNote?: string;
  /** SharedArrayBuffer is available (WASM threads need it; the server sends COOP/COEP headers for it). */
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** Threads onnxruntime-web's WASM backend trains on: every core but one when isolated, else 1. */
  wasmThreads: number;
  userAgent: string;
}

// ---- model -----------------------------------------------------------------------------------------------------

export interface RepoFile {
  path: string;
  size: number;
}

/** The fields of config.json the Model panel shows, under their upstream keys; absent keys stay absent. */
export interface ModelConfigSummary {
  model_type: string | null;
  architectures: string[];
  num_hidden_layers: number | null;
  hidden_size: number | null;
  intermediate_size: number | null;
  num_attention_heads: number | null;
  num_key_value_heads: number | null;
  vocab_size: number | null;
  max_position_embeddings: number | null;
  tie_word_embeddings: boolean | null;
  torch_dtype: string | null;
}

export interface TokenizerSummary {
  hasTokenizerJson: boolean;
  hasTokenizerConfig: boolean;
  /** The `chat_template` of tokenizer_config.json (or chat_template.jinja), verbatim; null when the repo has none. */
  chatTemplate: string | null;
  tokenizerClass: string | null;
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
}

export interface ParameterCount {
  /** Sum of element counts over every tensor in the safetensors header(s). */
  total: number;
  tensors: number;
  /** Element count per safetensors dtype (`F32`, `BF16`, ...). */
  byDtype: Record<string, number>;
}

export interface ModelSummary {
  location: HubLocation;
  /** The commit the revision resolved to; every later fetch uses it. */
  sha: string;
  files: RepoFile[];
  config: ModelConfigSummary;
  tokenizer: TokenizerSummary;
  parameters: ParameterCount;
  // Model panel: optional so hand-made summaries stay valid; the worker always sets them.
  /** Whether TabTune can train this architecture (from config.json's model_type and architectures). */
  support?: ArchitectureSupport;
  /** The memory bill for the `shape` asked for in `model.inspect`; null when the architecture is unsupported or the
   * run's settings do not apply to this model (see `memoryError`). */
  memory?: MemoryEstimate | null;
  /** Why there is no bill for a supported model (e.g. a LoRA target this architecture does not have). */
  memoryError?: string | null;
}

// ---- data ------------------------------------------------------------------------------------------------------

type DatasetSource =
  | { kind: 'url'; url: string; name: string }
  /** A file the user picked; its bytes are transferred to the worker, not copied. */
  | { kind: 'bytes'; name: string; bytes: ArrayBuffer };

/** A sample dataset shipped with the app under `/datasets/`. */
export interface BundledDataset {
  file: string;
  title: string;
  description: string;
}

interface DatasetIssue {
  /** Where, as a user counts: "line 12", "item 3", "row 7", or "the dataset". */
  where: string;
  message: string;
}

/** One row after field mapping, as plain data: `{ id, kind: 'messages', messages: [{role, content}] }`,
 * `{ id, kind: 'prompt-completion', prompt, completion }`, `{ id, kind: 'instruction', ... }`, `{ id, kind: 'text', text }`. */
export type PreviewRow = { id: string; kind: string } & Record<string, unknown>;

export interface DatasetPreview {
  name: string;
  bytes: number;
  /** Content hash of the file bytes, `sha256:<hex>`. */
  hash: string;
  /** File format read: `jsonl`, `json`, `csv` or `parquet`. */
  fileFormat: string;
  /** Row layout detected: `messages`, `prompt-completion`, `prompt-completion-chat`, `instruction`, `text`; null if none fits. */
  layout: string | null;
  rowCount: number;
  /** The first rows (at most `limit`). */
  rows: PreviewRow[];
  /** Lines/rows that could not be used (the first 100), and how many there were in all. */
  issues: DatasetIssue[];
  issueCount: number;
  // Data panel: the field mapping used, the source's field names, and the Hub pin of a Hub dataset (always
  // set by the worker; optional so older snapshots and hand-made previews stay valid).
  /** Which source field filled each part of a row; null when no layout fits. */
  mapping?: DatasetMapping | null;
  /** The mapping was chosen by the user (`dataset.preview` with `mapping`), not detected. */
  mappingChosen?: boolean;
  /** Field names seen in the first records, sorted: the choices for a mapping by hand. */
  columns?: string[];
  /** Set for a Hub dataset: the commit its revision resolved to and the files read. */
  hub?: { repo: string; revision: string; sha: string; files: string[] } | null;
}

// Data panel ---------------------------------------------------------------------------------------------------
/** src/data's FieldMapping as plain data: the row layout and which source field fills each of its parts. */
export interface DatasetMapping {
  kind: 'messages' | 'prompt-completion' | 'prompt-completion-chat' | 'instruction' | 'text';
  fields: Partial<Record<'messages' | 'prompt' | 'completion' | 'instruction' | 'input' | 'output' | 'text', string>>;
  /** Message objects use these keys instead of role/content (ShareGPT: from/value). */
  messageKeys?: { role: string; content: string };
}

/** What `dataset.preview` reads: a DatasetSource, a dataset repo on the Hub (pinned to a commit; one `file`, or the
 * files of a `split`), or a file the worker already read (by content hash: to map its fields again). */
export type PreviewSource =
  | DatasetSource
  | { kind: 'hub'; endpoint: string; repo: string; revision: string; file?: string; split?: string; name: string }
  | { kind: 'previewed'; hash: string; name: string };

// ---- a run: examples, batch inspection, training ----------------------------------------------------------------

/** A dataset for a run: one the worker already read for `dataset.preview` (by content hash), or a fresh source. */
export type DatasetRef = DatasetSource | { kind: 'previewed'; hash: string; name: string };

export interface ExampleSummary {
  /** Position in the prepared example list (file order, dropped rows left out). */
  index: number;
  id: string;
  tokens: number;
  /** Positions with a label other than -100. */
  targets: number;
  /** Tokens were cut at the max length. */
  truncated: boolean;
  /** Tokens before the max length cut (equals `tokens` when nothing was cut). */
  fullTokens?: number;
  split: 'train' | 'eval';
}

/** A linter finding (src/data lint.ts), as plain data. */
interface LintNotice {
  code: string;
  message: string;
  count: number;
  /** Up to 5 offending example ids; the Template panel links them to the example. */
  exampleIds: string[];
}

/** An edited template checked by `template.check`. */
export type TemplateCheck = { ok: true } | { ok: false; message: string; line: number | null; column: number | null };

export interface DroppedRow {
  id: string;
  reason: string;
  message: string;
}

export interface PreparedRun {
  repo: string;
  /** Commit the tokenizer (and later the weights) are read from. */
  sha: string;
  mask: MaskPolicy;
  maxLength: number;
  /** `chat` (the tokenizer's template), `alpaca`, `custom`, or `none` when no row needs a template. */
  template: string;
  examples: ExampleSummary[];
  dropped: DroppedRow[];
  warnings: LintNotice[];
  trainCount: number;
  evalCount: number;
  /** The dataset the examples were made from: its name and content hash (what a run started now trains on). */
  dataName: string;
  dataHash: string;
}

interface TokenView {
  id: number;
  /** The token decoded alone (special tokens spelled out). */
  text: string;
  /** Unshifted label: the id, or -100 for no loss. */
  label: number;
  special: boolean;
}

interface NaiveView {
  method: string;
  labels: number[];
  /** Positions where the naive method and TabTune's exact mask disagree. */
  differs: number[];
  note: string;
}

export interface ExampleDetail {
  index: number;
  id: string;
  text: string;
  tokens: TokenView[];
  /** Length before truncation. */
  fullLength: number;
  naive: NaiveView[];
}

export interface BatchInspection {
  batch: number;
  seqLen: number;
  /** Positions of the batch's examples in the prepared list (what `tabtune step --json` reports as example_indices). */
  exampleIndices: number[];
  exampleIds: string[];
  /** [batch][seqLen] tensors exactly as fed to the step graph. */
  inputIds: number[][];
  attentionMask: number[][];
  labels: number[][];
  tokenTexts: string[][];
  /** Σ NLL ÷ target tokens, the loss the train step would log for this batch. */
  loss: number;
  targetTokens: number;
  /** [batch][seqLen]: NLL of predicting token t + 1 at position t (0 where no target). */
  tokenNll: number[][];
  /** L2 norm of the gradient per trainable tensor (no clipping, no update applied). */
  gradNorms: { name: string; size: number; norm: number }[];
  /** What the train-step graph holds: nodes by op, phase and layer, the largest tensors (engine/summary.ts). */
  graph: GraphSummaryView;
  /** Rows the training graphs compute the LM head on (the most targets a batch of the run holds), or null when the
   * head runs on every position (train/graphs.ts GraphShape.trainedRows). */
  headRows: number | null;
  ms: number;
  /** The backend that ran it (the trainer's label), and why WebGPU was not used when that applies. */
  backendLabel: string;
  fallbackReason: string | null;
}

/**
 * Where the trainer runs: `auto` = WebGPU on a hardware adapter, WASM on a software adapter or none (Capability.backend);
 * `webgpu` = WebGPU whenever an adapter exists, software too; `wasm` = always the CPU.
 */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export interface TrainerInfo {
  backend: 'webgpu' | 'wasm';
  backendLabel: string;
  /** Why WebGPU is not used, when it was wanted. */
  fallbackReason: string | null;
  batch: number;
  seqLen: number;
  /** BatchInspection.headRows of the run's graphs. */
  headRows: number | null;
  trainableTensors: number;
  trainableParameters: number;
  totalSteps: number;
  step: number;
}

type TrainEndReason = 'completed' | 'paused' | 'stopped' | 'non-finite' | 'device-lost' | 'failed';

export interface TrainOutcome {
  reason: TrainEndReason;
  step: number;
  totalSteps: number;
  /** What happened and what to do, for every reason but `completed` and `paused`. */
  message: string | null;
  /** A checkpoint in worker memory that `train.resume` can continue from (after a device loss or NaN). */
  recoverable: boolean;
}

/** A resumable checkpoint as src/train writes it: `tabtune_optimizer.safetensors` (adapter + AdamW moments) and
 * `tabtune_checkpoint.json` (step, RNG states, data cursor, log history). */
export interface CheckpointFiles {
  step: number;
  files: Record<string, Uint8Array>;
}

export interface GeneratedSample {
  prompt: string;
  completion: string;
  /** Generated token ids (the degeneration detector looks for repeats in them). */
  tokens: number[];
}

// ---- requests --------------------------------------------------------------------------------------------------

/** Request type → its parameters and its result. The single source the unions below are derived from. */
interface RequestMap {
  /** Probe WebGPU in the worker (where training will run). */
  'capability.probe': { params: Record<string, never>; result: Capability };
  /** Resolve a model repo to a commit and read its config, tokenizer files and safetensors headers. */
  'model.inspect': { params: { location: HubLocation; shape?: MemoryShape }; result: ModelSummary };
  // Model panel --------------------------------------------------------------------------------------------
  /** The memory bill of a model (pinned to `location.revision`, a sha) for another batch × length or LoRA setting. */
  'model.memory': { params: { location: HubLocation; shape: MemoryShape }; result: MemoryEstimate };
  /** Downloads a model's weight files into the cache, streaming `progress` events in bytes (file by file). */
  'model.download': { params: { location: HubLocation }; result: { files: number; bytes: number } };
  /** Checks another repo's tokenizer against a model's config.json and own tokenizer. */
  'tokenizer.check': { params: { tokenizer: HubLocation; model: HubLocation }; result: TokenizerCheck };
  /** Model search on the Hub endpoint, most downloaded first (the Model panel's autocomplete). */
  'hub.search': { params: { endpoint: string; query: string; limit: number }; result: HubModelHit[] };
  /** A repo's branches and tags with their commits (the revision picker). */
  'hub.refs': { params: { endpoint: string; repo: string }; result: HubRefs };
  /** The Hub files the browser's cache holds, by repo and commit. */
  'cache.list': { params: Record<string, never>; result: CachedRepo[] };
  /** Deletes a repo's files at one commit from the cache; returns what is left. */
  'cache.delete': { params: { endpoint: string; repo: string; sha: string; kind: 'model' | 'dataset' }; result: CachedRepo[] };
  /** Read a dataset (by URL, or user bytes transferred in) and return its first rows. */
  'dataset.preview': { params: { source: PreviewSource; limit: number; mapping?: DatasetMapping }; result: DatasetPreview };
  /** The sample datasets bundled with the app (served from `/datasets/`). */
  'dataset.bundled': { params: Record<string, never>; result: BundledDataset[] };
  /** Tokenizer + dataset + template + mask policy → examples, dropped rows and lint warnings (no weights yet). Only
   * the config's data settings matter here; hyperparameters travel with `batch.inspect` and `train.start`. */
  'run.prepare': { params: { location: HubLocation; dataset: DatasetRef; config: RunConfig }; result: PreparedRun };
  /** Parses an edited chat template and renders the prepared dataset's first rows with it; a failure says where
   * (line:column for a parse error). Nothing is kept: the run changes template only through `run.prepare`. */
  'template.check': { params: { source: string; kwargs: Record<string, unknown> }; result: TemplateCheck };
  /** One prepared example: tokens with labels, and what two naive collators would train instead. */
  'example.get': { params: { index: number }; result: ExampleDetail };
  /** The first training batch through the trainer's own step graph, without an optimizer update. */
  'batch.inspect': { params: { backend: BackendChoice; config: RunConfig }; result: BatchInspection };
  /** The current trainer's graphs (train-step, accumulate, eval, prefill, decode) as ONNX with external weights, a
   * manifest and the next step's feeds, zipped (docs/onnx-export.md); builds the trainer like batch.inspect. */
  'graph.export': { params: { backend: BackendChoice; config: RunConfig }; result: GraphExportResult };
  /** Starts a fresh run on the prepared examples; streams trainer/step/eval/samples events until it ends or pauses. */
  'train.start': { params: { backend: BackendChoice; config: RunConfig; save?: RunSaveInfo; lesson?: LessonRunInfo }; result: TrainOutcome };
  /** Lessons: the base model's and the current adapter's greedy answers to a prompt, side by side; while a run trains
   * it is answered between two steps. */
  'prompt.compare': { params: { prompt: string; maxNewTokens: number; backend: BackendChoice }; result: PromptComparison };
  /** Lessons: the linter's count for a lesson config (with the session's refusal, if it refuses to prepare it). */
  'lesson.lint': { params: { location: HubLocation; dataset: DatasetRef; config: RunConfig; code: string }; result: LessonLint };
  /** Lessons: the saved run's best checkpoint (by eval loss) and the latest adapter on the same held-out prompts. */
  'lesson.bestVsLatest': { params: { prompts: number; maxNewTokens: number; backend: BackendChoice }; result: BestVsLatest };
  /** Lessons: the current adapter's metric and eval loss on the held-out rows as trained and rendered under
   * `servedConfig`'s data settings (same rows, model and tokenizer). */
  'lesson.effect': { params: { metric: LessonMetric; servedConfig: RunConfig; backend: BackendChoice }; result: LessonEffectResult };
  /** Continues a paused run (or one stopped by a device loss / NaN, from its last checkpoint); given `checkpoint`
   * files (from `run.checkpoint`, e.g. kept in IndexedDB across a reload), rebuilds the trainer from them instead. */
  'train.resume': { params: { checkpoint?: CheckpointFiles; backend?: BackendChoice; runId?: string; config?: RunConfig }; result: TrainOutcome };
  /** Loads checkpoint files (a saved run's, by `storage.load`) into a trainer for the prepared examples under the
   * run's `config`, paused at its step: streams `samples` generated from it now; `train.resume` then continues from it,
   * and export and push write its adapter. */
  'checkpoint.open': { params: { checkpoint: CheckpointFiles; backend: BackendChoice; config: RunConfig }; result: TrainerInfo };
  /** The latest checkpoint in worker memory as files (null before the first one), for storage and export. */
  'run.checkpoint': { params: Record<string, never>; result: CheckpointFiles | null };
  /** Asks the running loop to stop after the current step; its train.start/resume resolves with `paused`. */
  'train.pause': { params: Record<string, never>; result: { step: number } };
  /** Asks the running loop to write a checkpoint after the current step (the page is going away). */
  'train.flush': { params: Record<string, never>; result: { step: number } };
  /** The port to the checkpoint service worker (src/worker/checkpoint-handoff.ts): from now on recovery points go to
   * it, and the page is told of a step only once a state at or past it was handed over, so a closed tab loses no step
   * it showed. */
  'train.handoff': { params: { port: MessagePort }; result: { connected: true } };
  /** Ends the run (running or paused); the adapter stays in memory until the next start. */
  'train.stop': { params: Record<string, never>; result: { step: number } };
  // saved runs -------------------------------------------------------------------------------------------------
  /** Every saved run with its checkpoints (metadata only), and storage use. */
  'storage.runs': { params: Record<string, never>; result: StoredRuns };
  /** The newest saved run still running or paused with a checkpoint: what a reloaded tab offers to resume. */
  'storage.resumable': { params: Record<string, never>; result: StoredRun | null };
  /** A stored checkpoint as files plus the run's history (export, inspection); null when it is gone. */
  'storage.load': { params: { runId: string; which: 'latest' | 'best' | string }; result: StoredCheckpointLoad | null };
  /** Deletes a run (and its checkpoints) or one checkpoint; answers the runs left. */
  'storage.delete': { params: { runId: string } | { checkpointId: string }; result: StoredRuns };
  /** Test hook: checkpoint writes beyond `bytes` in all fail with a real QuotaExceededError; null turns it off. */
  'storage.simulateQuota': { params: { bytes: number | null }; result: { bytes: number | null } };
  // run export, adapter import
  /** The run as a zip (PEFT adapter folder, tokenizer, generation_config, trainer_state, manifest, metrics, samples,
   * resumable checkpoint), built from the latest checkpoint; refused while the loop runs. */
  'run.export': { params: RunExportParams; result: RunExportResult };
  /** Checks a PEFT adapter made elsewhere against the prepared model; the next trainer (samples, batch inspector,
   * Start) begins from it. */
  'adapter.import': { params: { files: Record<string, Uint8Array> }; result: AdapterImportResult };
  /** The prepared run as an Axolotl YAML + TRL SFTTrainer job with its data rows (and the whole bundle zipped). */
  'cluster.export': { params: { config: RunConfig }; result: ClusterExportResult };
  /** Pushes the latest checkpoint's adapter folder + model card to a model repo (created private unless asked). */
  'hub.push': { params: HubPushParams; result: HubPushResult };
}

export type RequestType = keyof RequestMap;
export type RequestParams<T extends RequestType> = RequestMap[T]['params'];
export type RequestResult<T extends RequestType> = RequestMap[T]['result'];

/** One discriminated union of every request. */
export type WorkerRequest = { [T in RequestType]: { type: T } & RequestParams<T> }[RequestType];

// ---- events ----------------------------------------------------------------------------------------------------

/** Streamed while a request runs; tied to that request's id. */
export type WorkerEvent =
  | { type: 'progress'; stage: string; loaded: number; total: number | null; file?: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'trainer'; info: TrainerInfo }
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; targetTokens: number; ms: number; epoch: number }
  | { type: 'eval'; step: number; loss: number; targetTokens: number }
  | { type: 'samples'; step: number; samples: GeneratedSample[] }
  | { type: 'lesson-metric'; measurement: LessonMeasurement }
  // saved runs: a checkpoint reached IndexedDB; a write failed (`paused`: training stops to wait for space)
  | { type: 'checkpoint'; checkpoint: StoredCheckpoint }
  | { type: 'storage-error'; message: string; paused: boolean };

// ---- envelopes -------------------------------------------------------------------------------------------------

export type ToWorker =
  | { kind: 'request'; id: number; request: WorkerRequest }
  | { kind: 'cancel'; id: number };

export interface WorkerErrorInfo {
  message: string;
  /** The request was cancelled by the caller (not a failure of the work itself). */
  cancelled: boolean;
  /** Error class name in the worker (`HubError`, `TypeError`, ...), for tests and logs. */
  name: string;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'event'; id: number; event: WorkerEvent }
  | { kind: 'result'; id: number; type: RequestType; result: RequestResult<RequestType> }
  | { kind: 'error'; id: number; error: WorkerErrorInfo }
  /** Something wrong outside any request (an uncaught error in the worker); the client surfaces it. */
  | { kind: 'fatal'; error: WorkerErrorInfo };

/** ArrayBuffers inside a request that should be transferred, not structured-cloned. */
export function requestTransferables(request: WorkerRequest): Transferable[] {
  switch (request.type) {
    case 'dataset.preview':
      return request.source.kind === 'bytes' ? [request.source.bytes] : [];
    case 'run.prepare':
      return request.dataset.kind === 'bytes' ? [request.dataset.bytes] : [];
    case 'adapter.import': // run export, adapter import
      return [...new Set(Object.values(request.files).map((f) => f.buffer as ArrayBuffer))];
    case 'train.handoff':
      return [request.port];
    case 'train.resume':
      return request.checkpoint ? [...new Set(Object.values(request.checkpoint.files).map((f) => f.buffer as ArrayBuffer))] : [];
    default:
      return [];
  }
}

export const CANCELLED_MESSAGE = 'Cancelled by the caller.';
