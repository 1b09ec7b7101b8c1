// Worker protocol types of a run's life after training: export and import, runs and checkpoints the worker keeps in
// IndexedDB, push to the Hub and the cluster job. Re-exported by protocol.ts, which callers import.
import type { MetricPoint, ReproManifest, SampleRecord } from '../share/manifest';
import type { RunConfig } from '../share/run-config';
import type { CheckpointFiles } from './protocol';


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
  /** Only the PEFT adapter folder (adapter_config.json, adapter_model.safetensors, README.md), zipped at the top. */
  adapterOnly?: boolean;
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

// ---- saved runs: runs and checkpoints the worker keeps in IndexedDB -----------------------------------------

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
