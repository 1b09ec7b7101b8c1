// Worker protocol types of the Model panel: architecture support, the memory bill, a separate tokenizer's check,
// Hub search and refs, and the Cache API listing. Re-exported by protocol.ts, which callers import.
import type { RunConfig } from '../share/run-config';
import type { HubLocation } from './protocol';

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
  /** Base tensors trained in full beside the adapter (the run config's `full`); absent = LoRA only. */
  full?: RunConfig['full'];
  /** Limits to check against (the capability probe's WebGPU limits, or a byte budget for WASM); none = no check. */
  limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number; budgetBytes?: number; sessionWeights?: boolean };
}

/** Bytes one training run needs on the device, computed from config.json alone (before any weights download). */
export interface MemoryEstimate {
  shape: MemoryShape;
  /** Frozen base weights as float32, one copy. */
  weightBytes: number;
  /** Copies of them the run keeps (WASM: one per session that holds them); totalBytes counts them all. */
  weightCopies: number;
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
