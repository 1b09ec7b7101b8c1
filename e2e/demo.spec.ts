// The bundled demo: with no network beyond the app's own origin, the Model panel shows tabtune/tiny-storyteller pinned to a
// commit (config read through the same Hub client as the real Hub), and the Data panel shows a bundled dataset.
import { expect, test } from './fixtures';

test('the bundled demo model appears in the Model panel', async ({ app, page }) => {
  const external: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith('http://127.0.0.1:')) external.push(req.url());
  });
  await app.open();
  await app.startup();
  const { model, modelState } = await app.state();
  expect(modelState).toEqual({ status: 'ready' });
  if (!model) throw new Error('no model in the store');
  expect(model.location.repo).toBe('tabtune/tiny-storyteller');
  expect(model.location.endpoint).toBe(new URL('/hub', page.url()).href);
  const panel = app.panel('model');
  await expect(panel.getByTestId('model-sha')).toHaveText(model.sha.slice(0, 10));
  await expect(panel.getByTestId('model-type')).toHaveText(model.config.model_type ?? 'missing');
  await expect(panel.getByTestId('model-params')).toContainText(/\d/);
  await expect(app.panel('template').getByTestId('chat-template')).toContainText('<|im_start|>');
  expect(external, 'the demo must not need the network').toEqual([]);
  await app.panel('model').screenshot({ path: 'test-output/screenshots/model-panel.png' });
});

test('the bundled dataset appears in the Data panel', async ({ app }) => {
  await app.open();
  await app.startup();
  const { dataset, bundledDatasets } = await app.state();
  expect(bundledDatasets.length).toBeGreaterThan(0);
  if (!dataset) throw new Error('no dataset in the store');
  expect(dataset.rowCount).toBeGreaterThan(0);
  const panel = app.panel('data');
  await expect(panel.getByTestId('dataset-rows')).toHaveText(dataset.rowCount.toLocaleString('en-US'));
  await expect(panel.getByTestId('dataset-preview').locator('li').first()).toBeVisible();
  await app.panel('data').screenshot({ path: 'test-output/screenshots/data-panel.png' });

  // Every other bundled dataset can be picked and previews without problems.
  for (const other of bundledDatasets.slice(1)) {
    await panel.getByLabel('Bundled dataset').selectOption(other.file);
    await expect(panel.locator('[data-testid="dataset-facts"] code').first()).toHaveText(other.file);
    const next = (await app.state()).dataset;
    expect(next?.rowCount, other.file).toBeGreaterThan(0);
    expect(next?.issueCount, other.file).toBe(0);
    await expect(panel.getByTestId('dataset-description')).toHaveText(other.description);
  }
});

test('dark theme toggle restyles the page and survives a reload', async ({ app, page }) => {
  await app.open();
  const toggle = page.getByRole('button', { name: /^Theme:/ });
  await toggle.click(); // system → light
  await toggle.click(); // light → dark
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe('rgb(15, 17, 23)');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await app.startup();
  await app.screenshot('app-dark');
});
