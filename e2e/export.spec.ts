// Run export/import end to end: train a few steps on WASM, pause, download the run zip (a real browser download) and
// check its files; open a fresh profile, import the zip, see the settings, metrics and samples restored, continue
// training from its checkpoint and get the same losses as the original run continuing; then import the zip's PEFT
// adapter on its own and a broken zip, each with its message.
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { expect, test, watchProblems } from './fixtures';
import { DEMO_MODEL_REPO } from '../src/share/run-config';

const SHOTS = 'test-output/screenshots';
// Long enough that a pause near step 2 lands mid-run: the default model trains a step in a few milliseconds.
const STEPS = 40;

const state = (page: Page) => page.evaluate(() => window.__tabtune!.state());

test('export a paused run, import it in a fresh profile, continue it, import its adapter', async ({ app, page, browser }, info) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await app.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
  await expect.poll(async () => (await app.state()).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
  const training = app.panel('training');
  for (const [id, value] of [['hp-train-steps', String(STEPS)], ['hp-train-batchSize', '2'], ['hp-seed', '11'], ['hp-train-warmupSteps', '1'], ['hp-train-evalEvery', '4'], ['hp-train-sampleEvery', '0']] as const) {
    await training.getByTestId(id).fill(value);
  }
  await app.panel('template').getByTestId('max-length').fill('64');
  await expect.poll(async () => (await app.state()).runConfig.seed).toBe(11);
  await training.getByTestId('backend-choice').selectOption('wasm');
  await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');

  const share = app.panel('share');
  await expect(share.getByTestId('export-run')).toBeDisabled(); // nothing trained yet
  await training.getByTestId('train-start').click();
  const pausedAt = await app.pauseAtStep(2);
  expect(pausedAt).toBeLessThan(STEPS);

  const [download] = await Promise.all([page.waitForEvent('download'), share.getByTestId('export-run').click()]);
  expect(download.suggestedFilename()).toBe(`tabtune-${DEMO_MODEL_REPO.replace('/', '--')}-step${pausedAt}.zip`);
  const zipPath = info.outputPath('run.zip');
  await download.saveAs(zipPath);
  const files = Object.keys(unzipSync(new Uint8Array(readFileSync(zipPath)))).sort();
  for (const f of [
    'adapter/README.md', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'checkpoint/tabtune_checkpoint.json',
    'checkpoint/tabtune_optimizer.safetensors', 'generation_config.json', 'manifest.json', 'metrics.csv', 'samples.jsonl',
    'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json', 'trainer_state.json',
  ]) expect(files).toContain(f);
  await share.getByTestId('export-files').locator('summary').click();
  await expect(share.getByTestId('export-files')).toContainText(`checkpoint at step ${pausedAt}`);
  await expect(share.getByTestId('export-files').locator('li')).toHaveCount(files.length);
  await share.screenshot({ path: `${SHOTS}/share-export.png` });
  const exportedMetrics = (await app.state()).metrics;

  // The same job for a GPU cluster: both configs, the launch README and the rows this tab trains on.
  const [job] = await Promise.all([page.waitForEvent('download'), share.getByTestId('cluster-zip').click()]);
  expect(job.suggestedFilename()).toBe(`tabtune-${DEMO_MODEL_REPO.replace('/', '--')}-cluster.zip`);
  const jobFiles = unzipSync(new Uint8Array(readFileSync(await job.path())));
  expect(Object.keys(jobFiles).sort()).toEqual(['README.md', 'axolotl.yaml', 'data/tiny-codewords.eval.jsonl', 'data/tiny-codewords.train.jsonl', 'train_sft.py']);
  expect(new TextDecoder().decode(jobFiles['axolotl.yaml'])).toMatch(/^seed: 11$/m);
  await share.getByTestId('cluster-readme').locator('summary').click();
  await expect(share.getByTestId('cluster-readme')).toContainText('accelerate launch');
  await share.scrollIntoViewIfNeeded();
  await share.screenshot({ path: `${SHOTS}/share-panel-full.png` });

  // The original run continues to the end: the reference for the imported run's continuation.
  await training.getByTestId('train-resume').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const original = (await app.state()).metrics.map((m) => m.trainLoss);

  // A fresh profile imports the zip.
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const other = await context.newPage();
  const problems = await watchProblems(other);
  await other.goto(new URL('/', page.url()).toString());
  await other.waitForFunction(() => window.__tabtune !== undefined);
  await other.evaluate(() => window.__tabtune!.startup);
  const otherShare = other.locator('[data-panel="share"]');
  await otherShare.getByTestId('import-run').setInputFiles(zipPath);
  const note = otherShare.getByTestId('import-note');
  await expect(note).toContainText(`Restored run.zip: its settings, ${exportedMetrics.length} metric points`, { timeout: 60_000 });
  await expect(other.getByTestId('link-restored')).toContainText('Imported run.zip:');
  const restored = await state(other);
  expect(restored.metrics.map((m) => [m.step, m.trainLoss, m.evalLoss])).toEqual(exportedMetrics.map((m) => [m.step, m.trainLoss, m.evalLoss]));
  expect(restored.runConfig.seed).toBe(11);
  await expect(other.locator('[data-panel="training"]').getByTestId('hp-seed')).toHaveValue('11');
  await expect(other.locator('[data-panel="data"]').getByLabel('Bundled dataset')).toHaveValue('tiny-codewords.jsonl');
  await expect(other.locator('[data-panel="charts"] [data-testid="chart-loss"] .recharts-line path').first()).toBeAttached();
  await other.screenshot({ path: `${SHOTS}/share-imported.png`, fullPage: true });

  // Continue from the zip's checkpoint on WASM: the same losses as the original run after its pause.
  await other.locator('[data-panel="training"]').getByTestId('backend-choice').selectOption('wasm');
  await expect.poll(async () => (await state(other)).preparedState.status, { timeout: 30_000 }).toBe('ready');
  await otherShare.getByTestId('continue-imported').click();
  await expect(other.locator('[data-panel="training"]').getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const continued = (await state(other)).metrics.map((m) => m.trainLoss);
  console.log(`paused at ${pausedAt}\noriginal:  ${original.join(', ')}\ncontinued: ${continued.join(', ')}`);
  expect(continued).toEqual(original);

  // The zip's adapter alone, through "Import PEFT adapter".
  await otherShare.getByTestId('import-adapter').setInputFiles(zipPath);
  await expect(otherShare.getByTestId('import-note')).toContainText('Adapter from run.zip loaded (LoRA r 8, alpha 16', { timeout: 60_000 });
  // Not a zip at all: a message, and the page goes on.
  await otherShare.getByTestId('import-run').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
  await expect(otherShare.getByRole('alert')).toContainText('notes.zip cannot be imported: This file is not a readable zip');
  await otherShare.screenshot({ path: `${SHOTS}/share-import-error.png` });
  await context.close();
  expect(problems, 'console errors, page errors or failed requests in the fresh profile').toEqual([]);
});
