// The sleep before a wait on a device whose waits poll on the CPU (src/runtime/wait-estimate.ts): pure policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPPED_AT_ONCE_MS, MIN_SLEEP_MS, OVERSLEPT_BACKOFF, POLLING_RECHECK, POLLING_SAMPLES, RECENT, SLEEP_FRACTION, WaitEstimate, type Polling } from '../src/runtime/wait-estimate.js';

const after = (...totals: number[]): WaitEstimate => {
  const w = new WaitEstimate();
  for (const t of totals) w.record(t, false, t);
  return w;
};

test('no run measured yet (the first at these shapes): wait at once', () => {
  assert.is(new WaitEstimate().sleepMs(0), 0);
});

test('sleeps SLEEP_FRACTION of the expected time, less what has passed since submit', () => {
  assert.is(after(100).sleepMs(0), SLEEP_FRACTION * 100);
  assert.is(after(100).sleepMs(30), SLEEP_FRACTION * 100 - 30);
  // the time since submit already covers the fraction (the page-in of large gradients): no sleep
  assert.is(after(100).sleepMs(SLEEP_FRACTION * 100 + 1), 0);
});

test('short runs never sleep: timers fire late by about as much as they would save', () => {
  assert.is(after((MIN_SLEEP_MS - 0.01) / SLEEP_FRACTION).sleepMs(0), 0);
  assert.ok(after((MIN_SLEEP_MS + 0.01) / SLEEP_FRACTION).sleepMs(0) >= MIN_SLEEP_MS);
  assert.is(after(2).sleepMs(0), 0); // a KD step
});

test('the shortest of the last RECENT runs: one slow run (a GC pause) does not lengthen the next sleeps', () => {
  assert.is(after(40, 300, 41).sleepMs(0), SLEEP_FRACTION * 40);
  // and runs older than RECENT are forgotten: a machine that became slower is followed
  assert.is(after(40, ...Array(RECENT).fill(60)).sleepMs(0), SLEEP_FRACTION * 60);
});

test('a run that still waited after its sleep is measured as it is; one ready at once backs off', () => {
  const waited = new WaitEstimate();
  waited.record(50, true, 10);
  assert.is(waited.sleepMs(0), SLEEP_FRACTION * 50);
  const atOnce = new WaitEstimate();
  atOnce.record(50, true, MAPPED_AT_ONCE_MS / 2);
  assert.ok(Math.abs(atOnce.sleepMs(0) - SLEEP_FRACTION * OVERSLEPT_BACKOFF * 50) < 1e-9);
  // without a sleep, a map ready at once is an exact measurement
  const polled = new WaitEstimate();
  polled.record(50, false, 0.1);
  assert.is(polled.sleepMs(0), SLEEP_FRACTION * 50);
});

test('after a stale estimate the sleeps shrink until the wait polls again, then stay below the work', () => {
  const work = 40; // ms of device work, fixed
  const w = after(200); // the shapes' earlier, slower run
  let polled = false;
  for (let i = 0; i < 3 * RECENT; i++) {
    const sleep = w.sleepMs(0);
    const total = Math.max(work, sleep);
    const mapMs = total - sleep;
    if (mapMs > 0) polled = true;
    w.record(total, sleep > 0, mapMs);
  }
  assert.ok(polled, 'the wait polls again once the sleeps are shorter than the work');
  const steady = w.sleepMs(0);
  assert.ok(steady < work && steady >= SLEEP_FRACTION * OVERSLEPT_BACKOFF * work - 1e-9, `steady sleep ${steady} ms for ${work} ms of work`);
});

test('polling: through the hook before any measurement and for runs long enough to sleep; short runs try both, then keep the faster', () => {
  assert.is(new WaitEstimate().polling(), 'hooked');
  const long = after(10 / SLEEP_FRACTION);
  assert.is(long.polling(), 'hooked');
  // a short kind of run: each way in turn until both have POLLING_SAMPLES runs
  const run = (w: WaitEstimate, ms: Record<Polling, number>): Polling => {
    const p = w.polling();
    w.record(ms[p], false, ms[p], p);
    return p;
  };
  const w = after(1); // one run through the hook so far
  const tried = Array.from({ length: 2 * POLLING_SAMPLES - 1 }, () => run(w, { flat: 0.8, hooked: 1.2 }));
  assert.equal(tried.slice(0, 2), ['flat', 'hooked']);
  assert.is(tried.filter((p) => p === 'flat').length, POLLING_SAMPLES);
  assert.is(tried.filter((p) => p === 'hooked').length, POLLING_SAMPLES - 1);
  // then the faster, except one run in POLLING_RECHECK
  const next = Array.from({ length: 2 * POLLING_RECHECK }, () => run(w, { flat: 0.8, hooked: 1.2 }));
  assert.is(next.filter((p) => p === 'hooked').length, 2);
  // where the machine changes (the kernels now lose more to the poll's core than the sleeps cost), the rechecks follow it
  const after2 = Array.from({ length: 4 * POLLING_RECHECK }, () => run(w, { flat: 1.5, hooked: 1.1 }));
  assert.is(after2.slice(-POLLING_RECHECK).filter((p) => p === 'flat').length, 1);
  // a run that slept is no sample of either way (counted, it would make this one's turn 'hooked')
  const slept = after(1);
  slept.record(1, true, 0.1, 'flat');
  assert.is(slept.polling(), 'flat');
});

test.run();
