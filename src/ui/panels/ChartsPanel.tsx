// Charts panel: train/eval loss, and learning rate with gradient norm, from the metrics slice (recharts, loaded on
// the first point).
import { lazy, Suspense } from 'react';
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { selectMetrics } from '../../store/selectors';

const Chart = lazy(() => import('./MetricChart'));

export function ChartsPanel() {
  const metrics = useApp(selectMetrics);
  return (
    <Panel id="charts" step={6} title="Charts">
      {metrics.length === 0 ? (
        <Empty>Train and eval loss, learning rate and gradient norm plot here, one point per optimizer step.</Empty>
      ) : (
        <Suspense fallback={<p className="muted small chart-placeholder">Loading charts…</p>}>
          <Chart label="Loss" data={metrics} lines={[
            { key: 'trainLoss', name: 'train loss', color: 'var(--accent)' },
            { key: 'evalLoss', name: 'eval loss', color: 'var(--accent-2)' },
          ]} />
          <Chart label="Learning rate and gradient norm" data={metrics} lines={[
            { key: 'learningRate', name: 'lr', color: 'var(--accent-3)' },
            { key: 'gradNorm', name: 'grad norm', color: 'var(--accent-4)' },
          ]} />
        </Suspense>
      )}
    </Panel>
  );
}
