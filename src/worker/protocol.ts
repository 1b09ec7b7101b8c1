// The worker protocol: the only module both sides of the thread boundary share (types plus two tiny helpers).
// One discriminated union of requests (main → worker) and one of events (worker → main), wrapped in envelopes that
// carry request ids, streamed progress events, results, errors and cancellation. Imports nothing but share.

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
}

// ---- requests --------------------------------------------------------------------------------------------------

/** Request type → its parameters and its result. The single source the unions below are derived from. */
export interface RequestMap {
  /** Probe WebGPU in the worker (where training will run). */
  'capability.probe': { params: Record<string, never>; result: Capability };
  /** Resolve a model repo to a commit and read its config, tokenizer files and safetensors headers. */
  'model.inspect': { params: { location: HubLocation }; result: ModelSummary };
  /** Read a dataset (by URL, or user bytes transferred in) and return its first rows. */
  'dataset.preview': { params: { source: DatasetSource; limit: number }; result: DatasetPreview };
  /** The sample datasets bundled with the app (served from `/datasets/`). */
  'dataset.bundled': { params: Record<string, never>; result: BundledDataset[] };
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
  | { type: 'log'; level: 'info' | 'warn'; message: string };

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
    case 'capability.probe':
    case 'model.inspect':
    case 'dataset.bundled':
      return [];
  }
}

export const CANCELLED_MESSAGE = 'Cancelled by the caller.';
