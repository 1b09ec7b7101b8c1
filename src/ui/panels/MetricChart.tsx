// One recharts line chart over rows of numbers keyed by step. Loaded lazily (recharts is most of the page's
// JavaScript, and nothing needs it before the first training step). Fixed height so the page does not jump; no
// animation, so a new point costs one redraw.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export type ChartRow = { step: number } & Record<string, number | undefined>;

export interface ChartLine {
  key: string;
  name: string;
  color: string;
  /** Raw values under a smoothed curve: thin and faded. */
  faint?: boolean;
  dots?: boolean;
}

export const CHART_HEIGHT = 150;

function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(0) : Number(v.toPrecision(3)).toString();
}

export default function MetricChart(props: { data: ChartRow[]; lines: ChartLine[]; label: string; log?: boolean }) {
  return (
    <figure className="chart" aria-label={props.label} data-testid={`chart-${props.label.toLowerCase().replace(/\W+/g, '-')}`}>
      <figcaption className="small muted">{props.label}</figcaption>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={props.data} margin={{ top: 6, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} stroke="var(--muted)" />
          <YAxis tick={{ fontSize: 11 }} stroke="var(--muted)" width={52} domain={['auto', 'auto']} tickFormatter={tick} />
          <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {props.lines.map((l) => (
            <Line key={l.key} type="linear" dataKey={l.key} name={l.name} stroke={l.color} dot={l.dots ? { r: 3 } : false}
              strokeWidth={l.faint ? 1 : 2} strokeOpacity={l.faint ? 0.35 : 1} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
