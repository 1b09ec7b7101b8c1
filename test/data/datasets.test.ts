// Dataset reading: formats, field mapping, malformed input (errors name the line/row, valid rows survive), the
// content hash and the seeded split.
import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { evalMask } from '../../src/data/batch.ts';
import { loadDataset, sha256 } from '../../src/data/dataset.ts';
import { detectFileFormat, MAX_LINE_BYTES } from '../../src/data/formats.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const jsonl = (...rows: unknown[]) => utf8(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

describe('formats and field mapping', () => {
  it('reads conversational messages from JSONL', async () => {
    const ds = await loadDataset('chat.jsonl', jsonl({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }));
    expect(ds.format).toBe('jsonl');
    expect(ds.rows).toEqual([{ id: 'line 1', kind: 'messages', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }]);
    expect(ds.errors).toEqual([]);
  });

  it('maps ShareGPT conversations (from/value, human→user, gpt→assistant)', async () => {
    const ds = await loadDataset('sg.json', utf8(JSON.stringify([{ conversations: [{ from: 'system', value: 's' }, { from: 'human', value: 'q' }, { from: 'gpt', value: 'a' }] }])));
    expect(ds.format).toBe('json');
    expect(ds.rows[0]).toEqual({ id: 'item 1', kind: 'messages', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] });
  });

  it('tells plain from conversational prompt/completion', async () => {
    const plain = await loadDataset('p.jsonl', jsonl({ prompt: 'Q?', completion: ' A' }));
    expect(plain.rows[0]).toEqual({ id: 'line 1', kind: 'prompt-completion', prompt: 'Q?', completion: ' A' });
    const chat = await loadDataset('c.jsonl', jsonl({ prompt: [{ role: 'user', content: 'Q?' }], completion: [{ role: 'assistant', content: 'A' }] }));
    expect(chat.rows[0]).toMatchObject({ kind: 'prompt-completion-chat', completion: [{ role: 'assistant', content: 'A' }] });
  });

  it('reads instruction/input/output from CSV (papaparse), quoted commas and newlines included', async () => {
    const csv = 'instruction,input,output\n"Summarise, briefly","Disk full\non db-2",Disk full.\nSay hi,,hi\n';
    const ds = await loadDataset('alpaca.csv', utf8(csv));
    expect(ds.format).toBe('csv');
    expect(ds.rows).toEqual([
      { id: 'row 1', kind: 'instruction', instruction: 'Summarise, briefly', input: 'Disk full\non db-2', output: 'Disk full.' },
      { id: 'row 2', kind: 'instruction', instruction: 'Say hi', input: '', output: 'hi' },
    ]);
  });

  it('reads plain text and Parquet (hyparquet), numbers as strings where text is expected', async () => {
    const buffer = parquetWriteBuffer({ columnData: [{ name: 'text', data: ['first doc', 'second doc'], type: 'STRING' }, { name: 'n', data: [1, 2], type: 'INT32' }] });
    const bytes = new Uint8Array(buffer);
    expect(detectFileFormat('blob', bytes)).toBe('parquet');
    const ds = await loadDataset('train.parquet', bytes);
    expect(ds.rows).toEqual([{ id: 'row 1', kind: 'text', text: 'first doc' }, { id: 'row 2', kind: 'text', text: 'second doc' }]);
  });

  it('reads prompt/completion columns from Parquet', async () => {
    const buffer = parquetWriteBuffer({ columnData: [{ name: 'prompt', data: ['Is this an injection? "hi"'], type: 'STRING' }, { name: 'completion', data: [' no'], type: 'STRING' }] });
    const ds = await loadDataset('pc.parquet', new Uint8Array(buffer));
    expect(ds.rows).toEqual([{ id: 'row 1', kind: 'prompt-completion', prompt: 'Is this an injection? "hi"', completion: ' no' }]);
  });
});

describe('malformed input names the line/row and keeps the valid rows', () => {
  const good = { prompt: 'p', completion: 'c' };

  it('a broken JSON line', async () => {
    const bytes = utf8(`${JSON.stringify(good)}\n{"prompt": "p", "completion": \n${JSON.stringify(good)}\n`);
    const ds = await loadDataset('d.jsonl', bytes);
    expect(ds.rows.map((r) => r.id)).toEqual(['line 1', 'line 3']);
    expect(ds.errors).toEqual([{ where: 'line 2', message: expect.stringContaining('is not valid JSON') }]);
  });

  it('missing fields and wrong types', async () => {
    const ds = await loadDataset('d.jsonl', jsonl(good, { prompt: 'only' }, { prompt: 'p', completion: { nested: true } }, 42, good));
    expect(ds.rows.map((r) => r.id)).toEqual(['line 1', 'line 5']);
    expect(ds.errors).toEqual([
      { where: 'line 2', message: 'field "completion" is missing' },
      { where: 'line 3', message: 'field "completion" must be a string, got an object' },
      { where: 'line 4', message: 'must be an object, got a number' },
    ]);
  });

  it('bad messages: unknown role, non-string content, not a list', async () => {
    const ds = await loadDataset('m.jsonl', jsonl(
      { messages: [{ role: 'user', content: 'ok' }, { role: 'assistant', content: 'ok' }] },
      { messages: [{ role: 'narrator', content: 'x' }] },
      { messages: [{ role: 'user', content: 7 }] },
      { messages: 'hello' },
    ));
    expect(ds.rows).toHaveLength(1);
    expect(ds.errors.map((e) => `${e.where}: ${e.message}`)).toEqual([
      'line 2: messages[0].role is "narrator"; expected one of system, user, assistant, tool (or ShareGPT human, gpt)',
      'line 3: messages[0].content must be a string, got a number',
      'line 4: field "messages" must be a list of messages, got a string',
    ]);
  });

  it('an empty file', async () => {
    for (const content of ['', '\n\n  \n']) {
      const ds = await loadDataset('empty.jsonl', utf8(content));
      expect(ds.rows).toEqual([]);
      expect(ds.errors).toEqual([{ where: 'empty.jsonl', message: 'is empty: it holds no rows.' }]);
    }
  });

  it('non-UTF-8 bytes (a Latin-1 "é") in JSONL and CSV', async () => {
    const latin1 = new Uint8Array([...utf8('{"text": "caf'), 0xe9, ...utf8('"}\n{"text": "fine"}\n')]);
    const ds = await loadDataset('l.jsonl', latin1);
    expect(ds.rows).toEqual([{ id: 'line 2', kind: 'text', text: 'fine' }]);
    expect(ds.errors).toEqual([{ where: 'line 1', message: 'is not valid UTF-8 (bad byte 0xe9 at byte 14); re-save the file as UTF-8.' }]);
    const csv = new Uint8Array([...utf8('text\ngood\nna'), 0xef, 0xbf, ...utf8('ve\nalso good\n')]);
    const parsedCsv = await loadDataset('l.csv', csv);
    expect(parsedCsv.rows.map((r) => (r.kind === 'text' ? r.text : ''))).toEqual(['good', 'also good']);
    expect(parsedCsv.errors[0]).toEqual({ where: 'line 3', message: expect.stringContaining('is not valid UTF-8') });
  });

  it('a 100 MB line is refused by size without being decoded; the other lines load', async () => {
    const huge = new Uint8Array(100 * 1024 * 1024 + 64);
    huge.fill(0x61);
    const head = utf8(`${JSON.stringify(good)}\n`);
    const bytes = new Uint8Array(head.length + huge.length + head.length + 1);
    bytes.set(head, 0);
    bytes.set(huge, head.length);
    bytes[head.length + huge.length] = 0x0a;
    bytes.set(head, head.length + huge.length + 1);
    const ds = await loadDataset('big.jsonl', bytes);
    expect(ds.rows.map((r) => r.id)).toEqual(['line 1', 'line 3']);
    expect(ds.errors).toEqual([{ where: 'line 2', message: `is 100.0 MiB, over the ${MAX_LINE_BYTES / 1024 / 1024}.0 MiB limit per line; split the row or remove it.` }]);
  });

  it('a file with no known layout says which fields it found', async () => {
    const ds = await loadDataset('x.jsonl', jsonl({ question: 'q', answer: 'a' }));
    expect(ds.errors[0]?.message).toContain('found fields: question, answer');
  });

  it('a broken JSON document names the line', async () => {
    const ds = await loadDataset('d.json', utf8('[\n{"text": "a"},\n{"text": }\n]'));
    expect(ds.rows).toEqual([]);
    expect(ds.errors[0]?.where).toBe('line 3');
  });
});

describe('content hash and split', () => {
  it('hashes the source bytes with SHA-256 (WebCrypto), equal to node:crypto', async () => {
    const bytes = jsonl({ text: 'hash me' });
    expect(await sha256(bytes)).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect((await loadDataset('h.jsonl', bytes)).hash).toBe(await sha256(bytes));
  });

  it('splits with a seed: deterministic, sized by the fraction, never all held out', () => {
    const held = evalMask(100, 0.1, 7);
    expect(held.filter(Boolean)).toHaveLength(10);
    expect(evalMask(100, 0.1, 7)).toEqual(held);
    expect(evalMask(100, 0.1, 8)).not.toEqual(held);
    expect(evalMask(100, 0, 7).some(Boolean)).toBe(false);
    expect(evalMask(3, 0.01, 7).filter(Boolean)).toHaveLength(1); // at least one once a fraction is asked for
    expect(evalMask(2, 0.5, 7).filter(Boolean)).toHaveLength(1); // never the last training row
    expect(evalMask(1, 0.5, 7)).toEqual([false]);
    expect(() => evalMask(4, 1, 7)).toThrow(/eval fraction/);
  });
});
