// One run, one session, in the browser: the batch inspector and `tabtune step --json` name the same first batch with
// the same loss for one run config; and a run's inputs are frozen once it starts — the dataset cannot be switched
// while it is paused, and the run zip, the cluster job and the share link all name the data it trained on.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { decodeShareLink } from '../src/share/link';
import { expect, test } from './fixtures';

const DATA = 'public/datasets/tiny-codewords.jsonl';
const DEMO = 'fixtures/generated/hub/tabtune/tiny-storyteller'; // the app's default model, as the mirror holds it
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const zipFiles = async (page: Page, click: () => Promise<void>) => {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return unzipSync(new Uint8Array(readFileSync(await download.path())));
};

test('the batch inspector and tabtune step --json show the same first batch and loss', async ({ app }) => {
  test.setTimeout(240_000);
  await app.open();
  await app.startup();
  await app.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
  await expect.poll(async () => (await app.state()).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
  const training = app.panel('training');
  for (const [id, value] of [['hp-train-batchSize', '3'], ['hp-seed', '11'], ['hp-evalFraction', '0.25']] as const) {
    await training.getByTestId(id).fill(value);
  }
  // Full-tensor training is a run-config choice: the norms train beside the adapter (the CLI's --train norms).
  await training.getByTestId('hp-full-norms').check();
  await app.panel('template').getByTestId('max-length').fill('64');
  await training.getByTestId('backend-choice').selectOption('wasm');
  await expect.poll(async () => (await app.state()).runConfig.evalFraction).toBe(0.25);
  expect((await app.state()).runConfig.full).toEqual({ groups: ['norms'], layers: [] });
  await training.getByTestId('hp-full').screenshot({ path: 'test-output/screenshots/session-full-tensors.png' });
  await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');
  const batchPanel = app.panel('batch');
  await batchPanel.getByTestId('inspect-batch').click();
  await expect.poll(async () => (await app.state()).inspectionState.status, { timeout: 120_000 }).toBe('ready');
  const inspection = (await app.state()).inspection!;
  expect(inspection.gradNorms.map((g) => g.name)).toContain('model.norm.weight');
  await batchPanel.screenshot({ path: 'test-output/screenshots/session-inspector.png' });

  const out = join(mkdtempSync(join(tmpdir(), 'tabtune-e2e-')), 'step.json');
  execFileSync('node', ['bin/tabtune.mjs', 'step', '--model', DEMO, '--data', DATA, '--max-length', '64', '--batch-size', '3', '--seed', '11',
    '--eval-fraction', '0.25', '--train', 'norms', '--backend', 'wasm', '--json', out], { stdio: 'pipe', timeout: 180_000 });
  const step = JSON.parse(readFileSync(out, 'utf8')) as { loss: number; example_indices: number[]; example_ids: string[] };
  expect(step.example_indices).toEqual(inspection.exampleIndices);
  expect(step.example_ids).toEqual(inspection.exampleIds);
  expect(Math.abs(step.loss - inspection.loss) / inspection.loss).toBeLessThan(1e-5);
});

test('a run keeps its data: the dataset is locked while it exists, and every export names what it trained on', async ({ app, page }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await app.setUpCodewordRun({ steps: 400, // long enough that the pause at step 2 lands mid-run (the default model steps in milliseconds)
    evalEvery: 0, sampleEvery: 0, checkpointEvery: 2 });
  const trainedHash = sha256(DATA);
  await app.panel('training').getByTestId('train-start').click();
  await app.pauseAtStep(2);

  // Paused: the data controls are disabled and say why.
  const data = app.panel('data');
  await expect(data.getByLabel('Bundled dataset')).toBeDisabled();
  await expect(data.getByTestId('inputs-locked')).toContainText('Stop the run to change it');
  await expect(app.panel('template').getByTestId('mask-policy')).toBeDisabled();
  await data.screenshot({ path: 'test-output/screenshots/session-data-locked.png' });

  // The run zip, the cluster job and the share link all name the trained rows.
  const share = app.panel('share');
  const runZip = await zipFiles(page, () => share.getByTestId('export-run').click());
  const manifest = JSON.parse(new TextDecoder().decode(runZip['manifest.json'])) as { dataset: { hash: string; name?: string }; config: { data: { name: string } } };
  expect(manifest.dataset.hash).toBe(trainedHash);
  expect(manifest.config.data.name).toBe('tiny-codewords.jsonl');
  const job = await zipFiles(page, () => share.getByTestId('cluster-zip').click());
  expect(Object.keys(job)).toContain('data/tiny-codewords.train.jsonl');
  await share.getByTestId('copy-share-link').click();
  const link = decodeShareLink(await share.getByTestId('share-link').inputValue());
  expect(link.data).toMatchObject({ source: 'bundled', name: 'tiny-codewords.jsonl', hash: trainedHash });

  // Stopping ends the run; new data is then allowed and starts afresh (the old run's curves go with it).
  await app.panel('training').getByTestId('train-stop').click();
  await expect(data.getByLabel('Bundled dataset')).toBeEnabled();
  await data.getByLabel('Bundled dataset').selectOption('trail-chat.jsonl');
  await expect.poll(async () => (await app.state()).prepared?.dataName, { timeout: 30_000 }).toBe('trail-chat.jsonl');
  await expect.poll(async () => (await app.state()).phase).toBe('idle');
  expect((await app.state()).metrics).toEqual([]);
});
