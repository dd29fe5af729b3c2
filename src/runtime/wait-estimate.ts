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
/**
 * Runs in a row under one way of polling when the two are compared, and how many of the first of them are not
 * counted: a change of way costs the runs right after it (on lavapipe, flat polling's first runs after hooked ones
 * took 1.4–2.8× flat's steady time, KD+CE 128×1000), which is no cost of the way itself. Counted, the few runs of
 * the way not chosen looked that slow and the choice stayed on the slower way (session 28: KD steps 1.13 ms hooked
 * where flat out they took 0.84). Single runs vary by ±30% on a loaded machine: a block's median needs a dozen.
 */
export const POLLING_BLOCK = 20;
export const POLLING_SETTLE = 5;
/** Counted runs under the chosen way before a block of the other, so that the choice follows the machine; each
 *  recheck that keeps the choice doubles the interval, up to POLLING_RECHECK_MAX (a block of the slower way costs). */
export const POLLING_RECHECK = 50;
export const POLLING_RECHECK_MAX = 3200;
/** A recheck changes the way only where the other's median is below this fraction of the chosen's (noise is no reason). */
export const POLLING_MARGIN = 0.95;
/** Counted runs of a block. */
const COUNTED = POLLING_BLOCK - POLLING_SETTLE;

/**
 * How a run that does not sleep waits: 'hooked' through the runtime's wait hook (tdc-runtime/node's PollThrottle
 * on software adapters: the main thread sleeps between polls), or 'flat', polled at every turn of the event loop.
 * Neither is best everywhere. The throttle's sleeps overshoot (a 0.2 ms futex wait took 0.33 ms on average on a
 * 2-core machine while lavapipe's threads ran kernels), so a short run's map resolves up to half a millisecond after
 * its work ended, while flat polling takes a core the kernels could use: on one machine (session 27) KD+CE 128×1000
 * and SRD steps of about 1 ms ran 1.27–1.29× faster polling flat out and PKT's and DIST's of 3–4 ms 1.2–1.5×
 * slower; on the same kind of machine a session earlier the throttle was as fast for KD or faster. So each kind of
 * run measures both, a block of runs in a row each (POLLING_BLOCK), keeps the faster and rechecks now and then.
 */
export type Polling = 'hooked' | 'flat';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** The device time expected of the next run of one kind (one plan sizing, one readback mode), and how it waits. */
export class WaitEstimate {
  private readonly recent: number[] = [];
  /** The counted runs of each way's latest block (the chosen way's keep rolling); emptied for a recheck. */
  private readonly byPolling: Record<Polling, number[]> = { hooked: [], flat: [] };
  /** How the last recorded run waited (a run that slept waited through the hook), and how many runs in a row did. */
  private previous: Polling | undefined;
  private streak = 0;
  /** The way chosen (set when both ways' first blocks are complete), counted runs under it since the last recheck,
   *  the interval, and whether a recheck's block is under way. */
  private current: Polling | undefined;
  private sinceRecheck = 0;
  private recheckEvery = POLLING_RECHECK;
  private checking = false;

  /** The milliseconds to sleep `sinceSubmit` ms after submit (0: wait now; always 0 before the first record). */
  sleepMs(sinceSubmit: number): number {
    if (!this.recent.length) return 0;
    const left = SLEEP_FRACTION * Math.min(...this.recent) - sinceSubmit;
    return left >= MIN_SLEEP_MS ? left : 0;
  }

  /**
   * How the next run waits (Polling): 'hooked' before the first record and for runs long enough to sleep (they
   * poll only for the last part of their work); otherwise a block of runs through the hook, one flat out, then flat
   * out where its block's median is shorter by POLLING_MARGIN, with a block of the other every so often (POLLING_RECHECK).
   */
  polling(): Polling {
    if (!this.recent.length || this.sleepMs(0) > 0) return 'hooked';
    if (this.byPolling.hooked.length < COUNTED) return 'hooked';
    if (this.byPolling.flat.length < COUNTED) return 'flat';
    return this.current!;
  }

  /** A run took `totalMs` from submit to its map, `mapMs` of it waiting after a sleep (if it slept), waiting as `polling` said. */
  record(totalMs: number, slept: boolean, mapMs: number, polling: Polling = 'hooked'): void {
    this.recent.push(slept && mapMs < MAPPED_AT_ONCE_MS ? OVERSLEPT_BACKOFF * totalMs : totalMs);
    if (this.recent.length > RECENT) this.recent.shift();
    const way = slept ? 'hooked' : polling;
    this.streak = way === this.previous ? this.streak + 1 : 1;
    this.previous = way;
    if (slept || this.streak <= POLLING_SETTLE) return;
    const runs = this.byPolling[polling];
    runs.push(totalMs);
    if (runs.length > COUNTED) runs.shift();
    const { hooked, flat } = this.byPolling;
    if (hooked.length < COUNTED || flat.length < COUNTED) return;
    if (!this.current || this.checking) {
      // a block completes the comparison: the way changes (the first time, from the hook) only where the other is
      // faster by the margin; a recheck that keeps the way doubles the interval to the next
      const ms = { hooked: median(hooked), flat: median(flat) };
      const was = this.current ?? 'hooked';
      const other = was === 'flat' ? 'hooked' : 'flat';
      if (ms[other] < POLLING_MARGIN * ms[was]) [this.current, this.recheckEvery] = [other, POLLING_RECHECK];
      else [this.current, this.recheckEvery] = [was, this.current ? Math.min(2 * this.recheckEvery, POLLING_RECHECK_MAX) : POLLING_RECHECK];
      this.checking = false;
      this.sinceRecheck = 0;
      return;
    }
    if (polling !== this.current || ++this.sinceRecheck < this.recheckEvery) return;
    this.checking = true;
    this.byPolling[this.current === 'flat' ? 'hooked' : 'flat'] = [];
  }
}
