// Checks a Parquet file's footer metadata and page headers before hyparquet decodes it. hyparquet trusts what the
// file declares: a page header with a negative size moves its reader backwards and loops for ever, a declared count
// of 2^31 values sizes an array from it, metadata of the wrong shape fails deep inside with "x.map is not a
// function". Here every column chunk must lie inside the file, every page header must parse, sizes must be
// non-negative and inside the chunk, and declared counts are capped, so hyparquet's page loop always advances and
// ends, and nothing is sized from a number the bytes cannot back.
import { parquetSchema, type FileMetaData, type SchemaTree } from 'hyparquet';

/** Rows (and values per column) one file may declare. */
const MAX_PARQUET_ROWS = 10_000_000;
/** Largest decompressed page. Writers default to 1 MiB pages; 64 MiB leaves ample room. */
const MAX_PARQUET_PAGE_BYTES = 64 * 1024 * 1024;
/** All decompressed pages of one file together. */
const MAX_PARQUET_TOTAL_BYTES = 1024 * 1024 * 1024;

export class ParquetLayoutError extends Error {
  override name = 'ParquetLayoutError';
}

type Num = number | bigint;
const isNum = (v: unknown): v is Num => typeof v === 'number' || typeof v === 'bigint';
const num = (v: Num): number => Number(v);

/** Thrift compact protocol, just enough to read a PageHeader: the fields we need as numbers, the rest skipped with
 * bounds checks and a nesting limit. */
class CompactReader {
  offset: number;
  constructor(private readonly bytes: Uint8Array, start: number, private readonly end: number) {
    this.offset = start;
  }

  private byte(): number {
    if (this.offset >= this.end) throw new ParquetLayoutError('a page header runs past the end of its column chunk');
    return this.bytes[this.offset++] ?? 0;
  }

  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ParquetLayoutError('a page header holds a malformed number');
  }

  private zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  private skip(type: number, depth: number): void {
    switch (type) {
      case 1: case 2: return; // booleans live in the type nibble
      case 3: this.byte(); return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.advance(8); return;
      case 8: this.advance(this.varint()); return;
      case 9: case 10: {
        const head = this.byte();
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        const elem = head & 0x0f;
        for (let i = 0; i < size; i++) this.skip(elem === 1 || elem === 2 ? 3 : elem, depth + 1);
        return;
      }
      case 11: {
        const size = this.varint();
        if (size === 0) return;
        const kinds = this.byte();
        const bool = (t: number) => (t === 1 || t === 2 ? 3 : t);
        for (let i = 0; i < size; i++) {
          this.skip(bool(kinds >> 4), depth + 1);
          this.skip(bool(kinds & 0x0f), depth + 1);
        }
        return;
      }
      case 12: this.struct(depth + 1, () => undefined); return;
      default: throw new ParquetLayoutError(`a page header holds an unknown field type ${type}`);
    }
  }

  private advance(n: number): void {
    if (n < 0 || this.offset + n > this.end) throw new ParquetLayoutError('a page header runs past the end of its column chunk');
    this.offset += n;
  }

  /** Reads a struct, handing each field to `field` (which reads it and returns true) or skipping it. */
  struct(depth: number, field: (id: number, type: number) => boolean | undefined): void {
    if (depth > 16) throw new ParquetLayoutError('a page header nests too deeply');
    let id = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return;
      const type = head & 0x0f;
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      if (!field(id, type)) this.skip(type, depth);
    }
  }

  int(): number {
    return this.zigzag();
  }
}

interface PageHeader {
  type: number;
  uncompressed: number;
  compressed: number;
  /** The sub-header by field id (5 data page, 7 dictionary page, 8 data page v2): its i32 fields by id. */
  sub: Map<number, Map<number, number>>;
}

function readPageHeader(reader: CompactReader): PageHeader {
  const header: PageHeader = { type: -1, uncompressed: -1, compressed: -1, sub: new Map() };
  reader.struct(0, (id, type) => {
    if (type === 5 && id >= 1 && id <= 3) {
      const v = reader.int();
      if (id === 1) header.type = v;
      else if (id === 2) header.uncompressed = v;
      else header.compressed = v;
      return true;
    }
    if (type === 12 && (id === 5 || id === 7 || id === 8)) {
      const fields = new Map<number, number>();
      header.sub.set(id, fields);
      reader.struct(1, (inner, innerType) => {
        if (innerType === 5) {
          fields.set(inner, reader.int());
          return true;
        }
        if (innerType === 1 || innerType === 2) fields.set(inner, innerType === 1 ? 1 : 0);
        return false;
      });
      return true;
    }
    return false;
  });
  return header;
}

/** Page type → the sub-header it needs and that sub-header's required i32 fields (parquet.thrift). */
const PAGE_KINDS: Record<number, { sub: number; required: number[]; name: string } | undefined> = {
  0: { sub: 5, required: [1, 2, 3, 4], name: 'data page' },
  2: { sub: 7, required: [1, 2], name: 'dictionary page' },
  3: { sub: 8, required: [1, 2, 3, 4, 5, 6], name: 'data page (v2)' },
};

/** The checks on one page header; returns the page's declared value count. */
function checkPage(header: PageHeader, where: string, columnValues: number, bodyBytes: number): void {
  if (header.compressed < 0 || header.uncompressed < 0) fail(`a page of ${where} declares a negative size`);
  if (header.compressed > bodyBytes) fail(`a page of ${where} declares ${header.compressed} bytes, more than its column chunk holds`);
  if (header.uncompressed > MAX_PARQUET_PAGE_BYTES) fail(`a page of ${where} declares ${header.uncompressed} bytes decompressed (limit ${MAX_PARQUET_PAGE_BYTES})`);
  const kind = PAGE_KINDS[header.type];
  if (header.type === 1) return; // index page: hyparquet skips it
  if (!kind) fail(`a page of ${where} has unknown page type ${header.type}`);
  const fields = header.sub.get(kind.sub);
  if (!fields || kind.required.some((id) => !fields.has(id))) fail(`a ${kind.name} header of ${where} lacks required fields`);
  const values = fields.get(1) ?? 0;
  if (values < 0 || values > columnValues) fail(`a ${kind.name} of ${where} declares ${values} values, but the column holds ${columnValues}`);
  if (kind.sub === 8) {
    const nulls = fields.get(2) ?? 0;
    const rows = fields.get(3) ?? 0;
    const levels = (fields.get(5) ?? 0) + (fields.get(6) ?? 0);
    if (nulls < 0 || nulls > values || rows < 0 || rows > values) fail(`a ${kind.name} of ${where} declares impossible null or row counts`);
    if ((fields.get(5) ?? 0) < 0 || (fields.get(6) ?? 0) < 0 || levels > header.compressed || levels > header.uncompressed) {
      fail(`a ${kind.name} of ${where} declares level lengths outside the page`);
    }
  }
}

function fail(message: string): never {
  throw new ParquetLayoutError(message);
}

/** Throws ParquetLayoutError naming the first thing in `metadata` or the page headers that cannot be right. */
export function checkParquetLayout(bytes: Uint8Array, metadata: FileMetaData): void {
  const m = metadata as unknown as Record<string, unknown>;
  if (!Array.isArray(m['schema']) || !m['schema'].every((s) => typeof s === 'object' && s !== null && typeof (s as { name?: unknown }).name === 'string')) {
    fail('its schema is damaged (not a list of named columns)');
  }
  if (!isNum(m['num_rows']) || num(m['num_rows']) < 0) fail('its row count is damaged');
  if (num(m['num_rows'] as Num) > MAX_PARQUET_ROWS) fail(`declares ${String(m['num_rows'])} rows; TabTune reads at most ${MAX_PARQUET_ROWS.toLocaleString('en-US')} rows per file (split the file)`);
  const groups = m['row_groups'];
  if (!Array.isArray(groups)) fail('its row-group list is damaged');
  // hyparquet assembles columns by walking the schema; a chunk whose path names no leaf would be decoded and then
  // dropped, its failure left unobserved.
  const leaves = new Set<string>();
  const walk = (node: SchemaTree, depth: number) => {
    if (depth > 64) fail('its schema nests too deeply');
    if (node.children.length === 0) leaves.add(node.path.join('\u0000'));
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const child of parquetSchema(metadata).children) walk(child, 0);
  let total = 0;
  groups.forEach((group: unknown, g) => {
    const rg = group as Record<string, unknown> | null;
    if (typeof rg !== 'object' || rg === null || !Array.isArray(rg['columns'])) fail(`row group ${g + 1} is damaged`);
    if (!isNum(rg['num_rows']) || num(rg['num_rows']) < 0 || num(rg['num_rows']) > MAX_PARQUET_ROWS) fail(`row group ${g + 1} declares an impossible row count`);
    (rg['columns'] as unknown[]).forEach((chunk, c) => {
      const where = `column ${c + 1} of row group ${g + 1}`;
      const meta = (chunk as { meta_data?: unknown } | null)?.meta_data as Record<string, unknown> | undefined;
      if (typeof meta !== 'object' || meta === null) fail(`${where} has no metadata`);
      const path = meta['path_in_schema'];
      if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === 'string')) fail(`${where} has a damaged column path`);
      if (!leaves.has(path.join('\u0000'))) fail(`${where} is stored under "${path.join('.').slice(0, 80)}", which the schema does not list`);
      const values = meta['num_values'];
      if (!isNum(values) || num(values) < 0 || num(values) > MAX_PARQUET_ROWS * 16) fail(`${where} declares an impossible number of values`);
      const dictionary = meta['dictionary_page_offset'];
      const data = meta['data_page_offset'];
      const size = meta['total_compressed_size'];
      if (!isNum(data) || !isNum(size) || (dictionary !== undefined && !isNum(dictionary))) fail(`${where} has damaged page offsets`);
      // The range hyparquet reads: from the dictionary page (else the first data page), total_compressed_size long.
      const start = num((dictionary as Num | undefined) || data);
      const end = start + num(size);
      if (!(start >= 4 && num(size) >= 0 && end <= bytes.length - 8)) fail(`${where} points outside the file (bytes ${start}–${end} of ${bytes.length})`);
      let offset = start;
      // hyparquet may read pages while at least two bytes of the chunk are left (nested columns always do): check
      // every one of them.
      while (offset < end - 1) {
        const reader = new CompactReader(bytes, offset, end);
        const header = readPageHeader(reader);
        checkPage(header, where, num(values), end - reader.offset);
        total += header.uncompressed;
        if (total > MAX_PARQUET_TOTAL_BYTES) fail(`its pages declare more than ${MAX_PARQUET_TOTAL_BYTES} bytes decompressed in all`);
        offset = reader.offset + header.compressed;
      }
    });
  });
}
