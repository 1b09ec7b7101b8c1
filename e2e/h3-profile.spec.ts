// TEMPORARY (h3): profile the main thread while the demo trains on WASM; removed before handing back.
import { writeFileSync } from 'node:fs';
import { expect, test } from './fixtures';

test('profile training main thread', async ({ app, page }) => {
  test.setTimeout(300_000);
  await app.open();
  await app.startup();
  await app.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
  await expect.poll(async () => (await app.state()).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
  const training = app.panel('training');
  for (const [id, value] of [['hp-train-steps', '20'], ['hp-train-batchSize', '2'], ['hp-train-warmupSteps', '2'], ['hp-train-evalEvery', '10'], ['hp-train-sampleEvery', '10']] as const) {
    await training.getByTestId(id).fill(value);
  }
  await app.panel('template').getByTestId('max-length').fill('64');
  await expect.poll(async () => (await app.state()).preparedState.status).toBe('ready');
  await training.getByTestId('backend-choice').selectOption('wasm');
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: string[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(`${e.startTime.toFixed(0)}+${e.duration.toFixed(0)}`))).observe({ type: 'longtask', buffered: false });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  const t0 = await page.evaluate(() => performance.now());
  await training.getByTestId('train-start').click();
  await expect(training.getByTestId('train-phase')).toHaveText('completed', { timeout: 200_000 });
  const { profile } = await cdp.send('Profiler.stop');
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: string[] }).longTasks);
  writeFileSync('test-output/h3-profile.json', JSON.stringify({ profile, t0, longTasks }));
  console.log(`long tasks: ${longTasks.join(', ')}`);
});
