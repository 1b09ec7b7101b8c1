// Vitest globalSetup: makes sure the fixture checkpoints exist and are current (regenerating them when missing or
// stale), then starts one shared local Hub mirror for the run; tests read its URL with inject('hubMirrorUrl').
// The mirror stops when the run ends.
import type { TestProject } from 'vitest/node';
import { ensureFixtures } from '../scripts/fixtures/ensure.ts';
import { startMirror } from './hub-mirror/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    hubMirrorUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureFixtures((line) => console.log(`[fixtures] ${line}`));
  const mirror = await startMirror();
  project.provide('hubMirrorUrl', mirror.url);
  return () => mirror.close();
}
