// Bounds on compile-time evaluation of spec programs, checked before anything is allocated: a config value
// (`max_p: 1000000000`) or a spec (`range(1e9)`, nested loops, `x = x + x` doubling) ends in a diagnostic
// within bounded time and memory instead of exhausting them.
import type { EvalContext } from './context.js';
import { fail } from './context.js';
import { C } from './codes.js';
import { render, type Value } from './values.js';

const LIMITS = {
  /** Elements of one compile-time list (range(), list literals and concatenation). */
  listLength: 100_000,
  /** Characters of one compile-time string. */
  stringLength: 1_000_000,
  /** Loop iterations plus function calls of one term's evaluation. */
  steps: 1_000_000,
} as const;

/** Fails unless a list of `n` elements is allowed; call before building it. */
export function checkListLength(ctx: EvalContext, n: number, what: string): void {
  if (!(n <= LIMITS.listLength))
    fail(ctx, C.limit, `${what} would have ${Number.isFinite(n) ? n.toLocaleString('en-US') : n} elements; compile-time lists hold at most ${LIMITS.listLength.toLocaleString('en-US')}`);
}

/** Fails unless a string of `n` characters is allowed; call before building it. */
export function checkStringLength(ctx: EvalContext, n: number, what: string): void {
  if (n > LIMITS.stringLength) fail(ctx, C.limit, `${what} would be ${n.toLocaleString('en-US')} characters; compile-time strings hold at most ${LIMITS.stringLength.toLocaleString('en-US')}`);
}

/**
 * Counts one loop iteration or call (or one node of a value walked by `what`, such as ==); fails once the term's
 * evaluation exceeds the step budget.
 */
export function step(ctx: EvalContext, what?: string): void {
  if (++ctx.steps > LIMITS.steps)
    fail(
      ctx,
      C.limit,
      what === undefined
        ? `evaluation takes more than ${LIMITS.steps.toLocaleString('en-US')} steps (loop iterations and calls); loops this long cannot be unrolled at compile time`
        : `evaluation takes more than ${LIMITS.steps.toLocaleString('en-US')} steps: ${what}`,
    );
}

/** The text of a compile-time value for `str()`: fails (TDC414) when it would exceed the string limit, without building it. */
export function showWithinLimit(ctx: EvalContext, v: Value, what: string): string {
  const r = render(v, LIMITS.stringLength);
  if (!r.complete)
    fail(ctx, C.limit, `${what} would be more than ${LIMITS.stringLength.toLocaleString('en-US')} characters; compile-time strings hold at most ${LIMITS.stringLength.toLocaleString('en-US')}`);
  return r.text;
}
