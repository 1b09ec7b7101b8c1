// The token-length histogram of the prepared examples as a plain SVG (no chart library): one bar per bin, the part
// of a bar cut at the max length in another colour, the max length marked. Colours come from the theme variables.
import type { LengthHistogram as Histogram } from './summary';

const W = 400;
const H = 130;
const PAD = { left: 30, right: 8, top: 18, bottom: 22 };

function plural(n: number, one: string): string {
  return `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;
}

export function LengthHistogram({ h }: { h: Histogram }) {
  const peak = Math.max(1, ...h.bins.map((b) => b.count));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (tokens: number) => PAD.left + (plotW * (tokens - h.lower)) / Math.max(1, h.upper - h.lower);
  const y = (count: number) => PAD.top + plotH - (plotH * count) / peak;
  const markerShown = h.maxLength >= h.lower && h.maxLength <= h.upper;
  const label = `Token lengths of ${plural(h.examples, 'example')}: shortest ${h.shortest}, median ${h.median}, longest ${h.longest}; ` +
    `max length ${h.maxLength}; ${plural(h.truncated, 'example')} truncated.`;
  return (
    <figure className="hist" data-testid="length-histogram">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} />
        <text className="tick" x={PAD.left - 4} y={PAD.top + 4} textAnchor="end">{peak}</text>
        <text className="tick" x={PAD.left - 4} y={PAD.top + plotH} textAnchor="end">0</text>
        {h.bins.map((b) => {
          const left = x(b.start) + 0.5;
          const width = Math.max(1, x(b.end) - x(b.start) - 1);
          const kept = b.count - b.truncated;
          return (
            <g key={b.start}>
              <title>{`${b.start}–${b.end} tokens: ${plural(b.count, 'example')}${b.truncated ? ` (${b.truncated} cut at ${h.maxLength})` : ''}`}</title>
              {kept > 0 && <rect className="hist-bar" x={left} width={width} y={y(kept)} height={y(0) - y(kept)} />}
              {b.truncated > 0 && <rect className="hist-bar cut" data-testid="truncated-bar" x={left} width={width} y={y(b.count)} height={y(kept) - y(b.count)} />}
            </g>
          );
        })}
        {markerShown && (
          <g className="marker">
            <line x1={x(h.maxLength)} x2={x(h.maxLength)} y1={PAD.top - 6} y2={PAD.top + plotH} />
            {/* Above the bars, so the label never sits on a bar of its own colour. */}
            {/* Right of the line when the cut is near the left edge (every example longer than it), else left of it. */}
            <text x={x(h.maxLength)} y={PAD.top - 8} textAnchor={x(h.maxLength) - PAD.left < plotW / 4 ? 'start' : 'end'}>max length {h.maxLength}</text>
          </g>
        )}
        <text className="tick" x={PAD.left} y={H - 6} textAnchor="start">{h.lower}</text>
        <text className="tick" x={x((h.lower + h.upper) / 2)} y={H - 6} textAnchor="middle">{Math.round((h.lower + h.upper) / 2)}</text>
        <text className="tick" x={W - PAD.right} y={H - 6} textAnchor="end">{h.upper} tokens</text>
      </svg>
      <figcaption className="muted small" data-testid="length-caption">
        {plural(h.examples, 'example')} · median {h.median} tokens · longest {h.longest}
        {' · '}
        {h.truncated > 0
          ? <span className="cut-text">{plural(h.truncated, 'example')} truncated at {h.maxLength}</span>
          : markerShown ? `none truncated at ${h.maxLength}` : `none truncated (max length ${h.maxLength} is past the longest)`}
      </figcaption>
    </figure>
  );
}
