// First browser specs: the built app loads cleanly, the worker's WebGPU probe finds SwiftShader, and the bundled
// demo's model and dataset appear, all through the same code paths a user's browser runs.
import { expect, test } from './fixtures';

test('app loads with every panel and no console errors', async ({ app, page }) => {
  await app.open();
  await expect(page.getByRole('heading', { level: 1, name: 'TabTune' })).toBeVisible();
  for (const title of ['Model', 'Data', 'Template & masks', 'Batch inspector', 'Training', 'Charts', 'Samples', 'Checkpoints', 'Device']) {
    await expect(page.getByRole('region', { name: title })).toBeVisible();
  }
  await app.startup();
  const state = await app.state();
  expect(state.errors).toEqual([]);
  expect([state.capabilityState, state.modelState, state.datasetState]).toEqual([
    { status: 'ready' }, { status: 'ready' }, { status: 'ready' },
  ]);
  await app.screenshot('app-loaded');
  await page.screenshot({ path: 'test-output/screenshots/app-full.png', fullPage: true });
});

test('the WebGPU probe in the worker reports the SwiftShader adapter, and software WebGPU defaults to WASM', async ({ app, page }) => {
  await app.open();
  await app.startup();
  const { capability } = await app.state();
  // SwiftShader emulates the GPU on the CPU: slower than WASM, so the automatic choice is WASM, with one line saying why.
  expect(capability?.backend).toBe('wasm');
  expect(capability?.backendNote).toMatch(/software renderer \(SwiftShader\).*WASM.*pick WebGPU/);
  await expect(app.panel('training').getByTestId('backend-note')).toHaveText(capability!.backendNote!);
  await expect(app.panel('training').getByTestId('backend-choice').locator('option[value="webgpu"]')).toBeEnabled();
  if (!capability?.webgpu.available) throw new Error(`WebGPU missing: ${JSON.stringify(capability?.webgpu)}`);
  const adapter = capability.webgpu.adapter;
  expect(`${adapter.vendor} ${adapter.architecture} ${adapter.description}`.toLowerCase()).toContain('swiftshader');
  expect(adapter.limits.maxBufferSize).toBeGreaterThan(0);
  expect(adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  expect(adapter.features).toContain('subgroups');
  await expect(app.panel('device').getByTestId('backend')).toHaveText('WASM (CPU)');
  await expect(page.getByTestId('fallback-banner')).toHaveCount(0);
  await app.panel('device').getByText(/All \d+ limits/).click();
  await app.panel('device').screenshot({ path: 'test-output/screenshots/device-panel.png' });
});
