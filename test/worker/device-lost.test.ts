// A lost GPU device mid-run, through the real worker host and client: the backend's `lost` signal (GPUDevice.lost in
// the browser) ends the loop at once with a 'device-lost' outcome that names the checkpoint it can go on from, and
// Resume rebuilds the trainer on a newly opened backend and continues exactly like a run that never lost its device.
// The backend is onnxruntime-web WASM with a loss signal this test fires; everything else is the production path.
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Backend } from '../../src/runtime/backend';
import { createNodeBackend } from '../../src/runtime/node';
import { defaultRunConfig, type RunConfig } from '../../src/share/run-config';
import { STEP_IO } from '../../src/engine/step';
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

/** How the first backend loses its device: a signal the test settles, or one that settles as the n-th optimizer
 * step's graph run starts (deterministic: the step is in flight, so the loss lands mid-step however loaded the
 * machine is, where a loss fired from the page's step events races the worker's next steps). */
type Loss = { signal: Promise<string> } | { atTrainRun: number; why: string };

async function prepared(opened: Backend[], loss?: Loss): Promise<Harness> {
  const h = startHarness({
    openBackend: async () => {
      const real = await createNodeBackend('wasm', { threads: 1 });
      // The first backend carries the loss signal; any backend opened after it stays healthy.
      const backend = opened.length === 0 && loss ? lossy(real, loss) : real;
      opened.push(backend);
      return { backend };
    },
  });
  harnesses.push(h);
  const location: HubLocation = { endpoint: inject('hubMirrorUrl'), repo: 'tabtune/tiny-qwen3', revision: 'main' };
  await h.client.request('run.prepare', { location, dataset: bundledDataset(DATA), config: config() });
  return h;
}

function lossy(real: Backend, loss: Loss): Backend {
  if ('signal' in loss) return { ...real, lost: loss.signal };
  let fire!: (why: string) => void;
  const lost = new Promise<string>((resolve) => (fire = resolve));
  let trainRuns = 0;
  return {
    ...real,
    lost,
    async createSession(model, cfg) {
      const session = await real.createSession(model, cfg);
      // The train graph is the one that reports the step's metrics.
      if (!session.outputNames.includes(STEP_IO.metrics)) return session;
      return {
        ...session,
        run(feeds) {
          if (++trainRuns === loss.atTrainRun) fire(loss.why);
          return session.run(feeds);
        },
      };
    },
  };
}

describe('a lost GPU device', () => {
  it('ends the run at once, keeps the last checkpoint, and Resume continues on a new backend with the same losses', { timeout: 240_000 }, async () => {
    const reference: WorkerEvent[] = [];
    const whole = await (await prepared([])).client.request('train.start', { backend: 'auto', config: config() }, { onEvent: (e) => reference.push(e) });
    expect(whole.reason).toBe('completed');

    const opened: Backend[] = [];
    const h = await prepared(opened, { atTrainRun: 3, why: 'GPUDevice.lost: unknown, the GPU process crashed' });
    const events: WorkerEvent[] = [];
    const outcome = await h.client.request('train.start', { backend: 'auto', config: config() }, { onEvent: (e) => events.push(e) });
    expect(outcome).toMatchObject({ reason: 'device-lost', step: 2, recoverable: true });
    expect(outcome.message).toContain('GPUDevice.lost: unknown, the GPU process crashed');
    expect(outcome.message).toContain('checkpoint at step 2');
    // The loss came while step 3 ran: nothing from the abandoned run, step 3 included, reaches the page.
    expect(stepLosses(events).map(([s]) => s)).toEqual([1, 2]);

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
    const h = await prepared(opened, { signal: new Promise<string>((resolve) => (lose = resolve)) });
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
