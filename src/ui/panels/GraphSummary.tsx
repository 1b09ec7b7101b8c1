// The batch inspector's "what this step costs": the train-step graph autodiff built, summarised (engine/summary.ts) —
// nodes per phase (forward / backward / optimizer), per layer and per op type, the largest tensors — and a download of
// the run's graphs as ONNX files with external weights, a manifest and the next step's feeds (docs/onnx-export.md).
import { useState } from 'react';
import { useActions } from '../app-context';
import { ErrorNote, Facts } from '../Panel';
import { errorMessage } from '../../share/labels';
import type { GraphPhase, GraphSummaryView } from '../../worker/protocol-graph';

const PHASES: readonly GraphPhase[] = ['forward', 'backward', 'optimizer'];

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** `layers.3` → `block 3`; `top` → what lives outside the blocks. */
function layerLabel(layer: string): string {
  const m = /^(?:layers|h)\.(\d+)$/.exec(layer);
  if (m) return `block ${m[1]}`;
  if (layer === 'top') return 'outside blocks';
  return layer;
}

function OnnxDownload() {
  const { exporting } = useActions();
  const [state, setState] = useState<{ status: 'idle' | 'loading' | 'done' | 'error'; text: string }>({ status: 'idle', text: '' });
  const download = async () => {
    setState({ status: 'loading', text: 'Building the ONNX files' });
    try {
      const r = await exporting.downloadOnnx((stage) => setState({ status: 'loading', text: stage }));
      const total = r.files.reduce((n, f) => n + f.bytes, 0);
      setState({ status: 'done', text: `${r.fileName}: ${r.files.map((f) => `${f.path} ${bytes(f.bytes)}`).join(', ')} (${bytes(total)})` });
    } catch (err) {
      setState({ status: 'error', text: errorMessage(err) });
    }
  };
  return (
    <div className="row">
      <button type="button" className="secondary" onClick={() => void download()} disabled={state.status === 'loading'} data-testid="download-onnx">
        Download ONNX (.zip)
      </button>
      {state.status === 'error' ? <ErrorNote>{state.text}</ErrorNote> : <span className="small muted" data-testid="onnx-status">{state.text}</span>}
    </div>
  );
}

export function StepGraphSummary({ summary, headRows = null, positions }: { summary: GraphSummaryView; headRows?: number | null; positions?: number }) {
  const maxLayer = Math.max(1, ...summary.byLayer.map((l) => l.total));
  const share = (n: number) => `${((100 * n) / Math.max(1, summary.nodes)).toFixed(0)} %`;
  return (
    <details data-testid="graph-summary">
      <summary>
        Step graph: <strong data-testid="graph-nodes">{summary.nodes}</strong> nodes ({PHASES.map((p) => `${summary.byPhase[p]} ${p}`).join(', ')})
      </summary>
      <p className="small muted">
        Every node is one kernel launch per step, whatever its size: on a GPU a small model's step costs about as much as
        its node count. Backward is what autodiff added; the optimizer part is gradient clipping and AdamW on the trainable
        tensors only.{summary.fusedNodes > 0 ? ` ${summary.fusedNodes} nodes are fused contrib ops (com.microsoft), each replacing several standard ones.` : ''}
      </p>
      {headRows !== null && positions !== undefined ? (
        <p className="small muted" data-testid="graph-head-rows">
          The LM head and the loss run on {headRows} rows, not on all {positions} positions: no batch of this run has more
          tokens to learn, and a position with no label needs no logits.
        </p>
      ) : null}
      <Facts testId="graph-facts" rows={[
        ['frozen weights', bytes(summary.inputBytes.frozen)],
        ['trainable tensors', bytes(summary.inputBytes.trainable)],
        ['optimizer state', bytes(summary.inputBytes.state)],
        ['batch inputs', bytes(summary.inputBytes.data)],
        ['made per step (all node outputs)', bytes(summary.intermediateBytes)],
      ]} />
      <p className="small muted">Nodes per layer, forward · backward · optimizer (embedding, final norm, head, loss and AdamW sit outside the blocks):</p>
      <div className="bars graph-bars" role="list" aria-label="Nodes per layer" data-testid="graph-layers">
        {summary.byLayer.map((l) => (
          <div key={l.layer} className="bar-row" role="listitem" title={`${l.layer}: ${l.forward} forward, ${l.backward} backward, ${l.optimizer} optimizer`}>
            <span className="bar-name">{layerLabel(l.layer)}</span>
            <span className="bar"><span style={{ width: `${(100 * l.total) / maxLayer}%` }} /></span>
            <span className="bar-value">{l.forward}·{l.backward}·{l.optimizer}</span>
          </div>
        ))}
      </div>
      <p className="small muted">Nodes by op type:</p>
      <div className="tensor-scroll graph-table" tabIndex={0} aria-label="Nodes by op type">
        <table className="tensor-table" data-testid="graph-ops">
          <tbody>
            {summary.byOp.map((o) => (
              <tr key={o.op}><th scope="row">{o.op}</th><td>{o.count}</td><td className="muted">{share(o.count)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="small muted">Largest tensors:</p>
      <div className="tensor-scroll graph-table" tabIndex={0} aria-label="Largest tensors">
        <table className="tensor-table" data-testid="graph-largest">
          <tbody>
            {summary.largest.map((t) => (
              <tr key={t.name}>
                <td>{bytes(t.bytes)}</td>
                <td className="muted">{t.kind === 'input' ? `${t.role} input` : t.kind === 'node' ? `${t.op}, ${t.phase}` : 'constant'}</td>
                <td>{t.dtype} [{t.shape.join(', ')}]</td>
                <td><code>{t.name}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <OnnxDownload />
    </details>
  );
}
