// The settings a user touches first: the Hub endpoint + repo form (the same path a real Hub model takes), the
// error a wrong endpoint gives, and uploading a dataset file (bytes transferred to the worker).
import { createServer } from 'node:net';
import { expect, test } from './fixtures';

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
  await expect.poll(async () => (await app.state()).modelState.status).toBe('ready');
  const { model, hubEndpoint, modelChoice } = await app.state();
  expect(modelChoice).toEqual({ kind: 'hub', repo: 'tabtune/demo', revision: 'main' });
  expect(hubEndpoint).toBe(new URL('/hub', page.url()).href);
  expect(model?.location.endpoint).toBe(hubEndpoint);
  await expect(panel.getByTestId('model-type')).toHaveText('qwen3');
});

test.describe('unreachable endpoint', () => {
  test.use({ allowedProblem: /ERR_CONNECTION_REFUSED|Failed to load resource/ });

  test('an unreachable Hub endpoint gives an error that names it', async ({ app }) => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await app.open();
    await app.startup();
    const panel = app.panel('model');
    await panel.getByText(/Bundled demo/).click();
    await panel.getByLabel('Hub endpoint').fill(endpoint);
    await panel.getByLabel('Repository').fill('tabtune/demo');
    await panel.getByRole('button', { name: 'Load from Hub' }).click();
    await expect.poll(async () => (await app.state()).modelState.status).toBe('error');
    await expect(panel.getByRole('alert')).toContainText(endpoint);
    await app.panel('model').screenshot({ path: 'test-output/screenshots/model-error.png' });
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
