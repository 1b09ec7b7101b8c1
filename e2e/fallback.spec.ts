// Without WebGPU (Chromium launched without the unsafe-WebGPU/SwiftShader flags, so requestAdapter() returns null)
// the probe says why, the page shows the WASM fallback banner, and everything else still loads.
import { BASE_FLAGS, CHROMIUM_PATH } from './chromium';
import { expect, test } from './fixtures';

test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: BASE_FLAGS } });

test('no WebGPU adapter: the WASM fallback banner explains why and what to try', async ({ app, page }) => {
  await app.open();
  await app.startup();
  const { capability, errors } = await app.state();
  expect(capability?.backend).toBe('wasm');
  expect(capability?.webgpu.available).toBe(false);
  const banner = page.getByTestId('fallback-banner');
  await expect(banner).toContainText('WebAssembly');
  await expect(banner).toContainText('requestAdapter() returned null');
  await expect(app.panel('device').getByTestId('backend')).toHaveText('WASM (CPU)');
  await expect(app.panel('model').getByTestId('model-type')).toBeVisible();
  expect(errors).toEqual([]);
  await app.screenshot('fallback-banner');
});
