// Issue 15: hostile dataset files. loadDataset never throws, never leaves a rejection unobserved, never hangs, and
// reads keys from data as own properties only.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/dataset.ts';
import { mapRecords } from '../../src/data/detect.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const base64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Inputs `npm run fuzz` found (seed 1): before the Parquet layout check they looped for ever inside hyparquet or
 * left a rejection no one observed. */
const PARQUET_FOUND = {
  /** A DATA_PAGE_V2 header without its level lengths: hyparquet read levels at offset NaN, for ever. */
  missingV2Fields:
    'UEFSMRUGFRwVHFwVBBUAFQQVABUEFQAAAAMDAgAAAHExAgAAAHEyFQYVIBUgXBUEFQAAFQQVABUEFQAAAAMDAwAAACBhMQMAAAAg' +
    'YTIVBBk8SARyb290FQQAFQwlAhgGcHJvbXB0JQAAFQwlAhgKY29tcGxldGlvbiUAABYEGRwZLCYIHBUMGRUAGRgGcHJvbXB0FQAW' +
    'BBZGFkYmCDw2ACgCcTIYAnExABkcFQYVABUCAAAAJk4cFQwZFQAZGApjb21wbGV0aW9uFQAWBBZKFkomTjw2ACgDIGEyGAMgYTEA' +
    'GRwVBhUAFQIAAAAWkAEWBDaQAQAoCWh5cGFycXVldBksHAAAHAAAALwAAABQQVIx',
  /** A page header whose compressed size is negative: hyparquet's page loop moved backwards, for ever. */
  negativePageSize:
    'UEFSMRUGFRgVHFwVBBUAFQQVABUEFQAAAAMDCiQBAAAAaQEAAABqFQYVGBUcXBUEFQAVBBUAFQQVAAAAAwMKJAEAAABvAQAAAHAV' +
    'BhUkFSRcFQQVABUEFQAVBBUAAAADAxAAAAUBJOA/AAAAAAAA+D8VBhUYFRxUFQQVABUEFQAVBBUAAAADAwokAQAAAGsBAAAAbBUG' +
    'FRgVHFwVBBUAFQQVABUEFQAAAAMDCiQBAAAAcQEAAAByFQYVJBUiXBUEFQAVBBUAFQQVAAAAAwMQAAAJASDAAAAAAAAACEAVBBlM' +
    'SARyb290FQYAFQwlAhgLaW5zdHJ1Y3Rpb24lAAAVDCUCGAZvdXRwdXQlAAAVCiUCGAVzY29yZQAWCBksGTwmCBwVDBkVABkYC2lu' +
    'c3RydWN0aW9uFQIWBBZCFkYmCDw2ACgBahgBaQAZHBUGFQAVAgAAACZOHBUMGRUAGRgGb3V0cHV0FQIWBBZCFkYmSjw2ACgBcBgB' +
    'bwAZHBUGFQAVAgAAACaUARwVChkVABkYBXNjb3JlFQIWBBZOFk4mlAE8NgAoCAAAAAAAAPg/GAgAAAAAAADgPzYAABkcFQYVABUC' +
    'AAAAFtIBFgQ22gEAGTwm4gEcFQwZFQAZGAtpbnN0cnVjdGlvbhUCFgQWQhZGJuIBPDYAKAFsGAFrABkcFQYVABUCAAAAJqgCHBUM' +
    'GRUAGRgGb3V0cHV0FQIWBBZCFkYmqAI8NgAoAXIYAXEAGRwVBhUAFQIAAAAm7gIcFQoZFQAZGAVzY29yZRUCFgQWThZMJu4CPDYA' +
    'KAgAAAAAAAAIQBgIAAAAAAAAAMA2AAAZHBUGFQAVAgAAABbSARYENtgBACgJaHlwYXJxdWV0GTwcAAAcAAAcAAAAvQEAAFBBUjE=',
  /** A column chunk stored under a path the schema does not list, with a corrupt snappy page: hyparquet decoded it
   * in a promise it then dropped, and "missing eof marker" surfaced as an unhandled rejection. */
  chunkOutsideSchema:
    'UEFSMRUGFUwVUFwVBhUAFQYVABUEFQAAAAMH/4wJAAAAZmlyc3QgZG9jCgAAAHNlY29uZCBkb2MFAAAAdGhpcmQVBhUcFSBcFQYV' +
    'ABUGFQAVBBUAAAADBwwsAQAAAAIAAAADAAAAFQQZPEgEcm9vdBUEABUMJQIYBHRleHQlAAAVAiUCGAH0ABYGGRwZLCYIHBUMGRUA' +
    'GRgEdGV4dBUCFgYWdhZ6Jgg8NgAoBXRoaXJkGAlmaXJzdCBkb2MAGRwVBhUAFQIAAAAmggEcFQIZFQAZGAFuFQIWBhZGFkomggE8' +
    'NgAoBAMAAAAYBAEAAAAAGRwVBhUAFQIAAAAWvAEWBjbEAQAoCWh5cGFycXVldBksHAAAHAAAALIAAABQQVIx',
};

describe('prototype keys in data', () => {
  it('a role named after an Object.prototype member is not a role', async () => {
    for (const role of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const ds = await loadDataset('chat.jsonl', utf8(`{"messages":[{"role":"${role}","content":"x"},{"role":"assistant","content":"y"}]}\n`));
      expect(ds.rows).toEqual([]);
      expect(ds.errors).toEqual([{ where: 'line 1', message: `messages[0].role is "${role}"; expected one of system, user, assistant, tool (or ShareGPT human, gpt)` }]);
    }
  });

  it('a mapped column named "constructor" is missing unless the record has it', () => {
    const mapped = mapRecords([{ where: 'line 1', value: { text: 'a' } }, { where: 'line 2', value: { constructor: 'own value' } }], { kind: 'text', fields: { text: 'constructor' } });
    expect(mapped.errors).toEqual([{ where: 'line 1', message: 'field "constructor" is missing' }]);
    expect(mapped.rows).toEqual([{ id: 'line 2', kind: 'text', text: 'own value' }]);
  });

  it('layout detection ignores inherited keys', async () => {
    const ds = await loadDataset('x.jsonl', utf8('{"__proto__":{"messages":[]},"constructor":1}\n'));
    expect(ds.mapping).toBeNull();
    expect(ds.errors[0]?.message).toMatch(/^has no known layout \(found fields: __proto__, constructor\)/);
  });
});

describe('deeply nested and oversized values', () => {
  it('a line nested 100,000 deep is a row error, not a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const jsonl = await loadDataset('d.jsonl', utf8(`{"text":"ok"}\n{"text":${deep}}\n`));
    expect(jsonl.rows.map((r) => r.id)).toEqual(['line 1']);
    expect(jsonl.errors).toEqual([{ where: 'line 2', message: 'field "text" must be a string, got a list' }]);
    const chat = await loadDataset('c.jsonl', utf8(`{"messages":[{"role":${deep},"content":"x"}]}\n`));
    expect(chat.errors).toEqual([{ where: 'line 1', message: 'messages[0].role must be a string, got a list' }]);
    const json = await loadDataset('d.json', utf8(`[{"text":"ok"}, ${deep}]`));
    expect(json.errors).toEqual([{ where: 'item 2', message: 'must be an object, got a list' }]);
  });

  it('a missing role or a wrong-typed value is named with the right article (issue 17: "got a undefined")', async () => {
    const ds = await loadDataset('c.jsonl', utf8('{"messages":[{"content":"x"}]}\n{"messages":[{"role":"user","content":{}}]}\n'));
    expect(ds.errors.map((e) => e.message)).toEqual([
      'messages[0].role must be a string, got nothing',
      'messages[0].content must be a string, got an object',
    ]);
  });

  it('a megabyte-long role is quoted clipped', async () => {
    const ds = await loadDataset('c.jsonl', utf8(`{"messages":[{"role":"${'r'.repeat(1_000_000)}","content":"x"}]}\n`));
    expect(ds.errors[0]?.message.length).toBeLessThan(200);
  });
});

describe('damaged Parquet files', () => {
  it.each(Object.entries(PARQUET_FOUND))('%s: reported as damaged, no hang, nothing left unobserved', async (_name, data) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ds = await loadDataset('found.parquet', base64(data));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(ds.rows).toEqual([]);
      expect(ds.errors).toHaveLength(1);
      expect(ds.errors[0]?.message).toMatch(/^is not a readable Parquet file: .*; re-export it/);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('names what is wrong: a negative page size, missing page-header fields, a chunk outside the schema', async () => {
    const messages = await Promise.all(Object.values(PARQUET_FOUND).map(async (d) => (await loadDataset('f.parquet', base64(d))).errors[0]?.message));
    expect(messages).toEqual([
      expect.stringContaining('a data page (v2) header of column 2 of row group 1 lacks required fields'),
      expect.stringContaining('a page of column 2 of row group 1 declares a negative size'),
      expect.stringContaining('column 2 of row group 1 is stored under "n", which the schema does not list'),
    ]);
  });

  it('a file whose data pages were cut out is refused before decoding', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'text', data: ['a', 'b'], type: 'STRING' }], codec: 'UNCOMPRESSED' }));
    // Cut the data pages out but keep the footer: the metadata now points at bytes that are not there.
    const cut = new Uint8Array([...bytes.subarray(0, 4), ...bytes.subarray(bytes.length - (new DataView(bytes.buffer).getUint32(bytes.length - 8, true) + 8))]);
    const ds = await loadDataset('cut.parquet', cut);
    expect(ds.errors[0]?.message).toMatch(/^is not a readable Parquet file: a page header runs past the end of its column chunk/);
  });

  it('valid files still read', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'prompt', data: ['q'], type: 'STRING' }, { name: 'completion', data: [' a'], type: 'STRING' }] }));
    expect((await loadDataset('ok.parquet', bytes)).rows).toEqual([{ id: 'row 1', kind: 'prompt-completion', prompt: 'q', completion: ' a' }]);
  });
});
