// How long a run sleeps before it waits for the device. Dawn's Node binding polls for finished work in a
// setImmediate loop while any of its promises is pending (GpuRuntime.busyWaits), a CPU core kept busy for the
// whole wait; on a software adapter (lavapipe) that core is one the kernels run on. So a run first sleeps through
// most of the time the last run at the same shapes and readback took from submit to its map, then waits.
//
// The estimate adapts both ways: a run that still had to wait after its sleep is measured exactly (submit to
// map); a run whose map was ready at once after the sleep ended during it — when, unknown — and counts
// OVERSLEPT_BACKOFF of its time, so the next sleep is shorter, until waits poll again for the last part of the
// work. Runs shorter than MIN_SLEEP_MS never sleep: timers fire up to a millisecond or so late.

/** The part of the expected device time slept through. */
export const SLEEP_FRACTION = 0.8;
/** The shortest sleep worth a timer. */
export const MIN_SLEEP_MS = 4;
/** A map that resolves within this after the sleep was ready when the wait began. */
export const MAPPED_AT_ONCE_MS = 0.5;
/** What such a run counts of its measured time. */
export const OVERSLEPT_BACKOFF = 0.75;

/** The milliseconds to sleep `sinceSubmit` ms after submit, given the last estimate (0: wait now). */
export function sleepBeforeWait(estimateMs: number | undefined, sinceSubmit: number): number {
  if (estimateMs === undefined) return 0;
  const left = SLEEP_FRACTION * estimateMs - sinceSubmit;
  return left >= MIN_SLEEP_MS ? left : 0;
}

/** The next estimate: the run took `totalMs` from submit to map, of which `mapMs` waiting after a sleep (if it slept). */
export function nextEstimate(totalMs: number, slept: boolean, mapMs: number): number {
  return slept && mapMs < MAPPED_AT_ONCE_MS ? OVERSLEPT_BACKOFF * totalMs : totalMs;
}
