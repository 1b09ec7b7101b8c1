// Collation, the resumable data order, the one-batch record and the axolotl debug view.
import { describe, expect, it } from 'vitest';
import { batchRecord, collate, initialOrder, nextIndices, padIdFor } from '../../src/data/batch.ts';
import { formatDebug } from '../../src/data/debug.ts';
import { buildExamples, type Example } from '../../src/data/example.ts';
import { mustCompile } from '../../src/data/template.ts';
import { IGNORE_INDEX, type Row } from '../../src/data/types.ts';
import { realTokenizer } from './tokenizers.ts';

const llama3 = realTokenizer('llama3_1');
const template = mustCompile(llama3.chatTemplate ?? '', 'llama3');
const rows: Row[] = [
  { id: 'a', kind: 'messages', messages: [{ role: 'user', content: 'Is "rm -rf /" safe?' }, { role: 'assistant', content: 'No.' }] },
  { id: 'b', kind: 'messages', messages: [{ role: 'user', content: 'Summarise: disk full on db-2, cleared logs, back up in 5 min.' }, { role: 'assistant', content: 'db-2 disk filled; logs cleared; 5 min outage.' }] },
  { id: 'c', kind: 'messages', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
];
const { examples } = buildExamples(rows, { tokenizer: llama3, template, mode: 'assistant' });
const [a, b, c] = examples as [Example, Example, Example];

describe('collate', () => {
  const padId = padIdFor(llama3);
  const batch = collate([a, b], { padId });

  it('right-pads to the longest example as int32 tensors', () => {
    expect(batch.seqLen).toBe(b.ids.length);
    expect(batch.inputIds).toBeInstanceOf(Int32Array);
    expect(Array.from(batch.inputIds.subarray(0, a.ids.length))).toEqual(a.ids);
    expect(Array.from(batch.attentionMask.subarray(0, batch.seqLen))).toEqual([...a.ids.map(() => 1), ...Array(batch.seqLen - a.ids.length).fill(0)]);
    expect(Array.from(batch.positionIds.subarray(0, a.ids.length))).toEqual(a.ids.map((_, i) => i));
  });

  it('§2 with pad = EOS, padding is -100 by position and every EOS target survives', () => {
    expect(padId).toBe(llama3.eosId); // Llama 3.1 names no pad token
    const row0 = Array.from(batch.labels.subarray(0, batch.seqLen));
    expect(row0.slice(a.ids.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    const eosTargets = row0.filter((l) => l === llama3.eosId).length;
    expect(eosTargets).toBe(1);
    // The id-comparison bug would have removed it:
    const buggy = Array.from(batch.inputIds.subarray(0, batch.seqLen)).map((id, i) => (id === padId ? IGNORE_INDEX : row0[i]));
    expect(buggy.filter((l) => l === llama3.eosId)).toHaveLength(0);
  });

  it('§3 counts target tokens after the shift (labels[0] never predicted)', () => {
    const expected = [a, b].reduce((n, ex) => n + Array.from(ex.labels).slice(1).filter((l) => l !== IGNORE_INDEX).length, 0);
    expect(batch.targetTokens).toBe(expected);
  });

  it('pads to a fixed length for static graph shapes, and refuses examples that do not fit', () => {
    expect(collate([a], { padId, seqLen: 64 }).inputIds).toHaveLength(64);
    expect(() => collate([b], { padId, seqLen: 4 })).toThrow(/more than the batch length 4/);
  });
});

describe('seeded, resumable data order', () => {
  it('is a permutation per epoch, differs by seed, crosses epochs', () => {
    const first = nextIndices(10, initialOrder(42), 10);
    expect([...first.indices].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(nextIndices(10, initialOrder(43), 10).indices).not.toEqual(first.indices);
    const more = nextIndices(10, first.state, 10);
    expect(more.state).toEqual({ seed: 42, epoch: 1, position: 10 });
    expect(more.indices).not.toEqual(first.indices);
  });

  it('resuming from a stored state continues exactly where an uninterrupted run would be', () => {
    const straight = nextIndices(7, initialOrder(5), 30).indices;
    let state = initialOrder(5);
    const pieces: number[] = [];
    for (const n of [4, 4, 9, 13]) {
      const step = nextIndices(7, JSON.parse(JSON.stringify(state)), n);
      pieces.push(...step.indices);
      state = step.state;
    }
    expect(pieces).toEqual(straight);
  });
});

describe('one-batch record and debug view', () => {
  it('records text, tokens, ids, labels and attention mask per row', () => {
    const record = batchRecord(collate([c], { padId: 0 }), examples, llama3);
    expect(record.rows[0]).toMatchObject({ exampleIds: ['c'], text: c.text, inputIds: c.ids, labels: Array.from(c.labels) });
    expect(record.rows[0]?.tokens.join('')).toBe(c.text);
  });

  it('§13 prints token(label, id) pairs, red/yellow/green, then the totals', () => {
    const plain = formatDebug(c.ids, c.labels, llama3, { color: false });
    expect(plain).toContain('<|begin_of_text|>(-100, 128000)');
    const hello = llama3.idOf('hello');
    expect(plain).toContain(`hello(${hello}, ${hello})`);
    expect(plain.endsWith(`Total input len: ${c.ids.length}\nCount of labels: 2\n`)).toBe(true);
    const colored = formatDebug([1, 2, 3], [-100, 0, 3], llama3, { color: true });
    const colours = ['31', '32', '33'].map((c) => `\u001b[${c}m`);
    expect(colours.map((c) => colored.indexOf(c))).toEqual([0, colored.lastIndexOf(colours[1] ?? ''), colored.indexOf(colours[2] ?? '')]);
    expect(colored.indexOf(colours[0] ?? '')).toBeLessThan(colored.indexOf(colours[2] ?? ''));
    expect(colored.indexOf(colours[2] ?? '')).toBeLessThan(colored.indexOf(colours[1] ?? ''));
    expect(colored).toContain('\u001b[37m(-100, 1)\u001b[0m');
  });
});
