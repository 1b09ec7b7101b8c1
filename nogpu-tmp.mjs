import { chromium } from '@playwright/test';
import { startServer } from '/work/main/scripts/serve.mjs';
const { server, url } = await startServer({ root: '/work/main/dist', port: 0 });
for (const extra of [[], ['--disable-features=WebGPU'], ['--disable-gpu'], ['--use-webgpu-adapter=none']]) {
  const args = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--no-first-run', ...extra];
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: false, args });
  const p = await b.newPage();
  await p.goto(url);
  const r = await p.evaluate(async () => {
    if (!navigator.gpu) return 'no navigator.gpu';
    const a = await navigator.gpu.requestAdapter();
    return a ? 'adapter ' + a.info.vendor + ' ' + a.info.architecture : 'null adapter';
  });
  console.log(JSON.stringify(extra), r);
  await b.close();
}
server.close();
