// Test harness: the real worker host (src/worker/host/serve.ts) and the real client, joined by a MessageChannel in
// this process — the same protocol and structured-clone/transfer semantics as a browser Worker, without a browser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WorkerClient, type WorkerLike } from '../../src/worker/client';
import { serve, type PortLike, type ServeOptions } from '../../src/worker/host/serve';

export interface Harness {
  client: WorkerClient;
  close(): void;
}

export function startHarness(options: ServeOptions = {}): Harness {
  const { port1, port2 } = new MessageChannel();
  serve(port2 as unknown as PortLike, options);
  const client = new WorkerClient(port1 as unknown as WorkerLike);
  // Node ports deliver to EventTarget listeners only once started.
  (port1 as MessagePort).start();
  (port2 as MessagePort).start();
  return {
    client,
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

/** A bundled dataset file (public/datasets) as a `run.prepare` source: fresh bytes on every call, since a request
 * transfers (and so detaches) the buffer it sends. */
export function bundledDataset(name: string): { kind: 'bytes'; name: string; bytes: ArrayBuffer } {
  const b = readFileSync(join(process.cwd(), 'public/datasets', name));
  return { kind: 'bytes', name, bytes: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) };
}
