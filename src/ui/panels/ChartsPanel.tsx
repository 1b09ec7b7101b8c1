// Charts panel: live train loss (raw and smoothed) with eval loss, learning rate, and gradient norm (raw and
// smoothed), one point per optimizer step from the metrics slice. The area keeps its height from the start, so the
// page does not jump when the first point arrives.
import { lazy, Suspense, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { useApp } from '../app-context';
import { Empty, Panel, usePresenting } from '../Panel';
import { downsample, MAX_CHART_POINTS, smooth } from '../../store/selectors';
import { isTraining } from '../../store/run';
import type { ChartLine, ChartRow } from './MetricChart';

const loadChart = () => import('./MetricChart');
const Chart = lazy(loadChart);
// Fetch and evaluate the recharts chunk once the page is idle, so its parse (a few hundred ms on a slow core) never
// lands on the main thread while training streams its first points.
if (typeof window !== 'undefined') {
  const preload = () => void loadChart();
  if ('requestIdleCallback' in window) window.requestIdleCallback(preload, { timeout: 5000 });
  else setTimeout(preload, 2000);
}

// Module constants: recharts re-registers a series whose props object changes, so these must not be rebuilt per render.
// Colours are theme variables (styles.css) whose contrast against the panel is tested in both themes.
const LOSS_LINES: ChartLine[] = [
  { key: 'trainLoss', name: 'train (each step)', color: 'var(--line-loss-raw)', faint: true },
  { key: 'trainLossSmooth', name: 'train (smoothed)', color: 'var(--line-loss)' },
  { key: 'evalLoss', name: 'eval', color: 'var(--line-eval)', dots: true },
];
const GRAD_LINES: ChartLine[] = [
  { key: 'gradNorm', name: 'each step', color: 'var(--line-grad-raw)', faint: true },
  { key: 'gradNormSmooth', name: 'smoothed', color: 'var(--line-grad)' },
];
const LR_LINES: ChartLine[] = [{ key: 'learningRate', name: 'learning rate', color: 'var(--line-lr)' }];
const LESSON_LINES: ChartLine[] = [{ key: 'lessonMetric', name: 'lesson metric (held-out)', color: 'var(--line-eval)', dots: true }]; // lessons

/** Columns and the width of one chart cell for `charts` charts, measured by a ResizeObserver only when the layout
 * really changes. The grid takes its columns from here too, so a chart always fills its cell. */
function useCells(minCell: number, charts: number): [(el: HTMLDivElement | null) => (() => void) | undefined, { cols: number; width: number }] {
  const [cells, setCells] = useState({ cols: 1, width: 0 });
  const ref = useCallback((el: HTMLDivElement | null) => {
    if (!el) return undefined;
    const measure = () => {
      const cols = Math.min(charts, Math.max(1, Math.floor((el.clientWidth + GAP) / (minCell + GAP))));
      const width = Math.floor((el.clientWidth - GAP * (cols - 1)) / cols);
      setCells((c) => (c.cols === cols && c.width === width ? c : { cols, width }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [minCell, charts]);
  return [ref, cells];
}
const GAP = 8;
const MIN_CELL = 260;
const MIN_CELL_PRESENTING = 360;
/** Plot height on the page: tall enough to read from the back of a room when projected. */
const CHART_HEIGHT = 220;

/** In presentation mode the plots take the screen's height, less the panel's header, captions and legends. */
function usePlotHeight(presenting: boolean): number {
  const [viewport, setViewport] = useState(() => (typeof window === 'undefined' ? 800 : window.innerHeight));
  useEffect(() => {
    if (!presenting) return undefined;
    const onResize = () => setViewport(window.innerHeight);
    onResize();
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, [presenting]);
  return presenting ? Math.round(Math.min(720, Math.max(260, viewport - 290))) : CHART_HEIGHT;
}
const CHARTS = 4;
/** Delay between updating one chart and the next: each redraw is its own short task instead of one long one, with room
 * for input and paint between them. */
const STAGGER_MS = 120;
/** While training, the charts redraw at most this often: a recharts 3 redraw costs 50-270 ms of main thread on a busy
 * 2-core box (profiled in e2e), so fewer, spaced redraws keep the page responsive. Idle, they follow at once. */
const TRAINING_REDRAW_MS = 3000;

/** What one chart draws: its rows, and whether as the live (training) view or the interactive one. */
interface Shown {
  rows: ChartRow[];
  live: boolean;
}

/** The rows each chart shows, handed to the charts one at a time and, while training, at most every TRAINING_REDRAW_MS.
 * Switching between the live and the interactive view is staggered the same way, one chart per task. */
function useStaggered(rows: ChartRow[], training: boolean): Shown[] {
  const [shown, setShown] = useState<Shown[]>(() => Array.from({ length: CHARTS }, () => ({ rows, live: training })));
  const last = useRef(0);
  useEffect(() => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    const wait = training ? Math.max(0, last.current + TRAINING_REDRAW_MS - performance.now()) : 0;
    for (let i = 0; i < CHARTS; i++) {
      timers.push(setTimeout(() => {
        if (i === 0) last.current = performance.now();
        setShown((prev) => prev.map((r, k) => (k === i ? { rows, live: training } : r)));
      }, wait + i * STAGGER_MS));
    }
    return () => timers.forEach(clearTimeout);
  }, [rows, training]);
  return shown;
}

/** The charts (the lesson metric's only in a lesson), sized to their cells; inside the Panel, so it sees presentation mode (usePresenting). */
function ChartGrid({ rows, shown, training, lesson }: { rows: ChartRow[]; shown: Shown[]; training: boolean; lesson: boolean }) {
  const presenting = usePresenting();
  const [gridRef, { cols, width }] = useCells(presenting ? MIN_CELL_PRESENTING : MIN_CELL, lesson ? CHARTS : CHARTS - 1);
  const height = usePlotHeight(presenting);
  // Tick labels grow with the screen when presented (16 px at 1280 wide, 22 px at 1920), 12 px on the page.
  const tickPx = presenting ? Math.round(Math.min(24, Math.max(16, window.innerWidth * 0.0115))) : 12;
  return (
    <div className="chart-grid" ref={gridRef} style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
      {width > 0 && (
        <>
          <Chart label="Loss" yTitle="loss (nats)" data={shown[0]?.rows ?? rows} lines={LOSS_LINES} width={width} height={height}
            tickPx={tickPx} interactive={!(shown[0]?.live ?? training)} />
          {lesson && (
            <Chart label="Lesson metric" yTitle="share of held-out prompts" data={shown[3]?.rows ?? rows} lines={LESSON_LINES} width={width}
              height={height} tickPx={tickPx} interactive={!(shown[3]?.live ?? training)} />
          )}
          <Chart label="Gradient norm" yTitle="global L2 norm" data={shown[1]?.rows ?? rows} lines={GRAD_LINES} width={width} height={height}
            tickPx={tickPx} interactive={!(shown[1]?.live ?? training)} />
          <Chart label="Learning rate" yTitle="learning rate" data={shown[2]?.rows ?? rows} lines={LR_LINES} width={width} height={height}
            tickPx={tickPx} interactive={!(shown[2]?.live ?? training)} />
        </>
      )}
    </div>
  );
}

export function ChartsPanel() {
  // Deferred: chart updates render at transition priority, in slices React can interrupt, so a burst of points
  // never blocks input on the main thread.
  const metrics = useDeferredValue(useApp((s) => s.metrics));
  const [weight, setWeight] = useState(0.6);
  const rows = useMemo<ChartRow[]>(() => {
    const loss = smooth(metrics.map((m) => m.trainLoss), weight);
    const grad = smooth(metrics.map((m) => m.gradNorm), weight);
    // Smoothed over every point, then thinned for drawing (the thinning keeps each stretch's min and max raw loss).
    const all = metrics.map((m, i) => ({
      step: m.step, trainLoss: m.trainLoss, trainLossSmooth: loss[i], evalLoss: m.evalLoss, learningRate: m.learningRate,
      gradNorm: m.gradNorm, gradNormSmooth: grad[i], lessonMetric: m.lessonMetric,
    }));
    return downsample(all, MAX_CHART_POINTS, 'trainLoss', 'evalLoss');
  }, [metrics, weight]);
  // Live view for the whole run, pauses included: flipping views costs a full redraw of each chart, and a paused run
  // is about to go on. The interactive view (hover tooltips) comes back when the run has ended.
  const phase = useApp((s) => s.phase);
  const training = isTraining(phase) || phase === 'paused';
  const shown = useStaggered(rows, training);
  const lesson = metrics.some((m) => m.lessonMetric !== undefined); // lessons: the metric beside the loss
  return (
    <Panel id="charts" step={6} title="Charts" wide aside={
      <label className="inline small">
        Smoothing {weight.toFixed(2)}
        <input type="range" min={0} max={0.95} step={0.05} value={weight} onChange={(e) => setWeight(Number(e.target.value))} aria-label="Smoothing weight" />
      </label>
    }>
      <div className="chart-area" data-testid="charts">
        {metrics.length === 0 && (
          <Empty>Train and eval loss, learning rate and gradient norm plot here, one point per optimizer step (raw and smoothed).</Empty>
        )}
        {/* Mounted (empty) from the start: mounting recharts is a long task, better paid before training begins. */}
        <Suspense fallback={<p className="muted small">Loading charts…</p>}>
          <ChartGrid rows={rows} shown={shown} training={training} lesson={lesson} />
        </Suspense>
      </div>
    </Panel>
  );
}
