// Classroom use (issue 17): every panel presented full screen at a projector's 1280×720 and 1920×1080, light and dark,
// with a screenshot of each for a person to look at; an axe-core accessibility scan of the main views with no serious
// or critical violation; token details reached by keyboard alone; the grid read in panel order at every width with no
// sideways overflow at 390 px; per-panel help and a remembered "start here".
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test, type AppPage } from './fixtures';

const SHOTS = 'test-output/presentation';
const PANELS = ['model', 'data', 'template', 'batch', 'training', 'charts', 'samples', 'checkpoints', 'share', 'device'];

/** Theme and first-visit state before the app's scripts run (the app reads both from localStorage at start-up). */
async function prime(page: Page, opts: { theme: 'light' | 'dark'; startHereSeen: boolean }): Promise<void> {
  await page.emulateMedia({ colorScheme: opts.theme });
  await page.addInitScript(({ theme, seen }) => {
    localStorage.setItem('tabtune.theme', theme);
    if (seen) localStorage.setItem('tabtune.startHere', 'dismissed');
  }, { theme: opts.theme, seen: opts.startHereSeen });
}

/** axe-core over the page (WCAG 2.1 A/AA rules): the serious and critical violations, as readable lines. */
async function seriousViolations(page: Page, include?: string): Promise<string[]> {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (include) builder = builder.include(include);
  const result = await builder.analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} (${n.failureSummary?.split('\n')[1]?.trim() ?? ''})`).join('; ')}`);
}

/** A short WASM run on the codeword set so charts, samples and checkpoints have something to show. */
async function trainShortRun(app: AppPage): Promise<void> {
  await app.setUpCodewordRun({ steps: 4, evalEvery: 2, sampleEvery: 2, checkpointEvery: 2 });
  await app.panel('batch').getByTestId('inspect-batch').click();
  await expect(app.panel('batch').getByTestId('batch-loss')).toBeVisible({ timeout: 120_000 });
  await app.panel('training').getByTestId('train-start').click();
  await expect(app.panel('training').getByTestId('train-phase')).toHaveText('completed', { timeout: 400_000 });
  await expect(app.panel('samples').getByTestId('samples')).toBeVisible();
}

/** Switches the theme with the header's own toggle (system → light → dark → system). */
async function useTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  const toggle = page.locator('.theme-toggle');
  for (let i = 0; i < 3 && !((await toggle.getAttribute('aria-label')) ?? '').startsWith(`Theme: ${theme}.`); i++) await toggle.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/** Presents each panel in turn at both projector sizes in both themes: checks it fills the window with the rest of the
 * page inert, that its content scaled up, screenshots it, and leaves with Escape (focus back on its button). */
async function presentEach(app: AppPage, page: Page, ids: readonly string[], tag: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await useTheme(page, theme);
    await page.setViewportSize({ width: 1280, height: 720 });
    expect(await seriousViolations(page), `axe on the page, ${theme} (${tag})`).toEqual([]);
    for (const [width, height] of [[1280, 720], [1920, 1080]] as const) {
      await page.setViewportSize({ width, height });
      for (const id of ids) {
        const panel = app.panel(id);
        const present = panel.getByTestId('panel-present');
        await present.click();
        await expect(panel).toHaveClass(/presenting/);
        const box = await panel.boundingBox();
        expect(box && Math.round(box.width) >= width - 1 && Math.round(box.height) >= height - 1, `${id} fills ${width}×${height}`).toBe(true);
        await expect(page.locator('header.topbar')).toHaveAttribute('inert', '');
        if (id === 'template') {
          const strip = panel.getByTestId('example-tokens');
          const fontPx = await strip.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
          expect(fontPx, 'token font scales up with the screen').toBeGreaterThanOrEqual(20);
          expect((await strip.boundingBox())?.height ?? 0, 'the token view is not a 200 px box').toBeGreaterThan(230);
          await strip.locator('.tok').nth(3).click();
          await expect(panel.getByTestId('token-details')).toContainText('position3');
        }
        if (id === 'charts') {
          const plot = panel.getByTestId('chart-loss').locator('svg.recharts-surface');
          await expect.poll(async () => (await plot.boundingBox())?.height ?? 0, 'plots take the screen height').toBeGreaterThan(height * 0.5 - 40);
          await expect(panel.getByTestId('chart-learning-rate')).toContainText('learning rate');
          await expect(panel.getByTestId('chart-loss')).toContainText('optimizer step');
        }
        await page.mouse.move(0, height - 1); // no hover tooltip over the shot
        await page.screenshot({ path: `${SHOTS}/${tag}-${width}x${height}-${theme}-${id}.png` });
        if (id === 'batch') {
          // The loss heat map and its legend sit under the tensors: scrolled to, and shot on their own.
          await panel.getByTestId('heat-legend').scrollIntoViewIfNeeded();
          await expect(panel.getByTestId('heat-legend')).toBeInViewport();
          await page.screenshot({ path: `${SHOTS}/${tag}-${width}x${height}-${theme}-batch-heat.png` });
        }
        if (width === 1280 && ['template', 'batch', 'charts', 'samples'].includes(id)) {
          expect(await seriousViolations(page, `[data-panel="${id}"]`), `axe on the presented ${id} panel, ${theme}`).toEqual([]);
        }
        await page.keyboard.press('Escape');
        await expect(panel).not.toHaveClass(/presenting/);
        await expect(present).toBeFocused();
        await expect(page.locator('header.topbar')).not.toHaveAttribute('inert', '');
      }
    }
  }
}

// Every panel, without training (the batch inspector filled in, the naive comparison open).
test('presentation mode at 1280×720 and 1920×1080, light and dark: every panel full screen, readable, and the page passes axe', async ({ app, page }) => {
  test.setTimeout(900_000);
  await prime(page, { theme: 'light', startHereSeen: true });
  await app.open();
  await app.startup();
  await expect(app.panel('template').getByTestId('example-tokens')).toBeVisible({ timeout: 60_000 });
  await app.panel('batch').getByTestId('inspect-batch').click();
  await expect(app.panel('batch').getByTestId('batch-loss')).toBeVisible({ timeout: 120_000 });
  await app.panel('template').getByTestId('naive').locator('summary').click();
  await presentEach(app, page, PANELS, 'page');
});

// The panels that fill while training, after a short run: charts with their lines, samples, checkpoints.
test('presentation mode after a short run: charts, samples and checkpoints full screen', async ({ app, page }) => {
  test.setTimeout(900_000);
  await prime(page, { theme: 'light', startHereSeen: true });
  await app.open();
  await app.startup();
  await trainShortRun(app);
  await presentEach(app, page, ['charts', 'samples', 'checkpoints'], 'trained');
});

for (const theme of ['light', 'dark'] as const) {
  test(`axe finds no serious or critical violation on the start-up views, ${theme}`, async ({ app, page }) => {
    // axe walks the whole page (a few thousand nodes); on a shared 2-core machine one pass can take tens of seconds.
    test.setTimeout(300_000);
    await prime(page, { theme, startHereSeen: false });
    await app.open();
    await app.startup();
    await expect(app.panel('template').getByTestId('example-tokens')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('start-here')).toBeVisible();
    expect(await seriousViolations(page), 'start-up page').toEqual([]);
    // Help open, a token chosen, the batch inspected: the views a lesson walks through.
    await app.panel('template').getByTestId('panel-help-toggle').click();
    await app.panel('template').getByTestId('example-tokens').locator('.tok').first().click();
    await app.panel('batch').getByTestId('inspect-batch').click();
    await expect(app.panel('batch').getByTestId('loss-heatmap')).toBeVisible({ timeout: 120_000 });
    expect(await seriousViolations(page), 'help, token details and the batch inspector').toEqual([]);
  });
}

test('token details are reachable by keyboard alone', async ({ app, page }) => {
  await prime(page, { theme: 'light', startHereSeen: true });
  await app.open();
  await app.startup();
  const strip = app.panel('template').getByTestId('example-tokens');
  await expect(strip.locator('.tok').first()).toBeVisible({ timeout: 30_000 });
  const example = (await app.state()).example;
  expect(example, 'the first example is shown').not.toBeNull();
  const tokens = example!.tokens;

  // Tab from the top of the page until focus lands on a token of the example strip.
  await page.locator('body').focus();
  let presses = 0;
  while (!(await strip.evaluate((el) => el.contains(document.activeElement) && document.activeElement?.classList.contains('tok')))) {
    await page.keyboard.press('Tab');
    presses += 1;
    expect(presses, 'the token strip is in the tab order').toBeLessThan(150);
  }
  const details = app.panel('template').getByTestId('token-details');
  await expect(details).toContainText(`id${tokens[0]!.id}`);
  await expect(details).toContainText('UTF-8 bytes');

  await page.keyboard.press('ArrowRight');
  await expect(details).toContainText('position1');
  await expect(details).toContainText(`id${tokens[1]!.id}`);
  await expect(strip.locator('.tok').nth(1)).toBeFocused();
  await expect(strip.locator('.tok').nth(1)).toHaveAttribute('aria-selected', 'true');

  // End: the last token, a trained end-of-turn token in this chat template; its label reads as trained.
  await page.keyboard.press('End');
  const last = tokens.length - 1;
  await expect(details).toContainText(`position${last}`);
  await expect(details).toContainText(tokens[last]!.label === -100 ? 'masked' : 'trained');
  // Only one token of the strip is a tab stop (roving tabindex), so Tab leaves the strip in one press.
  await expect(strip.locator('.tok[tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press('Tab');
  expect(await strip.evaluate((el) => el.contains(document.activeElement))).toBe(false);

  // The naive comparison names the method that disagrees, by keyboard too.
  await app.panel('template').getByTestId('naive').locator('summary').focus();
  await page.keyboard.press('Enter');
  const differing = example!.naive.flatMap((n) => n.differs.map((i) => ({ i, n })))[0];
  if (differing) {
    await strip.locator('.tok').nth(differing.i).focus();
    await expect(details).toContainText(/masks it|trains it/);
  }
});

test('the grid reads in panel order at every width, and nothing overflows sideways at 390 px', async ({ app, page }) => {
  await prime(page, { theme: 'light', startHereSeen: false });
  await app.open();
  await app.startup();
  await expect(app.panel('template').getByTestId('example-tokens')).toBeVisible({ timeout: 30_000 });
  for (const width of [390, 800, 1280, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    const boxes = await page.locator('main.grid > .panel').evaluateAll((els) => els.map((el) => {
      const r = el.getBoundingClientRect();
      return { id: (el as HTMLElement).dataset.panel, top: Math.round(r.top), left: Math.round(r.left) };
    }));
    expect(boxes.map((b) => b.id)).toEqual(PANELS);
    for (let i = 1; i < boxes.length; i++) {
      const [prev, cur] = [boxes[i - 1]!, boxes[i]!];
      const sameRow = Math.abs(cur.top - prev.top) <= 1;
      expect(sameRow ? cur.left > prev.left : cur.top > prev.top, `${cur.id} comes after ${prev.id} at ${width} px`).toBe(true);
    }
    const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(overflow.scroll, `document scrollWidth at ${width} px`).toBeLessThanOrEqual(overflow.client);
  }
  // 390 px with the batch inspected and help open: the widest content a phone meets.
  await page.setViewportSize({ width: 390, height: 844 });
  await app.panel('batch').getByTestId('inspect-batch').click();
  await expect(app.panel('batch').getByTestId('loss-heatmap')).toBeVisible({ timeout: 120_000 });
  for (const id of PANELS) await app.panel(id).getByTestId('panel-help-toggle').click();
  const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(overflow.scroll).toBeLessThanOrEqual(overflow.client);
  await page.screenshot({ path: `${SHOTS}/390-page.png`, fullPage: true });
});

test('every panel explains itself, and "start here" stays dismissed once dismissed', async ({ app, page }) => {
  await prime(page, { theme: 'light', startHereSeen: false });
  await app.open();
  for (const id of PANELS) {
    const panel = app.panel(id);
    const help = panel.getByTestId('panel-help');
    await expect(help).toBeHidden();
    await panel.getByTestId('panel-help-toggle').click();
    await expect(help).toBeVisible();
    expect((await help.textContent())?.length ?? 0, `${id} help is a paragraph`).toBeGreaterThan(120);
    await expect(panel.getByTestId('panel-help-toggle')).toHaveAttribute('aria-expanded', 'true');
  }
  const start = page.getByTestId('start-here');
  await expect(start).toBeVisible();
  await start.getByTestId('start-here-dismiss').click();
  await expect(start).toHaveCount(0);
  // The init script only primes the theme here (startHereSeen: false sets nothing), so the dismissal itself is remembered.
  await page.reload();
  await page.waitForFunction(() => window.__tabtune !== undefined);
  await expect(page.getByRole('heading', { level: 1, name: 'TabTune' })).toBeVisible();
  await expect(page.getByTestId('start-here')).toHaveCount(0);
});
