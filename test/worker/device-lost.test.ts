// A lost GPU device mid-run, through the real worker host and client: the backend's `lost` signal (GPUDevice.lost in
// the browser) ends the loop at once with a 'device-lost' outcome that names the checkpoint it can go on from, and
// Resume rebuilds the trainer on a newly opened backend and continues exactly like a run that never lost its device.
// The backend is onnxruntime-web WASM with a loss signal this test fires; everything else is the production path.
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Backend } from '../../src/runtime/backend';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import type { HubLocation, WorkerEvent } from '../../src/worker/protocol';
import { bundledDataset, startHarness, type Harness } from './harness';

const DATA = 'tiny-codewords.jsonl';
const STEPS = 6;

function config(): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base, maxLength: 64, evalFraction: 0.2,
    train: { ...base.train, steps: STEPS, batchSize: 2, warmupSteps: 0, lr: 1e-2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 2 },
  };
}

const stepLosses = (events: WorkerEvent[]) =>
  events.filter((e): e is Extract<WorkerEvent, { type: 'step' }> => e.type === 'step').map((e) => [e.step, e.loss] as const);

let harnesses: Harness[] = [];
afterEach(() => {
  harnesses.forEach((h) => h.close());
  harnesses = [];
});

async function prepared(opened: Backend[], loseFirst?: Promise<string>): Promise<Harness> {
  const h = startHarness({
    openBackend: async () => {
      const real = await createNodeBackend('wasm', { threads: 1 });
      // The first backend carries the loss signal the test fires; any backend opened after it stays healthy.
      const backend: Backend = opened.length === 0 && loseFirst ? { ...real, lost: loseFirst } : real;
      opened.push(backend);
      return { backend };
    },
  });
  harnesses.push(h);
  const location: HubLocation = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
  await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config() });
  return h;
}

describe('a lost GPU device', () => {
  it('ends the run at once, keeps the last checkpoint, and Resume continues on a new backend with the same losses', { timeout: 240_000 }, async () => {
    const reference: WorkerEvent[] = [];
    const whole = await (await prepared([])).client.request('train.start', { backend: 'auto', config: config() }, { onEvent: (e) => reference.push(e) });
    expect(whole.reason).toBe('completed');

    let lose!: (why: string) => void;
    const opened: Backend[] = [];
    const h = await prepared(opened, new Promise<string>((resolve) => (lose = resolve)));
    const events: WorkerEvent[] = [];
    const outcome = await h.client.request('train.start', { backend: 'auto', config: config() }, {
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === 3) lose('GPUDevice.lost: unknown, the GPU process crashed');
      },
    });
    expect(outcome).toMatchObject({ reason: 'device-lost', step: 2, recoverable: true });
    expect(outcome.message).toContain('GPUDevice.lost: unknown, the GPU process crashed');
    expect(outcome.message).toContain('checkpoint at step 2');
    // Nothing from the abandoned run reaches the page after the loss.
    expect(stepLosses(events).map(([s]) => s)).toEqual([1, 2, 3]);

    const rest: WorkerEvent[] = [];
    const done = await h.client.request('train.resume', {}, { onEvent: (e) => rest.push(e) });
    expect(done).toMatchObject({ reason: 'completed', step: STEPS });
    expect(opened).toHaveLength(2); // the lost backend was dropped, a new one opened
    // From the step-2 checkpoint: same data order, RNG and optimizer state as the run that never lost its device.
    expect([...stepLosses(events).slice(0, 2), ...stepLosses(rest)]).toEqual(stepLosses(reference));
  });

  it('a device lost while paused ends the next Resume with the message, and the one after goes on', { timeout: 240_000 }, async () => {
    let lose!: (why: string) => void;
    const opened: Backend[] = [];
    const h = await prepared(opened, new Promise<string>((resolve) => (lose = resolve)));
    const paused = await h.client.request('train.start', { backend: 'auto', config: config() }, {
      onEvent: (e) => { if (e.type === 'step' && e.step === 2) void h.client.request('train.pause', {}); },
    });
    expect(paused.reason).toBe('paused');
    lose('GPUDevice.lost: destroyed');
    const lost = await h.client.request('train.resume', {});
    expect(lost).toMatchObject({ reason: 'device-lost', recoverable: true });
    await expect(h.client.request('train.resume', {})).resolves.toMatchObject({ reason: 'completed', step: STEPS });
    expect(opened).toHaveLength(2);
  });
});
