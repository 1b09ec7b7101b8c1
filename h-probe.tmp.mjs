import { chromium } from 'playwright-core';
const ARGS = ['--headless=new','--no-sandbox','--enable-unsafe-webgpu','--use-webgpu-adapter=swiftshader','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'];
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: false });
const p = await b.newPage();
p.on('console', (m) => console.log('[console]', m.type(), m.text().slice(0, 300)));
p.on('worker', (w) => w.on('console', (m) => console.log('[worker]', m.type(), m.text().slice(0, 300))));
const t0 = Date.now();
await p.goto('http://127.0.0.1:41799/');
await p.waitForFunction(() => window.__tabtune !== undefined);
await p.evaluate(() => window.__tabtune.startup);
console.log('startup', Date.now() - t0);
await p.locator('[data-panel="data"] select').selectOption('tiny-codewords.jsonl');
await p.waitForFunction(() => window.__tabtune.state().prepared?.examples.length === 8 && window.__tabtune.state().preparedState.status === 'ready');
await p.getByTestId('max-length').fill('64');
await p.getByTestId('hp-train-batchSize').fill('2');
await p.waitForTimeout(1500);
await p.waitForFunction(() => window.__tabtune.state().preparedState.status === 'ready');
console.log('prepared', Date.now() - t0);
await p.getByTestId('inspect-batch').click();
let last = '';
for (let i = 0; i < 600; i++) {
  const s = await p.evaluate(() => { const st = window.__tabtune.state(); return JSON.stringify(st.inspectionState); });
  if (s !== last) { console.log(Date.now() - t0, s); last = s; }
  if (s.includes('ready') || s.includes('error')) break;
  await p.waitForTimeout(500);
}
await p.getByTestId('hp-train-steps').fill('20');
await p.getByTestId('hp-train-evalEvery').fill('10');
await p.getByTestId('hp-train-sampleEvery').fill('10');
await p.waitForTimeout(1000);
await p.waitForFunction(() => window.__tabtune.state().preparedState.status === 'ready');
console.log('re-prepared', Date.now() - t0);
await p.getByTestId('train-start').click();
last = '';
for (let i = 0; i < 1200; i++) {
  const s = await p.evaluate(() => { const st = window.__tabtune.state(); return JSON.stringify({ phase: st.phase, step: st.step, samples: st.samples.length, tr: st.trainerState.status === 'loading' ? st.trainerState.stage : st.trainerState.status }); });
  if (s !== last) { console.log(Date.now() - t0, s); last = s; }
  if (s.includes('completed') || s.includes('failed')) break;
  await p.waitForTimeout(250);
}
console.log(JSON.stringify((await p.evaluate(() => window.__tabtune.state())).samples.map(s=>[s.step,s.completion.slice(0,60),s.flags])));
await b.close();
