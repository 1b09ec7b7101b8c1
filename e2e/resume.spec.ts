// Resume after a reload: train the bundled demo on WASM with a checkpoint every 2 steps, reload the page while
// it trains, accept the "Resume run … from step N" prompt, and finish. The resumed run's per-step losses must equal
// an uninterrupted run's step for step (same page, same device, same seed), and every panel comes back as it was.
import { expect, test, type AppPage } from './fixtures';

const SHOTS = 'test-output/screenshots';
// Long enough that the reload lands mid-run on a fast machine, where the page shows progress once a second.
const STEPS = 24;

function setUp(app: AppPage): Promise<void> {
  return app.setUpCodewordRun({ steps: STEPS, evalEvery: 4, sampleEvery: 4, checkpointEvery: 2 });
}

async function losses(app: AppPage): Promise<[number, number | undefined][]> {
  return (await app.state()).metrics.filter((m) => m.trainLoss !== undefined).map((m) => [m.step, m.trainLoss]);
}

test('a run reloaded mid-training resumes from its checkpoint with the same losses as an uninterrupted run', async ({ app, page }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await setUp(app);
  const training = app.panel('training');

  // The uninterrupted run.
  await training.getByTestId('train-start').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const whole = await losses(app);
  expect(whole.map(([s]) => s)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  const checkpoints = app.panel('checkpoints');
  await expect(checkpoints.getByTestId('saved-run')).toHaveCount(1);
  await expect(checkpoints.getByTestId('saved-run').first()).toContainText('finished');

  // The same run again, reloaded after its checkpoint at step 4 but before the end: the trainer awaits each
  // checkpoint write before the next step, so once step 5 shows, step 4 is saved.
  await training.getByTestId('train-start').click();
  await app.atStep(5);
  await page.reload();
  await app.startup();

  const prompt = page.getByTestId('resume-prompt');
  await expect(prompt).toBeVisible();
  const offered = (await app.state()).resumeOffer!;
  const from = offered.checkpoints.find((c) => c.latest)!.step;
  expect(from).toBeGreaterThanOrEqual(4);
  expect(from).toBeLessThan(STEPS);
  await expect(prompt).toContainText(`Resume run ${offered.name} from step ${from}?`);
  await app.screenshot('resume-prompt');
  await prompt.getByRole('button', { name: `Resume from step ${from}` }).click();
  await expect(prompt).toBeHidden();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });

  // Step for step, exactly (compared as numbers from the store, not as printed text).
  expect(await losses(app)).toEqual(whole);
  const state = await app.state();
  expect(state.runConfig.train.steps).toBe(STEPS);
  expect(state.datasetChoice).toEqual({ kind: 'bundled', file: 'tiny-codewords.jsonl' });
  expect(state.backendChoice).toBe('wasm');
  expect([...new Set(state.samples.map((s) => s.step))]).toEqual(Array.from({ length: STEPS / 4 + 1 }, (_, i) => 4 * i));
  await expect(app.panel('data').getByLabel('Bundled dataset')).toHaveValue('tiny-codewords.jsonl');
  await expect(training.getByTestId('train-step')).toHaveText(`${STEPS}`);

  // The Checkpoints panel lists both runs with their checkpoints, badges and sizes.
  await expect(checkpoints.getByTestId('saved-run')).toHaveCount(2);
  const resumedRun = checkpoints.locator(`[data-run-id="${offered.id}"]`);
  await expect(resumedRun).toContainText('finished');
  await expect(resumedRun.getByTestId('checkpoint-row').first()).toHaveAttribute('data-step', `${STEPS}`);
  await expect(resumedRun.getByText('latest', { exact: true })).toHaveCount(1);
  await expect(resumedRun.getByText('best', { exact: true })).toHaveCount(1);
  await expect(checkpoints.getByTestId('storage-facts')).toContainText(/storage used\s*[\d.]+ [KMGT]?i?B of [\d.]+ [KMGT]?i?B/);
  await checkpoints.scrollIntoViewIfNeeded();
  await checkpoints.screenshot({ path: `${SHOTS}/checkpoints-panel.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkpoints.screenshot({ path: `${SHOTS}/checkpoints-panel-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });

  // Deleting a run frees its space and removes it from the list.
  const before = (await app.state()).savedRuns!.totalBytes;
  await resumedRun.getByRole('button', { name: /Delete run/ }).click();
  await expect(checkpoints.getByTestId('saved-run')).toHaveCount(1);
  expect((await app.state()).savedRuns!.totalBytes).toBeLessThan(before);
});
