// WASM uses every core: the page is cross-origin isolated (scripts/serve.mjs sends COOP/COEP), so the training worker
// runs onnxruntime-web with one thread per logical core, and the trainer label names the threads ORT really started.
import { expect, test } from './fixtures';

test('WASM training runs on every core of a cross-origin isolated page, and the label says how many', async ({ app, page }) => {
  test.setTimeout(120_000);
  await app.open();
  await app.startup();
  const { capability } = await app.state();
  expect(capability?.crossOriginIsolated, 'the worker must be cross-origin isolated').toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await app.setUpCodewordRun({ steps: 2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
  await page.getByTestId('train-start').click();
  const training = app.panel('training');
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 90_000 });
  const trainer = (await app.state()).trainer;
  expect(trainer?.backend).toBe('wasm');
  expect(trainer?.backendLabel).toBe(`WASM (onnxruntime-web, ${cores} thread${cores === 1 ? '' : 's'})`);
});
