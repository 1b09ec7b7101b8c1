// CLI: starts the local Hub mirror (fixtures/generated/hub by default) and prints its URL; for Playwright's
// webServer and for offline use. Usage: tsx scripts/mirror.ts [--port N] [--root DIR]. Stops on SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { startMirror } from '../test/hub-mirror/server.ts';
import { ensureFixtures } from './fixtures/ensure.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg('--port') ?? process.env.TABTUNE_MIRROR_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer 0..65535 (0 picks a free port), got ${arg('--port')}`);
  process.exit(2);
}
const root = arg('--root');
if (!root) await ensureFixtures((l) => console.log(l));
const mirror = await startMirror({ port, ...(root ? { root: resolve(root) } : {}) });
console.log(`Hub mirror listening on ${mirror.url}`);
console.log(`HINT: set the Hub endpoint (HF_ENDPOINT) to ${mirror.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void mirror.close().then(() => process.exit(0));
  });
}
