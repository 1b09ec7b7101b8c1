// Messages between the page and the checkpoint service worker (src/worker/host/checkpoint-sw.ts). The service worker
// outlives a closing tab: the training worker hands it each completed step's state over a MessagePort the page set up,
// and it writes that state to IndexedDB even after the tab is gone. Only these small control messages go through the
// page; the state itself travels worker → service worker directly (protocol in src/worker/host/handoff.ts).

/** Page → service worker. Each arrives as an ExtendableMessageEvent, which the service worker keeps alive with
 * waitUntil: `connect` hands over one end of a MessageChannel (the other goes to the training worker); `renew` keeps
 * an idle service worker from being stopped while the tab trains (browsers stop one after ~30 s without events) and
 * asks whether it still knows the connection; `hold` (the tab is going away) keeps it alive until the state of `step`,
 * the last step the tab showed as completed, has been written, or `HOLD_LIMIT_MS` passed. */
export type ToCheckpointSw =
  | { type: 'tabtune-connect'; key: string }
  | { type: 'tabtune-renew'; key: string }
  | { type: 'tabtune-hold'; key: string; step: number };

/** Service worker → page: the connection `key` is unknown (the service worker was restarted or updated and lost
 * its port), so the page connects again. */
export type FromCheckpointSw = { type: 'tabtune-unknown'; key: string };

/** How often the page renews the connection; well under the ~30 s after which an idle service worker is stopped. */
export const RENEW_MS = 10_000;

/** The longest a `hold` keeps the service worker alive waiting for a step's state (it normally settles in ms). */
export const HOLD_LIMIT_MS = 20_000;
