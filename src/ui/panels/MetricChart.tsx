// One recharts line chart over rows of numbers keyed by step. Loaded lazily (recharts is most of the page's
// JavaScript, and nothing needs it before the first training step). Fixed height so the page does not jump; no
// animation, so a new point costs one redraw. Tick values are computed here and drawn as plain <text>: recharts'
// own tick placement measures every label in the DOM (a forced layout of the page per axis per redraw), which was
// the largest share of a redraw's main-thread time while training.
import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, useXAxisScale, useYAxisScale, XAxis, YAxis } from 'recharts';

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
const DOMAIN_Y: [string, string] = ['auto', 'auto'];
const DOT = { r: 3 };

function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

const MARGIN = { top: 6, right: 12, bottom: 0, left: -8 };
const TICK_COUNT = 5;

/** Round values (1, 2 or 5 × 10^k apart) covering [lo, hi], the finest spacing with at most `count` intervals;
 * integers only when `integer`. */
export function niceTicks(lo: number, hi: number, count: number, integer: boolean): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi - lo <= 0) return [lo];
  const span = hi - lo;
  const power = 10 ** Math.floor(Math.log10(span / Math.max(1, count)));
  let step = [1, 2, 5, 10, 20].map((m) => m * power).find((s) => span / s <= count * (1 + 1e-9)) ?? 20 * power;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(lo / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The y range the lines span (undefined and non-finite values skipped), padded 5 % so a flat line is not on the edge. */
function yRange(data: ChartRow[], keys: string[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of data) {
    for (const k of keys) {
      const v = row[k];
      if (v === undefined || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return null;
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(lo) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

interface TickProps { x?: number | string; y?: number | string; payload?: { value: unknown } }
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const xTick = (p: TickProps) => (
  <text x={num(p.x)} y={num(p.y) + 12} textAnchor="middle" className="chart-tick">{num(p.payload?.value)}</text>
);
const yTick = (p: TickProps) => (
  <text x={num(p.x)} y={num(p.y) + 4} textAnchor="end" className="chart-tick">{tick(num(p.payload?.value))}</text>
);
const TOOLTIP_STYLE = { background: 'var(--panel)', border: '1px solid var(--border)' };
const tooltipValue = (v: unknown) => (typeof v === 'number' ? v.toPrecision(4) : String(v));

/**
 * The series while training: one <path> per line (and circles for dotted ones) placed with the chart's own axis scales
 * (recharts' `useXAxisScale`/`useYAxisScale`, its hook for custom shapes). A recharts <Line> registers itself with the
 * chart's store, re-runs its legend and tooltip selectors and draws through its animation controller on every data
 * change; drawn here, a new point costs the axes and one path per line. Same look as the <Line>s it stands in for.
 */
function LiveSeries({ data, lines }: { data: ChartRow[]; lines: ChartLine[] }) {
  const x = useXAxisScale();
  const y = useYAxisScale();
  if (!x || !y) return null;
  return (
    <g className="live-series">
      {lines.map((l) => {
        let d = '';
        const dots: [number, number][] = [];
        for (const row of data) {
          const v = row[l.key];
          if (v === undefined || !Number.isFinite(v)) continue;
          const px = x(row.step);
          const py = y(v);
          if (px === undefined || py === undefined) continue;
          d += `${d ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
          if (l.dots) dots.push([px, py]);
        }
        return (
          <g key={l.key}>
            <path d={d} fill="none" stroke={l.color} strokeWidth={l.faint ? 1 : 2} strokeOpacity={l.faint ? 0.35 : 1} />
            {dots.map(([cx, cy]) => <circle key={`${cx},${cy}`} cx={cx} cy={cy} r={DOT.r} fill="var(--panel)" stroke={l.color} strokeWidth={2} />)}
          </g>
        );
      })}
    </g>
  );
}

/** A fixed-size chart: the parent measures the width once, so no ResizeObserver re-renders each chart per update.
 * `interactive` (when no run is training) draws recharts <Line>s with the hover tooltip; while training, LiveSeries
 * draws the same lines at a fraction of the main-thread cost (issue 7: no task over 100 ms while training). */
function MetricChart(props: { data: ChartRow[]; lines: ChartLine[]; label: string; width: number; interactive: boolean }) {
  const { data, lines } = props;
  const axes = useMemo(() => {
    const first = data[0]?.step ?? 0;
    const last = data.at(-1)?.step ?? first;
    const y = yRange(data, lines.map((l) => l.key));
    return {
      xDomain: [first, Math.max(last, first + 1)] as [number, number],
      xTicks: niceTicks(first, Math.max(last, first + 1), TICK_COUNT, true),
      yDomain: y ?? DOMAIN_Y,
      yTicks: y ? niceTicks(y[0], y[1], TICK_COUNT, false) : undefined,
    };
  }, [data, lines]);
  return (
    <figure className="chart" aria-label={props.label} data-testid={`chart-${props.label.toLowerCase().replace(/\W+/g, '-')}`}>
      <figcaption className="small muted">{props.label}</figcaption>
      <LineChart data={props.data} margin={MARGIN} width={props.width} height={CHART_HEIGHT}>
        <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
        <XAxis dataKey="step" type="number" domain={axes.xDomain} ticks={axes.xTicks} interval={0} tick={xTick} stroke="var(--muted)" />
        {/* dataKey: without a registered <Line> (the live view) the axis still has values to build its scale from. */}
        <YAxis dataKey={lines[0]?.key} type="number" allowDataOverflow stroke="var(--muted)" width={52} domain={axes.yDomain}
          ticks={axes.yTicks} interval={0} tick={yTick} />
        {props.interactive && <Tooltip contentStyle={TOOLTIP_STYLE} formatter={tooltipValue} />}
        {props.interactive
          ? props.lines.map((l) => (
            <Line key={l.key} type="linear" dataKey={l.key} name={l.name} stroke={l.color} dot={l.dots ? DOT : false}
              strokeWidth={l.faint ? 1 : 2} strokeOpacity={l.faint ? 0.35 : 1} isAnimationActive={false} connectNulls />
          ))
          : <LiveSeries data={data} lines={lines} />}
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
