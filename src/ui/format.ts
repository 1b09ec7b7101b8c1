// Number and size formatting shared by the panels (pure functions).

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** 1234567 → "1.23 M"; small counts stay exact. */
export function formatCount(n: number): string {
  if (Math.abs(n) < 10_000) return n.toLocaleString('en-US');
  if (Math.abs(n) < 1e6) return `${(n / 1e3).toFixed(1)} k`;
  if (Math.abs(n) < 1e9) return `${(n / 1e6).toFixed(2)} M`;
  return `${(n / 1e9).toFixed(2)} B`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 10);
}
