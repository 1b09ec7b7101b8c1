// Where the app trains by default on this machine. Its only WebGPU adapter is SwiftShader (software), which is slower
// than WASM, so the automatic choice is WASM with a one-line reason; the batch inspector runs on that choice and says
// which backend ran it. WASM uses every core but one (the page keeps one): the page is cross-origin isolated
// (scripts/serve.mjs sends COOP/COEP), so the worker runs onnxruntime-web multi-threaded where there are 3+ cores, and
// the label names the threads ORT started.
import { expect, test } from './fixtures';
import { wasmThreads } from '../src/runtime/adapter';

test('automatic choice on a software adapter: WASM on every core but one, the inspector and the trainer say so', async ({ app, page }) => {
  test.setTimeout(150_000);
  await app.open();
  await app.startup();
  const { capability } = await app.state();
  expect(capability?.crossOriginIsolated, 'the worker must be cross-origin isolated').toBe(true);
  expect(capability?.backend).toBe('wasm');
  const note = capability?.backendNote;
  expect(note).toContain('SwiftShader');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = wasmThreads(cores);
  const label = `WASM (onnxruntime-web, ${threads} thread${threads === 1 ? '' : 's'})`;
  // The Device panel names the threads training uses, not only the cores.
  expect(capability?.wasmThreads).toBe(threads);
  await expect(app.panel('device')).toContainText(`WASM trains on ${threads} thread${threads === 1 ? '' : 's'}`);

  await app.setUpCodewordRun({ steps: 2, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
  const training = app.panel('training');
  await training.getByTestId('backend-choice').selectOption('auto');
  await expect(training.getByTestId('backend-note')).toHaveText(note!);

  const batch = app.panel('batch');
  await batch.getByTestId('inspect-batch').click();
  await expect(batch.getByTestId('batch-backend')).toHaveText(`${label} · ${note}`, { timeout: 60_000 });

  await page.getByTestId('train-start').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 90_000 });
  const trainer = (await app.state()).trainer;
  expect(trainer?.backend).toBe('wasm');
  expect(trainer?.backendLabel).toBe(label);
  expect(trainer?.fallbackReason).toBe(note);
});
