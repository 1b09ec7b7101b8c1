// The batch inspector's answer: one batch measured by hand (RunSession.inspect) as plain rows the page can show.
import type { GraphSummary } from '../../engine/summary.ts';
import type { BatchReport } from '../../train/session.ts';
import type { BatchInspection } from '../protocol';

function rows(data: ArrayLike<number>, batch: number, seqLen: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from({ length: seqLen }, (_, t) => data[b * seqLen + t] ?? 0));
}

export function batchInspection(
  r: BatchReport, tok: { tokenText(id: number): string }, graph: GraphSummary, headRows: number | null, ms: number, backendLabel: string, fallbackReason: string | null,
): BatchInspection {
  const ids = rows(r.inputIds, r.batch, r.seqLen);
  return {
    batch: r.batch,
    seqLen: r.seqLen,
    exampleIndices: r.indices,
    exampleIds: r.examples.map((e) => e.id),
    inputIds: ids,
    attentionMask: rows(r.attentionMask, r.batch, r.seqLen),
    labels: rows(r.labels, r.batch, r.seqLen),
    tokenTexts: ids.map((row) => row.map((id) => tok.tokenText(id))),
    loss: r.loss,
    targetTokens: r.targetTokens,
    tokenNll: rows(r.tokenNll, r.batch, r.seqLen),
    gradNorms: r.gradNorms.map(({ name, size, norm }) => ({ name, size, norm })),
    graph,
    headRows,
    ms,
    backendLabel,
    fallbackReason,
  };
}
