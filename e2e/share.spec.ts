// Share links end to end: configure a run on the bundled demo (tiny codewords, mask `all`, a changed lr and seed),
// copy its link from the Share & export panel, open it in a fresh browser profile, see every panel restored, train
// the same steps on WASM in both profiles and get the same loss at every step. A link with one character changed
// shows what is wrong and the page keeps working on the saved settings.
import type { Page } from '@playwright/test';
import { expect, test, watchProblems } from './fixtures';
import { DEMO_MODEL_REPO } from '../src/share/run-config';

const SHOTS = 'test-output/screenshots';
const STEPS = 3;

async function state(page: Page) {
  return page.evaluate(() => window.__tabtune!.state());
}

async function trainOnWasm(page: Page, start: 'train-start' | 'start-shared-run'): Promise<number[]> {
  const training = page.locator('[data-panel="training"]');
  await training.getByTestId('backend-choice').selectOption('wasm');
  await expect.poll(async () => (await state(page)).preparedState.status, { timeout: 30_000 }).toBe('ready');
  await page.getByTestId(start).click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 120_000 });
  const s = await state(page);
  expect(s.trainer?.backend).toBe('wasm');
  return s.metrics.map((m) => m.trainLoss!);
}

test('a share link reproduces the run in a fresh profile, and a tampered one is refused', async ({ app, page, browser }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();

  await app.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
  await expect.poll(async () => (await app.state()).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
  await app.panel('template').getByTestId('mask-policy').selectOption('all');
  const training = app.panel('training');
  for (const [id, value] of [
    ['hp-train-steps', String(STEPS)], ['hp-train-batchSize', '2'], ['hp-train-lr', '0.003'], ['hp-seed', '7'],
    ['hp-train-warmupSteps', '1'], ['hp-train-evalEvery', '0'], ['hp-train-sampleEvery', '0'],
  ] as const) {
    await training.getByTestId(id).fill(value);
  }
  await app.panel('template').getByTestId('max-length').fill('64');
  await expect.poll(async () => (await app.state()).runConfig.seed).toBe(7);
  await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');

  const share = app.panel('share');
  await share.getByTestId('copy-share-link').click();
  const link = await share.getByTestId('share-link').inputValue();
  expect(link).toMatch(/#run=1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/);
  await share.screenshot({ path: `${SHOTS}/share-panel.png` });

  const lossesA = await trainOnWasm(page, 'train-start');
  expect(lossesA).toHaveLength(STEPS);
  expect(lossesA.every(Number.isFinite)).toBe(true);

  // A fresh profile: no localStorage, no cache, nothing but the link.
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const other = await context.newPage();
  const problems = await watchProblems(other);
  await other.goto(link);
  await other.waitForFunction(() => window.__tabtune !== undefined);
  await other.evaluate(() => window.__tabtune!.startup);
  expect(new URL(other.url()).hash).toBe(''); // the link is applied once, then dropped from the address

  const notice = other.getByTestId('link-restored');
  await expect(notice).toContainText('Opened a shared run');
  await expect(notice.getByTestId('link-summary')).toHaveText(new RegExp(`^${DEMO_MODEL_REPO}@[0-9a-f]{7} on tiny-codewords\\.jsonl, mask all, lr 0\\.003, 3 steps, seed 7$`));
  const panel = (id: string) => other.locator(`[data-panel="${id}"]`);
  await expect(panel('data').getByLabel('Bundled dataset')).toHaveValue('tiny-codewords.jsonl');
  await expect(panel('template').getByTestId('mask-policy')).toHaveValue('all');
  await expect(panel('template').getByTestId('max-length')).toHaveValue('64');
  for (const [id, value] of [['hp-train-steps', String(STEPS)], ['hp-train-batchSize', '2'], ['hp-train-lr', '0.003'], ['hp-seed', '7'], ['hp-train-warmupSteps', '1']] as const) {
    await expect(panel('training').getByTestId(id)).toHaveValue(value);
  }
  // Where it trains is not part of a run: the fresh profile starts on its own default.
  await expect(panel('training').getByTestId('backend-choice')).toHaveValue('auto');
  const [sa, sb] = [await app.state(), await state(other)];
  expect(sb.runConfig).toEqual({ ...sa.runConfig, model: sb.runConfig.model, tokenizer: sb.runConfig.tokenizer, data: sb.runConfig.data });
  expect(sb.runConfig.model.sha).toBe(sa.model!.sha);
  await expect.poll(async () => (await state(other)).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
  await expect(other.getByTestId('start-shared-run')).toBeEnabled();
  await other.screenshot({ path: `${SHOTS}/share-link-restored.png` });

  const lossesB = await trainOnWasm(other, 'start-shared-run');
  console.log(`losses, original: ${lossesA.join(', ')}\nlosses, from the link: ${lossesB.join(', ')}`);
  expect(lossesB).toEqual(lossesA);

  // One character changed in the payload: refused with a message; the page still loads the model and data.
  const at = link.length - 10;
  const tampered = link.slice(0, at) + (link[at] === 'x' ? 'y' : 'x') + link.slice(at + 1);
  const third = await context.newPage();
  const thirdProblems = await watchProblems(third);
  await third.goto(tampered);
  await third.waitForFunction(() => window.__tabtune !== undefined);
  await third.evaluate(() => window.__tabtune!.startup);
  const error = third.getByTestId('link-error');
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('role', 'alert');
  await expect(error).toContainText('This share link could not be opened.');
  await expect(error).toContainText(/altered|damaged|cut short|Ask for the link again/);
  await expect(error).toContainText('TabTune opened with your saved settings instead');
  await expect.poll(async () => (await state(third)).preparedState.status, { timeout: 30_000 }).toBe('ready');
  expect((await state(third)).errors).toEqual([]);
  await third.screenshot({ path: `${SHOTS}/share-link-tampered.png` });
  await error.getByRole('button', { name: 'Dismiss the share link notice' }).click();
  await expect(error).toHaveCount(0);

  await context.close();
  expect([...problems, ...thirdProblems], 'console errors, page errors or failed requests in the fresh profile').toEqual([]);
});
