// The GPU path in the browser: on WebGPU (SwiftShader here) the batch inspector runs the trainer's step graph and the
// first training steps start from exactly the loss it showed; the trainer reports the WebGPU backend. Kept to two
// steps: SwiftShader compiles every shader on the CPU (~45 s for the demo's step graphs) and runs a step in 5-13 s.
import { expect, test } from './fixtures';

test('batch inspector and training steps on WebGPU', async ({ app }) => {
  test.setTimeout(240_000);
  await app.open();
  await app.startup();
  expect((await app.state()).capability?.backend).toBe('webgpu');
  await app.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
  const training = app.panel('training');
  await training.getByTestId('backend-choice').selectOption('auto');
  for (const [id, value] of [['hp-train-steps', '2'], ['hp-train-batchSize', '2'], ['hp-train-warmupSteps', '0'], ['hp-train-evalEvery', '0'], ['hp-train-sampleEvery', '0']] as const) {
    await training.getByTestId(id).fill(value);
  }
  await app.panel('template').getByTestId('max-length').fill('64');
  await expect.poll(async () => (await app.state()).runConfig.train.steps).toBe(2);
  await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');
  await expect.poll(async () => (await app.state()).prepared?.examples.length).toBe(8);

  const batch = app.panel('batch');
  await batch.getByTestId('inspect-batch').click();
  await expect(batch.getByTestId('batch-loss')).toHaveText(/^\d+\.\d{4}$/, { timeout: 180_000 });
  const { inspection, trainer } = await app.state();
  expect(trainer?.backend).toBe('webgpu');
  expect(trainer?.backendLabel).toMatch(/WebGPU/);

  await training.getByTestId('train-start').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const { metrics, samples } = await app.state();
  expect(metrics.map((m) => m.step)).toEqual([1, 2]);
  // The inspector ran the same graph on the same first batch with the same (initial) adapter.
  expect(metrics[0]?.trainLoss).toBeCloseTo(inspection!.loss, 3);
  expect(samples.map((s) => s.step)).toContain(0);
  await expect(training.getByTestId('trainer-info')).toContainText('WebGPU');
  await app.panel('batch').screenshot({ path: 'test-output/screenshots/batch-panel-webgpu.png' });
});
