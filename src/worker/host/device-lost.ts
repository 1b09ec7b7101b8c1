// Telling a lost GPU device apart from a run's own failure: ORT's pending reads can fail with a plain error before
// GPUDevice.lost settles, so an error on a backend with a `lost` signal waits briefly for that signal.
import { errorMessage } from '../../share/labels.ts';

const DEVICE_LOST = /device (is |was )?lost|lost (the )?device|GPUDevice.*(lost|destroyed)|DeviceLost|context lost/i;

/** How long an error on WebGPU waits for GPUDevice.lost before it counts as the run's own failure. */
const LOST_GRACE_MS = 1000;

/** The backend's device went away while the loop ran (Backend.lost settled): the loop stops without waiting on it. */
export class DeviceLostError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'DeviceLostError';
  }
}

/** The error's message when it says the device was lost, else null. */
export function lossOf(err: unknown): string | null {
  return err instanceof DeviceLostError || DEVICE_LOST.test(errorMessage(err)) ? errorMessage(err) : null;
}

/** Why the device was lost, if `lost` settles within LOST_GRACE_MS; null when there is no signal or it stays quiet. */
export function lostWithinGrace(lost: Promise<string> | null): Promise<string | null> {
  if (!lost) return Promise.resolve(null);
  return Promise.race([lost, new Promise<null>((resolve) => setTimeout(() => resolve(null), LOST_GRACE_MS))]);
}
