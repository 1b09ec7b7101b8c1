// Charts panel: live train loss (raw and smoothed) with eval loss, learning rate, and gradient norm (raw and
// smoothed), one point per optimizer step from the metrics slice. The area keeps its height from the start, so the
// page does not jump when the first point arrives.
import { lazy, Suspense, useMemo, useState } from 'react';
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { selectMetrics, smooth } from '../../store/selectors';
import type { ChartRow } from './MetricChart';

const Chart = lazy(() => import('./MetricChart'));

export function ChartsPanel() {
  const metrics = useApp(selectMetrics);
  const [weight, setWeight] = useState(0.6);
  const rows = useMemo<ChartRow[]>(() => {
    const loss = smooth(metrics.map((m) => m.trainLoss), weight);
    const grad = smooth(metrics.map((m) => m.gradNorm), weight);
    return metrics.map((m, i) => ({
      step: m.step, trainLoss: m.trainLoss, trainLossSmooth: loss[i], evalLoss: m.evalLoss, learningRate: m.learningRate,
      gradNorm: m.gradNorm, gradNormSmooth: grad[i],
    }));
  }, [metrics, weight]);
  return (
    <Panel id="charts" step={6} title="Charts" wide aside={
      <label className="inline small">
        Smoothing {weight.toFixed(2)}
        <input type="range" min={0} max={0.95} step={0.05} value={weight} onChange={(e) => setWeight(Number(e.target.value))} aria-label="Smoothing weight" />
      </label>
    }>
      <div className="chart-area" data-testid="charts">
        {metrics.length === 0 ? (
          <Empty>Train and eval loss, learning rate and gradient norm plot here, one point per optimizer step (raw and smoothed).</Empty>
        ) : (
          <Suspense fallback={<p className="muted small">Loading charts…</p>}>
            <div className="chart-grid">
              <Chart label="Loss" data={rows} lines={[
                { key: 'trainLoss', name: 'train (raw)', color: 'var(--accent)', faint: true },
                { key: 'trainLossSmooth', name: 'train (smoothed)', color: 'var(--accent)' },
                { key: 'evalLoss', name: 'eval', color: 'var(--accent-2)', dots: true },
              ]} />
              <Chart label="Gradient norm" data={rows} lines={[
                { key: 'gradNorm', name: 'raw', color: 'var(--accent-4)', faint: true },
                { key: 'gradNormSmooth', name: 'smoothed', color: 'var(--accent-4)' },
              ]} />
              <Chart label="Learning rate" data={rows} lines={[{ key: 'learningRate', name: 'lr', color: 'var(--accent-3)' }]} />
            </div>
          </Suspense>
        )}
      </div>
    </Panel>
  );
}
