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
  /** A theme colour (`var(--line-…)` in styles.css, checked for 3:1 contrast against the panel in both themes). */
  color: string;
  /** Raw values under a smoothed curve: a thinner line in a lighter colour of its own (never transparency, which
   * would drop it below the contrast it needs on a projector). */
  faint?: boolean;
  dots?: boolean;
}

const DOMAIN_Y: [string, string] = ['auto', 'auto'];
const DOT = { r: 3 };

/** One notation for a whole axis: exponential when the largest tick is below 0.01 or from 10 000 up, fixed otherwise,
 * with the fewest digits that keep every tick distinct and exact — never "0.01" beside "9.8e-3". */
export function formatTicks(values: readonly number[]): string[] {
  const largest = Math.max(0, ...values.filter(Number.isFinite).map(Math.abs));
  const distinct = new Set(values).size;
  const exponential = largest !== 0 && (largest >= 1e4 || largest < 1e-2);
  const render = (d: number) => values.map((v) => (v === 0 ? '0' : exponential ? v.toExponential(d) : v.toFixed(d)));
  for (let d = 0; d <= 6; d++) {
    const out = render(d);
    const exact = values.every((v, i) => Math.abs(Number(out[i]) - v) <= Math.abs(v) * 1e-9);
    if (new Set(out).size === distinct && exact) return out;
  }
  return render(6);
}

const MARGIN = { top: 8, right: 14, bottom: 0, left: 0 };
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
  // By index, not by accumulating: a step below the values' float resolution (a span of 1e-19 around 1e-3) would
  // never advance `v`. At most count + 1 ticks fit; past the resolution the ends alone are shown.
  for (let i = 0; i <= count + 1; i++) {
    const v = Number((first + i * step).toPrecision(12));
    if (v > hi + step * 1e-9) break;
    if (out.at(-1) !== v) out.push(v);
  }
  return out.length > 0 ? out : [lo, hi];
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
            <path d={d} fill="none" stroke={l.color} strokeWidth={l.faint ? 1.25 : 2.5} />
            {dots.map(([cx, cy]) => <circle key={`${cx},${cy}`} cx={cx} cy={cy} r={DOT.r} fill="var(--panel)" stroke={l.color} strokeWidth={2} />)}
          </g>
        );
      })}
    </g>
  );
}

/** A fixed-size chart: the parent measures the width once, so no ResizeObserver re-renders each chart per update.
 * `interactive` (when no run is training) draws recharts <Line>s with the hover tooltip; while training, LiveSeries
 * draws the same lines at a fraction of the main-thread cost (issue 7: no task over 100 ms while training). Axis
 * titles are HTML beside the SVG (a recharts <Label> may measure its text in the DOM); `tickPx` sizes ticks and titles. */
function MetricChart(props: { data: ChartRow[]; lines: ChartLine[]; label: string; yTitle: string; width: number; height: number; tickPx: number; interactive: boolean }) {
  const { data, lines } = props;
  const axes = useMemo(() => {
    const first = data[0]?.step ?? 0;
    const last = data.at(-1)?.step ?? first;
    const y = yRange(data, lines.map((l) => l.key));
    const yTicks = y ? niceTicks(y[0], y[1], TICK_COUNT, false) : undefined;
    const xTicks = niceTicks(first, Math.max(last, first + 1), TICK_COUNT, true);
    const labels = (ticks: number[]) => {
      const text = formatTicks(ticks);
      return new Map(ticks.map((v, i) => [v, text[i] ?? String(v)]));
    };
    return {
      xDomain: [first, Math.max(last, first + 1)] as [number, number],
      xTicks,
      xLabels: labels(xTicks),
      yDomain: y ?? DOMAIN_Y,
      yTicks,
      yLabels: labels(yTicks ?? []),
    };
  }, [data, lines]);
  const font = props.tickPx;
  // Wide enough for the longest tick label at this font (digits are ~0.62 em wide), so none is clipped.
  const longest = Math.max(1, ...[...axes.yLabels.values()].map((t) => t.length));
  const yWidth = Math.ceil(longest * font * 0.62) + 12;
  const titleWidth = Math.round(font * 1.8);
  const { xTick, yTick } = useMemo(() => ({
    xTick: (p: TickProps) => (
      <text x={num(p.x)} y={num(p.y) + font + 2} textAnchor="middle" className="chart-tick" style={{ fontSize: font }}>{axes.xLabels.get(num(p.payload?.value)) ?? num(p.payload?.value)}</text>
    ),
    yTick: (p: TickProps) => (
      <text x={num(p.x)} y={num(p.y) + font / 3} textAnchor="end" className="chart-tick" style={{ fontSize: font }}>{axes.yLabels.get(num(p.payload?.value)) ?? num(p.payload?.value)}</text>
    ),
  }), [axes, font]);
  return (
    <figure className="chart" aria-label={props.label} data-testid={`chart-${props.label.toLowerCase().replace(/\W+/g, '-')}`}>
      <figcaption className="chart-title">{props.label}</figcaption>
      <div className="chart-plot">
        <span className="axis-title y" style={{ width: titleWidth, fontSize: font }}>{props.yTitle}</span>
        <LineChart data={props.data} margin={MARGIN} width={Math.max(120, props.width - titleWidth)} height={props.height}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="step" type="number" domain={axes.xDomain} ticks={axes.xTicks} interval={0} tick={xTick} stroke="var(--muted)" height={font * 2} />
          {/* dataKey: without a registered <Line> (the live view) the axis still has values to build its scale from. */}
          <YAxis dataKey={lines[0]?.key} type="number" allowDataOverflow stroke="var(--muted)" width={yWidth} domain={axes.yDomain}
            ticks={axes.yTicks} interval={0} tick={yTick} />
          {props.interactive && <Tooltip contentStyle={TOOLTIP_STYLE} formatter={tooltipValue} />}
          {props.interactive
            ? props.lines.map((l) => (
              <Line key={l.key} type="linear" dataKey={l.key} name={l.name} stroke={l.color} dot={l.dots ? DOT : false}
                strokeWidth={l.faint ? 1.25 : 2.5} isAnimationActive={false} connectNulls />
            ))
            : <LiveSeries data={data} lines={lines} />}
        </LineChart>
      </div>
      <div className="axis-title x" style={{ paddingLeft: titleWidth + yWidth, fontSize: font }}>optimizer step</div>
      {/* An HTML legend: recharts' own measures its box on every update, forcing a layout of the whole page. */}
      <ul className="legend chart-legend">
        {props.lines.map((l) => (
          <li key={l.key}><span className={l.faint ? 'swatch faint' : 'swatch'} style={{ background: l.color }} />{l.name}</li>
        ))}
      </ul>
    </figure>
  );
}

export default memo(MetricChart);
