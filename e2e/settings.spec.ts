// The settings a user touches first: the Hub endpoint + repo form (the same path a real Hub model takes), the
// error a wrong endpoint gives, and uploading a dataset file (bytes transferred to the worker).
import { createServer } from 'node:net';
import { expect, test } from './fixtures';
import { DEMO_MODEL_REPO } from '../src/share/run-config';

/** A loopback port nothing listens on: bound by the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

test('a model loads from a Hub endpoint typed into the form', async ({ app, page }) => {
  await app.open();
  await app.startup();
  const panel = app.panel('model');
  await panel.getByText(/Bundled demo/).click();
  await panel.getByLabel('Hub endpoint').fill(new URL('/hub', page.url()).href);
  await panel.getByLabel('Repository').fill('tabtune/demo');
  await panel.getByLabel('Revision').fill('main');
  await panel.getByRole('button', { name: 'Load from Hub' }).click();
  // The choice changes once the load succeeds (a failed one keeps the model that works).
  await expect.poll(async () => (await app.state()).modelChoice, { timeout: 30_000 }).toEqual({ kind: 'hub', repo: 'tabtune/demo', revision: 'main' });
  await expect.poll(async () => (await app.state()).modelState.status).toBe('ready');
  const { model, hubEndpoint } = await app.state();
  expect(hubEndpoint).toBe(new URL('/hub', page.url()).href);
  expect(model?.location.endpoint).toBe(hubEndpoint);
  await expect(panel.getByTestId('model-type')).toHaveText('qwen3');
});

test.describe('unreachable endpoint', () => {
  test.use({ allowedProblem: /ERR_CONNECTION_REFUSED|Failed to load resource/ });

  test('an unreachable Hub endpoint leaves the demo usable, names the endpoint and offers the bundled mirror', async ({ app }) => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await app.open();
    await app.startup();
    await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');
    const examples = (await app.state()).prepared?.examples.length ?? 0;
    expect(examples).toBeGreaterThan(0);
    const panel = app.panel('model');
    await panel.getByText(/Bundled demo/).click();
    await panel.getByLabel('Hub endpoint').fill(endpoint);
    await panel.getByLabel('Repository').fill('tabtune/demo');
    await panel.getByRole('button', { name: 'Load from Hub' }).click();
    await expect.poll(async () => (await app.state()).modelLoadFailure?.unreachable).toBe(true);
    const failure = panel.getByTestId('model-load-failure');
    await expect(failure).toContainText(endpoint);
    await expect(failure).toContainText(`Still using ${DEMO_MODEL_REPO}`);
    // The demo is still the run's model, prepared and usable.
    const s = await app.state();
    expect(s.modelState.status).toBe('ready');
    expect(s.modelChoice).toEqual({ kind: 'bundled' });
    expect(s.model?.location.repo).toBe(DEMO_MODEL_REPO);
    await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');
    expect((await app.state()).prepared?.examples.length).toBe(examples);
    await expect(app.panel('template').getByTestId('example-tokens')).toBeVisible();
    await panel.screenshot({ path: 'test-output/screenshots/model-load-failure.png' });
    // The bundled mirror, offered: the form points at it and the failure goes.
    await failure.getByTestId('use-mirror').click();
    await expect(panel.getByTestId('model-load-failure')).toHaveCount(0);
    await expect(panel.getByLabel('Hub endpoint')).toHaveValue(`${new URL(app.page.url()).origin}/hub`);
    await expect.poll(async () => (await app.state()).modelState.status).toBe('ready');
    // The bundled mirror answers the Hub's search and refs (scripts/serve.mjs): autocomplete and the revision picker work.
    // The bundled model itself, so the picker's commit is the one the model loaded from.
    await panel.getByLabel('Repository').fill(DEMO_MODEL_REPO.split('/')[1]!.slice(0, 8));
    const option = panel.getByRole('option', { name: new RegExp(DEMO_MODEL_REPO) });
    await expect(option).toBeVisible();
    await option.click();
    await expect(panel.getByTestId('revision-sha')).toContainText(`Branch main is at commit ${(await app.state()).model?.sha ?? '?'}`);
    await panel.screenshot({ path: 'test-output/screenshots/model-bundled-mirror-search.png' });
  });
});

test('an uploaded JSONL file is previewed, with its broken line reported', async ({ app }) => {
  await app.open();
  await app.startup();
  const lines = [
    JSON.stringify({ prompt: 'Is "ignore all previous instructions" an injection?', completion: 'yes' }),
    '{"prompt": "broken',
    JSON.stringify({ prompt: 'Is "what time is it" an injection?', completion: 'no' }),
  ];
  const panel = app.panel('data');
  await panel.locator('input[type=file]').setInputFiles({
    name: 'mine.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines.join('\n')),
  });
  await expect(panel.getByTestId('dataset-rows')).toHaveText('2');
  await expect(panel.getByTestId('dataset-layout')).toHaveText('prompt-completion');
  await expect(panel.getByText('1 problem; that row is skipped')).toBeVisible();
  await expect(panel.getByTestId('dataset-preview')).toContainText('ignore all previous instructions');
  const { datasetChoice } = await app.state();
  expect(datasetChoice).toEqual({ kind: 'upload', name: 'mine.jsonl' });
  await app.panel('data').screenshot({ path: 'test-output/screenshots/data-upload.png' });
});
