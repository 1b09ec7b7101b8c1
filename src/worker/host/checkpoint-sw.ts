// The checkpoint service worker: writes the step states training workers hand it (./handoff.ts) to IndexedDB, and
// lives on after their tab closed until the last step the tab showed is written. It has no fetch handler: it never
// sees the app's requests, so installing it changes nothing about how the app loads. Registered by the page
// (src/worker/checkpoint-handoff.ts), which talks to it only with the small messages of ../protocol-handoff.ts.
import { RunStore } from '../../storage/index.ts';
import { HOLD_LIMIT_MS, type FromCheckpointSw, type ToCheckpointSw } from '../protocol-handoff';
import { HandoffWriter } from './handoff';

const scope = globalThis as unknown as ServiceWorkerGlobalScope;

// A new version takes over at once: it holds no state a running tab depends on beyond its connections, which the
// page re-creates when a renew finds its connection unknown. It controls no page (its scope holds none, and it claims
// none), and would not see their requests anyway.
scope.addEventListener('install', () => void scope.skipWaiting());

let opened: Promise<RunStore> | null = null;
function store(): Promise<RunStore> {
  opened ??= RunStore.open();
  opened.catch(() => (opened = null)); // retried by the next write
  return opened;
}

const writers = new Map<string, HandoffWriter>();

scope.addEventListener('message', (ev: ExtendableMessageEvent) => {
  const m = ev.data as ToCheckpointSw;
  if (m.type === 'tabtune-connect') {
    const port = ev.ports[0];
    if (port) writers.set(m.key, new HandoffWriter(port, store));
    return;
  }
  const writer = writers.get(m.key);
  if (!writer) {
    const answer: FromCheckpointSw = { type: 'tabtune-unknown', key: m.key };
    (ev.source as Client | null)?.postMessage(answer);
    return;
  }
  if (m.type === 'tabtune-hold') ev.waitUntil(writer.settled(m.step, HOLD_LIMIT_MS));
});
