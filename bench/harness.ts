// The timing harness: implementations run side by side in one process, interleaved in rounds (so drift hits
// all of them alike); every step is timed on its own; the median over all timed steps is reported.
import type { KdCase } from './kd-data.js';

// Each implementation's turn starts with one untimed step. A forced full garbage collection there as well was tried
// and dropped: it evened out the row timed right after tfjs at 64×32000 (tfjs's tens of MB of garbage are collected
// in the next turn: that row 13–21 ms against its twins' 11–13 ms), but it made every later small readback in the
// turn slower (--losses: KD 128×1000 with readback 0.94 → 2.29 ms, SRD 0.77 → 1.80 ms). Compare the twins.

export interface StepResult {
  loss: number;
  grad: Float32Array;
  /** The step's time as the implementation measured it (a subprocess times its own step, without the round trip
   *  to it); else the harness times the call. */
  ms?: number;
}

/** One way of computing the KD+CE forward + backward with readback. */
export interface BenchImpl {
  readonly name: string;
  /** Uploads the case (inputs stay resident on the device between steps) and builds what it needs. */
  setup(k: KdCase): Promise<void>;
  /** One forward + backward, loss and full gradient read back to the host. */
  step(): Promise<StepResult>;
  /** Frees what setup made. */
  dispose(): Promise<void> | void;
}

export interface TimingOptions {
  /** Rounds; in each, every implementation runs for about `roundMs` (at least one step, and `minSteps` steps
   *  when they fit in 4 × `roundMs`). */
  rounds: number;
  roundMs: number;
  minSteps: number;
  /** Untimed steps before the first round. */
  warmupSteps: number;
}

export const DEFAULT_TIMING: TimingOptions = { rounds: 7, roundMs: 120, minSteps: 3, warmupSteps: 3 };
export const QUICK_TIMING: TimingOptions = { rounds: 2, roundMs: 30, minSteps: 2, warmupSteps: 1 };

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-step times (ms) of each implementation, interleaved in rounds. Implementations must be set up. */
export async function timeImpls(impls: readonly BenchImpl[], opts: TimingOptions, now: () => number = () => performance.now()): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(impls.map((i) => [i.name, []]));
  for (const impl of impls) for (let i = 0; i < opts.warmupSteps; i++) await impl.step();
  for (let r = 0; r < opts.rounds; r++) {
    for (const impl of impls) {
      const ts = times.get(impl.name)!;
      await impl.step();
      const start = now();
      // About roundMs of steps, and at least minSteps unless they take over 4× roundMs (slow baselines).
      for (let steps = 0; steps === 0 || now() - start < opts.roundMs || (steps < opts.minSteps && now() - start < 4 * opts.roundMs); steps++) {
        const t0 = now();
        const r = await impl.step();
        ts.push(r.ms ?? now() - t0);
      }
    }
  }
  return times;
}
