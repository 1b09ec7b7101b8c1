// `dataset.preview` and `dataset.bundled`: reads a dataset (a bundled sample by URL, bytes the user uploaded and
// transferred in, or a dataset repo on the Hub pinned to a commit) through src/data's parser and field mapping, and
// returns its size, content hash, detected layout and mapping, field names, row count, problems by line and its first
// rows. The source bytes of the last few datasets stay here so the user can map their fields again by hand without
// sending them twice. The bundled list is src/data's SAMPLE_DATASETS.
import {
  fetchResolvedFile, findFile, hubConfig, loadDatasetFiles, mapRecords, parseFile, pickSplitFiles, resolveRevision, SAMPLE_DATASETS, sha256,
  type Dataset, type FieldMapping, type SourceRecord,
} from '../../train/sources.ts';
import type { BundledDataset, DatasetMapping, DatasetPreview, PreviewSource } from '../protocol';
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
/** Source files kept for a later mapping by hand (an upload's bytes were transferred and are gone from the page). */
const KEPT_SOURCES = 3;
/** Records whose keys make up the field-name list. */
const COLUMN_SAMPLE = 50;

interface SourceFiles {
  name: string;
  files: { path: string; bytes: Uint8Array }[];
  hub: DatasetPreview['hub'];
}

/** The bytes of the datasets read last, by content hash: one per worker, owned by serve(). */
export class DatasetSources {
  private readonly kept = new Map<string, SourceFiles>();

  keep(hash: string, source: SourceFiles): void {
    this.kept.delete(hash);
    this.kept.set(hash, source);
    while (this.kept.size > KEPT_SOURCES) this.kept.delete(this.kept.keys().next().value as string);
  }

  get(hash: string, name: string): SourceFiles {
    const source = this.kept.get(hash);
    if (!source) throw new Error(`The worker no longer holds the file of ${name}; pick or upload it again in the Data panel, then map its fields.`);
    return source;
  }
}

function columnsOf(records: readonly SourceRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records.slice(0, COLUMN_SAMPLE)) {
    if (r.value && typeof r.value === 'object' && !Array.isArray(r.value)) for (const k of Object.keys(r.value)) names.add(k);
  }
  return [...names].sort();
}

/** One file → a Dataset plus its field names (parsed once; the same steps as src/data loadDataset). */
async function readOne(name: string, bytes: Uint8Array, mapping: FieldMapping | undefined): Promise<{ dataset: Dataset; columns: string[] }> {
  const parsed = await parseFile(name, bytes);
  const mapped = parsed.records.length > 0 ? mapRecords(parsed.records, mapping) : { mapping: null, rows: [], errors: [] };
  const dataset: Dataset = {
    name, format: parsed.format, mapping: mapped.mapping, rows: mapped.rows,
    errors: [...parsed.errors, ...mapped.errors], hash: await sha256(bytes),
  };
  return { dataset, columns: columnsOf(parsed.records) };
}

async function readSource(source: SourceFiles, mapping: FieldMapping | undefined): Promise<{ dataset: Dataset; columns: string[] }> {
  const [first, ...rest] = source.files;
  if (!first) throw new Error(`${source.name} has no files to read.`);
  if (rest.length === 0) {
    const one = await readOne(source.name, first.bytes, mapping);
    return { dataset: { ...one.dataset, name: source.name }, columns: one.columns };
  }
  // Shards of one Hub split: src/data concatenates them; the field names come from the first.
  const dataset = await loadDatasetFiles(source.name, source.files, mapping ? { mapping } : {});
  const columns = columnsOf((await parseFile(first.path, first.bytes)).records);
  return { dataset, columns };
}

/** A dataset repo on the Hub: its revision pinned to a commit, then one named file or the files of a split. */
async function fetchHubDataset(source: Extract<PreviewSource, { kind: 'hub' }>, ctx: HandlerContext): Promise<SourceFiles> {
  const cfg = hubConfig(source.endpoint);
  ctx.emit({ type: 'progress', stage: `Resolving ${source.repo}@${source.revision}`, loaded: 0, total: null });
  const resolved = await resolveRevision(cfg, source.repo, source.revision, { repoType: 'dataset', signal: ctx.signal });
  let paths: string[];
  if (source.file) {
    findFile(resolved, source.file); // throws naming the files the commit has
    paths = [source.file];
  } else {
    const split = source.split ?? 'train';
    paths = pickSplitFiles(resolved.files, split).map((f) => f.path);
    if (paths.length === 0) {
      const listing = resolved.files.map((f) => f.path).join(', ') || 'no files';
      throw new Error(`Dataset ${source.repo}@${source.revision} has no Parquet, JSONL, JSON or CSV file for split "${split}" (it has: ${listing}). Name a file instead.`);
    }
  }
  const files = [];
  for (const path of paths) {
    const bytes = await fetchResolvedFile(cfg, resolved, path, {
      repoType: 'dataset',
      signal: ctx.signal,
      onProgress: (loaded, total) => ctx.emit({ type: 'progress', stage: `Downloading ${path}`, loaded, total: total ?? null, file: path }),
    });
    files.push({ path, bytes });
  }
  return { name: source.name, files, hub: { repo: source.repo, revision: source.revision, sha: resolved.sha, files: paths } };
}

async function sourceFiles(source: PreviewSource, ctx: HandlerContext, sources: DatasetSources): Promise<SourceFiles> {
  switch (source.kind) {
    case 'url':
      return { name: source.name, files: [{ path: source.name, bytes: await fetchBytes(source.url, ctx) }], hub: null };
    case 'bytes':
      return { name: source.name, files: [{ path: source.name, bytes: new Uint8Array(source.bytes) }], hub: null };
    case 'hub':
      return fetchHubDataset(source, ctx);
    case 'previewed':
      return sources.get(source.hash, source.name);
  }
}

/** Reads a dataset with the detected mapping, or with `mapping` when given; `keep` receives the parsed dataset so a
 * later `run.prepare` can use it by hash (the latest mapping of a file wins). */
export async function previewDataset(
  source: PreviewSource, limit: number, ctx: HandlerContext, keep?: (d: Dataset) => void,
  opts: { mapping?: DatasetMapping; sources?: DatasetSources } = {},
): Promise<DatasetPreview> {
  const sources = opts.sources ?? new DatasetSources();
  const files = await sourceFiles(source, ctx, sources);
  const size = files.files.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (size === 0) throw new Error(`${files.name} is empty: a dataset needs at least one row.`);
  ctx.emit({ type: 'progress', stage: 'Parsing', loaded: size, total: size });
  // DatasetMapping mirrors src/data's FieldMapping field for field; mapRecords reports fields a row lacks.
  const { dataset, columns } = await readSource(files, opts.mapping);
  sources.keep(dataset.hash, files);
  keep?.(dataset);
  return {
    name: files.name,
    bytes: size,
    hash: dataset.hash,
    fileFormat: dataset.format,
    layout: dataset.mapping?.kind ?? null,
    rowCount: dataset.rows.length,
    rows: dataset.rows.slice(0, Math.max(0, limit)).map((row) => ({ ...row })),
    issues: dataset.errors.slice(0, MAX_ISSUES),
    issueCount: dataset.errors.length,
    mapping: dataset.mapping ? { kind: dataset.mapping.kind, fields: { ...dataset.mapping.fields }, ...(dataset.mapping.messageKeys ? { messageKeys: { ...dataset.mapping.messageKeys } } : {}) } : null,
    mappingChosen: opts.mapping !== undefined,
    columns,
    hub: files.hub,
  };
}

/** The registry in src/data is the one list of bundled samples; the files are served from the app's /datasets/. */
export function listBundledDatasets(): Promise<BundledDataset[]> {
  return Promise.resolve(SAMPLE_DATASETS.map((d) => ({ file: d.file, title: d.title, description: d.description })));
}
