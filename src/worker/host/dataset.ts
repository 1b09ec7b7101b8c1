// `dataset.preview` and `dataset.bundled`: reads a dataset file (a bundled sample by URL, or bytes the user
// uploaded, transferred in) and returns its size, SHA-256, row count, problems by line and its first rows.
import type { BundledDataset, DatasetPreview, DatasetSource } from '../protocol';
import type { HandlerContext } from './context';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches a same-origin file with progress events and cancellation. */
async function fetchBytes(url: string, ctx: HandlerContext): Promise<Uint8Array> {
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

/** JSON Lines or a JSON array, as raw objects; a broken line is reported by number and the rest kept. */
function parseRaw(name: string, bytes: Uint8Array): { rows: unknown[]; issues: { line: number; message: string }[] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${name} is not valid UTF-8 text. Save it as UTF-8 and upload it again.`);
  }
  if (/\.json$/i.test(name)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${name} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (!Array.isArray(parsed)) throw new Error(`${name} must hold a JSON array of rows (got ${typeof parsed}).`);
    return { rows: parsed, issues: [] };
  }
  if (!/\.jsonl$/i.test(name)) {
    throw new Error(`${name}: only .jsonl and .json files can be previewed in this version.`);
  }
  const rows: unknown[] = [];
  const issues: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line));
    } catch (err) {
      issues.push({ line: i + 1, message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
    }
  });
  return { rows, issues };
}

function detectFormat(row: unknown): string | null {
  if (!row || typeof row !== 'object') return null;
  const keys = new Set(Object.keys(row));
  if (keys.has('messages')) return 'messages';
  if (keys.has('conversations')) return 'sharegpt';
  if (keys.has('prompt') && keys.has('completion')) return 'prompt-completion';
  if (keys.has('instruction') && keys.has('output')) return 'instruction';
  if (keys.has('text')) return 'text';
  return null;
}

export async function previewDataset(source: DatasetSource, limit: number, ctx: HandlerContext): Promise<DatasetPreview> {
  const bytes = source.kind === 'url' ? await fetchBytes(source.url, ctx) : new Uint8Array(source.bytes);
  if (bytes.byteLength === 0) throw new Error(`${source.name} is empty: a dataset needs at least one row.`);
  ctx.emit({ type: 'progress', stage: 'Parsing', loaded: bytes.byteLength, total: bytes.byteLength });
  const { rows, issues } = parseRaw(source.name, bytes);
  return {
    name: source.name,
    bytes: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    format: detectFormat(rows[0]),
    rowCount: rows.length,
    rows: rows.slice(0, Math.max(0, limit)),
    issues,
  };
}

export async function listBundledDatasets(baseUrl: string, ctx: HandlerContext): Promise<BundledDataset[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/datasets.json`;
  const bytes = await fetchBytes(url, ctx);
  const list = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  if (!Array.isArray(list)) throw new Error(`${url} must be a JSON array of { file, title, description }.`);
  return list.map((d: unknown, i) => {
    const e = (d ?? {}) as Record<string, unknown>;
    if (typeof e.file !== 'string') throw new Error(`${url}: entry ${i} has no "file" string.`);
    return {
      file: e.file,
      title: typeof e.title === 'string' ? e.title : e.file,
      description: typeof e.description === 'string' ? e.description : '',
    };
  });
}
