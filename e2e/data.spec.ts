// The Data panel on the bundled demo: the token-length histogram, the train/eval split and dropped rows of the
// prepared examples follow the max length; a file whose fields detection misreads can be mapped by hand.
import { expect, test, type AppPage } from './fixtures';

async function preparedWith(app: AppPage, maxLength: number, dataset: string) {
  await expect.poll(async () => {
    const s = await app.state();
    return s.preparedState.status === 'ready' && s.prepared?.maxLength === maxLength && s.dataset?.name === dataset;
  }).toBe(true);
  const { prepared } = await app.state();
  if (!prepared) throw new Error('nothing prepared');
  return prepared;
}

test('histogram, split and dropped rows of a bundled dataset follow the max length', async ({ app, page }) => {
  await app.open();
  await app.startup();
  const panel = app.panel('data');
  await panel.getByLabel('Bundled dataset').selectOption('prompt-injection.jsonl');
  let prepared = await preparedWith(app, 256, 'prompt-injection.jsonl');
  expect(prepared.examples.length).toBe(100);

  const histogram = panel.getByTestId('length-histogram');
  const longest = Math.max(...prepared.examples.map((e) => e.tokens));
  await expect(histogram.getByRole('img')).toHaveAttribute('aria-label', new RegExp(`^Token lengths of 100 examples: .*longest ${longest}; max length 256; 0 examples truncated`));
  await expect(histogram.locator('rect.hist-bar')).not.toHaveCount(0);
  await expect(panel.getByTestId('split')).toHaveText(
    `Train ${prepared.trainCount} · Eval ${prepared.evalCount} of 100 examples (eval fraction 0.1, seed 42)`,
  );
  expect(prepared.trainCount + prepared.evalCount).toBe(100);
  await expect(panel.getByTestId('dropped')).toHaveText('No rows dropped.');

  // A max length shorter than the longer rows cuts their one-word answers: those rows are dropped, with the reason.
  await app.panel('template').getByTestId('max-length').fill('88');
  prepared = await preparedWith(app, 88, 'prompt-injection.jsonl');
  const dropped = prepared.dropped.length;
  expect(dropped).toBeGreaterThan(0);
  expect(prepared.examples.length).toBe(100 - dropped);
  const summary = panel.getByTestId('dropped').locator('summary');
  await expect(summary).toHaveText(`${dropped} rows dropped, not trained`);
  await summary.click();
  const reason = panel.locator('[data-reason="all-targets-truncated"]');
  await expect(reason).toContainText(`${dropped} × every target token was cut by the max length`);
  await expect(reason).toContainText(prepared.dropped.slice(0, 5).map((d) => d.id).join(', '));
  await expect(panel.getByTestId('split')).toContainText(`of ${100 - dropped} examples`);
  // The preview marks the dropped rows it shows, with the reason.
  const { dataset } = await app.state();
  const droppedIds = new Set(prepared.dropped.map((d) => d.id));
  const shownDropped = (dataset?.rows ?? []).slice(0, 6).filter((r) => droppedIds.has(r.id)).length;
  await expect(panel.locator('[data-testid="dataset-preview"] [data-dropped="all-targets-truncated"]')).toHaveCount(shownDropped);
  if (shownDropped > 0) await expect(panel.getByTestId('row-dropped').first()).toContainText('Dropped, not trained: every target token was cut by the max length');
  // The dropped summary uses the theme's warning colours.
  const colour = await summary.evaluate((el) => getComputedStyle(el).color);
  const warn = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--warn-text').trim());
  expect(colour).toBe(await page.evaluate((c) => { const d = document.createElement('div'); d.style.color = c; document.body.append(d); const v = getComputedStyle(d).color; d.remove(); return v; }, warn));

  // A multi-turn dataset under a max length inside its range: truncated examples keep their first turn's targets
  // and show as a separate bar against the max-length marker.
  await panel.getByLabel('Bundled dataset').selectOption('trail-chat.jsonl');
  await app.panel('template').getByTestId('max-length').fill('120');
  prepared = await preparedWith(app, 120, 'trail-chat.jsonl');
  const truncated = prepared.examples.filter((e) => e.truncated).length;
  expect(truncated).toBeGreaterThan(0);
  // Truncated examples are binned at their original lengths, past the max-length marker.
  await expect(histogram.getByTestId('truncated-bar')).not.toHaveCount(0);
  const longestOriginal = Math.max(...prepared.examples.map((e) => e.fullTokens ?? e.tokens));
  expect(longestOriginal).toBeGreaterThan(120);
  await expect(histogram.getByRole('img')).toHaveAttribute('aria-label', new RegExp(`longest ${longestOriginal}; max length 120`));
  await expect(histogram.locator('.marker text')).toHaveText('max length 120');
  await expect(panel.getByTestId('length-caption')).toContainText(`${truncated} example${truncated === 1 ? '' : 's'} truncated at 120`);
  await panel.scrollIntoViewIfNeeded();
  await panel.screenshot({ path: 'test-output/screenshots/data-panel-prepared.png' });
});

test('a file detection misreads can be mapped by hand', async ({ app }) => {
  await app.open();
  await app.startup();
  const panel = app.panel('data');
  const rows = [
    { question: 'Capital of France?', answer: 'Paris', text: 'note a' },
    { question: 'Two plus two?', answer: 'Four', text: 'note b' },
    { question: 'Colour of the sky?', answer: 'Blue' },
  ];
  await panel.locator('input[type="file"]').setInputFiles({
    name: 'qa.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')),
  });
  const mapping = panel.getByTestId('dataset-mapping');
  await expect(mapping).toContainText('text ← text');
  await expect(mapping).toContainText('detected; the file has answer, question, text');
  await expect(panel.getByTestId('dataset-rows')).toHaveText('2');

  await mapping.getByRole('button', { name: 'Map fields…' }).click();
  const form = mapping.getByRole('form', { name: 'Field mapping' });
  await form.getByLabel('Layout', { exact: true }).selectOption('prompt-completion');
  await form.getByLabel('Field for prompt', { exact: true }).selectOption('question');
  await expect(form.getByRole('button', { name: 'Apply mapping' })).toBeDisabled();
  await form.getByLabel('Field for completion', { exact: true }).selectOption('answer');
  await form.getByRole('button', { name: 'Apply mapping' }).click();
  await expect(mapping).toContainText('prompt ← question, completion ← answer');
  await expect(mapping).toContainText('mapped by hand');
  await expect(panel.getByTestId('dataset-rows')).toHaveText('3');
  await expect(panel.getByTestId('dataset-layout')).toHaveText('prompt-completion');
  await expect.poll(async () => (await app.state()).prepared?.examples.length).toBe(3);

  await mapping.getByRole('button', { name: 'Use detected mapping' }).click();
  await expect(mapping).toContainText('text ← text');
  await expect(panel.getByTestId('dataset-rows')).toHaveText('2');
});

test('an unrecognised layout says so, names the fields and opens the mapping editor', async ({ app }) => {
  await app.open();
  await app.startup();
  const panel = app.panel('data');
  const rows = ['Capital of France?', 'Two plus two?', 'Colour of the sky?', 'Boiling point of water?', 'Largest planet?']
    .map((q, i) => ({ q, a: ['Paris', 'Four', 'Blue', '100 °C', 'Jupiter'][i] }));
  await panel.locator('input[type="file"]').setInputFiles({
    name: 'qa-short.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')),
  });
  const note = panel.getByTestId('layout-unrecognised');
  await expect(note).toContainText('TabTune does not recognise the layout of qa-short.jsonl');
  await expect(note).toContainText("This file's fields are a, q.");
  await expect(panel.getByTestId('dataset-rows')).toHaveText('none usable until the fields are mapped');
  await panel.screenshot({ path: 'test-output/screenshots/data-unrecognised.png' });
  const form = panel.getByTestId('dataset-mapping').getByRole('form', { name: 'Field mapping' });
  await form.getByLabel('Layout', { exact: true }).selectOption('prompt-completion');
  await form.getByLabel('Field for prompt', { exact: true }).selectOption('q');
  await form.getByLabel('Field for completion', { exact: true }).selectOption('a');
  await form.getByRole('button', { name: 'Apply mapping' }).click();
  await expect(panel.getByTestId('dataset-rows')).toHaveText('5');
  await expect(note).toHaveCount(0);
  await expect.poll(async () => (await app.state()).prepared?.examples.length).toBe(5);
});

test('a Hub dataset from the mirror: the train split of Parquet shards, pinned to its commit', async ({ app }) => {
  const mirror = process.env.TABTUNE_MIRROR_URL ?? '';
  expect(mirror, 'playwright.config.ts sets TABTUNE_MIRROR_URL').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await app.open();
  await app.startup();
  // The Hub endpoint is the Model panel's setting: load the demo's twin from the mirror so both read from it.
  await app.loadHubModel(mirror, 'tabtune/demo');
  await expect.poll(async () => (await app.state()).hubEndpoint).toBe(mirror);

  const panel = app.panel('data');
  await panel.getByText(/^From the Hub/).click();
  const form = panel.getByRole('form', { name: 'Hub dataset' });
  await form.getByLabel('Dataset').fill('tabtune/codewords@main');
  await form.getByRole('button', { name: 'Load dataset' }).click();
  await expect.poll(async () => (await app.state()).dataset?.rowCount, { timeout: 30_000 }).toBe(6);
  const { dataset } = await app.state();
  // Two train shards read in order as one dataset; the test shard left out.
  expect(dataset?.hub?.sha).toMatch(/^[0-9a-f]{40}$/);
  await expect(panel.getByTestId('dataset-sha')).toHaveText(dataset!.hub!.sha.slice(0, 10));
  await expect(panel.getByTestId('dataset-sha')).toHaveAttribute('title', dataset!.hub!.sha);
  await expect(panel.getByTestId('dataset-rows')).toHaveText('6');
  await expect(panel.getByTestId('dataset-format')).toContainText(/parquet/i);
  await expect(panel.getByTestId('dataset-layout')).toContainText(/prompt/i);
  await expect(panel.getByTestId('dataset-preview')).toContainText('What is the codeword for red?');
  await expect(panel.getByTestId('dataset-preview')).toContainText('The codeword for orange is comet.');
  await expect(panel.getByTestId('dataset-preview')).not.toContainText('black');
  await expect.poll(async () => (await app.state()).preparedState.status, { timeout: 30_000 }).toBe('ready');
  await panel.screenshot({ path: 'test-output/screenshots/data-panel-hub.png' });
});
