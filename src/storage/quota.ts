// Storage space: the browser's estimate (navigator.storage), recognising quota failures however the browser reports
// them, and the error users see when a checkpoint does not fit (what was kept, how to free space).

interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

/** navigator.storage where it exists (browsers, workers); undefined in Node, where no estimate is shown. */
export interface StorageManagerLike {
  estimate(): Promise<StorageEstimateLike>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

export function defaultStorageManager(): StorageManagerLike | undefined {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator;
  return nav?.storage && typeof nav.storage.estimate === 'function' ? nav.storage : undefined;
}

export interface StorageSpace {
  usage: number;
  quota: number;
  free: number;
}

export async function storageSpace(manager = defaultStorageManager()): Promise<StorageSpace | undefined> {
  if (!manager) return undefined;
  try {
    const { usage, quota } = await manager.estimate();
    if (typeof usage !== 'number' || typeof quota !== 'number') return undefined;
    return { usage, quota, free: Math.max(0, quota - usage) };
  } catch {
    // Some browsers refuse estimates in private windows; the app then shows no gauge rather than failing.
    return undefined;
  }
}

/** Chromium and Firefox raise `QuotaExceededError` (code 22); Safari has used other names for the same event. */
export function isQuotaError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  // Binary units, spelled as the app's panels spell them (src/ui/format.ts), so the numbers in a message match.
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A checkpoint that did not fit. Nothing was written and nothing older was removed. */
export class StorageQuotaError extends Error {
  /** The checkpoint's step; undefined when the failed write was not a checkpoint (creating a run). */
  readonly step: number | undefined;

  constructor(
    what: { step: number } | { label: string },
    readonly neededBytes: number,
    readonly space: StorageSpace | undefined,
    options?: { cause?: unknown },
  ) {
    const room = space ? ` (${formatBytes(space.free)} free of ${formatBytes(space.quota)})` : '';
    const subject = 'step' in what ? `the checkpoint at step ${what.step}` : what.label;
    super(
      `Browser storage is full: ${subject} (${formatBytes(neededBytes)}) was not saved${room}. ` +
        'Your earlier checkpoints are intact. Free space by deleting old runs or checkpoints in the Checkpoints panel, ' +
        'or export this run as a zip first.',
      options,
    );
    this.name = 'StorageQuotaError';
    this.step = 'step' in what ? what.step : undefined;
  }
}
