// A dataset as the rest of TabTune sees it: rows (after format detection and field mapping), the problems found
// while reading, a SHA-256 content hash of the source bytes (WebCrypto, same in browser and Node), and a seeded
// train/eval split.
import { mapRecords, type FieldMapping } from './detect.ts';
import { parseFile, type FileFormat, type ParseIssue } from './formats.ts';
import type { Row } from './types.ts';

export interface Dataset {
  name: string;
  format: FileFormat;
  mapping: FieldMapping | null;
  rows: Row[];
  /** Every line/row that could not be used, with the reason. The valid rows are still in `rows`. */
  errors: ParseIssue[];
  /** `sha256:<hex>` of the source bytes (of all files, in order, for multi-file Hub datasets). */
  hash: string;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return `sha256:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export interface LoadOptions {
  format?: FileFormat;
  mapping?: FieldMapping;
}

/** Reads one file (upload, bundled sample or Hub download) into a Dataset. Never throws on bad content. */
export async function loadDataset(name: string, bytes: Uint8Array, opts: LoadOptions = {}): Promise<Dataset> {
  const parsed = await parseFile(name, bytes, opts.format);
  const mapped = parsed.records.length > 0 ? mapRecords(parsed.records, opts.mapping) : { mapping: null, rows: [], errors: [] };
  return {
    name,
    format: parsed.format,
    mapping: mapped.mapping,
    rows: mapped.rows,
    errors: [...parsed.errors, ...mapped.errors],
    hash: await sha256(bytes),
  };
}

/** Several files of one dataset (Hub shards) as one: rows concatenated, ids prefixed with the file name. */
export async function loadDatasetFiles(name: string, files: { path: string; bytes: Uint8Array }[], opts: LoadOptions = {}): Promise<Dataset> {
  const parts = await Promise.all(files.map((f) => loadDataset(f.path, f.bytes, opts)));
  const total = new Uint8Array(files.reduce((n, f) => n + f.bytes.length, 0));
  let at = 0;
  for (const f of files) {
    total.set(f.bytes, at);
    at += f.bytes.length;
  }
  const prefix = (path: string, id: string) => (files.length > 1 ? `${path} ${id}` : id);
  return {
    name,
    format: parts[0]?.format ?? 'parquet',
    mapping: parts.find((p) => p.mapping)?.mapping ?? null,
    rows: parts.flatMap((p) => p.rows.map((r) => ({ ...r, id: prefix(p.name, r.id) }))),
    errors: parts.flatMap((p) => p.errors.map((e) => ({ ...e, where: prefix(p.name, e.where) }))),
    hash: await sha256(total),
  };
}

