// The throttle a Node runtime on a software adapter waits under (src/runtime/poll-throttle.ts): while it holds a
// pending promise, the event loop turns at most once per SLICE_MS (the main thread sleeps in between), so a
// binding polling in a setImmediate loop — as Dawn's does — polls that often instead of flat out; it stops with the
// last promise it holds, and what the promises resolve or reject to is the awaiting code's, untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PollThrottle, SLICE_MS } from '../src/runtime/poll-throttle.js';

/** A setImmediate loop like Dawn's poller, counting its turns until stopped. */
function spinner(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let on = true;
  const spin = (): void => {
    turns++;
    if (on) setImmediate(spin);
  };
  setImmediate(spin);
  return { turns: () => turns, stop: () => (on = false) };
}

const after = <T>(ms: number, v: T): Promise<T> => new Promise((r) => setTimeout(() => r(v), ms));

test('while a promise is held, the event loop turns at most once per slice; the value passes through', async () => {
  const throttle = new PollThrottle();
  const s = spinner();
  const t0 = performance.now();
  const p = after(40, 'done');
  throttle.hold(p);
  assert.is(throttle.holding, 1);
  assert.is(await p, 'done');
  const elapsed = performance.now() - t0;
  const turns = s.turns();
  s.stop();
  // each turn follows a sleep of SLICE_MS that nothing cuts short (Atomics.wait on a cell no one notifies): a bound
  // that holds however slow the machine is (polling flat out turns thousands of times in 40 ms)
  assert.ok(turns <= elapsed / SLICE_MS + 2, `${turns} turns in ${elapsed.toFixed(1)} ms`);
  assert.ok(turns >= 1);
});

test('a rejection reaches the awaiting code only (no unhandled rejection from the throttle); several holds share one loop', async () => {
  const throttle = new PollThrottle();
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const bad = new Promise((_, reject) => setTimeout(() => reject(new Error('device lost')), 10));
    const good = after(20, 7);
    throttle.hold(bad);
    throttle.hold(good);
    assert.is(throttle.holding, 2);
    await bad.then(
      () => assert.unreachable('resolved'),
      (e: unknown) => assert.match(String(e), /device lost/),
    );
    assert.is(await good, 7);
    await after(5, undefined);
    assert.is(throttle.holding, 0);
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('with nothing held the loop stops: the event loop turns freely again', async () => {
  const throttle = new PollThrottle();
  throttle.hold(after(5, 0));
  await after(10, 0);
  assert.is(throttle.holding, 0);
  // a loop still sleeping would make these turns take TURNS · SLICE_MS at least; free, they take far less
  const TURNS = 1000;
  const t0 = performance.now();
  for (let i = 0; i < TURNS; i++) await new Promise((r) => setImmediate(r));
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < TURNS * SLICE_MS, `${TURNS} turns took ${elapsed.toFixed(1)} ms`);
});

test.run();
