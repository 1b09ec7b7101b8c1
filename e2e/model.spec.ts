// The Model panel: the memory bill before download (and a refusal with numbers past the adapter's buffer limits),
// the weights download as a bar with bytes, the cached-models list with delete, and — against the local Hub mirror
// (second webServer in playwright.config.ts) — a Hub checkpoint pinned to its sha with a mismatched tokenizer.
import { expect, test } from './fixtures';

const MIRROR = process.env.TABTUNE_MIRROR_URL ?? '';

test('memory bill, refusal past the buffer limits, weights download and the cache list', async ({ app, page }) => {
  await app.open();
  await app.startup();
  const panel = app.panel('model');
  const bill = panel.getByTestId('memory-bill');
  const { model, capability, runConfig } = await app.state();
  if (!model?.memory || !capability) throw new Error('no memory bill or capability after start-up');
  await expect(bill.locator('caption')).toContainText(`Batch ${runConfig.train.batchSize} × max length ${runConfig.maxLength}`);
  for (const row of ['Weights', 'Trainable', 'Gradients', 'Optimizer', 'Activations', 'Total']) {
    await expect(bill.getByRole('row', { name: new RegExp(`^${row}`) })).toBeVisible();
  }
  await expect(panel.getByTestId('memory-fit')).toContainText(capability.backend === 'webgpu' ? 'Fits the WebGPU adapter' : 'Fits the WebAssembly');
  await panel.scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-bill');

  // A max length no GPU buffer can hold logits for: refused, with the limit and the numbers.
  await app.panel('template').getByTestId('max-length').fill('32768');
  await expect.poll(async () => (await app.state()).model?.memory?.shape.seqLen).toBe(32768);
  const refusal = bill.getByRole('alert');
  await expect(refusal).toContainText('Does not fit this device.');
  const largest = (await app.state()).model?.memory?.largestTensorBytes ?? 0;
  await expect(refusal).toContainText(`The largest tensor needs ${(largest / 1024 ** 2).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`);
  await expect(refusal).toContainText(/in one buffer \(maxStorageBufferBindingSize\)\. Lower the batch size \(\d+\) or the max length \(32768\)/);
  const colour = await refusal.evaluate((el) => getComputedStyle(el).color);
  expect(colour).not.toBe(await page.evaluate(() => getComputedStyle(document.body).color));
  await app.panel('template').getByTestId('max-length').fill(String(runConfig.maxLength));

  // Download: a bar with bytes, then the size in the cache; the cache list shows the repo and deletes it.
  const size = model.files.filter((f) => f.path.endsWith('.safetensors')).reduce((n, f) => n + f.size, 0);
  await panel.getByRole('button', { name: /^Download weights/ }).click();
  await expect(panel.getByTestId('download-done')).toBeVisible();
  expect((await app.state()).downloaded).toEqual({ repo: 'tabtune/demo', sha: model.sha, bytes: size });
  const cached = panel.getByTestId('cached-models');
  await cached.locator('summary').click();
  const entry = cached.getByRole('listitem').filter({ hasText: 'tabtune/demo' });
  await expect(entry).toContainText(`@${model.sha.slice(0, 10)}`);
  const repos = (await app.state()).cachedRepos;
  const demo = repos.find((r) => r.repo === 'tabtune/demo' && r.sha === model.sha);
  expect(demo?.bytes).toBeGreaterThanOrEqual(size);
  await cached.scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-cache');
  await entry.getByRole('button', { name: `Delete tabtune/demo at ${model.sha.slice(0, 10)} from the cache` }).click();
  await expect(entry).toHaveCount(0);
  await expect(panel.getByTestId('download-done')).toHaveCount(0);
});

test('a Hub checkpoint from the mirror, pinned to its sha, with a mismatched tokenizer', async ({ app }) => {
  expect(MIRROR, 'playwright.config.ts sets TABTUNE_MIRROR_URL').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await app.open();
  await app.startup();
  const panel = app.panel('model');
  await panel.locator('.source-form > summary').first().click();
  await panel.getByLabel('Hub endpoint').fill(MIRROR);
  await panel.getByLabel('Repository', { exact: true }).fill('tabtune/tiny-llama');
  await panel.getByLabel('Revision').fill('main');
  await panel.getByRole('button', { name: 'Load from Hub' }).click();
  await expect(panel.getByTestId('model-type')).toHaveText('llama');
  const { model } = await app.state();
  if (!model) throw new Error('no model');
  await expect(panel.getByTestId('model-sha')).toHaveText(model.sha.slice(0, 10));
  await expect(panel.getByTestId('memory-total')).toHaveText(/\d (KiB|MiB)/);

  const tokenizer = panel.getByTestId('tokenizer-option');
  await tokenizer.locator('summary').click();
  await tokenizer.getByLabel('Tokenizer repository').fill('tabtune/tiny-gpt2@main');
  await tokenizer.getByRole('button', { name: 'Check tokenizer' }).click();
  const warnings = tokenizer.getByRole('list', { name: 'Tokenizer warnings' });
  await expect(warnings).toContainText('eos_token differs: "<|endoftext|>" here');
  await expect(tokenizer.getByTestId('tokenizer-check')).toContainText('50,257 tokens for 128,256 embedding rows');
  await expect.poll(async () => (await app.state()).preparedState.status, { timeout: 60_000 }).toBe('ready');
  expect((await app.state()).prepared?.repo).toBe('tabtune/tiny-llama');
  await panel.scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-tokenizer');
});
