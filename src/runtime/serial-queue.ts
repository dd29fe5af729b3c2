// One-at-a-time work on shared GPU buffers (PlanExecutor's runs, ResidentState's steps and sets): bodies run in call
// order, each after the previous one settles, whether it resolved or rejected. A body queued while nothing is running
// starts at once, synchronously up to its first await, so that what it uploads from the caller's arrays is copied
// before the call returns; the caller copies what a body that has to wait will read (copyHostInputs).

export class SerialQueue {
  private pending: Promise<unknown> = Promise.resolve();
  /** Bodies queued and not yet settled (counted down before a body's promise settles, so that a caller awaiting it
   *  finds the queue idle). */
  private active = 0;

  /** Nothing queued is still running: the next body starts at once. */
  get idle(): boolean {
    return this.active === 0;
  }

  run<T>(body: () => Promise<T>): Promise<T> {
    const idle = this.idle;
    this.active++;
    const counted = async (): Promise<T> => {
      try {
        return await body();
      } finally {
        this.active--;
      }
    };
    const next = idle ? counted() : this.pending.then(counted, counted);
    this.pending = next.catch(() => {});
    return next;
  }
}
