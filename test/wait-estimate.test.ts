// The sleep before a wait on a device whose waits poll on the CPU (src/runtime/wait-estimate.ts): pure policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPPED_AT_ONCE_MS, MIN_SLEEP_MS, OVERSLEPT_BACKOFF, POLLING_BLOCK, POLLING_MARGIN, POLLING_RECHECK, POLLING_RECHECK_MAX, RECENT, SLEEP_FRACTION, WaitEstimate, type Polling } from '../src/runtime/wait-estimate.js';

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

test('polling: through the hook before any measurement and for runs long enough to sleep; short runs try a block of each, then keep the faster', () => {
  assert.is(new WaitEstimate().polling(), 'hooked');
  const long = after(10 / SLEEP_FRACTION);
  assert.is(long.polling(), 'hooked');
  // A short kind of run on a machine: each way's steady time, and what the first runs after a change of way cost on
  // top (on lavapipe flat polling's first runs after hooked ones took 1.4–2.8× flat's steady time).
  let last: Polling | undefined;
  let streak = 0;
  const run = (w: WaitEstimate, ms: Record<Polling, number>, change = 2): Polling => {
    const p = w.polling();
    streak = p === last ? streak + 1 : 1;
    const t = ms[p] + (last !== undefined && p !== last && streak === 1 ? change : 0) + (streak <= 2 ? change / 2 : 0);
    last = p;
    w.record(t, false, t, p);
    return p;
  };
  const runs = (w: WaitEstimate, n: number, ms: Record<Polling, number>): Polling[] => Array.from({ length: n }, () => run(w, ms));
  const fast = { flat: 0.8, hooked: 1.2 };
  const w = after(1); // one run through the hook so far
  last = 'hooked';
  streak = 1;
  // a block through the hook, one flat out (neither's first POLLING_SETTLE runs counted), then the faster
  assert.equal(runs(w, 2 * POLLING_BLOCK, fast), [...Array<Polling>(POLLING_BLOCK - 1).fill('hooked'), ...Array<Polling>(POLLING_BLOCK + 1).fill('flat')]);
  // though each change of way costs more than a run saves; a block of the other now and then, less often as the choice holds
  const blocks = (ps: readonly Polling[], way: Polling): { at: number; length: number }[] => {
    const out: { at: number; length: number }[] = [];
    ps.forEach((p, i) => {
      if (p !== way) return;
      const b = out[out.length - 1];
      if (b && b.at + b.length === i) b.length++;
      else out.push({ at: i, length: 1 });
    });
    return out.filter((b) => b.at > 0 && b.at + b.length < ps.length); // the blocks that start and end in ps
  };
  const rechecks = blocks(runs(w, 8 * POLLING_RECHECK, fast), 'hooked');
  assert.ok(rechecks.length >= 2, `${rechecks.length} rechecks`);
  for (const b of rechecks) assert.is(b.length, POLLING_BLOCK);
  for (let i = 2; i < rechecks.length; i++) assert.ok(rechecks[i]!.at - rechecks[i - 1]!.at > rechecks[i - 1]!.at - rechecks[i - 2]!.at, 'the intervals grow');
  // a way better by less than the margin is no reason to change
  const close = { flat: 1.0, hooked: (1.0 * (1 + POLLING_MARGIN)) / 2 };
  for (const b of blocks(runs(w, 2 * POLLING_RECHECK_MAX, close), 'hooked')) assert.is(b.length, POLLING_BLOCK);
  // where the machine changes (the kernels now lose more to the poll's core than the sleeps cost), a recheck follows it
  const slow = runs(w, 2 * POLLING_RECHECK_MAX, { flat: 1.5, hooked: 1.1 });
  assert.equal(slow.slice(-POLLING_RECHECK), Array<Polling>(POLLING_RECHECK).fill('hooked'));
  // the first choice leaves the hook only for a way faster by the margin
  const near = after(1);
  last = 'hooked';
  streak = 1;
  const first = runs(near, 2 * POLLING_BLOCK + 10, { flat: 0.99, hooked: 1.0 });
  assert.equal(first.slice(-10), Array<Polling>(10).fill('hooked'));
  // a run that slept is no sample of either way (counted, it would make this one's turn 'hooked' again)
  const slept = after(...Array<number>(POLLING_BLOCK).fill(1));
  slept.record(1, true, 0.1, 'flat');
  assert.is(slept.polling(), 'flat');
});

test.run();
