// The worker protocol: the only module both sides of the thread boundary share (types plus two tiny helpers).
// One discriminated union of requests (main → worker) and one of events (worker → main), wrapped in envelopes that
// carry request ids, streamed progress events, results, errors and cancellation. Imports nothing but share.
import type { MaskPolicy, RunConfig } from '../share/run-config';
import type { MetricPoint, ReproManifest, SampleRecord } from '../share/manifest'; // saved runs (h4)

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
  /** The backend training will use: WebGPU when an adapter exists, else onnxruntime-web's WASM (CPU). */
  backend: 'webgpu' | 'wasm';
  /** SharedArrayBuffer is available (WASM threads need it; the server sends COOP/COEP headers for it). */
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
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
  // Model panel (h2): optional so hand-made summaries stay valid; the worker always sets them.
  /** Whether TabTune can train this architecture (from config.json's model_type and architectures). */
  support?: ArchitectureSupport;
  /** The memory bill for the `shape` asked for in `model.inspect`; null when the architecture is unsupported or the
   * run's settings do not apply to this model (see `memoryError`). */
  memory?: MemoryEstimate | null;
  /** Why there is no bill for a supported model (e.g. a LoRA target this architecture does not have). */
  memoryError?: string | null;
}

// Model panel (h2) --------------------------------------------------------------------------------------------------
export interface ArchitectureSupport {
  supported: boolean;
  /** Why not, naming the supported list; null when supported. */
  message: string | null;
  /** The model_type values TabTune has a forward pass for. */
  supportedTypes: string[];
}

/** What a memory bill is computed for: the run's batch × sequence length and its LoRA settings. */
export interface MemoryShape {
  batch: number;
  seqLen: number;
  lora: { r: number; targets: string[] };
  /** Limits to check against (the capability probe's WebGPU limits, or a byte budget for WASM); none = no check. */
  limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number; budgetBytes?: number };
}

/** Bytes one training run needs on the device, computed from config.json alone (before any weights download). */
export interface MemoryEstimate {
  shape: MemoryShape;
  /** Frozen base weights as float32. */
  weightBytes: number;
  trainableParams: number;
  /** Trainable parameters themselves (float32). */
  trainableBytes: number;
  /** Their gradients. */
  gradientBytes: number;
  /** AdamW's two moments. */
  optimizerBytes: number;
  /** What one step keeps alive for the backward pass. */
  activationBytes: number;
  /** The largest single tensor (logits or the embedding table): it must fit one GPU buffer. */
  largestTensorBytes: number;
  /** Which tensor that is, e.g. `logits [4×256, 151936]`. */
  largestTensorName: string;
  /** How the activations are estimated, in one sentence. */
  activationNote: string;
  totalBytes: number;
  /** Why the run cannot fit `shape.limits`, each a sentence with the numbers and a fix; empty when it fits. */
  problems: string[];
}

/** The tokenizer of another repo checked against the model: vocabulary vs embedding rows, special tokens, template. */
export interface TokenizerCheck {
  location: HubLocation;
  sha: string;
  /** Largest id + 1 over the vocabulary and added tokens. */
  vocabSize: number;
  /** vocab_size of the model's config.json. */
  embeddingRows: number | null;
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  hasChatTemplate: boolean;
  /** `error`: training cannot work (ids past the embedding table); `warn`: it works, differently from the model's own. */
  problems: { level: 'error' | 'warn'; message: string }[];
}

/** One result of the Hub's model search (`/api/models?search=`); fields the endpoint leaves out are null. */
export interface HubModelHit {
  id: string;
  downloads: number | null;
  likes: number | null;
  lastModified: string | null;
  /** Bytes of the repo (`usedStorage`) when the endpoint gives it. */
  sizeBytes: number | null;
}

/** Branches and tags of a repo (`/api/models/{repo}/refs`), each with the commit it points at. */
export interface HubRefs {
  branches: { name: string; sha: string }[];
  tags: { name: string; sha: string }[];
}

/** Hub files held by the browser's Cache API for one repo at one commit. */
export interface CachedRepo {
  endpoint: string;
  kind: 'model' | 'dataset';
  repo: string;
  sha: string;
  files: number;
  bytes: number;
}

// ---- data ------------------------------------------------------------------------------------------------------

export type DatasetSource =
  | { kind: 'url'; url: string; name: string }
  /** A file the user picked; its bytes are transferred to the worker, not copied. */
  | { kind: 'bytes'; name: string; bytes: ArrayBuffer };

/** A sample dataset shipped with the app under `/datasets/`. */
export interface BundledDataset {
  file: string;
  title: string;
  description: string;
}

export interface DatasetIssue {
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
  // Data panel (h2): the field mapping used, the source's field names, and the Hub pin of a Hub dataset (always
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

// Data panel (h2) ---------------------------------------------------------------------------------------------------
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
  split: 'train' | 'eval';
}

/** A linter finding (src/data lint.ts), as plain data. */
export interface LintNotice {
  code: string;
  message: string;
  count: number;
  /** Up to 5 offending example ids; the Template panel links them to the example. */
  exampleIds: string[];
}

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
}

export interface TokenView {
  id: number;
  /** The token decoded alone (special tokens spelled out). */
  text: string;
  /** Unshifted label: the id, or -100 for no loss. */
  label: number;
  special: boolean;
}

export interface NaiveView {
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
  ms: number;
}

/** Where the trainer runs: `auto` = WebGPU when the worker has an adapter (WASM otherwise), `wasm` = always the CPU. */
export type BackendChoice = 'auto' | 'wasm';

export interface TrainerInfo {
  backend: 'webgpu' | 'wasm';
  backendLabel: string;
  /** Why WebGPU is not used, when it was wanted. */
  fallbackReason: string | null;
  batch: number;
  seqLen: number;
  trainableTensors: number;
  trainableParameters: number;
  totalSteps: number;
  step: number;
}

export type TrainEndReason = 'completed' | 'paused' | 'stopped' | 'non-finite' | 'device-lost' | 'failed';

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

// ---- run export, adapter import (h5) -----------------------------------------------------------------------------

/** What the page adds to an export: the run as a link carries it, the dataset's identity, and what the store logged. */
export interface RunExportParams {
  config: RunConfig;
  /** sha256 (hex) of the dataset file as loaded. */
  datasetHash: string;
  datasetName: string;
  datasetRows: number;
  metrics: MetricPoint[];
  samples: SampleRecord[];
  device: { backend: string; adapter?: string };
}

export interface RunExportResult {
  fileName: string;
  bytes: Uint8Array;
  /** Every path in the zip, sorted. */
  files: string[];
  /** The checkpoint's step. */
  step: number;
}

export interface AdapterImportResult {
  /** The LoRA settings the adapter was trained with; the run config takes them so the step graph fits the tensors. */
  lora: { r: number; alpha: number; dropout: number; rslora: boolean; targets: string[] };
  tensors: number;
  baseModel: string | null;
}

// ---- saved runs (h4): runs and checkpoints the worker keeps in IndexedDB -----------------------------------------

/** Sent with `train.start` so the worker records the run and checkpoints it (without it nothing is saved). */
export interface RunSaveInfo {
  /** Content hash of the dataset file (`sha256:<hex>` or bare hex), pinned in the run's manifest. */
  datasetHash: string;
  datasetRows?: number;
  name?: string;
  /** What the app needs to restore its panels on resume; stored as given, validated by the app when applied. */
  restore?: unknown;
}

export interface StoredCheckpoint {
  id: string;
  runId: string;
  step: number;
  createdAt: string;
  /** Why it was written: every N steps, on pause, stop or completion. */
  reason: string;
  bytes: number;
  trainLoss?: number;
  evalLoss?: number;
  latest: boolean;
  /** Lowest eval loss of the run (HF's load_best_model_at_end); kept even when older than the latest ones. */
  best: boolean;
}

export interface StoredRun {
  id: string;
  name: string;
  status: 'running' | 'paused' | 'stopped' | 'finished' | 'failed';
  createdAt: string;
  updatedAt: string;
  config: RunConfig;
  manifest: ReproManifest;
  restore: unknown;
  /** Oldest first. */
  checkpoints: StoredCheckpoint[];
  bytes: number;
}

export interface StoredRuns {
  /** Newest first. */
  runs: StoredRun[];
  totalBytes: number;
  /** The browser's estimate for the whole origin (navigator.storage), when it gives one. */
  space: { usage: number; quota: number; free: number } | null;
}

/** One stored checkpoint with everything to export or resume it: the two files src/train writes, and the run's
 * metrics and samples up to that step. */
export interface StoredCheckpointLoad {
  run: StoredRun;
  checkpoint: StoredCheckpoint;
  files: CheckpointFiles;
  metrics: MetricPoint[];
  samples: SampleRecord[];
}

/** A push to the Hub. `token` is the user's pasted write token: sent for this request only, never stored. */
export interface HubPushParams {
  endpoint: string;
  token: string;
  repo: string;
  private: boolean;
  datasetName: string;
  datasetHash: string;
  datasetRows: number;
}

export interface HubPushResult {
  repo: string;
  repoUrl: string;
  /** false when the repo existed and the push added a commit. */
  created: boolean;
  commitOid: string;
  commitUrl: string;
}

/** The cluster job: both configs as text (the panel offers each alone) and the whole bundle with the data files. */
export interface ClusterExportResult {
  axolotlYaml: string;
  trlScript: string;
  /** Launch commands (`accelerate launch …`) and where the tools differ from the tab. */
  readme: string;
  files: string[];
  zip: Uint8Array;
  fileName: string;
}

// ---- requests --------------------------------------------------------------------------------------------------

/** Request type → its parameters and its result. The single source the unions below are derived from. */
export interface RequestMap {
  /** Probe WebGPU in the worker (where training will run). */
  'capability.probe': { params: Record<string, never>; result: Capability };
  /** Resolve a model repo to a commit and read its config, tokenizer files and safetensors headers. */
  'model.inspect': { params: { location: HubLocation; shape?: MemoryShape }; result: ModelSummary };
  // Model panel (h2) --------------------------------------------------------------------------------------------
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
  /** Tokenizer + dataset + template + mask policy → examples, dropped rows and lint warnings (no weights yet). */
  'run.prepare': { params: { location: HubLocation; dataset: DatasetRef; config: RunConfig }; result: PreparedRun };
  /** One prepared example: tokens with labels, and what two naive collators would train instead. */
  'example.get': { params: { index: number }; result: ExampleDetail };
  /** The first training batch through the trainer's own step graph, without an optimizer update. */
  'batch.inspect': { params: { backend: BackendChoice }; result: BatchInspection };
  /** Starts a fresh run on the prepared examples; streams trainer/step/eval/samples events until it ends or pauses. */
  'train.start': { params: { backend: BackendChoice; save?: RunSaveInfo }; result: TrainOutcome };
  /** Continues a paused run (or one stopped by a device loss / NaN, from its last checkpoint); given `checkpoint`
   * files (from `run.checkpoint`, e.g. kept in IndexedDB across a reload), rebuilds the trainer from them instead. */
  'train.resume': { params: { checkpoint?: CheckpointFiles; backend?: BackendChoice; runId?: string }; result: TrainOutcome };
  /** The latest checkpoint in worker memory as files (null before the first one), for storage and export. */
  'run.checkpoint': { params: Record<string, never>; result: CheckpointFiles | null };
  /** Asks the running loop to stop after the current step; its train.start/resume resolves with `paused`. */
  'train.pause': { params: Record<string, never>; result: { step: number } };
  /** Ends the run (running or paused); the adapter stays in memory until the next start. */
  'train.stop': { params: Record<string, never>; result: { step: number } };
  // saved runs (h4) -------------------------------------------------------------------------------------------------
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
  // run export, adapter import (h5)
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
  // saved runs (h4): a checkpoint reached IndexedDB; a write failed (`paused`: training stops to wait for space)
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
    case 'adapter.import': // run export, adapter import (h5)
      return [...new Set(Object.values(request.files).map((f) => f.buffer as ArrayBuffer))];
    case 'train.resume':
      return request.checkpoint ? [...new Set(Object.values(request.checkpoint.files).map((f) => f.buffer as ArrayBuffer))] : [];
    default:
      return [];
  }
}

export const CANCELLED_MESSAGE = 'Cancelled by the caller.';
