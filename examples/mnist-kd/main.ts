// `npm run example:mnist [-- --quick] [-- --json] [--variant kd|at|both]`: distil a small CNN from a larger one on
// real MNIST digits in Node (tfjs-webgpu on Dawn), with the criterion compiled by tdc from kd.yaml (and at.yaml).
//   1. the teacher: loaded from the checkpoint this program wrote before, else trained with cross-entropy and saved;
//   2. the student alone: cross-entropy, plain tfjs;
//   3. the student with KD: the same start, trained through tdc's criterion (tdc-runtime/tfjs);
//   4. timing: the bridge's step against the same KD loss written in plain tfjs, interleaved, same batches.
// Writes results/curves.svg and results/result.json; --json prints the result object on stdout.
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TfjsDistiller } from 'tdc-runtime/tfjs';
import { TrainCriterion as KdCriterion } from './out/kd/kd.js';
import { TrainCriterion as AtCriterion } from './out/at/at.js';
import { loadWeights, saveWeights } from './checkpoint.js';
import { splitDigits } from './data.js';
import { studentModel, teacherModel } from './models.js';
import { tfjsOnDawn } from './node-tfjs.js';
import { curvesSvg } from './svg.js';
import { accuracy, bridgeStep, crossEntropyStep, tfjsKdStep, timeSteps, trainLoop, type Curve, type LoopOptions } from './train.js';

const here = dirname(fileURLToPath(import.meta.url)); // examples/mnist-kd/dist
const root = dirname(here);
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const option = (f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
const quick = flag('--quick');
const json = flag('--json');
const variant = option('--variant') ?? (quick ? 'kd' : 'both');
if (!['kd', 'at', 'both'].includes(variant)) usage(`--variant must be kd, at or both, not '${variant}'`);
const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);

// kd.yaml: KDLoss temperature 4, alpha 0.5; Adam lr 0.003; batch 64
const TEMPERATURE = 4;
const ALPHA = 0.5;
const BATCH = 64;
const plan = quick
  ? { teacherSteps: 150, studentSteps: 200, evalEvery: 50, rounds: 3, perRound: 3 }
  : { teacherSteps: 250, studentSteps: 500, evalEvery: 50, rounds: 5, perRound: 6 };
const teacherSteps = Number(option('--teacher-steps') ?? plan.teacherSteps);
const studentSteps = Number(option('--steps') ?? plan.studentSteps);

function usage(msg: string): never {
  process.stderr.write(`example:mnist: ${msg}\nusage: npm run example:mnist -- [--quick] [--json] [--variant kd|at|both] [--steps N] [--teacher-steps N] [--retrain-teacher] [--teacher-only]\n`);
  process.exit(2);
}

const tf = await tfjsOnDawn();
const require = createRequire(import.meta.url);
const digits = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] }).data);
const { train, test } = splitDigits(digits);
log(`MNIST (npm mnist): ${train.n} training digits, ${test.n} test digits; tfjs ${tf.version.tfjs} on '${tf.getBackend()}'`);

const loop = (steps: number, seed: number, name: string): LoopOptions => ({
  steps,
  batch: BATCH,
  evalEvery: plan.evalEvery,
  seed,
  onPoint: (p) => log(`  ${name} step ${p.step}: loss ${p.loss.toFixed(4)}, test acc ${p.acc.toFixed(4)}`),
});
const t0 = performance.now();

// 1. teacher
const teacher = teacherModel(tf);
// the checkpoint a previous run wrote (the repository ships the one of a full run), unless --retrain-teacher
const ckpt = join(root, 'checkpoints', 'teacher');
let teacherCurve: Curve | undefined;
const loaded = flag('--retrain-teacher') ? undefined : loadWeights(tf, teacher, ckpt);
let teacherAcc: number;
if (loaded) {
  teacherAcc = await accuracy(tf, teacher, test);
  log(`teacher: loaded ${ckpt}.json (${loaded.steps} steps), test acc ${teacherAcc.toFixed(4)}`);
} else {
  log(`teacher (${teacher.countParams()} weights): training ${teacherSteps} steps`);
  teacherCurve = await trainLoop(tf, teacher, train, test, crossEntropyStep(tf, teacher, tf.train.adam(0.002)), loop(teacherSteps, 10, 'teacher'), 'teacher (CE)');
  teacherAcc = teacherCurve.points.at(-1)!.acc;
  await saveWeights(teacher, ckpt, { steps: teacherSteps, testAcc: teacherAcc });
  log(`teacher: test acc ${teacherAcc.toFixed(4)}, saved ${ckpt}.json`);
}
if (flag('--teacher-only')) process.exit(0);

// 2. student alone
const alone = studentModel(tf);
log(`student (${alone.countParams()} weights) alone: ${studentSteps} steps, cross-entropy in plain tfjs`);
const aloneCurve = await trainLoop(tf, alone, train, test, crossEntropyStep(tf, alone, tf.train.adam(0.003)), loop(studentSteps, 20, 'alone'), 'student alone (CE)');

// 3. student with tdc's criterion
const curves: Curve[] = [aloneCurve];
const result: Record<string, unknown> = { teacher_acc: teacherAcc, student_alone_acc: aloneCurve.points.at(-1)!.acc };
const numTensors: number[] = [];
for (const v of variant === 'both' ? ['kd', 'at'] : [variant]) {
  const student = studentModel(tf);
  const distiller = await TfjsDistiller.create(tf, v === 'kd' ? KdCriterion : AtCriterion, { student, teacher, optimizer: tf.train.adam(0.003) });
  log(`student with ${v === 'kd' ? 'KD (kd.yaml)' : 'CE + AT on conv2 (at.yaml)'} through tdc: ${studentSteps} steps`);
  const step = bridgeStep(distiller);
  const counted: typeof step = async (x, y) => {
    const l = await step(x, y);
    numTensors.push(tf.memory().numTensors);
    return l;
  };
  const c = await trainLoop(tf, student, train, test, counted, loop(studentSteps, 20, v), v === 'kd' ? 'student + KD (tdc)' : 'student + AT (tdc)');
  curves.push(c);
  result[v === 'kd' ? 'student_kd_acc' : 'student_at_acc'] = c.points.at(-1)!.acc;
  distiller.dispose();
}
result['steps'] = studentSteps;
result['teacher_steps'] = loaded ? loaded.steps : teacherSteps;
result['teacher_from_checkpoint'] = Boolean(loaded);

// 4. timing: one training step (teacher forward, student forward + backward, loss, Adam) with tdc's criterion vs
// the same KD loss in plain tfjs; fresh students, interleaved rounds on the same batches
{
  const s1 = studentModel(tf, 3);
  const s2 = studentModel(tf, 3);
  const distiller = await TfjsDistiller.create(tf, KdCriterion, { student: s1, teacher, optimizer: tf.train.adam(0.003) });
  const ms = await timeSteps(
    tf,
    train,
    { tdc: bridgeStep(distiller), tfjs: tfjsKdStep(tf, s2, teacher, tf.train.adam(0.003), TEMPERATURE, ALPHA) },
    plan.rounds,
    plan.perRound,
    BATCH,
  );
  distiller.dispose();
  result['ms_per_step_tdc'] = round(ms['tdc']!);
  result['ms_per_step_tfjs_loss'] = round(ms['tfjs']!);
}
result['num_tensors_first_last'] = [numTensors[0], numTensors.at(-1)];
result['train_digits'] = train.n;
result['test_digits'] = test.n;
result['seconds'] = round((performance.now() - t0) / 1000);
result['device'] = describeAdapter();

const outDir = join(root, 'results');
mkdirSync(outDir, { recursive: true });
if (teacherCurve) curves.unshift(teacherCurve);
const svg = curvesSvg(curves, `MNIST distillation with tdc (${train.n} train / ${test.n} test digits, batch ${BATCH})`);
atomicWrite(join(outDir, quick ? 'curves-quick.svg' : 'curves.svg'), svg);
atomicWrite(join(outDir, quick ? 'result-quick.json' : 'result.json'), JSON.stringify({ ...result, curves }, null, 1));
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  log(
    `teacher ${pct(teacherAcc)}, student alone ${pct(result['student_alone_acc'])}` +
      (result['student_kd_acc'] !== undefined ? `, student + KD ${pct(result['student_kd_acc'])}` : '') +
      (result['student_at_acc'] !== undefined ? `, student + AT ${pct(result['student_at_acc'])}` : ''),
  );
  log(`ms per step: ${result['ms_per_step_tdc']} with tdc's criterion, ${result['ms_per_step_tfjs_loss']} with the loss in plain tfjs`);
  log(`curves: ${join(outDir, quick ? 'curves-quick.svg' : 'curves.svg')}`);
}
process.exit(0); // Dawn's instance keeps the event loop alive

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
function pct(x: unknown): string {
  return `${((x as number) * 100).toFixed(2)}%`;
}
function atomicWrite(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
function describeAdapter(): string {
  const info = (tf.backend() as unknown as { device?: GPUDevice }).device?.adapterInfo;
  return info ? [info.description || info.device, info.vendor, info.architecture].filter(Boolean).join(' / ') : 'unknown';
}
