// Shared e2e fixture: every test fails on a console error, a page error (uncaught exception) or an unhandled
// promise rejection — in the page or its worker — and gets an `app` page object bound to the typed test API.
import { test as base, expect, type ConsoleMessage, type Page } from '@playwright/test';
import type { StateSnapshot } from '../src/ui/test-api';

export class AppPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/');
    await this.page.waitForFunction(() => window.__tabtune !== undefined);
  }

  /** Waits for the start-up loads (probe, demo model, demo dataset) to settle. */
  async startup(): Promise<void> {
    await this.page.evaluate(() => window.__tabtune?.startup);
  }

  state(): Promise<StateSnapshot> {
    return this.page.evaluate(() => {
      const api = window.__tabtune;
      if (!api) throw new Error('window.__tabtune is missing: the app did not start.');
      return api.state();
    });
  }

  panel(id: string) {
    return this.page.locator(`[data-panel="${id}"]`);
  }

  /** Fills the Model panel's Hub form (endpoint, repository, revision) and presses Load; does not wait for the load. */
  async loadHubModel(endpoint: string, repo: string, revision = 'main'): Promise<void> {
    const model = this.panel('model');
    await model.locator('.source-form > summary').first().click();
    await model.getByLabel('Hub endpoint').fill(endpoint);
    await model.getByLabel('Repository').fill(repo);
    await model.getByLabel('Revision').fill(revision);
    await model.getByRole('button', { name: 'Load from Hub' }).click();
  }

  /** Resolves as soon as the Training panel's progress shows step `step` or later in a running run, and then presses
   * Pause there when `pause` is set, all inside the page. The page shows progress once a second (FLUSH_MS) and a
   * Playwright poll and click add up to another second or two, which on a fast machine is many WASM steps: a pause or
   * reload that drifts to the end of a short run changes what the spec tests. Acting in the page removes the poll. */
  async atStep(step: number, opts: { pause?: boolean; timeout?: number } = {}): Promise<void> {
    await this.page.evaluate(({ at, pause, ms }) => new Promise<void>((resolve, reject) => {
      // Looked up afresh on every change: React may replace any of these nodes between renders.
      const find = (id: string) => document.querySelector(`[data-panel="training"] [data-testid="${id}"]`);
      const check = (): boolean => {
        // A finished run's counter stays up until the next run's first step: only a running one counts.
        if (find('train-phase')?.textContent !== 'running') return false;
        if (!(Number(find('train-step')?.textContent ?? NaN) >= at)) return false;
        const button = find('train-pause') as HTMLButtonElement | null;
        if (pause && (!button || button.disabled)) return false;
        if (pause) button?.click();
        return true;
      };
      if (check()) return resolve();
      const timer = setTimeout(() => {
        watch.disconnect();
        reject(new Error(`No running step ${at} within ${ms} ms: the panel shows ${find('train-phase')?.textContent} at step ${find('train-step')?.textContent}.`));
      }, ms);
      const watch = new MutationObserver(() => {
        if (!check()) return;
        watch.disconnect();
        clearTimeout(timer);
        resolve();
      });
      watch.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['disabled', 'class'] });
    }), { at: step, pause: opts.pause ?? false, ms: opts.timeout ?? 120_000 });
  }

  /** Pauses the run soon after `step` (see atStep); returns the step it paused at. */
  async pauseAtStep(step: number): Promise<number> {
    await this.atStep(step, { pause: true });
    await expect(this.panel('training').getByTestId('train-phase')).toHaveText('paused', { timeout: 60_000 });
    return (await this.state()).step;
  }

  /** The bundled demo on the 8-row codeword set, on WASM (fast on CI's two cores), max length 64, batch 2, a
   * checkpoint every `checkpointEvery` steps; waits until the settings reached the store and the examples are ready. */
  async setUpCodewordRun(o: { steps: number; evalEvery: number; sampleEvery: number; checkpointEvery: number }): Promise<void> {
    await this.panel('data').getByLabel('Bundled dataset').selectOption('tiny-codewords.jsonl');
    await expect.poll(async () => (await this.state()).prepared?.examples.length, { timeout: 30_000 }).toBe(8);
    const training = this.panel('training');
    const fields = [
      ['hp-train-steps', o.steps], ['hp-train-batchSize', 2], ['hp-train-warmupSteps', 2], ['hp-train-evalEvery', o.evalEvery],
      ['hp-train-sampleEvery', o.sampleEvery], ['hp-train-checkpointEvery', o.checkpointEvery],
    ] as const;
    for (const [id, value] of fields) await training.getByTestId(id).fill(String(value));
    await this.panel('template').getByTestId('max-length').fill('64');
    await training.getByTestId('backend-choice').selectOption('wasm');
    await expect.poll(async () => (await this.state()).runConfig.train.checkpointEvery).toBe(o.checkpointEvery);
    await expect.poll(async () => (await this.state()).preparedState.status).toBe('ready');
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: `test-output/screenshots/${name}.png`, fullPage: false });
  }
}

/** Collects what fails a test on a page: console errors (page and its workers), page errors, HTTP >= 400, failed
 * requests and unhandled rejections. The fixture watches its own page with it; specs call it for pages they open in
 * other browser contexts. */
export async function watchProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  const onConsole = (msg: ConsoleMessage) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
  };
  page.on('console', onConsole);
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('worker', (worker) => worker.on('console', onConsole));
  // A missing file is a bug even when the app copes with it (requests from the worker are seen here too).
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? 'failed';
    // Requests the app cancels on purpose (a newer choice wins) end as net::ERR_ABORTED.
    if (!failure.includes('ERR_ABORTED')) problems.push(`request failed: ${req.url()} (${failure})`);
  });
  // Unhandled rejections show up as console errors in Chromium; this catches ones a page silences in its console.
  await page.addInitScript(() => {
    addEventListener('unhandledrejection', (ev) => {
      console.error(`unhandledrejection: ${String((ev as PromiseRejectionEvent).reason)}`);
    });
  });
  return problems;
}

export const test = base.extend<{ app: AppPage; problems: string[]; allowedProblem: RegExp | null }>({
  /** Problems a test provokes on purpose (e.g. an unreachable endpoint); everything else still fails the test. */
  allowedProblem: [null, { option: true }],
  problems: async ({ page, allowedProblem }, use) => {
    const problems = await watchProblems(page);
    await use(problems);
    const unexpected = problems.filter((p) => !allowedProblem?.test(p));
    expect(unexpected, 'console errors, page errors, failed requests or unhandled rejections').toEqual([]);
  },
  app: async ({ page, problems }, use) => {
    void problems; // requested so every test that uses the app is also checked for errors
    await use(new AppPage(page));
  },
});

export { expect };
