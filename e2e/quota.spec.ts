// Storage full: train the bundled demo on WASM with a checkpoint every 2 steps and pause; reopen the page with
// `?simulate-quota=<bytes stored>` (the worker's RunStore then fails checkpoint writes beyond that budget with a real
// QuotaExceededError inside the IndexedDB transaction), resume, and see the message naming sizes while training
// pauses. The earlier checkpoints stay intact: reopening the page normally offers the run again and it finishes.
import { expect, test, type AppPage } from './fixtures';

const SHOTS = 'test-output/screenshots';
const STEPS = 20;

function setUp(app: AppPage): Promise<void> {
  return app.setUpCodewordRun({ steps: STEPS, evalEvery: 0, sampleEvery: 0, checkpointEvery: 2 });
}

test('a full disk keeps the earlier checkpoints, says so with sizes, pauses, and the run resumes later', async ({ app, page }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await setUp(app);
  const training = app.panel('training');
  const checkpoints = app.panel('checkpoints');

  await training.getByTestId('train-start').click();
  const pausedAt = await app.pauseAtStep(4);
  // The next checkpoint must not be the run's last, whose failure finishes the run instead of pausing it.
  expect(pausedAt).toBeLessThan(STEPS - 3);
  await expect.poll(async () => (await app.state()).savedRuns?.runs[0]?.checkpoints.at(-1)?.step).toBe(pausedAt);
  const saved = (await app.state()).savedRuns!;
  const kept = saved.runs[0]!.checkpoints.map((c) => [c.id, c.step, c.bytes]);
  expect(kept.length).toBeGreaterThanOrEqual(2);

  // Reopen with no room for one more checkpoint, and resume.
  await page.goto(`/?simulate-quota=${saved.totalBytes}`);
  await app.startup();
  const prompt = page.getByTestId('resume-prompt');
  await expect(prompt).toContainText(`from step ${pausedAt}?`);
  await prompt.getByRole('button', { name: `Resume from step ${pausedAt}` }).click();

  // The next checkpoint does not fit: training pauses at it and the message names the sizes and the way out.
  const next = pausedAt + (pausedAt % 2 === 0 ? 2 : 1);

  await expect(training.getByTestId('train-phase')).toHaveText('paused', { timeout: 120_000 });
  expect((await app.state()).step).toBe(next);
  const alert = checkpoints.getByTestId('storage-error');
  await expect(alert).toBeVisible();
  await expect(alert).toHaveAttribute('role', 'alert');
  await expect(alert).toContainText(new RegExp(`Browser storage is full: the checkpoint at step ${next} \\([\\d.]+ KiB\\) was not saved \\(0 B free of [\\d.]+ [KM]iB\\)`));
  await expect(alert).toContainText('Your earlier checkpoints are intact');
  await expect(alert).toContainText('deleting old runs or checkpoints in the Checkpoints panel');
  await expect(alert).toContainText(`Training is paused at step ${next}`);
  const colours = await alert.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
  expect(colours[0]).not.toBe(colours[1]);
  // Nothing half-written, nothing older lost.
  const after = (await app.state()).savedRuns!;
  expect(after.totalBytes).toBe(saved.totalBytes);
  expect(after.runs[0]!.checkpoints.map((c) => [c.id, c.step, c.bytes])).toEqual(kept);
  await expect(checkpoints.getByTestId('checkpoint-row')).toHaveCount(kept.length);
  await expect(checkpoints.getByRole('button', { name: /Delete the checkpoint at step/ }).first()).toBeEnabled();
  await checkpoints.scrollIntoViewIfNeeded();
  await checkpoints.screenshot({ path: `${SHOTS}/checkpoints-quota.png` });

  // Reopen normally: the run is offered from its last intact checkpoint and finishes.
  await page.goto('/');
  await app.startup();
  await expect(prompt).toContainText(`from step ${pausedAt}?`);
  await prompt.getByRole('button', { name: `Resume from step ${pausedAt}` }).click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const state = await app.state();
  expect(state.metrics.filter((m) => m.trainLoss !== undefined).map((m) => m.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  expect(state.storageError).toBeNull();
  await expect(checkpoints.getByTestId('saved-run').first()).toContainText('finished');
});
