// Batch inspector panel: "one batch by hand" before training. Runs the trainer's first batch through its own step
// graph (no update) and shows the tensors the graph was fed (input_ids, attention_mask, labels with −100), the loss,
// the per-token loss as a heat map over the tokens, and the gradient norm of every trainable tensor as bars.
import { useState } from 'react';
import { useActions, useApp } from '../app-context';
import { Empty, ErrorNote, Facts, Panel, Progress } from '../Panel';
import { HeatLegend, IGNORE, Legend, TokenStrip, type StripToken } from '../tokens';
import { isTraining } from '../../store/run';
import type { BatchInspection } from '../../worker/protocol';
import { StepGraphSummary } from './GraphSummary';

/** Columns of the tensor tables shown at once; the rest scroll. */
const TABLE_COLS = 64;

function TensorTable({ name, rows, highlight }: { name: string; rows: number[][]; highlight?: (v: number) => boolean }) {
  const cols = Math.min(TABLE_COLS, rows[0]?.length ?? 0);
  return (
    <div className="tensor" data-testid={`tensor-${name}`}>
      <p className="small"><code>{name}</code> <span className="muted">[{rows.length}, {rows[0]?.length ?? 0}] int32</span></p>
      <div className="tensor-scroll" tabIndex={0} aria-label={`${name} values`}>
        <table className="tensor-table">
          <tbody>
            {rows.map((r, b) => (
              <tr key={b}>
                <th scope="row">{b}</th>
                {r.slice(0, cols).map((v, t) => <td key={t} className={highlight?.(v) ? 'hl' : undefined}>{v}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function HeatMap({ inspection, row }: { inspection: BatchInspection; row: number }) {
  const nll = inspection.tokenNll[row] ?? [];
  const max = Math.max(1e-6, ...inspection.tokenNll.flat());
  // Position t predicts token t + 1: colour each token by the loss of predicting it.
  const tokens: StripToken[] = (inspection.inputIds[row] ?? []).map((id, t) => {
    const label = inspection.labels[row]?.[t] ?? IGNORE;
    const loss = t > 0 ? (nll[t - 1] ?? 0) : 0;
    const trained = label !== IGNORE && t > 0;
    return {
      id, text: inspection.tokenTexts[row]?.[t] ?? '', label, padding: inspection.attentionMask[row]?.[t] === 0,
      ...(trained ? { heat: loss / max, loss } : {}),
    };
  });
  return (
    <>
      <TokenStrip key={row} tokens={tokens} label={`Per-token loss of row ${row}`} testId="loss-heatmap" />
      <HeatLegend max={max} />
    </>
  );
}

/** `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight` → `L0 q_proj lora_A`: the parts that differ. */
function shortName(name: string): string {
  return name
    .replace(/^base_model\.model\./, '')
    .replace(/^(model\.|transformer\.)?(layers|h)\.(\d+)\./, 'L$3 ')
    .replace(/(self_attn|mlp|attn)\./, '')
    .replace(/\.weight$/, '')
    .replace(/\.(lora_[AB])/, ' $1');
}

function GradNorms({ inspection }: { inspection: BatchInspection }) {
  const max = Math.max(1e-12, ...inspection.gradNorms.map((g) => g.norm));
  return (
    <div className="bars" data-testid="grad-norms" role="list" aria-label="Gradient norm per trainable tensor" tabIndex={0}>
      {inspection.gradNorms.map((g) => (
        <div key={g.name} className="bar-row" role="listitem" title={`${g.name}: ${g.norm.toExponential(3)} over ${g.size} values`}>
          <span className="bar-name">{shortName(g.name)}</span>
          <span className="bar"><span style={{ width: `${(100 * g.norm) / max}%` }} /></span>
          <span className="bar-value">{g.norm === 0 ? '0' : g.norm.toExponential(2)}</span>
        </div>
      ))}
    </div>
  );
}

function Result({ inspection }: { inspection: BatchInspection }) {
  const [row, setRow] = useState(0);
  const zeroA = inspection.gradNorms.some((g) => g.name.includes('lora_A') && g.norm === 0);
  return (
    <>
      <Facts testId="batch-facts" rows={[
        ['loss', <strong key="l" data-testid="batch-loss">{inspection.loss.toFixed(4)}</strong>],
        ['target tokens', String(inspection.targetTokens)],
        ['shape', `${inspection.batch} × ${inspection.seqLen}`],
        ['examples', inspection.exampleIds.join(', ')],
        ['step graph', `${inspection.ms.toFixed(0)} ms (forward + backward, no update)`],
        ['backend', <span key="b" data-testid="batch-backend">{inspection.backendLabel}{inspection.fallbackReason ? ` · ${inspection.fallbackReason}` : ''}</span>],
      ]} />
      <details open>
        <summary>Tensors fed to the step graph</summary>
        <TensorTable name="input_ids" rows={inspection.inputIds} />
        <TensorTable name="attention_mask" rows={inspection.attentionMask} highlight={(v) => v === 0} />
        <TensorTable name="labels" rows={inspection.labels} highlight={(v) => v === IGNORE} />
      </details>
      <div className="row">
        <span className="small muted">Per-token loss, row</span>
        {inspection.inputIds.map((_, b) => (
          <button key={b} type="button" className={b === row ? '' : 'secondary'} aria-pressed={b === row} onClick={() => setRow(b)}>{b}</button>
        ))}
      </div>
      <HeatMap inspection={inspection} row={row} />
      <Legend kinds={['masked', 'padding']} />
      <p className="small muted">Gradient L2 norm per trainable tensor{zeroA ? ' (lora_A is 0 before the first step: lora_B starts at zero, so A gets no gradient yet)' : ''}:</p>
      <GradNorms inspection={inspection} />
      <StepGraphSummary summary={inspection.graph} headRows={inspection.headRows} positions={inspection.batch * inspection.seqLen} />
    </>
  );
}

export function BatchPanel() {
  const { run } = useActions();
  const prepared = useApp((s) => s.prepared);
  const inspection = useApp((s) => s.inspection);
  const state = useApp((s) => s.inspectionState);
  const phase = useApp((s) => s.phase);
  const preparing = useApp((s) => s.preparedState).status === 'loading';
  const busy = state.status === 'loading' || isTraining(phase) || preparing;
  return (
    <Panel id="batch" step={4} title="Batch inspector" aside={
      <button type="button" onClick={() => void run.inspectBatch()} disabled={!prepared || busy} data-testid="inspect-batch">
        {inspection ? 'Run again' : 'Run one batch'}
      </button>
    }>
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
      {state.status === 'error' && <ErrorNote>{state.message}</ErrorNote>}
      {inspection ? <Result inspection={inspection} /> : state.status !== 'loading' && (
        <Empty>
          One step by hand on the first training batch, through the same step graph the trainer runs: the tensors the model
          sees (input_ids, attention_mask, labels with −100), the loss per token and the gradient norm per trainable tensor.
        </Empty>
      )}
    </Panel>
  );
}
