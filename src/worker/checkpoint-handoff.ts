// The page's part in handing completed steps to the checkpoint service worker (src/worker/host/checkpoint-sw.ts):
// registers it, connects it to the training worker with a MessageChannel, renews the connection while the tab lives,
// and asks it to hold on when the tab goes away. Without service workers (unsupported, blocked, registration failed)
// none of this happens and the training worker writes recovery points itself within its time budget, as before.
import swUrl from './host/checkpoint-sw.ts?worker&url';
import type { WorkerClient } from './client';
import { RENEW_MS, type FromCheckpointSw, type ToCheckpointSw } from './protocol-handoff';

export interface CheckpointHandoffLink {
  /** The tab is going away after showing `step` as completed: keep the service worker alive until it is written. */
  hold(step: number): void;
}

/** The registration's worker once it is installed (active, or about to be: messages to it are queued). */
function activeWorker(reg: ServiceWorkerRegistration): Promise<ServiceWorker> {
  const current = reg.active;
  if (current) return Promise.resolve(current);
  const coming = reg.installing ?? reg.waiting;
  if (!coming) return Promise.reject(new Error('The checkpoint service worker registered but never installed.'));
  return new Promise((resolve, reject) => {
    coming.addEventListener('statechange', () => {
      if (coming.state === 'activated') resolve(coming);
      else if (coming.state === 'redundant') reject(new Error('The checkpoint service worker failed to install.'));
    });
  });
}

/** Connects the training worker to the checkpoint service worker. Resolves null (the fallback) where service workers
 * are unavailable; never rejects. */
export async function connectCheckpointHandoff(client: WorkerClient): Promise<CheckpointHandoffLink | null> {
  const container = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
  if (!container) return null;
  let sw: ServiceWorker;
  try {
    sw = await activeWorker(await container.register(swUrl, { type: 'module' }));
  } catch {
    return null; // blocked, private mode, or an insecure origin: recovery points are written by the worker alone
  }
  const post = (m: ToCheckpointSw, transfer: Transferable[] = []): void => sw.postMessage(m, transfer);
  let key = '';
  const connect = async (): Promise<void> => {
    key = crypto.randomUUID();
    const channel = new MessageChannel();
    post({ type: 'tabtune-connect', key }, [channel.port1]);
    await client.request('train.handoff', { port: channel.port2 });
  };
  try {
    await connect();
  } catch {
    return null;
  }
  // A restarted or updated service worker lost its ports: it says so to the next renew, and the page connects again.
  container.addEventListener('message', (ev: MessageEvent<FromCheckpointSw>) => {
    if (ev.data?.type !== 'tabtune-unknown' || ev.data.key !== key) return;
    if (ev.source instanceof ServiceWorker) sw = ev.source;
    void connect().catch(() => undefined);
  });
  container.startMessages();
  setInterval(() => post({ type: 'tabtune-renew', key }), RENEW_MS);
  return { hold: (step) => post({ type: 'tabtune-hold', key, step }) };
}
