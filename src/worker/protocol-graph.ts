// Wire types of the step graph's summary (the batch inspector's "what this step costs") and of the ONNX export
// download. Plain data, types only: the worker fills them from src/engine/summary.ts and src/train/onnx-export.ts.

export type GraphPhase = 'forward' | 'backward' | 'optimizer';

interface GraphTensorView {
  name: string;
  dtype: string;
  shape: readonly number[];
  bytes: number;
  kind: 'input' | 'constant' | 'node';
  role?: string;
  op?: string;
  phase?: GraphPhase;
}

/** engine/summary.ts's GraphSummary as it crosses the thread boundary. */
export interface GraphSummaryView {
  graph: string;
  nodes: number;
  fusedNodes: number;
  byOp: readonly { op: string; count: number }[];
  byPhase: Record<GraphPhase, number>;
  byLayer: readonly ({ layer: string; total: number } & Record<GraphPhase, number>)[];
  inputBytes: Record<'data' | 'frozen' | 'trainable' | 'state', number>;
  intermediateBytes: number;
  largest: readonly GraphTensorView[];
}

/** `graph.export`: the run's graphs as ONNX files in one uncompressed zip (a Blob: never one large contiguous copy). */
export interface GraphExportResult {
  fileName: string;
  zip: Blob;
  files: { path: string; bytes: number }[];
}
