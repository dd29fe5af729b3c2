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
/** Runs under each way of polling that a choice between them rests on (their median). */
export const POLLING_SAMPLES = 5;
/** Every this many runs, the way of polling not chosen is used once, so that the choice follows the machine. */
export const POLLING_RECHECK = 20;

/**
 * How a run that does not sleep waits: 'hooked' through the runtime's wait hook (tdc-runtime/node's PollThrottle
 * on software adapters: the main thread sleeps between polls), or 'flat', polled at every turn of the event loop.
 * Neither is best everywhere. The throttle's sleeps overshoot (a 0.2 ms futex wait took 0.33 ms on average on a
 * 2-core machine while lavapipe's threads ran kernels), so a short run's map resolves up to half a millisecond after
 * its work ended, while flat polling takes a core the kernels could use: on one machine (session 27) KD+CE 128×1000
 * and SRD steps of about 1 ms ran 1.27–1.29× faster polling flat out and PKT's and DIST's of 3–4 ms 1.2–1.5×
 * slower; on the same kind of machine a session earlier the throttle was as fast for KD or faster. So each kind of
 * run measures both and keeps the faster.
 */
export type Polling = 'hooked' | 'flat';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** The device time expected of the next run of one kind (one plan sizing, one readback mode), and how it waits. */
export class WaitEstimate {
  private readonly recent: number[] = [];
  private readonly byPolling: Record<Polling, number[]> = { hooked: [], flat: [] };
  private runs = 0;

  /** The milliseconds to sleep `sinceSubmit` ms after submit (0: wait now; always 0 before the first record). */
  sleepMs(sinceSubmit: number): number {
    if (!this.recent.length) return 0;
    const left = SLEEP_FRACTION * Math.min(...this.recent) - sinceSubmit;
    return left >= MIN_SLEEP_MS ? left : 0;
  }

  /**
   * How the next run waits (Polling): 'hooked' before the first record and for runs long enough to sleep (they
   * poll only for the last part of their work); otherwise each way in turn until both have POLLING_SAMPLES runs,
   * then the one whose recent runs' median is shorter, and the other once every POLLING_RECHECK runs.
   */
  polling(): Polling {
    if (!this.recent.length || this.sleepMs(0) > 0) return 'hooked';
    const { hooked, flat } = this.byPolling;
    if (hooked.length < POLLING_SAMPLES || flat.length < POLLING_SAMPLES) return flat.length < hooked.length ? 'flat' : 'hooked';
    const best: Polling = median(flat) < median(hooked) ? 'flat' : 'hooked';
    return this.runs % POLLING_RECHECK === 0 ? (best === 'flat' ? 'hooked' : 'flat') : best;
  }

  /** A run took `totalMs` from submit to its map, `mapMs` of it waiting after a sleep (if it slept), waiting as `polling` said. */
  record(totalMs: number, slept: boolean, mapMs: number, polling: Polling = 'hooked'): void {
    this.runs++;
    this.recent.push(slept && mapMs < MAPPED_AT_ONCE_MS ? OVERSLEPT_BACKOFF * totalMs : totalMs);
    if (this.recent.length > RECENT) this.recent.shift();
    if (slept) return;
    const runs = this.byPolling[polling];
    runs.push(totalMs);
    if (runs.length > POLLING_SAMPLES) runs.shift();
  }
}
