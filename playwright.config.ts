// Playwright: the built app (dist/, from `vite build` in `npm run test:e2e`) served by scripts/serve.mjs on
// 127.0.0.1, driven in Debian's Chromium with WebGPU on SwiftShader (see docs/architecture.md). Never a
// downloaded browser. Three projects, run one after the other by `npm run test:e2e`: `light` specs (page loads, forms,
// no training) two at a time; `runs` specs (train on WASM and compare losses, reload, reopen profiles) one at a time,
// because two of them side by side starve each other's worker and page on a 2-core machine; `solo` specs alone too,
// because they measure the page's main thread while SwiftShader emulates the GPU on the same two cores.
// `npx playwright test e2e/<spec>.ts` runs one spec in its own project.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/chromium';

const port = Number(process.env.TABTUNE_E2E_PORT ?? 41731);
// Which build to serve: `dist` by default; a separate `vite build --outDir DIR` lets two e2e runs work side by side.
const root = process.env.TABTUNE_DIST ?? 'dist';
// The local Hub mirror (fixture checkpoints, test/hub-mirror/server.ts) beside the app, on a port of its own derived
// from the app's so side-by-side e2e runs do not collide; specs read its URL from TABTUNE_MIRROR_URL.
const mirrorPort = Number(process.env.TABTUNE_MIRROR_PORT ?? port + 100);
process.env.TABTUNE_MIRROR_URL = `http://127.0.0.1:${mirrorPort}`;

const SOLO = ['**/train.spec.ts', '**/device-loss.spec.ts'];
const RUNS = [
  '**/backend-choice.spec.ts',
  '**/checkpoint-load.spec.ts',
  '**/classroom.spec.ts',
  '**/checkpoint-on-close.spec.ts',
  '**/export.spec.ts',
  '**/gemma.spec.ts',
  '**/graph-summary.spec.ts',
  '**/lessons.spec.ts',
  '**/quota.spec.ts',
  '**/resume.spec.ts',
  '**/session.spec.ts',
  '**/share.spec.ts',
];

export default defineConfig({
  testDir: 'e2e',
  outputDir: process.env.TABTUNE_E2E_OUT ?? 'test-output/e2e',
  workers: Number(process.env.TABTUNE_E2E_WORKERS ?? 2),
  fullyParallel: false,
  projects: [
    { name: 'light', testIgnore: [...SOLO, ...RUNS] },
    { name: 'runs', testMatch: RUNS, workers: 1 },
    { name: 'solo', testMatch: SOLO, workers: 1 },
  ],
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 720 },
    // The flags decide headlessness; Playwright's own headless switch would replace --headless=new.
    headless: false,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
    // No screencast: its JPEG frames cost more than a core on a 2-core box, starving the page and the worker under test.
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      command: `node scripts/serve.mjs --port ${port} --root ${root}`,
      url: `http://127.0.0.1:${port}/`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
    },
    {
      command: `npx tsx scripts/mirror.ts --port ${mirrorPort}`,
      url: `http://127.0.0.1:${mirrorPort}/api/models/tabtune/tiny-llama`,
      reuseExistingServer: false,
      // The first start may regenerate the fixture checkpoints.
      timeout: 120_000,
      stdout: 'pipe',
    },
  ],
});
