// TensorFlow.js's WebGPU backend computing the same KD+CE loss and d L / d s (tf.valueAndGrad), on the same
// Dawn instance and adapter as tdc. Node workarounds (perf-anchors.md §1): import the union package
// `@tensorflow/tfjs` (its node bundle registers every gradient), then the WebGPU backend; read GPU tensors
// with `await t.data()` (dataSync needs OffscreenCanvas); use tf.cast rather than chained ops.
/// <reference types="@webgpu/types" />
import type { BenchImpl, StepResult } from './harness.js';
import { ALPHA, TEMPERATURE, type KdCase } from './kd-data.js';

type Tf = typeof import('@tensorflow/tfjs');

let tfReady: Promise<Tf> | undefined;

/** Loads tfjs and switches it to its WebGPU backend on `gpu` (a create() object from `webgpu`). */
export function loadTfWebGpu(gpu: GPU, globals: object): Promise<Tf> {
  tfReady ??= (async () => {
    for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav) {
      if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    } else (globalThis as { navigator?: unknown }).navigator = { gpu };
    const tf = (await import('@tensorflow/tfjs')) as Tf;
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    if (tf.getBackend() !== 'webgpu') throw new Error(`tfjs runs on '${tf.getBackend()}', not webgpu`);
    return tf;
  })();
  return tfReady;
}

export class TfjsKd implements BenchImpl {
  readonly name = 'tfjs-webgpu';
  private state: { s: import('@tensorflow/tfjs').Tensor2D; t: import('@tensorflow/tfjs').Tensor2D; y: import('@tensorflow/tfjs').Tensor2D } | undefined;

  constructor(private readonly tf: Tf) {}

  async setup(k: KdCase): Promise<void> {
    const tf = this.tf;
    this.dispose();
    const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(k.targets, 'int32'), k.c), 'float32') as import('@tensorflow/tfjs').Tensor2D);
    this.state = { s: tf.tensor2d(k.student, [k.n, k.c]), t: tf.tensor2d(k.teacher, [k.n, k.c]), y };
    await Promise.all([this.state.s.data(), this.state.t.data(), y.data()]); // resident before timing
  }

  async step(): Promise<StepResult> {
    const tf = this.tf;
    const { s, t, y } = this.state!;
    const n = s.shape[0];
    const T = TEMPERATURE;
    const lossOf = (x: import('@tensorflow/tfjs').Tensor): import('@tensorflow/tfjs').Scalar => {
      const ce = tf.losses.softmaxCrossEntropy(y, x); // mean over the batch
      const logq = tf.logSoftmax(tf.div(x, T));
      const logp = tf.logSoftmax(tf.div(t, T));
      const kl = tf.div(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq))), n);
      return tf.add(tf.mul(ce, ALPHA), tf.mul(kl, (1 - ALPHA) * T * T)) as import('@tensorflow/tfjs').Scalar;
    };
    const { value, grad } = tf.valueAndGrad(lossOf)(s);
    try {
      const [lv, gv] = await Promise.all([value.data(), grad.data()]);
      return { loss: lv[0]!, grad: gv as Float32Array };
    } finally {
      value.dispose();
      grad.dispose();
    }
  }

  dispose(): void {
    if (!this.state) return;
    this.state.s.dispose();
    this.state.t.dispose();
    this.state.y.dispose();
    this.state = undefined;
  }
}
