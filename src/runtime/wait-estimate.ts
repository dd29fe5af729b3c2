// How long a run sleeps before it waits for the device. Dawn's Node binding polls for finished work in a
// setImmediate loop while any of its promises is pending (GpuRuntime.busyWaits), a CPU core kept busy for the
// whole wait; on a software adapter (lavapipe) that core is one the kernels run on. So a run first sleeps through
// most of the time recent runs at the same shapes and readback took from submit to their map, then waits.
//
// Sleeping too long costs the step; sleeping too little only polls. So the estimate is the shortest of the last
// RECENT runs (one slow run — a GC pause, a busy machine — does not lengthen the next sleeps), and a run whose map
// was ready at once after its sleep ended during it (when, unknown): it counts OVERSLEPT_BACKOFF of its time, so
// the sleeps shorten until waits poll again for the last part of the work. Runs shorter than MIN_SLEEP_MS never
// sleep: timers fire up to a millisecond or so late.

/** The part of the expected device time slept through. */
export const SLEEP_FRACTION = 0.8;
/** The shortest sleep worth a timer. */
export const MIN_SLEEP_MS = 4;
/** A map that resolves within this after the sleep was ready when the wait began. */
export const MAPPED_AT_ONCE_MS = 0.5;
/** What such a run counts of its measured time. */
export const OVERSLEPT_BACKOFF = 0.75;
/** Runs the estimate remembers. */
export const RECENT = 8;

/** The device time expected of the next run of one kind (one plan sizing, one readback mode). */
export class WaitEstimate {
  private readonly recent: number[] = [];

  /** The milliseconds to sleep `sinceSubmit` ms after submit (0: wait now; always 0 before the first record). */
  sleepMs(sinceSubmit: number): number {
    if (!this.recent.length) return 0;
    const left = SLEEP_FRACTION * Math.min(...this.recent) - sinceSubmit;
    return left >= MIN_SLEEP_MS ? left : 0;
  }

  /** A run took `totalMs` from submit to its map, `mapMs` of it waiting after a sleep (if it slept). */
  record(totalMs: number, slept: boolean, mapMs: number): void {
    this.recent.push(slept && mapMs < MAPPED_AT_ONCE_MS ? OVERSLEPT_BACKOFF * totalMs : totalMs);
    if (this.recent.length > RECENT) this.recent.shift();
  }
}
