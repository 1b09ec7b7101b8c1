// Lessons (issue 16): open the app, pick the default lesson (the end-of-turn token), run it on WASM; the lesson metric
// measured by the worker on held-out prompts moves from before to after as the lesson says, is charted beside the
// loss, and the "Your own prompt" box shows the base model's and the adapter's answers side by side.
import { DEFAULT_LESSON, findLesson, lessonTarget, meetsTarget } from '../src/share/lessons';
import { expect, test } from './fixtures';

test('the default lesson runs on WASM and its metric and side-by-side answers change', async ({ app, page }) => {
  test.setTimeout(720_000);
  const lesson = findLesson(DEFAULT_LESSON);
  await app.open();
  await app.startup();
  const panel = app.panel('lessons');
  await expect(panel.getByTestId('lesson-select')).toHaveValue(DEFAULT_LESSON);
  await expect(panel.getByTestId('lesson-explanation')).toHaveText(lesson.explanation);
  await app.panel('training').getByTestId('backend-choice').selectOption('wasm');

  // Before: the lesson's config on the page, and the base model asked the lesson's prompt (no adapter yet).
  await panel.getByTestId('lesson-open').click();
  await expect(panel.getByTestId('lesson-on-page')).toBeVisible({ timeout: 60_000 });
  const { runConfig } = await app.state();
  expect(runConfig.data).toMatchObject({ source: 'bundled', name: 'prompt-injection.jsonl' });
  expect(runConfig.mask).toBe('assistant');
  const own = app.panel('own-prompt');
  await expect(own.getByTestId('own-prompt-input')).toHaveValue(lesson.prompt);
  await own.getByTestId('own-prompt-ask').click();
  await expect(own.getByTestId('own-prompt-base')).toBeVisible({ timeout: 60_000 });
  await expect(own.getByTestId('own-prompt-adapter')).toContainText('No adapter yet');
  const baseBefore = await own.getByTestId('own-prompt-base').textContent();
  await own.screenshot({ path: 'test-output/screenshots/lesson-own-prompt-before.png' });
  await panel.scrollIntoViewIfNeeded();
  await app.screenshot('lesson-before');

  await panel.getByTestId('lesson-run').click();
  await expect(app.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 600_000 });
  await expect(panel.getByTestId('lesson-met')).toBeVisible();

  // The metric: measured at step 0 and after the run by the worker (real greedy generation on held-out prompts).
  const { metrics } = await app.state();
  const measured = metrics.filter((m) => m.lessonMetric !== undefined);
  expect(measured.length).toBeGreaterThanOrEqual(2);
  expect(measured[0]!.step).toBe(0);
  const before = measured[0]!.lessonMetric!;
  const after = measured.at(-1)!.lessonMetric!;
  expect(after).toBeGreaterThan(before);
  const met = meetsTarget(lessonTarget(lesson)!, after, before);
  await expect(panel.getByTestId('lesson-met')).toHaveText(met ? 'target met' : 'target not met');
  await expect(panel.getByTestId('lesson-before')).toHaveText(`${Math.round(before * 100)}%`);
  await expect(panel.getByTestId('lesson-after')).toHaveText(`${Math.round(after * 100)}%`);
  await expect(app.panel('charts').getByTestId('chart-lesson-metric')).toBeVisible();

  // After: the same prompt, same greedy decoding: the base answer is unchanged, the adapter's is the trained one.
  await own.getByTestId('own-prompt-ask').click();
  await expect(own.getByTestId('own-prompt-adapter')).not.toContainText('No adapter yet', { timeout: 60_000 });
  await expect(own.getByTestId('own-prompt-base')).toHaveText(baseBefore ?? '');
  const adapterAfter = await own.getByTestId('own-prompt-adapter').textContent();
  expect(adapterAfter).not.toBe(baseBefore);
  await own.screenshot({ path: 'test-output/screenshots/lesson-own-prompt-after.png' });
  await panel.scrollIntoViewIfNeeded();
  await app.screenshot('lesson-after');
  await app.panel('charts').scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  await app.screenshot('lesson-after-charts');
});

test('the mismatched-tokenizer lesson shows the linter\'s count as its metric, and the session\'s refusal', async ({ app }) => {
  test.setTimeout(240_000);
  const lesson = findLesson('mismatched-tokenizer');
  await app.open();
  await app.startup();
  const panel = app.panel('lessons');
  await panel.getByTestId('lesson-select').selectOption(lesson.name);
  await app.panel('training').getByTestId('backend-choice').selectOption('wasm');
  await panel.getByTestId('lesson-run').click();
  // The Qwen demo's tokenizer on the storyteller: every prompt-injection row holds ids past its 1,024 rows.
  await expect(panel.getByTestId('lesson-refused')).toContainText('embedding table has 1024 rows', { timeout: 120_000 });
  await expect(panel.getByTestId('lesson-before')).toHaveText('100');
  await expect(panel.getByTestId('lesson-after')).toHaveText('100');
  await expect(panel.getByTestId('lesson-met')).toHaveText('target met');
  await expect(panel.getByTestId('lesson-refused')).toContainText('Use the model\'s own tokenizer');
  // Refused, never trained: no step was taken.
  expect((await app.state()).metrics.filter((m) => m.trainLoss !== undefined)).toEqual([]);
  await panel.scrollIntoViewIfNeeded();
  await panel.screenshot({ path: 'test-output/screenshots/lesson-mismatched-refused.png' });
});

test('the overfitting lesson shows the best checkpoint\'s and the latest adapter\'s answers side by side', async ({ app, page }) => {
  test.setTimeout(600_000);
  const lesson = findLesson('overfitting');
  await app.open();
  await app.startup();
  const panel = app.panel('lessons');
  await panel.getByTestId('lesson-select').selectOption(lesson.name);
  await app.panel('training').getByTestId('backend-choice').selectOption('wasm');
  await panel.getByTestId('lesson-run').click();
  await expect(app.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 480_000 });

  // The best checkpoint is the run's lowest eval loss (the store's best, the Checkpoints panel's badge); latest = the end.
  const { metrics } = await app.state();
  const evals = metrics.filter((m) => m.evalLoss !== undefined);
  const best = evals.reduce((a, b) => (b.evalLoss! < a.evalLoss! ? b : a));
  const view = panel.getByTestId('lesson-best-vs-latest');
  await expect(view.getByTestId('lesson-compared-row')).toHaveCount(2, { timeout: 60_000 });
  await expect(view.getByTestId('lesson-best-caption').first()).toHaveText(`Best: step ${best.step}, eval loss ${best.evalLoss!.toFixed(3)}`);
  await expect(view.getByTestId('lesson-latest-caption').first()).toContainText(`Latest: step ${lesson.setup.config!.train!.steps}`);
  expect(best.step).toBeLessThan(lesson.setup.config!.train!.steps!);
  for (const a of await view.getByTestId('lesson-best-answer').allTextContents()) expect(a.length).toBeGreaterThan(0);
  await expect(panel.getByTestId('lesson-met')).toBeVisible();
  // The panel's "best" is that same checkpoint's eval loss.
  await expect(panel.getByTestId('lesson-best')).toHaveText(best.evalLoss!.toFixed(3));
  await view.scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await panel.screenshot({ path: 'test-output/screenshots/lesson-overfitting-best-vs-latest.png' });
});

test('the doubled-BOS lesson runs on the default model in the app: flagged, then measured as trained and as served', async ({ app }) => {
  test.setTimeout(600_000);
  const lesson = findLesson('double-bos');
  await app.open();
  await app.startup();
  const panel = app.panel('lessons');
  await panel.getByTestId('lesson-select').selectOption(lesson.name);
  await app.panel('training').getByTestId('backend-choice').selectOption('wasm');
  await panel.getByTestId('lesson-run').click();
  await expect(app.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 480_000 });
  // Every prompt-injection row starts with two <|endoftext|> tokens: the linter flags all 100, before and after.
  await expect(panel.getByTestId('lesson-before')).toHaveText('100');
  await expect(panel.getByTestId('lesson-after')).toHaveText('100');
  await expect(panel.getByTestId('lesson-met')).toHaveText('target met');
  await expect(app.panel('template').getByTestId('lint')).toContainText('Two BOS tokens at the start');
  const view = panel.getByTestId('lesson-effect');
  await expect(view.getByTestId('lesson-effect-served')).toContainText('eval loss', { timeout: 120_000 });
  await expect(view.getByTestId('lesson-effect-trained')).toContainText(`step ${lesson.setup.config!.train!.steps}`);
  await view.scrollIntoViewIfNeeded();
  await panel.screenshot({ path: 'test-output/screenshots/lesson-double-bos-effect.png' });
});
