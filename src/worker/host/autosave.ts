// When the training loop writes a checkpoint between the run's own (an autosave), so a closed or crashed tab loses
// little: often while writing is cheap, rarely when it is not, within a fixed share of wall time.

/** Share of wall time the checkpoints written between the run's own may take: a write of w ms is repeated at most
 * every w / AUTOSAVE_SHARE ms, so a cheap checkpoint (the demo's: a few ms) is written after every step. */
const AUTOSAVE_SHARE = 0.1;

/** When the next autosave is due: writes (interval ones too) are timed, and the next waits until the time since the
 * last one ended is the write's cost over AUTOSAVE_SHARE. The first is due at once, which measures the cost. */
export class AutosaveBudget {
  private cost = 0;
  private endedAt = -Infinity;
  private startedAt: number | null = null;

  due(): boolean {
    return Date.now() - this.endedAt >= this.cost / AUTOSAVE_SHARE;
  }

  /** An autosave was decided: its cost counts from here (reading the tensors off the device included). */
  begin(): void {
    this.startedAt = Date.now();
  }

  async timed<T>(write: () => Promise<T>): Promise<T> {
    const started = this.startedAt ?? Date.now();
    this.startedAt = null;
    try {
      return await write();
    } finally {
      this.endedAt = Date.now();
      this.cost = this.endedAt - started;
    }
  }
}

