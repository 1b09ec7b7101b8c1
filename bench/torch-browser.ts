// Chromium side of `npm run bench:torch -- --backends browser`: bundles bench/torch-browser-worker.ts, serves it with
// onnxruntime-web's files from a local cross-origin-isolated origin (COOP + COEP, so SharedArrayBuffer and WASM
// threads exist, as in the app), and runs each request in a fresh dedicated worker of one page of Debian's Chromium.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from '@playwright/test';
import { BASE_FLAGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import type { BrowserReply, BrowserRequest } from './torch-browser-worker.ts';

const ORT_DIST = join(import.meta.dirname, '..', 'node_modules/onnxruntime-web/dist');
const PAGE = '<!doctype html><title>bench:torch</title>';
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export interface BrowserBench {
  run(req: BrowserRequest): Promise<BrowserReply & { ok: true }>;
  close(): Promise<void>;
}

/** `extraArgs`: Chromium flags beside the e2e ones (bench:torch's `--chromium-args`, e.g. `--js-flags=--no-liftoff`). */
export async function startBrowserBench(extraArgs: readonly string[] = []): Promise<BrowserBench> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium, or set TABTUNE_CHROMIUM`);
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'torch-browser-worker.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error',
  });
  const worker = bundle.outputFiles[0]!.contents;
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const send = (type: string, body: string | Uint8Array) => void res.writeHead(200, { 'content-type': type, ...ISOLATION }).end(body);
    if (url === '/') return send('text/html', PAGE);
    if (url === '/worker.js') return send('text/javascript', worker);
    const file = url.startsWith('/ort/') && !url.includes('..') ? join(ORT_DIST, url.slice(5)) : '';
    if (file && existsSync(file)) return send(file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', readFileSync(file));
    res.writeHead(404, ISOLATION).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...BASE_FLAGS, ...extraArgs] });
    const page: Page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('the bench page is not cross-origin isolated: WASM would run one thread');
    const b = browser;
    return {
      async run(req) {
        const reply = await page.evaluate(
          (r) =>
            new Promise<BrowserReply>((resolve) => {
              const w = new Worker('/worker.js', { type: 'module' });
              w.onmessage = (e: MessageEvent<BrowserReply>) => {
                w.terminate();
                resolve(e.data);
              };
              w.onerror = (e) => resolve({ ok: false, error: e.message });
              w.postMessage(r);
            }),
          req,
        );
        if (!reply.ok) throw new Error(`browser WASM run failed: ${reply.error}`);
        return reply;
      },
      async close() {
        await b.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}
