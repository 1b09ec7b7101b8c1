// Records kept in IndexedDB (schema version 2): runs, checkpoint metadata, and checkpoint payloads (tensors and
// resumable state) in their own store so listing checkpoints never loads tensors. Plain structured-clone data only.
import type { MetricPoint, ReproManifest, SampleRecord } from '../share/manifest.ts';
import type { RunConfig } from '../share/run-config.ts';

/** A named float32 tensor; for adapters the name is the PEFT key (`base_model.model.….lora_A.weight`). */
export interface StoredTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Where the data order stands, so a resumed run reads the same next batch an uninterrupted one would. Same shape
 * as src/train's DataCursor: epoch e's order is a pure function of the run seed and e, so this is all it takes. */
interface DataCursor {
  epoch: number;
  /** Examples of this epoch already consumed. */
  index: number;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface CheckpointState {
  /** Optimizer steps finished. */
  step: number;
  /** Trainable tensors (LoRA A/B, plus any fully trained tensors). */
  adapter: StoredTensor[];
  /** AdamW first and second moments, one per trainable tensor, named like the tensor; `step` drives bias correction. */
  optimizer: { step: number; m: StoredTensor[]; v: StoredTensor[] };
  /** Every random stream by name (dropout, sampling, …): xoshiro128** state words. */
  rng: Record<string, number[]>;
  cursor: DataCursor;
  metrics: MetricPoint[];
  samples: SampleRecord[];
  /** The trainer's own log (HF `log_history` entries), needed to rebuild it; absent in checkpoints saved before it
   * was kept (optional, so no schema migration: older records simply lack it). */
  log?: Record<string, number>[];
}

/** `autosave`: written between the run's own checkpoints so a closed tab loses no completed step; only the newest is
 * kept, and only while it is the run's latest. */
export type CheckpointReason = 'interval' | 'autosave' | 'pause' | 'stop' | 'complete' | 'manual' | 'import';

export interface CheckpointMeta {
  id: string;
  runId: string;
  step: number;
  createdAt: string;
  reason: CheckpointReason;
  /** Eval loss measured at this step, when an eval ran; the best checkpoint is chosen by it. */
  evalLoss?: number;
  /** Train loss logged at this step, for the checkpoint list (optional: absent in older records). */
  trainLoss?: number;
  /** Approximate stored size, for the storage panel. */
  bytes: number;
}

export interface CheckpointData extends CheckpointState {
  /** Same as the meta record's id. */
  id: string;
}

export type RunStatus = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

export interface RunRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  config: RunConfig;
  manifest: ReproManifest;
  latestCheckpointId?: string;
  /** Lowest eval loss so far (HF Trainer's `load_best_model_at_end`), kept even when it is not among the latest. */
  bestCheckpointId?: string;
  bestEvalLoss?: number;
  /** What the app needs to restore its panels on resume (model/dataset choice, field mapping, backend): opaque here,
   * validated by the app when applied. Optional, so no schema migration. */
  restore?: unknown;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  state: CheckpointState;
}
