// A GPU device lost mid-run, in the browser, on the real GPUDevice: the spec wraps GPUAdapter.requestDevice inside the
// training worker (nothing in the app is changed for it) so it holds every device onnxruntime-web opens, trains the
// bundled demo on WebGPU (SwiftShader) with a checkpoint every 2 steps (and autosaves between), and destroys the device. The
// run must stop at once with a message that says what happened and which checkpoint it can go on from, and Resume
// must rebuild the trainer on a new device and finish from that checkpoint, the steps after it logged once each.
import type { Worker } from '@playwright/test';
import { expect, test } from './fixtures';

const STEPS = 8;

/** Keeps every GPUDevice the worker opens on `globalThis.__tabtuneDevices`, in order. */
function captureDevices(worker: Worker): Promise<void> {
  return worker.evaluate(() => {
    const g = globalThis as unknown as { __tabtuneDevices?: GPUDevice[] };
    if (g.__tabtuneDevices) return;
    g.__tabtuneDevices = [];
    const open = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, ...args: Parameters<GPUAdapter['requestDevice']>) {
      const device = await open.apply(this, args);
      g.__tabtuneDevices!.push(device);
      return device;
    };
  });
}

test.use({ allowedProblem: /GPUDevice\.lost|device (was )?lost|destroyed|Instance dropped|Device is lost|WebGPU/i });

test('destroying the GPUDevice mid-run pauses it with a message, and Resume finishes from the last checkpoint', async ({ app, page }) => {
  test.setTimeout(360_000);
  await app.open();
  const worker = page.workers()[0] ?? (await page.waitForEvent('worker'));
  await captureDevices(worker);
  await app.startup();
  expect((await app.state()).capability?.webgpu.available, 'Chromium runs WebGPU on SwiftShader (e2e/chromium.ts)').toBe(true);

  await app.setUpCodewordRun({ steps: STEPS, evalEvery: 0, sampleEvery: 0, checkpointEvery: 2 });
  const training = app.panel('training');
  await training.getByTestId('backend-choice').selectOption('webgpu');
  await expect.poll(async () => (await app.state()).backendChoice).toBe('webgpu');
  await training.getByTestId('train-start').click();
  await app.atStep(3, { timeout: 240_000 });

  // The device the run trains on is the last one opened (the capability probe may have opened one before it).
  const destroyed = await worker.evaluate(() => {
    const devices = (globalThis as unknown as { __tabtuneDevices: GPUDevice[] }).__tabtuneDevices;
    devices.at(-1)?.destroy();
    return devices.length;
  });
  expect(destroyed).toBeGreaterThan(0);

  const outcome = training.getByTestId('train-outcome');
  await expect(outcome).toContainText('The WebGPU device was lost', { timeout: 60_000 });
  const lost = (await app.state()).outcome!;
  expect(lost).toMatchObject({ reason: 'device-lost', recoverable: true });
  expect(lost.step).toBeGreaterThanOrEqual(2);
  expect(lost.step).toBeLessThan(STEPS);
  await expect(outcome).toContainText(`Press Resume to continue from the checkpoint at step ${lost.step} on a new device.`);
  await expect(training.getByTestId('train-phase')).toHaveText('paused');
  await app.screenshot('device-lost');

  await training.getByTestId('train-resume').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 240_000 });
  const state = await app.state();
  const steps = state.metrics.filter((m) => m.trainLoss !== undefined).map((m) => m.step);
  expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  expect(state.metrics.every((m) => m.trainLoss === undefined || Number.isFinite(m.trainLoss))).toBe(true);
  // Resume opened a new device: the destroyed one is never used again.
  expect(await worker.evaluate(() => (globalThis as unknown as { __tabtuneDevices: GPUDevice[] }).__tabtuneDevices.length)).toBeGreaterThan(destroyed);
  await app.screenshot('device-lost-resumed');
});
