// One recharts line chart over rows of numbers keyed by step. Loaded lazily (recharts is most of the page's
// JavaScript, and nothing needs it before the first training step). Fixed height so the page does not jump; no
// animation, so a new point costs one redraw.
import { memo } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';

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
const DOMAIN_X: [string, string] = ['dataMin', 'dataMax'];
const DOMAIN_Y: [string, string] = ['auto', 'auto'];
const DOT = { r: 3 };

function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

const MARGIN = { top: 6, right: 12, bottom: 0, left: -8 };
const TICK = { fontSize: 11 };
const TOOLTIP_STYLE = { background: 'var(--panel)', border: '1px solid var(--border)' };
const tooltipValue = (v: unknown) => (typeof v === 'number' ? v.toPrecision(4) : String(v));

/** A fixed-size chart: the parent measures the width once, so no ResizeObserver re-renders each chart per update. */
/** `interactive` adds the hover tooltip; it is left out while training, where recharts 3 re-runs its tooltip selectors on
 * every data change (measured: a large share of each redraw on a 2-core box). */
function MetricChart(props: { data: ChartRow[]; lines: ChartLine[]; label: string; width: number; interactive: boolean }) {
  return (
    <figure className="chart" aria-label={props.label} data-testid={`chart-${props.label.toLowerCase().replace(/\W+/g, '-')}`}>
      <figcaption className="small muted">{props.label}</figcaption>
      <LineChart data={props.data} margin={MARGIN} width={props.width} height={CHART_HEIGHT}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
        <XAxis dataKey="step" type="number" domain={DOMAIN_X} allowDecimals={false} tick={TICK} stroke="var(--muted)" />
        <YAxis tick={TICK} stroke="var(--muted)" width={52} domain={DOMAIN_Y} tickFormatter={tick} />
        {props.interactive && <Tooltip contentStyle={TOOLTIP_STYLE} formatter={tooltipValue} />}
        {props.lines.map((l) => (
          <Line key={l.key} type="linear" dataKey={l.key} name={l.name} stroke={l.color} dot={l.dots ? DOT : false}
            strokeWidth={l.faint ? 1 : 2} strokeOpacity={l.faint ? 0.35 : 1} isAnimationActive={false} connectNulls />
        ))}
      </LineChart>
      {/* An HTML legend: recharts' own measures its box on every update, forcing a layout of the whole page. */}
      <ul className="legend chart-legend">
        {props.lines.map((l) => (
          <li key={l.key}><span className="swatch" style={{ background: l.color, opacity: l.faint ? 0.4 : 1 }} />{l.name}</li>
        ))}
      </ul>
    </figure>
  );
}

export default memo(MetricChart);
