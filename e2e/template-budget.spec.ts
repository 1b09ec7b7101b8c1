// Issue 15: the template budgets hold in the browser. A share link carries a custom template that asks for
// range(10**9); opening it renders every row in the worker, each row is refused at once with the budget's message,
// and the page keeps answering meanwhile: a control still works after the refusal (long tasks are reported, not
// bounded: timings belong to benchmarks).
import { encodeShareFragment } from '../src/share/link';
import { DEMO_MODEL_REPO, parseRunConfig } from '../src/share/run-config';
import { expect, test } from './fixtures';

const HOSTILE = '{% for i in range(10**9) %}x{% endfor %}';

test('a custom template asking for range(10**9) is refused with a clear error, the page stays responsive', async ({ app, page }) => {
  const fragment = encodeShareFragment(parseRunConfig({
    model: { repo: DEMO_MODEL_REPO, revision: 'main' },
    data: { source: 'bundled', name: 'tiny-codewords.jsonl' },
    template: { kind: 'custom', source: HOSTILE, kwargs: {} },
  }));
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(Math.round(e.duration)))).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`/#${fragment}`);
  await page.waitForFunction(() => window.__tabtune !== undefined);
  await app.startup();
  await expect(page.getByTestId('link-restored')).toContainText('Opened a shared run');

  await expect.poll(async () => (await app.state()).preparedState.status, { timeout: 30_000 }).toBe('ready');
  const prepared = (await app.state()).prepared;
  expect(prepared?.examples).toEqual([]);
  expect(prepared?.dropped).toHaveLength(8);
  for (const row of prepared?.dropped ?? []) {
    expect(row.message).toMatch(/The chat template asks for range\(\) of 1000000000 numbers \(limit 100000\)/);
  }
  // The page still works: a control answers and the store follows it.
  await app.panel('template').getByTestId('mask-policy').selectOption('all');
  await expect.poll(async () => (await app.state()).runConfig.mask).toBe('all');
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  test.info().annotations.push({ type: 'long tasks (ms)', description: longTasks.join(', ') || 'none' });
});
