// The Model panel: the memory bill before download (and a refusal with numbers past the adapter's buffer limits),
// the weights download as a bar with bytes, the cached-models list with delete, and — against the local Hub mirror
// (second webServer in playwright.config.ts) — a Hub checkpoint pinned to its sha with a mismatched tokenizer.
import { expect, test } from './fixtures';

const MIRROR = process.env.TABTUNE_MIRROR_URL ?? '';
/** The app's default model (pretrained by `npm run pretrain-demo`), served by the app itself. */
const DEFAULT_REPO = 'tabtune/tiny-storyteller';

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
  // The bill follows the backend a run would use: the automatic choice (WASM on SwiftShader), then WebGPU when picked.
  await expect(panel.getByTestId('memory-fit')).toContainText(capability.backend === 'webgpu' ? 'Fits the WebGPU adapter' : 'Fits the 4 GiB WebAssembly');
  await app.panel('training').getByTestId('backend-choice').selectOption('webgpu');
  await expect(panel.getByTestId('memory-fit')).toContainText('Fits the WebGPU adapter');
  await panel.scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-bill');

  // A max length no GPU buffer can hold logits for: refused, with the limit and the numbers.
  await app.panel('template').getByTestId('max-length').fill('32768');
  await expect.poll(async () => (await app.state()).model?.memory?.shape.seqLen).toBe(32768);
  const refusal = bill.getByRole('alert');
  await expect(refusal).toContainText('Does not fit this device.');
  const refused = (await app.state()).model?.memory;
  expect(refused?.problems.length).toBeGreaterThan(0);
  for (const problem of refused?.problems ?? []) await expect(refusal).toContainText(problem);
  await expect(refusal).toContainText(/maxStorageBufferBindingSize/);
  await expect(bill).toContainText(`Largest single tensor: ${refused?.largestTensorName ?? '?'}`);
  const colour = await refusal.evaluate((el) => getComputedStyle(el).color);
  expect(colour).not.toBe(await page.evaluate(() => getComputedStyle(document.body).color));
  await app.panel('template').getByTestId('max-length').fill(String(runConfig.maxLength));
  await app.panel('training').getByTestId('backend-choice').selectOption('auto');

  // Download: a bar with bytes, then the size in the cache; the cache list shows the repo and deletes it.
  const size = model.files.filter((f) => /\.safetensors(\.index\.json)?$/.test(f.path)).reduce((n, f) => n + f.size, 0);
  await panel.getByRole('button', { name: /^Download weights/ }).click();
  await expect(panel.getByTestId('download-done')).toBeVisible();
  expect((await app.state()).downloaded).toEqual({ repo: DEFAULT_REPO, sha: model.sha, bytes: size });
  const cached = panel.getByTestId('cached-models');
  await cached.locator('summary').click();
  const entry = cached.getByRole('listitem').filter({ hasText: DEFAULT_REPO });
  await expect(entry).toContainText(`@${model.sha.slice(0, 10)}`);
  const repos = (await app.state()).cachedRepos;
  const demo = repos.find((r) => r.repo === DEFAULT_REPO && r.sha === model.sha);
  expect(demo?.bytes).toBeGreaterThanOrEqual(size);
  await cached.scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-cache');
  await entry.getByRole('button', { name: `Delete ${DEFAULT_REPO} at ${model.sha.slice(0, 10)} from the cache` }).click();
  await expect(entry).toHaveCount(0);
  await expect(panel.getByTestId('download-done')).toHaveCount(0);
});

test('a Hub checkpoint found by search, picked with the keyboard, pinned to its sha, with a mismatched tokenizer', async ({ app, page }) => {
  // Three tokenizers (a 128k BPE among them) load in the worker on a shared 2-core machine.
  test.setTimeout(180_000);
  expect(MIRROR, 'playwright.config.ts sets TABTUNE_MIRROR_URL').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await app.open();
  await app.startup();
  const panel = app.panel('model');
  await panel.locator('.source-form > summary').first().click();
  await panel.getByLabel('Hub endpoint').fill(MIRROR);

  // Search as you type: a combobox over the mirror's /api/models?search=, with downloads and size per option.
  const box = panel.getByRole('combobox', { name: 'Repository' });
  await box.fill('');
  await box.pressSequentially('tiny', { delay: 30 });
  const list = panel.getByRole('listbox', { name: 'Matching models' });
  await expect(list).toBeVisible();
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  const options = list.getByRole('option');
  await expect(options).toHaveCount(10);
  await expect(options.filter({ hasText: 'tabtune/tiny-llama' })).toContainText(/downloads · [\d.]+ MiB/);
  await app.screenshot('model-panel-search');
  // Escape closes the list; typing opens it again.
  await box.press('Escape');
  await expect(list).toBeHidden();
  await box.press('Backspace');
  await box.press('y');
  await expect(list).toBeVisible();
  await expect(options).toHaveCount(10);
  // Arrow keys move the active option (aria-activedescendant); Enter picks it.
  let picked = false;
  for (let i = 0; i < 10 && !picked; i++) {
    await box.press('ArrowDown');
    const activeId = await box.getAttribute('aria-activedescendant');
    expect(activeId).not.toBeNull();
    picked = (await page.locator(`[id="${activeId}"]`).textContent())?.includes('tabtune/tiny-llama') ?? false;
  }
  expect(picked).toBe(true);
  await box.press('Enter');
  await expect(box).toHaveValue('tabtune/tiny-llama');
  await expect(list).toBeHidden();

  // The revision picker lists the branches with their commits and shows the sha the revision resolves to.
  const sha = panel.getByTestId('revision-sha');
  await expect(sha).toContainText(/Branch main is at commit [0-9a-f]{40}/);
  const resolved = (await sha.locator('code').textContent()) ?? '';
  await expect(panel.getByLabel('Branches and tags')).toHaveValue('main');
  await panel.getByRole('button', { name: 'Load from Hub' }).click();
  // The bundled demo is a llama too, so its type says nothing about which model is loaded: wait for the pinned sha.
  await expect(panel.getByTestId('model-sha')).toHaveText(resolved.slice(0, 10));
  await expect(panel.getByTestId('model-type')).toHaveText('llama');
  const { model } = await app.state();
  if (!model) throw new Error('no model');
  expect(model.sha).toBe(resolved);
  // A 128k vocabulary's logits for batch 4 × 256 would be 525 MB whole: training computes them in 64 MiB chunks of
  // positions, so the bill holds one chunk's tensors (about 256 MiB) and stays under 1 GiB.
  const total = model.memory?.totalBytes ?? 0;
  expect(total).toBeGreaterThan(256 * 1024 ** 2);
  expect(total).toBeLessThan(1024 ** 3);
  await expect(panel.getByTestId('memory-total')).toHaveText(`${(total / 1024 ** 2).toFixed(0)} MiB`);

  const tokenizer = panel.getByTestId('tokenizer-option');
  await tokenizer.locator('summary').click();
  await tokenizer.getByLabel('Tokenizer repo').fill('tabtune/tiny-gpt2@main');
  await tokenizer.getByRole('button', { name: 'Check tokenizer' }).click();
  const warnings = tokenizer.getByRole('list', { name: 'Tokenizer warnings' });
  await expect(warnings).toContainText('eos_token differs: "<|endoftext|>" here', { timeout: 60_000 });
  await expect(tokenizer.getByTestId('tokenizer-check')).toContainText('50,257 tokens for 128,256 embedding rows');
  // The checked tokenizer is the run's now (pinned to its commit): GPT-2's has no chat template, so the chat dataset
  // cannot be rendered, and the Template panel says so.
  const check = (await app.state()).tokenizerCheck;
  await expect.poll(async () => (await app.state()).runConfig.tokenizer).toEqual({ repo: 'tabtune/tiny-gpt2', revision: 'main', sha: check?.sha });
  await expect.poll(async () => { const s = await app.state(); return s.preparedState.status === 'error' ? s.preparedState.message : ''; }, { timeout: 60_000 })
    .toMatch(/chat template/i);
  await app.panel('model').scrollIntoViewIfNeeded();
  await app.screenshot('model-panel-tokenizer');
  // Back to the model's own tokenizer: run.prepare succeeds on the Hub checkpoint.
  await tokenizer.getByRole('button', { name: 'Use the model’s own' }).click();
  await expect(tokenizer.locator('summary')).toHaveText('Tokenizer: the model’s own');
  await expect.poll(async () => (await app.state()).preparedState.status, { timeout: 60_000 }).toBe('ready');
  expect((await app.state()).prepared?.repo).toBe('tabtune/tiny-llama');
  expect((await app.state()).runConfig.tokenizer).toBeUndefined();
});
