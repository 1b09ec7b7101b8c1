// Charts panel: train/eval loss, and learning rate with gradient norm, from the metrics slice (recharts). Fixed
// heights so the page does not jump when the first point arrives.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { selectMetrics } from '../../store/selectors';
import type { MetricPoint } from '../../store/types';

function Chart(props: { data: MetricPoint[]; lines: { key: keyof MetricPoint; name: string; color: string }[]; label: string }) {
  return (
    <figure className="chart" aria-label={props.label}>
      <ResponsiveContainer width="100%" height={150}>
        <LineChart data={props.data} margin={{ top: 6, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="step" tick={{ fontSize: 11 }} stroke="var(--muted)" />
          <YAxis tick={{ fontSize: 11 }} stroke="var(--muted)" width={48} />
          <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {props.lines.map((l) => (
            <Line key={l.key} type="monotone" dataKey={l.key} name={l.name} stroke={l.color} dot={false} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function ChartsPanel() {
  const metrics = useApp(selectMetrics);
  return (
    <Panel id="charts" step={6} title="Charts">
      {metrics.length === 0 ? (
        <Empty>Train and eval loss, learning rate and gradient norm plot here, one point per optimizer step.</Empty>
      ) : (
        <>
          <Chart label="Loss" data={metrics} lines={[
            { key: 'trainLoss', name: 'train loss', color: 'var(--accent)' },
            { key: 'evalLoss', name: 'eval loss', color: 'var(--accent-2)' },
          ]} />
          <Chart label="Learning rate and gradient norm" data={metrics} lines={[
            { key: 'learningRate', name: 'lr', color: 'var(--accent-3)' },
            { key: 'gradNorm', name: 'grad norm', color: 'var(--accent-4)' },
          ]} />
        </>
      )}
    </Panel>
  );
}
