// The browser page (page.html): the same distillation, live. tfjs on navigator.gpu's WebGPU, tdc's criterion on
// tfjs's device through tdc-runtime/tfjs, the loss and test-accuracy curves redrawn after every evaluation.
// Built by `node examples/mnist-kd/build-page.mjs` (esbuild); served by `node examples/mnist-kd/serve.mjs`.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { TfjsDistiller } from 'tdc-runtime/tfjs';
import { TrainCriterion as KdCriterion } from './out/kd/kd.js';
import { splitDigits } from './data.js';
import { studentModel, teacherModel } from './models.js';
import { curvesSvg } from './svg.js';
import { accuracy, bridgeStep, crossEntropyStep, trainLoop, type Curve } from './train.js';

const params = new URLSearchParams(location.search);
const STEPS = Number(params.get('steps') ?? 200);
const TEACHER_STEPS = Number(params.get('teacher-steps') ?? 150);
/** Small evaluation batches: one long dispatch can trip the browser's GPU watchdog (SwiftShader). */
const EVAL_BATCH = Number(params.get('eval-batch') ?? 50);
const status = document.getElementById('status')!;
const plot = document.getElementById('plot')!;
const say = (s: string) => {
  status.textContent = s;
  console.log(s);
};
const curves: Curve[] = [];
const redraw = () => (plot.innerHTML = curvesSvg(curves, 'MNIST distillation with tdc, live'));

async function loadTeacher(model: tf.LayersModel): Promise<boolean> {
  try {
    const meta = (await (await fetch('checkpoints/teacher.json')).json()) as { weights: { name: string; shape: number[] }[] };
    const all = new Float32Array(await (await fetch('checkpoints/teacher.bin')).arrayBuffer());
    let off = 0;
    const ws = meta.weights.map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      return tf.tensor(all.subarray(off, (off += n)), w.shape);
    });
    model.setWeights(ws);
    tf.dispose(ws);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('this browser has no WebGPU (tfjs could not start its webgpu backend)');
  await tf.ready();
  say('loading digits…');
  const digits = await Promise.all(Array.from({ length: 10 }, async (_, d) => ((await (await fetch(`digits/${d}.json`)).json()) as { data: number[] }).data));
  const { train, test } = splitDigits(digits);
  const result: Record<string, number> = {};
  /** Loop options whose points extend `c` on the plot as they arrive. */
  const live = (c: Curve, steps: number, seed: number) => ({
    steps,
    batch: 64,
    evalEvery: 25,
    evalBatch: EVAL_BATCH,
    seed,
    onPoint: (p: Curve['points'][number]) => {
      c.points.push(p);
      if (!curves.includes(c)) curves.push(c);
      redraw();
      say(`${c.name}: step ${p.step}, loss ${p.loss.toFixed(4)}, test acc ${p.acc.toFixed(4)}`);
    },
  });

  const teacher = teacherModel(tf);
  if (await loadTeacher(teacher)) say('teacher: loaded the checkpoint');
  else {
    const c: Curve = { name: 'teacher (CE)', points: [] };
    await trainLoop(tf, teacher, train, test, crossEntropyStep(tf, teacher, tf.train.adam(0.002)), live(c, TEACHER_STEPS, 10), c.name);
  }
  result['teacher_acc'] = await accuracy(tf, teacher, test, EVAL_BATCH);

  for (const kind of ['alone', 'kd'] as const) {
    const student = studentModel(tf);
    const c: Curve = { name: kind === 'alone' ? 'student alone (CE)' : 'student + KD (tdc)', points: [] };
    const distiller = kind === 'kd' ? await TfjsDistiller.create(tf, KdCriterion, { student, teacher, optimizer: tf.train.adam(0.003) }) : undefined;
    const step = distiller ? bridgeStep(distiller) : crossEntropyStep(tf, student, tf.train.adam(0.003));
    await trainLoop(tf, student, train, test, step, live(c, STEPS, 20), c.name);
    result[kind === 'alone' ? 'student_alone_acc' : 'student_kd_acc'] = c.points.at(-1)!.acc;
    distiller?.dispose();
  }
  say(`done: ${JSON.stringify(result)}`);
  (window as unknown as { tdcResult: unknown }).tdcResult = result;
}

main().catch((e: unknown) => {
  say(`failed: ${e instanceof Error ? e.message : String(e)}`);
  (window as unknown as { tdcResult: unknown }).tdcResult = { error: String(e) };
});
