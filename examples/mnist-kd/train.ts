// The example's training loops, shared by the Node program (main.ts) and the browser page (page.ts): a model
// trained alone with cross-entropy in plain tfjs, a student trained through tdc's criterion (the bridge), and
// the same KD loss written in plain tfjs, used to time the bridge against it.
import type * as tfjs from '@tensorflow/tfjs';
import type { TfjsDistiller } from 'tdc-runtime/tfjs';
import { batchOf, shuffled, SIDE, type Digits } from './data.js';

type Tf = typeof tfjs;

export interface CurvePoint {
  step: number;
  /** Mean training loss over the steps since the previous point. */
  loss: number;
  /** Accuracy on the held-out test digits. */
  acc: number;
}

export interface Curve {
  name: string;
  points: CurvePoint[];
}

export interface LoopOptions {
  steps: number;
  batch: number;
  /** Record a curve point (test accuracy) every this many steps, and after the last. */
  evalEvery: number;
  seed: number;
  /** Called with each new point (live plots). */
  onPoint?: (p: CurvePoint) => void;
  /** Test digits per forward pass when evaluating (default 500). */
  evalBatch?: number;
}

/** One training step of some kind on a batch; returns the loss. */
export type StepFn = (x: tfjs.Tensor4D, y: Int32Array) => Promise<number>;

/** Runs `step` over shuffled batches of `train` (reshuffled each epoch), evaluating `model` on `test`. */
export async function trainLoop(tf: Tf, model: tfjs.LayersModel, train: Digits, test: Digits, step: StepFn, o: LoopOptions, name: string): Promise<Curve> {
  const curve: Curve = { name, points: [] };
  let order = shuffled(train.n, o.seed);
  let pos = 0;
  let epoch = 0;
  let sum = 0;
  let count = 0;
  for (let s = 1; s <= o.steps; s++) {
    if (pos + o.batch > train.n) {
      order = shuffled(train.n, o.seed + ++epoch);
      pos = 0;
    }
    const b = batchOf(train, order, pos, o.batch);
    pos += o.batch;
    const x = tf.tensor4d(b.x, [b.n, SIDE, SIDE, 1]);
    try {
      sum += await step(x, b.y);
      count++;
    } finally {
      x.dispose();
    }
    if (s % o.evalEvery === 0 || s === o.steps) {
      const p = { step: s, loss: sum / count, acc: await accuracy(tf, model, test, o.evalBatch) };
      curve.points.push(p);
      o.onPoint?.(p);
      sum = 0;
      count = 0;
    }
  }
  return curve;
}

/** Fraction of `set` that `model` classifies correctly. */
export async function accuracy(tf: Tf, model: tfjs.LayersModel, set: Digits, batch = 500): Promise<number> {
  let correct = 0;
  for (let i = 0; i < set.n; i += batch) {
    const n = Math.min(batch, set.n - i);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(set.x.subarray(i * SIDE * SIDE, (i + n) * SIDE * SIDE), [n, SIDE, SIDE, 1]);
      return tf.argMax(model.predict(x) as tfjs.Tensor, 1);
    });
    const p = (await pred.data()) as Int32Array;
    pred.dispose();
    for (let j = 0; j < n; j++) if (p[j] === set.y[i + j]) correct++;
  }
  return correct / set.n;
}

/** Cross-entropy training in plain tfjs (the teacher, and the student without a teacher). */
export function crossEntropyStep(tf: Tf, model: tfjs.LayersModel, optimizer: tfjs.Optimizer): StepFn {
  return async (x, y) => {
    const loss = optimizer.minimize(
      () => {
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
        return tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tfjs.Tensor) as tfjs.Scalar;
      },
      true,
      model.trainableWeights.map((w) => w.read() as tfjs.Variable),
    )!;
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
}

/** A step through tdc's criterion: the bridge runs the teacher, the student, tdc's kernels and the optimizer. */
export function bridgeStep(distiller: TfjsDistiller): StepFn {
  return async (x, y) => (await distiller.step(x, y)).loss;
}

/**
 * The KD loss of kd.yaml written in plain tfjs — torchdistill's KDLoss with reduction 'batchmean':
 * α·CE(s, y) + (1−α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) / N — trained the same way (teacher in inference mode).
 */
export function tfjsKdStep(tf: Tf, student: tfjs.LayersModel, teacher: tfjs.LayersModel, optimizer: tfjs.Optimizer, temperature: number, alpha: number): StepFn {
  return async (x, y) => {
    const t = tf.tidy(() => teacher.apply(x, { training: false }) as tfjs.Tensor2D);
    const loss = optimizer.minimize(
      () => {
        const s = student.apply(x, { training: true }) as tfjs.Tensor2D;
        const n = s.shape[0];
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
        const ce = tf.losses.softmaxCrossEntropy(labels, s);
        const logq = tf.logSoftmax(tf.div(s, temperature));
        const logp = tf.logSoftmax(tf.div(t, temperature));
        const kl = tf.div(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq))), n);
        return tf.add(tf.mul(ce, alpha), tf.mul(kl, (1 - alpha) * temperature * temperature)) as tfjs.Scalar;
      },
      true,
      student.trainableWeights.map((w) => w.read() as tfjs.Variable),
    )!;
    t.dispose();
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
}

/** Median milliseconds per step of each StepFn, interleaved in rounds on the same batches (after one warm-up step each). */
export async function timeSteps(tf: Tf, train: Digits, fns: Record<string, StepFn>, rounds: number, perRound: number, batch: number): Promise<Record<string, number>> {
  const order = shuffled(train.n, 99);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  const batches = Array.from({ length: perRound }, (_, i) => batchOf(train, order, i * batch, batch));
  const run = async (fn: StepFn, b: { x: Float32Array; y: Int32Array; n: number }) => {
    const x = tf.tensor4d(b.x, [b.n, SIDE, SIDE, 1]);
    try {
      const t0 = performance.now();
      await fn(x, b.y);
      return performance.now() - t0;
    } finally {
      x.dispose();
    }
  };
  for (const fn of Object.values(fns)) await run(fn, batches[0]!);
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(fns)) for (const b of batches) times[k]!.push(await run(fn, b));
  return Object.fromEntries(Object.entries(times).map(([k, ts]) => [k, median(ts)]));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
