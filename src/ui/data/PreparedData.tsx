// What run.prepare made of the dataset under the current model, template, mask policy and max length: the token-length
// histogram, the train/eval split (with the eval fraction and seed it came from) and the rows dropped, by reason.
import { useMemo } from 'react';
import { useApp } from '../app-context';
import { ErrorNote, Progress } from '../Panel';
import { LengthHistogram } from './LengthHistogram';
import { DROP_REASONS, binLengths, groupDropped } from './summary';

export function PreparedData() {
  const prepared = useApp((s) => s.prepared);
  const state = useApp((s) => s.preparedState);
  const config = useApp((s) => s.runConfig);
  const histogram = useMemo(() => (prepared ? binLengths(prepared.examples, prepared.maxLength) : null), [prepared]);
  const drops = useMemo(() => (prepared ? groupDropped(prepared.dropped) : []), [prepared]);
  if (!prepared || !histogram) {
    if (state.status === 'loading') return <Progress stage={state.stage} loaded={state.loaded} total={state.total} />;
    if (state.status === 'error') return <ErrorNote>Preparing examples failed: {state.message}</ErrorNote>;
    return null;
  }
  const total = prepared.trainCount + prepared.evalCount;
  return (
    <section className="prepared" aria-label="Prepared examples">
      <h3 className="subhead">Prepared for <code>{prepared.repo}</code> · max length {prepared.maxLength}</h3>
      <LengthHistogram h={histogram} />
      <p className="split" data-testid="split">
        Train <strong>{prepared.trainCount.toLocaleString('en-US')}</strong> · Eval <strong>{prepared.evalCount.toLocaleString('en-US')}</strong>
        <span className="muted"> of {total.toLocaleString('en-US')} examples (eval fraction {config.evalFraction}, seed {config.seed})</span>
      </p>
      {drops.length === 0 ? (
        <p className="muted small" data-testid="dropped">No rows dropped.</p>
      ) : (
        <details className="dropped" data-testid="dropped">
          <summary className="warn">
            {prepared.dropped.length.toLocaleString('en-US')} {prepared.dropped.length === 1 ? 'row' : 'rows'} dropped, not trained
          </summary>
          <ul>
            {drops.map((g) => (
              <li key={g.reason} data-reason={g.reason}>
                <strong>{g.count}</strong> × {DROP_REASONS[g.reason] ?? g.reason}
                <span className="muted"> — {g.ids.join(', ')}{g.count > g.ids.length ? ', …' : ''}</span>
                <div className="muted small">{g.message}</div>
              </li>
            ))}
          </ul>
        </details>
      )}
      {state.status === 'loading' && <Progress stage={state.stage} loaded={state.loaded} total={state.total} />}
    </section>
  );
}
