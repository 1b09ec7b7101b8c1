#!/usr/bin/env node
// Pre-flight for `npm run test:e2e`: the browser tests drive Debian's Chromium (never a downloaded build), because it
// ships SwiftShader, the software WebGPU adapter the tests use. Fails with the install command when it is missing.
import { accessSync, constants } from 'node:fs';

const path = process.env.TABTUNE_CHROMIUM ?? '/usr/bin/chromium';
try {
  accessSync(path, constants.X_OK);
} catch {
  console.error(`Chromium was not found at ${path}. The browser tests need Debian's Chromium (it brings SwiftShader for WebGPU).`);
  console.error('install it with: apt-get install chromium');
  process.exit(1);
}
