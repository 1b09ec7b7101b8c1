// scripts/serve.mjs as a user runs it: a child process on a free port serving a temporary root. Checks MIME types,
// Range (206, suffix ranges, 416), the Hub API's extension-less JSON, cross-origin isolation headers and that paths
// cannot escape the root.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let root: string;
let child: ChildProcess;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tabtune-serve-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'a.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(join(root, 'm.mjs'), 'export {};');
  writeFileSync(join(root, 'data.json'), '{"x":1}');
  writeFileSync(join(root, 'bytes.bin'), Buffer.from(Array.from({ length: 100 }, (_, i) => i)));
  mkdirSync(join(root, 'hub/api/models/o/r/revision'), { recursive: true });
  writeFileSync(join(root, 'hub/api/models/o/r/revision/main'), '{"sha":"x"}');
  child = spawn(process.execPath, ['scripts/serve.mjs', '--port', '0', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolve(m[0]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
});

afterAll(() => {
  child.kill();
  rmSync(root, { recursive: true, force: true });
});

describe('scripts/serve.mjs', () => {
  it('serves index.html at / with cross-origin isolation headers', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it.each([
    ['a.wasm', 'application/wasm'],
    ['m.mjs', 'text/javascript; charset=utf-8'],
    ['data.json', 'application/json; charset=utf-8'],
    ['hub/api/models/o/r/revision/main', 'application/json; charset=utf-8'],
  ])('serves %s as %s', async (path, type) => {
    const res = await fetch(base + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
  });

  it('answers a Range request with 206 and exactly those bytes', async () => {
    const res = await fetch(`${base}bytes.bin`, { headers: { Range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/100');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('supports suffix and open-ended ranges', async () => {
    const tail = await fetch(`${base}bytes.bin`, { headers: { Range: 'bytes=-3' } });
    expect([...new Uint8Array(await tail.arrayBuffer())]).toEqual([97, 98, 99]);
    const open = await fetch(`${base}bytes.bin`, { headers: { Range: 'bytes=98-' } });
    expect(open.headers.get('content-range')).toBe('bytes 98-99/100');
  });

  it('answers 416 for a range past the end', async () => {
    const res = await fetch(`${base}bytes.bin`, { headers: { Range: 'bytes=100-200' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */100');
  });

  it('answers 404 for missing files and for paths that try to leave the root', async () => {
    expect((await fetch(`${base}nope.js`)).status).toBe(404);
    expect((await fetch(`${base}..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await fetch(`${base}bytes.bin`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('100');
  });

  it('answers the Hub\'s model search and refs for the repos of its static Hub layout', async () => {
    const sha = 'e2bd07d556364beeb988d8b89df0a135591f90b6';
    for (const [repo, commit] of [['tabtune/demo', sha], ['tabtune/Tiny-Chat', 'f'.repeat(40)]] as const) {
      mkdirSync(join(root, 'hub/api/models', repo, 'revision'), { recursive: true });
      writeFileSync(join(root, 'hub/api/models', repo, 'revision/main'), JSON.stringify({ id: repo, sha: commit, lastModified: '2025-01-01T00:00:00.000Z' }));
    }
    const search = async (q: string, limit?: number) => {
      const res = await fetch(`${base}hub/api/models?search=${encodeURIComponent(q)}${limit ? `&limit=${limit}` : ''}&sort=downloads`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      return ((await res.json()) as { id: string; modelId: string; downloads: number }[]);
    };
    expect((await search('tabtune')).map((m) => m.id)).toEqual(['tabtune/Tiny-Chat', 'tabtune/demo']);
    expect((await search('TINY')).map((m) => [m.id, m.modelId, m.downloads])).toEqual([['tabtune/Tiny-Chat', 'tabtune/Tiny-Chat', 0]]);
    expect(await search('tabtune', 1)).toHaveLength(1);
    expect(await search('nothing-like-this')).toEqual([]);
    // o/r's answer has sha "x": still a repo of the layout, found by an empty search with the others.
    expect((await search('')).map((m) => m.id)).toEqual(['o/r', 'tabtune/Tiny-Chat', 'tabtune/demo']);

    const refs = await fetch(`${base}hub/api/models/tabtune/demo/refs`);
    expect(await refs.json()).toEqual({ branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: sha }], converts: [], tags: [] });
    expect((await fetch(`${base}hub/api/models/tabtune/missing/refs`)).status).toBe(404);
  });
});
