// The app's "Download ONNX" path in Node: the real worker host over a MessageChannel (WASM trainer, tiny Qwen3 from the
// Hub mirror) answers `graph.export` with a zip of the run's graphs; unzipped, the standalone replay script runs the
// next optimizer step on onnxruntime-node's CPU EP, and the worker's own first training step (WASM kernels) gives the
// same loss to float tolerance. The zip's manifest counts the nodes the inspector's summary shows.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import type { HubLocation, WorkerEvent } from '../../src/worker/protocol';
import { ROOT, tempDir } from '../cli/harness';
import { startHarness, type Harness } from './harness';

const run = promisify(execFile);
const DATA = 'tiny-codewords.jsonl';
let h: Harness;
let location: HubLocation;

function config(): RunConfig {
  const base = defaultRunConfig();
  return { ...base, maxLength: 64, evalFraction: 0.25, seed: 11, train: { ...base.train, steps: 1, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 } };
}

beforeAll(() => {
  h = startHarness({ openBackend: async () => ({ backend: await createNodeBackend('wasm', { threads: 1 }) }) });
  location = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
});
afterAll(() => h.close());

describe('graph.export through the worker', () => {
  it('zips the graphs; the replayed step matches the worker\'s first step', { timeout: 180_000 }, async () => {
    const b = readFileSync(join(ROOT, 'public/datasets', DATA));
    const bytes = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    await h.client.request('run.prepare', { location, dataset: { kind: 'bytes', name: DATA, bytes }, config: config() });
    const inspected = await h.client.request('batch.inspect', { backend: 'auto', config: config() });
    expect(inspected.graph.nodes).toBeGreaterThan(0);
    expect(inspected.graph.byPhase.backward).toBeGreaterThan(0);

    const exported = await h.client.request('graph.export', { backend: 'auto', config: config() });
    expect(exported.fileName).toMatch(/-step1-onnx\.zip$/);
    const files = unzipSync(new Uint8Array(await exported.zip.arrayBuffer()));
    const dir = join(tempDir(), 'onnx');
    mkdirSync(dir);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name.split('/').slice(1).join('/')), data);
    for (const f of exported.files) expect(files[`${exported.fileName.replace(/\.zip$/, '')}/${f.path}`]?.byteLength).toBe(f.bytes);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { graphs: Record<string, { nodes: number }> };
    expect(manifest.graphs['train-step']!.nodes).toBe(inspected.graph.nodes);

    const replay = await run(process.execPath, [join(ROOT, 'examples/onnx-replay/replay.mjs'), dir, '--threads', '1'], { cwd: ROOT });
    const replayed = JSON.parse(replay.stdout) as { loss: number; step: number };
    expect(replayed.step).toBe(1);
    const events: WorkerEvent[] = [];
    await h.client.request('train.start', { backend: 'auto', config: config() }, { onEvent: (e) => events.push(e) });
    const first = events.find((e): e is Extract<WorkerEvent, { type: 'step' }> => e.type === 'step');
    expect(first?.step).toBe(1);
    const loss = first!.loss;
    // Same graphs, other kernels (WASM in the worker, the CPU EP in the replay): equal to float tolerance.
    expect(Math.abs(replayed.loss - loss) / loss).toBeLessThan(1e-5);
  });
});
