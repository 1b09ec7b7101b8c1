// Reading dataset files: JSONL, JSON, CSV (papaparse) and Parquet (hyparquet + hyparquet-compressors) into plain
// records, each tagged with where it came from. Malformed input never throws: every bad line/row becomes an error
// naming it and the problem, and the valid records stay available.
import Papa from 'papaparse';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { checkParquetLayout, ParquetLayoutError } from './parquet-guard.ts';

export type FileFormat = 'jsonl' | 'json' | 'csv' | 'parquet';

export interface SourceRecord {
  /** "line 12" (JSONL, CSV), "item 3" (JSON array), "row 7" (Parquet): 1-based, as a user counts. */
  where: string;
  value: unknown;
}

export interface ParseIssue {
  where: string;
  message: string;
}

export interface ParsedFile {
  format: FileFormat;
  records: SourceRecord[];
  errors: ParseIssue[];
}

/** Lines (and JSON documents) longer than this are rejected without decoding them: one runaway line must not take
 * the tab's memory with it. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Format from the file name, else from the first bytes. */
export function detectFileFormat(name: string, bytes: Uint8Array): FileFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv') || lower.endsWith('.tsv')) return 'csv';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31) return 'parquet';
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x5b) return 'json';
  if (bytes[i] === 0x7b) {
    // One object per line is JSONL; a single object spanning lines is JSON.
    const newline = bytes.indexOf(0x0a, i);
    const firstLine = newline < 0 ? bytes.subarray(i) : bytes.subarray(i, newline);
    try {
      JSON.parse(strictUtf8.decode(firstLine));
      return 'jsonl';
    } catch {
      return 'json';
    }
  }
  return 'csv';
}

function describeJsonError(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^JSON\.parse: /, '') : String(error);
}

function decodeLine(bytes: Uint8Array, where: string, errors: ParseIssue[]): string | null {
  if (bytes.length > MAX_LINE_BYTES) {
    errors.push({ where, message: `is ${mib(bytes.length)}, over the ${mib(MAX_LINE_BYTES)} limit per line; split the row or remove it.` });
    return null;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    errors.push({ where, message: `is not valid UTF-8 (bad byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at byte ${bad + 1}); re-save the file as UTF-8.` });
    return null;
  }
}

/** Index of the first byte that breaks UTF-8 (bad lead byte, missing continuation, overlong or surrogate form). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    const width = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (width === 0) return i;
    for (let k = 1; k < width; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
    }
    const second = bytes[i + 1] ?? 0;
    if ((lead === 0xe0 && second < 0xa0) || (lead === 0xed && second > 0x9f) || (lead === 0xf0 && second < 0x90) || (lead === 0xf4 && second > 0x8f)) return i;
    i += width;
  }
  return 0;
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const stop = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
    lines.push(bytes.subarray(start, stop));
    start = end + 1;
  }
  return lines;
}

function parseJsonl(bytes: Uint8Array): ParsedFile {
  const out: ParsedFile = { format: 'jsonl', records: [], errors: [] };
  splitLines(bytes).forEach((line, i) => {
    const where = `line ${i + 1}`;
    const text = decodeLine(line, where, out.errors);
    if (text === null || !text.trim()) return;
    try {
      out.records.push({ where, value: JSON.parse(text) });
    } catch (error) {
      out.errors.push({ where, message: `is not valid JSON: ${describeJsonError(error)}` });
    }
  });
  return out;
}

function parseJson(bytes: Uint8Array): ParsedFile {
  const out: ParsedFile = { format: 'json', records: [], errors: [] };
  const text = decodeLine(bytes, 'the file', out.errors);
  if (text === null) return out;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = describeJsonError(error);
    const at = jsonErrorOffset(text, message);
    const line = at === null ? null : text.slice(0, at).split('\n').length;
    out.errors.push({ where: line ? `line ${line}` : 'the file', message: `is not valid JSON: ${message}` });
    return out;
  }
  // A dict of columns or {"data": [...]} / {"rows": [...]} wraps the list of rows.
  const list = Array.isArray(value) ? value : pickRowList(value);
  if (!list) {
    out.errors.push({ where: 'the file', message: 'holds a JSON value that is not a list of rows; expected [{...}, ...] or {"data": [...]}.' });
    return out;
  }
  list.forEach((item, i) => out.records.push({ where: `item ${i + 1}`, value: item }));
  return out;
}

/** Where JSON.parse failed: V8 says "at position N", or quotes the text around an unexpected token. */
function jsonErrorOffset(text: string, message: string): number | null {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  const quoted = /Unexpected token '(.+?)', (?:\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON/.exec(message);
  if (!quoted) return null;
  const snippet = quoted[2] ?? '';
  const found = text.indexOf(snippet);
  return found < 0 ? null : found + Math.max(0, snippet.indexOf(quoted[1] ?? ''));
}

function pickRowList(value: unknown): unknown[] | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const key of ['data', 'rows', 'train', 'examples']) {
    const inner = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(inner)) return inner;
  }
  return null;
}

function parseCsv(bytes: Uint8Array): ParsedFile {
  const out: ParsedFile = { format: 'csv', records: [], errors: [] };
  // Lines with invalid UTF-8 are reported and blanked, so the rest of the file parses.
  const lines = splitLines(bytes).map((line, i) => decodeLine(line, `line ${i + 1}`, out.errors) ?? '');
  const result = Papa.parse<Record<string, string>>(lines.join('\n'), { header: true, skipEmptyLines: true });
  const badRows = new Map<number, string>();
  for (const error of result.errors) {
    if (error.row !== undefined) badRows.set(error.row, error.message);
    else out.errors.push({ where: 'the file', message: error.message });
  }
  result.data.forEach((row, i) => {
    // papaparse rows are data rows; line numbers count the header as line 1.
    const where = `row ${i + 1}`;
    const problem = badRows.get(i);
    if (problem) out.errors.push({ where, message: `is malformed CSV: ${problem}` });
    else out.records.push({ where, value: row });
  });
  return out;
}

async function parseParquet(bytes: Uint8Array): Promise<ParsedFile> {
  const out: ParsedFile = { format: 'parquet', records: [], errors: [] };
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let stage: 'metadata' | 'pages' = 'metadata';
  try {
    const metadata = parquetMetadata(buffer);
    checkParquetLayout(bytes, metadata);
    stage = 'pages';
    const decompressFailure: { error: unknown } = { error: null };
    const rows = await parquetReadObjects({ file: buffer, metadata, compressors: observedCompressors(decompressFailure) });
    if (decompressFailure.error) throw decompressFailure.error;
    rows.forEach((row, i) => out.records.push({ where: `row ${i + 1}`, value: row }));
  } catch (error) {
    out.errors.push({ where: 'the file', message: `is not a readable Parquet file: ${describeParquetError(error, stage)}` });
  }
  return out;
}

/** The codecs of hyparquet-compressors, each wrapped so that a failure is recorded rather than thrown: hyparquet
 * decodes column chunks in promises it does not always observe, so an error thrown there would surface as an
 * unhandled rejection. A failed page decodes as zeros of its declared (checked) size and the recorded error rejects
 * the file afterwards. */
function observedCompressors(failure: { error: unknown }): typeof compressors {
  const wrapped: Record<string, unknown> = {};
  for (const [codec, decompress] of Object.entries(compressors)) {
    if (typeof decompress !== 'function') continue;
    wrapped[codec] = (input: Uint8Array, outputLength: number) => {
      try {
        return decompress(input, outputLength);
      } catch (error) {
        failure.error ??= new ParquetLayoutError(`a ${codec} page does not decompress (${error instanceof Error && !(error instanceof TypeError || error instanceof RangeError) ? error.message.slice(0, 80) : 'corrupt data'})`);
        return new Uint8Array(outputLength);
      }
    };
  }
  return wrapped as typeof compressors;
}

/** hyparquet's own checks say what they found ("footer != PAR1"); an engine error from inside it (a TypeError or
 * RangeError on a damaged structure) is described by where it happened instead of by its internals. */
function describeParquetError(error: unknown, stage: 'metadata' | 'pages'): string {
  const advice = 're-export it (pandas DataFrame.to_parquet or pyarrow), or upload JSONL/CSV instead.';
  if (error instanceof ParquetLayoutError) return `${error.message}; ${advice}`;
  if (error instanceof Error && !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)) {
    return `${error.message.slice(0, 200)}; ${advice}`;
  }
  return stage === 'metadata'
    ? `its footer metadata is damaged (a field is missing or has the wrong type); ${advice}`
    : `a data page is damaged (its encoded values do not match its header); ${advice}`;
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}

/** Reads a dataset file of any supported format. Empty files give an error, not an empty dataset. */
export async function parseFile(name: string, bytes: Uint8Array, format?: FileFormat): Promise<ParsedFile> {
  const chosen = format ?? detectFileFormat(name, bytes);
  if (isBlank(bytes)) {
    return { format: chosen, records: [], errors: [{ where: name, message: 'is empty: it holds no rows.' }] };
  }
  switch (chosen) {
    case 'jsonl': return parseJsonl(bytes);
    case 'json': return parseJson(bytes);
    case 'csv': return parseCsv(bytes);
    case 'parquet': return parseParquet(bytes);
  }
}
