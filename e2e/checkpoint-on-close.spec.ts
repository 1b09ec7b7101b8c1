// No completed step is lost to a pause or a closed tab. The run saves no interval checkpoints (checkpoint every 0), so
// everything a reload can resume from comes from the pause checkpoint or a recovery point (an autosave). Pause →
// reload → the offer is the paused step exactly; resume, let it train, then close the tab mid-run → a new tab offers
// at least the last step the closed tab showed as completed: the training worker hands step states to the checkpoint
// service worker and the page shows a step only once a state at or past it was handed over; the service worker
// wrote it after the tab was gone (src/worker/host/handoff.ts). The run then finishes from there with each step
// logged once. Where service workers are blocked the app works as before: the worker autosaves within its time
// budget, so the offer is a recovery point past the pause, possibly a few steps behind what the closed tab showed.
import type { BrowserContext, Page } from '@playwright/test';
import { expect, test, AppPage, watchProblems } from './fixtures';

// Steps on the codeword set take tens of milliseconds, and a page sees a step some steps after the worker ran it: the
// run is long enough that a fast machine cannot finish it between the test reading a step and the tab closing.
const STEPS = 200;

/** Pause/reload/resume, then close the tab mid-run; returns what the closed tab showed and what a new tab offers. */
async function closeMidRun(app: AppPage, page: Page, context: BrowserContext) {
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

  // Close: the tab goes away mid-run, right after reading the step it shows as completed.
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
  const latest = (await again.state()).resumeOffer!.checkpoints.find((c) => c.latest)!;
  console.log(`paused at ${paused}, closed showing ${shown}, offered ${latest.step}`);
  return { paused, shown, latest, next, again, offer, problems };
}

/** Resumes from the offered step and trains to the end: every step is logged exactly once. */
async function finish(r: Awaited<ReturnType<typeof closeMidRun>>) {
  await r.offer.getByRole('button', { name: `Resume from step ${r.latest.step}` }).click();
  await expect(r.again.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 180_000 });
  const steps = (await r.again.state()).metrics.filter((m) => m.trainLoss !== undefined).map((m) => m.step);
  expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  expect(r.problems).toEqual([]);
}

test('pausing and closing the tab keep every completed step', async ({ app, page, context }) => {
  test.setTimeout(300_000);
  const r = await closeMidRun(app, page, context);
  // The checkpoint service worker is what made it exact (not a lucky autosave of the worker's own).
  expect(await r.next.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(1);
  expect(r.latest.step, `the closed tab showed step ${r.shown} as completed`).toBeGreaterThanOrEqual(r.shown);
  expect(r.latest.reason).toBe('autosave');
  expect(r.latest.step).toBeLessThan(STEPS);
  await finish(r);
});

test.describe('without service workers', () => {
  test.use({ serviceWorkers: 'block' });

  test('a closed tab still resumes from a recovery point past the pause', async ({ app, page, context }) => {
    test.setTimeout(300_000);
    const r = await closeMidRun(app, page, context);
    expect(r.latest.step, `the closed tab showed step ${r.shown} as completed`).toBeGreaterThan(r.paused);
    expect(r.latest.reason).toBe('autosave');
    expect(r.latest.step).toBeLessThan(STEPS);
    await finish(r);
  });
});
