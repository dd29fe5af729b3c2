// Waiting on a software adapter without taking a core from it (Node only: Atomics.wait blocks the main thread).
//
// Dawn's Node binding learns that work finished by polling: while any of its promises is pending it ticks the
// device in a setImmediate loop, a core kept busy for the whole wait. On a hardware GPU that core is idle
// otherwise; on a software adapter (lavapipe, SwiftShader) the kernels run on the machine's cores, and on a small
// machine the polling thread takes a share of them from the kernels (2 cores: the main thread spun 2 ms per
// 2 ms KD step, one third of the CPU). So while a runtime on a software adapter waits, the main thread sleeps
// SLICE_MS at a time and between two sleeps gives the event loop one turn, in which the binding polls once and
// timers, I/O and other callbacks run: the binding polls once per slice, and a finished wait is seen at most a
// slice late. A short run may skip the throttle and poll flat out, where that measured faster (wait-estimate.ts
// Polling): the sleeps' latency can cost it more than the core the poll takes.

/** How long the main thread sleeps between two turns of the event loop while a wait is pending. Measured on
 *  lavapipe (2 cores, KD+CE 128×1000 step with readback, 2 ms): polling flat out took 2.0 ms of main-thread CPU per
 *  step, sleeping 0.1 ms 1.3 ms, 0.2 ms 0.84 ms, 0.3–0.5 ms no less and slower steps. With 0.2 ms, steps of several
 *  milliseconds ran 1.1–1.5× faster (AT, CRD, SSKD, PKT, DIST), KD's as fast or up to 1.09× faster. */
export const SLICE_MS = 0.2;

/** Node's setImmediate (declared here: the package builds without @types/node; only tdc-runtime/node imports this file). */
declare function setImmediate(callback: () => void): unknown;

/** One event-loop turn: the callbacks queued before it run (Dawn's tick among them), then the awaiting code. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Slows the event loop down to one turn per SLICE_MS while any promise it holds is pending. One per process:
 * runtimes on several devices share it (one sleeping loop, not one per wait).
 */
export class PollThrottle {
  private pending = 0;
  private running = false;
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** Throttles until `p` settles (its result and rejection are not touched: the caller awaits `p` itself). */
  hold(p: Promise<unknown>): void {
    this.pending++;
    const release = (): void => {
      this.pending--;
    };
    p.then(release, release);
    if (!this.running) void this.run();
  }

  /** Waits pending now. */
  get holding(): number {
    return this.pending;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      // a turn first: hold() returns to its caller at once (the submit that follows a wait's start is not delayed)
      await turn();
      while (this.pending > 0) {
        // nothing notifies the cell: each call sleeps the whole slice
        Atomics.wait(this.cell, 0, 0, this.sliceMs);
        await turn();
      }
    } finally {
      this.running = false;
    }
  }
}
