// Load a saved checkpoint — the best one by eval loss — after a run: its samples appear at once (sampled from that
// adapter), the run is paused at its step, Resume trains on from it, and its adapter downloads on its own.
import { expect, test } from './fixtures';
import { DEMO_MODEL_REPO } from '../src/share/run-config';

const SHOTS = 'test-output/screenshots';
const STEPS = 4;

test('load the best checkpoint of a finished run, sample from it, export its adapter and resume from it', async ({ app, page }) => {
  test.setTimeout(900_000);
  await app.open();
  await app.startup();
  // "Sample every 0": the run still ends with a sample of its final adapter.
  await app.setUpCodewordRun({ steps: STEPS, evalEvery: 2, sampleEvery: 0, checkpointEvery: 2 });
  const training = app.panel('training');
  await training.getByTestId('train-start').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 400_000 });
  expect([...new Set((await app.state()).samples.map((s) => s.step))]).toEqual([0, STEPS]);

  const checkpoints = app.panel('checkpoints');
  const run = (await app.state()).savedRuns?.runs[0];
  const best = run?.checkpoints.find((c) => c.best);
  if (!run || !best) throw new Error('the finished run has no best checkpoint');
  const row = checkpoints.locator(`[data-testid="checkpoint-row"][data-step="${best.step}"]`);
  await expect(row).toContainText('best');
  await row.getByTestId('checkpoint-load').click();

  await expect(checkpoints.getByTestId('checkpoint-loaded')).toContainText(`Loaded the checkpoint at step ${best.step}`);
  await expect(training.getByTestId('train-phase')).toHaveText('paused');
  const s = await app.state();
  expect(s.trainer?.step).toBe(best.step);
  const fromBest = s.samples.filter((x) => x.step === best.step);
  expect(fromBest.length).toBeGreaterThan(0);
  // The history up to the checkpoint comes back with it; nothing past it.
  expect(Math.max(...s.metrics.map((m) => m.step))).toBe(best.step);
  const samples = app.panel('samples');
  await expect(samples.getByRole('columnheader', { name: `step ${best.step}` })).toBeVisible();
  await checkpoints.scrollIntoViewIfNeeded();
  await checkpoints.screenshot({ path: `${SHOTS}/checkpoint-loaded.png` });
  await samples.screenshot({ path: `${SHOTS}/checkpoint-samples.png` });

  // Its adapter alone, as a PEFT folder zip.
  const download = page.waitForEvent('download');
  await checkpoints.getByTestId('checkpoint-export-adapter').click();
  expect((await download).suggestedFilename()).toBe(`tabtune-adapter-${DEMO_MODEL_REPO.replace('/', '--')}-step${best.step}.zip`);
  expect((await app.state()).lastExport?.files).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);

  // Resume trains on from the loaded checkpoint to the end.
  await training.getByTestId('train-resume').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 400_000 });
  const steps = (await app.state()).metrics.filter((m) => m.trainLoss !== undefined).map((m) => m.step);
  expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
});
