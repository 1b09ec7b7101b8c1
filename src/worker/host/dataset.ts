// `dataset.preview` and `dataset.bundled`: reads a dataset file (a bundled sample by URL, or bytes the user
// uploaded, transferred in) through src/data's loader and returns its size, content hash, detected layout, row
// count, problems by line and its first rows. The bundled list is src/data's SAMPLE_DATASETS.
import { loadDataset, type Dataset } from '../../data/dataset.ts';
import { SAMPLE_DATASETS } from '../../data/samples.ts';
import type { BundledDataset, DatasetPreview, DatasetSource } from '../protocol';
import type { HandlerContext } from './context';

/** Fetches a same-origin file with progress events and cancellation. */
export async function fetchBytes(url: string, ctx: HandlerContext): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new Error(`Could not fetch ${url}: ${err instanceof Error ? err.message : String(err)}. Is the app server running?`, { cause: err });
  }
  if (!res.ok) {
    throw new Error(`Fetching ${url} failed with HTTP ${res.status}. The bundled datasets are built into public/datasets/; rebuild the app.`);
  }
  const total = Number(res.headers.get('Content-Length')) || null;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    ctx.emit({ type: 'progress', stage: 'Downloading', loaded, total });
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Problems listed in a preview; the count of all of them is sent beside. */
const MAX_ISSUES = 100;

/** `keep` receives the parsed dataset so a later `run.prepare` can use it by hash. */
export async function previewDataset(source: DatasetSource, limit: number, ctx: HandlerContext, keep?: (d: Dataset) => void): Promise<DatasetPreview> {
  const bytes = source.kind === 'url' ? await fetchBytes(source.url, ctx) : new Uint8Array(source.bytes);
  if (bytes.byteLength === 0) throw new Error(`${source.name} is empty: a dataset needs at least one row.`);
  ctx.emit({ type: 'progress', stage: 'Parsing', loaded: bytes.byteLength, total: bytes.byteLength });
  const dataset = await loadDataset(source.name, bytes);
  keep?.(dataset);
  return {
    name: source.name,
    bytes: bytes.byteLength,
    hash: dataset.hash,
    fileFormat: dataset.format,
    layout: dataset.mapping?.kind ?? null,
    rowCount: dataset.rows.length,
    rows: dataset.rows.slice(0, Math.max(0, limit)).map((row) => ({ ...row })),
    issues: dataset.errors.slice(0, MAX_ISSUES),
    issueCount: dataset.errors.length,
  };
}

/** The registry in src/data is the one list of bundled samples; the files are served from the app's /datasets/. */
export function listBundledDatasets(): Promise<BundledDataset[]> {
  return Promise.resolve(SAMPLE_DATASETS.map((d) => ({ file: d.file, title: d.title, description: d.description })));
}
