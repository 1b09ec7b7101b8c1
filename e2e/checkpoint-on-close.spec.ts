// No completed step is lost to a pause or a closed tab. The run saves no interval checkpoints (checkpoint every 0), so
// everything a reload can resume from comes from the pause checkpoint or the autosave the worker writes between steps
// within a write budget (a tenth of wall time). Pause → reload → the offer is the paused step exactly; resume, let it
// train, then close the tab → a new tab offers a step past the pause that was never checkpointed on purpose (an
// autosave), at most a few steps behind what the closed tab showed, and the run finishes from there with each step
// logged once.
import { expect, test, AppPage, watchProblems } from './fixtures';

const STEPS = 30;

test('pausing and closing the tab keep every completed step', async ({ app, page, context }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await app.setUpCodewordRun({ steps: STEPS, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
  const training = app.panel('training');

  // Pause: the checkpoint is the paused step itself.
  await training.getByTestId('train-start').click();
  const paused = await app.pauseAtStep(4);
  await page.reload();
  await app.startup();
  const prompt = page.getByTestId('resume-prompt');
  await expect(prompt).toContainText(`from step ${paused}?`);
  await prompt.getByRole('button', { name: `Resume from step ${paused}` }).click();

  // Close: the tab goes away mid-run; what it trained after the resume survives in the newest autosave.
  await app.atStep(paused + 5);
  const shown = (await app.state()).step;
  await page.close({ runBeforeUnload: true });

  const next = await context.newPage();
  const problems = await watchProblems(next);
  const again = new AppPage(next);
  await again.open();
  await again.startup();
  const offer = next.getByTestId('resume-prompt');
  await expect(offer).toBeVisible();
  const from = (await again.state()).resumeOffer!.checkpoints.find((c) => c.latest)!.step;
  expect(from, `the closed tab showed step ${shown} done`).toBeGreaterThan(paused);
  expect((await again.state()).resumeOffer!.checkpoints.find((c) => c.latest)!.reason).toBe('autosave');
  expect(from).toBeLessThan(STEPS);
  await offer.getByRole('button', { name: `Resume from step ${from}` }).click();
  await expect(again.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 180_000 });
  const steps = (await again.state()).metrics.filter((m) => m.trainLoss !== undefined).map((m) => m.step);
  expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  expect(problems).toEqual([]);
});
