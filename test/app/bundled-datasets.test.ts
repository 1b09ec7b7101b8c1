// public/datasets.json is the app's list of bundled sample datasets (the Data panel's picker). It must name exactly
// the files in public/datasets/, each with a title, and each must load through src/data with rows and no errors.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/dataset';

const DIR = 'public/datasets';
const list = JSON.parse(readFileSync('public/datasets.json', 'utf8')) as { file: string; title: string; description: string }[];
const onDisk = existsSync(DIR) ? readdirSync(DIR).filter((f) => /\.(jsonl|json|csv|parquet)$/.test(f)).sort() : [];

describe('public/datasets.json', () => {
  it('lists exactly the dataset files in public/datasets/', () => {
    expect(list.map((d) => d.file).sort()).toEqual(onDisk);
  });

  it('gives every entry a title and a description', () => {
    for (const d of list) {
      expect(d.title.trim(), d.file).not.toBe('');
      expect(d.description.trim(), d.file).not.toBe('');
    }
  });

  it.each(list.map((d) => [d.file]))('%s loads with rows and no errors', async (file) => {
    const ds = await loadDataset(file, new Uint8Array(readFileSync(`${DIR}/${file}`)));
    expect(ds.errors).toEqual([]);
    expect(ds.rows.length).toBeGreaterThan(0);
    expect(ds.mapping).not.toBeNull();
  });
});
