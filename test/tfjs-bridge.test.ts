// The TensorFlow.js bridge (src/runtime/tfjs) on tfjs-webgpu's own device (Dawn on lavapipe in CI):
// - KD (examples/mnist-kd/kd.yaml): loss, terms and the student's weight gradients equal the float64 CPU oracle's
//   (tdc run's executor) pushed through tfjs's backward; the hooked tensors and labels come from where tfjs keeps them;
// - ATLoss on NHWC conv maps (at.yaml): the numbers are torchdistill's on the NCHW tensor (oracle on the transposed maps);
// - gradients handed to tfjs are tfjs's own (a later step does not change them); no tensor leaks across steps;
// - diagnostics: a missing module path names it and lists the layers; an explicit path → layer map; tfjs on 'cpu'.
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as tfjs from '@tensorflow/tfjs';
import { compileCriterion, loadConfigFile, resolveConfig, runStageOnCpu, type InputShapes, type KernelPlan, type SafeTensor, type StageIR } from '../src/index.js';
import { GpuInputError } from 'tdc-runtime';
import { TfjsBackendError, TfjsDistiller, TfjsLayerError, TfjsStageError } from 'tdc-runtime/tfjs';
import { gradExcess } from './helpers/golden.js';
import { tfjsOnDawn } from './helpers/tfjs-dawn.js';

const REQUIRE = process.env['TDC_REQUIRE_GPU'] === '1';
const LOSS_RTOL = 1e-5; // the GPU golden tolerances (test/golden-gpu.test.ts)
const GRAD_RTOL = 1e-4;

let tf: typeof tfjs | undefined;
try {
  tf = await tfjsOnDawn();
} catch (e) {
  const msg = `tfjs-webgpu unavailable: ${(e as Error).message}`;
  if (REQUIRE) throw new Error(`${msg} (TDC_REQUIRE_GPU=1)`);
  console.log(`\n!!!!!!!! tfjs-bridge SKIPPED — ${msg}\n`);
}

async function stageOf(file: string, shapes: InputShapes = new Map()): Promise<{ stage: StageIR; plan: KernelPlan }> {
  const { config } = loadConfigFile(file);
  const { ir } = resolveConfig(config);
  const r = await compileCriterion(ir, { configFile: file, moduleName: 'x', workgroupSize: 8, shapes, glue: false });
  assert.ok(r.stages.length === 1, JSON.stringify(r.diagnostics));
  return { stage: ir.stages[0]!, plan: r.stages[0]!.plan };
}

const sym = (s: string) => ({ sym: s });
const AT_SHAPES: InputShapes = new Map([
  ['student/conv2/output', { shape: [sym('N'), sym('A'), sym('H'), sym('W')], dtype: 'float' as const }],
  ['teacher/conv2/output', { shape: [sym('N'), sym('B'), sym('H'), sym('W')], dtype: 'float' as const }],
]);

function cnn(t: typeof tfjs, name: string, c1: number, c2: number, seed: number): tfjs.Sequential {
  const m = t.sequential({ name });
  const init = (k: number) => t.initializers.glorotUniform({ seed: seed * 10 + k });
  m.add(t.layers.conv2d({ inputShape: [12, 12, 1], filters: c1, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: init(1) }));
  m.add(t.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(t.layers.conv2d({ filters: c2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2', kernelInitializer: init(2) }));
  m.add(t.layers.flatten({ name: 'flatten' }));
  m.add(t.layers.dense({ units: 10, name: 'fc', kernelInitializer: init(3) }));
  return m;
}

function batch(t: typeof tfjs, n: number, seed: number): { x: tfjs.Tensor4D; y: Int32Array } {
  const x = t.randomUniform([n, 12, 12, 1], 0, 1, 'float32', seed) as tfjs.Tensor4D;
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  return { x, y };
}

// (dataSync needs OffscreenCanvas under tfjs-webgpu in Node: every read here is async)
const f32 = async (t: tfjs.Tensor): Promise<SafeTensor> => ({ dtype: 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array });
const values = async (t: tfjs.Tensor): Promise<Float32Array> => Float32Array.from((await t.data()) as Float32Array);

/**
 * The oracle's numbers for one step: run the models in tfjs to get the hooked tensors (NHWC maps transposed to
 * NCHW), evaluate the stage on the float64 CPU executor, then push its input gradients back through tfjs's
 * backward (as NHWC) to the student's weights.
 */
async function oracleStep(t: typeof tfjs, stage: StageIR, student: tfjs.LayersModel, teacher: tfjs.LayersModel, hooks: string[], x: tfjs.Tensor, y: Int32Array) {
  const sFeat = t.model({ inputs: student.inputs, outputs: hooks.map((h) => (h === '.' ? student.outputs[0]! : (student.getLayer(h).output as tfjs.SymbolicTensor))) });
  const tFeat = t.model({ inputs: teacher.inputs, outputs: hooks.map((h) => (h === '.' ? teacher.outputs[0]! : (teacher.getLayer(h).output as tfjs.SymbolicTensor))) });
  const nchw = (v: tfjs.Tensor) => (v.rank === 4 ? t.transpose(v, [0, 3, 1, 2]) : v);
  const tensors = new Map<string, SafeTensor>([['targets', { dtype: 'I32', shape: [y.length], data: y }]]);
  const [so, to] = t.tidy(() => [
    ([sFeat.predict(x)].flat() as tfjs.Tensor[]).map(nchw),
    ([tFeat.predict(x)].flat() as tfjs.Tensor[]).map(nchw),
  ]);
  for (let i = 0; i < hooks.length; i++) {
    tensors.set(`student/${hooks[i]}/output`, await f32(so![i]!));
    tensors.set(`teacher/${hooks[i]}/output`, await f32(to![i]!));
  }
  t.dispose([...so!, ...to!]);
  const { result, diagnostics } = runStageOnCpu(stage, tensors);
  assert.ok(result, JSON.stringify(diagnostics));
  const vars = student.trainableWeights.map((w) => w.read() as tfjs.Variable);
  const { grads } = t.variableGrads(() => {
    const outs = [sFeat.apply(x, { training: true })].flat() as tfjs.Tensor[];
    let sum = t.scalar(0);
    hooks.forEach((h, i) => {
      const g = result!.grads.get(`student/${h}/output`);
      if (!g) return;
      let dy = t.tensor(Float32Array.from(g.data), g.shape);
      if (dy.rank === 4) dy = t.transpose(dy, [0, 2, 3, 1]);
      sum = t.add(sum, t.sum(t.mul(outs[i]!, dy)));
    });
    return sum as tfjs.Scalar;
  }, vars);
  const host: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(grads)) host[k] = await values(v);
  t.dispose(grads);
  return { loss: result!.loss, terms: Object.fromEntries(Object.entries(result!.terms).map(([k, v]) => [k, v.value])), grads: host };
}

function close(got: number, want: number, what: string): void {
  const rel = Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);
  assert.ok(rel <= LOSS_RTOL, `${what}: ${got} vs oracle ${want} (rel ${rel.toExponential(2)})`);
}

async function checkAgainstOracle(file: string, shapes: InputShapes, hooks: string[]) {
  const t = tf!;
  const { stage, plan } = await stageOf(file, shapes);
  const student = cnn(t, 'student', 3, 4, 1);
  const teacher = cnn(t, 'teacher', 6, 8, 2);
  const d = await TfjsDistiller.create(t, { plan }, { student, teacher });
  const { x, y } = batch(t, 6, 3);
  const want = await oracleStep(t, stage, student, teacher, hooks, x, y);
  const got = await d.step(x, y);
  close(got.loss, want.loss, 'loss');
  for (const [k, v] of Object.entries(want.terms)) close(got.terms[k]!, v, `term ${k}`);
  assert.equal(Object.keys(got.grads!).sort(), Object.keys(want.grads).sort());
  for (const [k, g] of Object.entries(got.grads!)) {
    const e = gradExcess(await values(g), want.grads[k]!, GRAD_RTOL, GRAD_RTOL);
    assert.ok(e <= 1, `grad ${k}: ${e.toFixed(2)}× the tolerance`);
  }
  t.dispose(got.grads!);
  x.dispose();
  d.dispose();
  return got;
}

test('KD (kd.yaml): loss, term and weight gradients equal the CPU oracle through tfjs backward; labels uploaded, logits bound on the GPU', async () => {
  if (!tf) return;
  const got = await checkAgainstOracle('examples/mnist-kd/kd.yaml', new Map(), ['.']);
  assert.equal(got.inputs, { targets: 'cpu', 'student/./output': 'gpu', 'teacher/./output': 'gpu' });
});

test('ATLoss on tfjs NHWC conv maps (at.yaml): torchdistill numbers on the NCHW tensor', async () => {
  if (!tf) return;
  const got = await checkAgainstOracle('examples/mnist-kd/at.yaml', AT_SHAPES, ['.', 'conv2']);
  assert.ok(got.terms['at_loss']! > 0 && got.terms['ce']! > 0);
});

test('gradients handed to tfjs are tfjs-owned: the next step does not overwrite them; no tensor leaks across steps', async () => {
  if (!tf) return;
  const t = tf;
  const { plan } = await stageOf('examples/mnist-kd/at.yaml', AT_SHAPES);
  const student = cnn(t, 'student', 3, 4, 1);
  const teacher = cnn(t, 'teacher', 6, 8, 2);
  const d = await TfjsDistiller.create(t, { plan }, { student, teacher });
  const b1 = batch(t, 6, 1);
  const b2 = batch(t, 6, 2);
  const r1 = await d.step(b1.x, b1.y);
  const before: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(r1.grads!)) before[k] = await values(v);
  const r2 = await d.step(b2.x, b2.y);
  for (const [k, v] of Object.entries(r1.grads!)) assert.equal(Array.from(await values(v)), Array.from(before[k]!), `grad ${k} changed`);
  const fc = Object.keys(r2.grads!).find((k) => /^fc\/kernel/.test(k))!; // tfjs uniquifies names: fc/kernel_3
  assert.not.equal(Array.from(await values(r2.grads![fc]!)), Array.from(before[fc]!), 'the second step has its own gradients');
  t.dispose([r1.grads!, r2.grads!]);

  // steady state: the same number of tensors after every step, with an optimizer and without (grads disposed)
  const withOpt = await TfjsDistiller.create(t, { plan }, { student, teacher, optimizer: t.train.adam(1e-3) });
  const counts: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await (i % 2 ? withOpt : d).step(i % 2 ? b1.x : b2.x, i % 2 ? b1.y : b2.y);
    if (r.grads) t.dispose(r.grads);
    assert.ok(Number.isFinite(r.loss));
    counts.push(t.memory().numTensors);
  }
  assert.ok(counts.slice(2).every((c) => c === counts[1] || c === counts[2]), `tf.memory().numTensors across steps: ${counts.join(', ')}`);
  assert.is(counts[5], counts[3], `numTensors grows: ${counts.join(', ')}`);
  assert.is(counts[4], counts[2], `numTensors grows: ${counts.join(', ')}`);
  withOpt.dispose();
  d.dispose();
  t.dispose([b1.x, b2.x]);
});

test('a module path that names no layer: the path and the model’s layers in the message; an explicit map fixes it', async () => {
  if (!tf) return;
  const t = tf;
  const { plan } = await stageOf('examples/mnist-kd/at.yaml', AT_SHAPES);
  const student = cnn(t, 'student', 3, 4, 1);
  const teacher = t.sequential({ name: 'renamed' });
  teacher.add(t.layers.conv2d({ inputShape: [12, 12, 1], filters: 5, kernelSize: 3, padding: 'same', name: 'block2_conv' }));
  teacher.add(t.layers.flatten({ name: 'flat' }));
  teacher.add(t.layers.dense({ units: 10, name: 'logits' }));
  try {
    await TfjsDistiller.create(t, { plan }, { student, teacher });
    assert.unreachable('created');
  } catch (e) {
    assert.instance(e, TfjsLayerError);
    const m = (e as Error).message;
    assert.match(m, "teacher module path 'conv2'");
    assert.match(m, 'block2_conv, flat, logits');
  }
  // the explicit map; conv2 is then [N, 5, 12, 12] against the student's [N, 4, 6, 6]: H/W differ, a shape error at step time
  const d = await TfjsDistiller.create(t, { plan }, { student, teacher, layers: { teacher: { conv2: 'block2_conv' } } });
  assert.equal(d.reads.teacher, ['teacher/conv2/output']);
  const { x, y } = batch(t, 4, 1);
  const n = t.memory().numTensors;
  try {
    await d.step(x, y);
    assert.unreachable('stepped');
  } catch (e) {
    assert.match((e as Error).message, /H|W/);
  }
  assert.is(t.memory().numTensors, n, 'a failed step leaks no tensors');
  d.dispose();
  x.dispose();
});

/** The KD stage on the two test CNNs, and a batch of 6. */
async function kdDistiller(t: typeof tfjs, optimizer?: tfjs.Optimizer) {
  const { plan } = await stageOf('examples/mnist-kd/kd.yaml');
  const student = cnn(t, 'student', 3, 4, 1);
  const teacher = cnn(t, 'teacher', 6, 8, 2);
  const d = await TfjsDistiller.create(t, { plan }, { student, teacher, ...(optimizer ? { optimizer } : {}) });
  return { d, student, ...batch(t, 6, 1) };
}

/** `step` rejects with an instance of `cls` whose message matches. */
async function rejects(step: () => Promise<unknown>, cls: new (...args: never[]) => Error, message: string | RegExp): Promise<void> {
  try {
    await step();
    assert.unreachable('stepped');
  } catch (e) {
    assert.instance(e, cls);
    assert.match((e as Error).message, message);
  }
}

test('a criterion input error inside tfjs’s tape (a class index out of range): a typed error, no tensor leaked, no update applied', async () => {
  if (!tf) return;
  const t = tf;
  const { d, student, x, y } = await kdDistiller(t, t.train.sgd(0.1));
  await d.step(x, y); // the optimizer's own state made
  const weights = async () => Promise.all(student.trainableWeights.map(async (w) => Array.from(await (w.read() as tfjs.Tensor).data())));
  const before = await weights();
  const n = t.memory().numTensors;
  for (const bad of [10, -1]) {
    await rejects(() => d.step(x, Int32Array.from(y, (v, i) => (i === 3 ? bad : v))), GpuInputError, `'targets' element 3 is ${bad}`);
    assert.is(t.memory().numTensors, n, `a failed step leaks no tensors (label ${bad})`);
  }
  assert.equal(await weights(), before, 'the failed steps changed no weight');
  const r = await d.step(x, y);
  assert.ok(Number.isFinite(r.loss), 'the next step runs');
  d.dispose();
  x.dispose();
});

test('labels tfjs computed on the GPU are checked like host labels; float labels that are no integers are refused, not truncated', async () => {
  if (!tf) return;
  const t = tf;
  const { d, x, y } = await kdDistiller(t);
  const want = await d.step(x, y);
  t.dispose(want.grads!);
  // int32 labels made by a tfjs kernel live in a GPUBuffer: the same loss as the host labels
  const onGpu = (shift: number) => t.tidy(() => t.cast(t.add(t.tensor1d(Array.from(y, (v) => v - 5)), t.fill([y.length], shift)), 'int32'));
  const same = onGpu(5);
  const got = await d.step(x, same);
  assert.is(got.loss, want.loss);
  t.dispose(got.grads!);
  const floats = t.tensor1d(Array.from(y));
  const fromFloats = await d.step(x, floats);
  assert.is(fromFloats.loss, want.loss, 'float labels holding integers are class indices');
  t.dispose(fromFloats.grads!);
  const n = t.memory().numTensors;
  const outOfRange = onGpu(10); // 5..14 against 10 classes
  const fractional = t.tensor1d(Array.from(y, (v) => v + 0.5));
  // 1.7 has no exact float32: shown as written, not as the float32's float64 digits (1.7000000476837158)
  const inexact = t.tensor1d(Array.from(y, (v) => v + 0.7));
  for (const [labels, message] of [
    [outOfRange, /'targets' element \d+ is 1\d: a class index must lie in \[0, 10\)/],
    [fractional, /'targets' element 0 is 1\.5, not a 32-bit integer/],
    [inexact, /'targets' element 0 is 1\.7, not a 32-bit integer/],
  ] as const)
    await rejects(() => d.step(x, labels), GpuInputError, message);
  assert.is(t.memory().numTensors, n + 3, 'the failed steps leak no tensors');
  t.dispose([same, floats, outOfRange, fractional, inexact, x]);
  d.dispose();
});

test('a disposed or non-tensor input is a TfjsStageError naming it; grads outlive a tf.tidy around step()', async () => {
  if (!tf) return;
  const t = tf;
  const { d, x, y } = await kdDistiller(t);
  const gone = t.randomUniform([6, 12, 12, 1]);
  gone.dispose();
  const goneLabels = t.tensor1d(y, 'int32');
  goneLabels.dispose();
  const cases: [() => Promise<unknown>, string][] = [
    [() => d.step(gone as tfjs.Tensor4D, y), "'x' is a disposed tensor"],
    [() => d.step([x, gone] as tfjs.Tensor[], y), "'x[1]' is a disposed tensor"],
    [() => d.step(x, goneLabels), "'targets' is a disposed tensor"],
    [() => d.step(new Float32Array(6 * 144) as unknown as tfjs.Tensor, y), "'x' is a Float32Array, not a tf.Tensor"],
    [() => d.step(x, 'abc' as unknown as Int32Array), "'targets' is 'abc', not a tf.Tensor"],
    [() => d.step([[1, 2]] as unknown as tfjs.Tensor[], y), "'x[0]' is an Array, not a tf.Tensor"],
  ];
  for (const [step, message] of cases) await rejects(step, TfjsStageError, message);
  // step() is async: a tf.tidy around the call ends while it runs; the gradients it returns are the caller's still
  let pending: Promise<{ grads?: Record<string, tfjs.Tensor> }> | undefined;
  t.tidy(() => {
    pending = d.step(x, y);
  });
  const r = await pending!;
  for (const [k, g] of Object.entries(r.grads!)) assert.not.ok(g.isDisposed, `grad ${k} was disposed by the tidy`);
  t.dispose(r.grads!);
  d.dispose();
  x.dispose();
});

test('a student with no trainable weight (trainable = false): a TfjsStageError, not tfjs’s variableGrads error', async () => {
  if (!tf) return;
  const t = tf;
  const { d, student, x, y } = await kdDistiller(t);
  student.trainable = false;
  const n = t.memory().numTensors;
  await rejects(() => d.step(x, y), TfjsStageError, "the student model 'student' has no trainable weight");
  assert.is(t.memory().numTensors, n, 'the refused step leaks no tensors');
  student.trainable = true;
  const r = await d.step(x, y);
  assert.ok(Object.keys(r.grads!).length > 0, 'trainable again: gradients');
  t.dispose(r.grads!);
  d.dispose();
  x.dispose();
});

test('a batch the models do not take (NCHW, another image size, rank 3, two inputs for one): a TfjsStageError with the shape expected', async () => {
  if (!tf) return;
  const t = tf;
  const { d, x, y } = await kdDistiller(t);
  const wrong = [t.zeros([6, 1, 12, 12]), t.zeros([6, 28, 28, 1]), t.zeros([6, 12, 12])];
  const n = t.memory().numTensors;
  await rejects(() => d.step(wrong[0]!, y), TfjsStageError, /'x' has shape \[6, 1, 12, 12\]; the student model 'student' takes \[batch, 12, 12, 1\].*NCHW.*tf\.transpose\(x, \[0, 2, 3, 1\]\)/);
  await rejects(() => d.step(wrong[1]!, y), TfjsStageError, "'x' has shape [6, 28, 28, 1]; the student model 'student' takes [batch, 12, 12, 1]");
  await rejects(() => d.step(wrong[2]!, y), TfjsStageError, "'x' has shape [6, 12, 12]; the student model 'student' takes [batch, 12, 12, 1]");
  await rejects(() => d.step([x, x], y), TfjsStageError, "2 input tensors; the student model 'student' takes 1");
  assert.is(t.memory().numTensors, n, 'the refused steps leak no tensors');
  t.dispose([...wrong, x]);
  d.dispose();
});

test('options a Keras user may pass: an optimizer by name, a layout in lower case: refused at create() with a TfjsStageError', async () => {
  if (!tf) return;
  const t = tf;
  const { plan } = await stageOf('examples/mnist-kd/kd.yaml');
  const student = cnn(t, 'student', 3, 4, 1);
  const teacher = cnn(t, 'teacher', 6, 8, 2);
  const create = (opts: object) => () => TfjsDistiller.create(t, { plan }, { student, teacher, ...opts });
  await rejects(create({ optimizer: 'adam' }), TfjsStageError, "`optimizer` is 'adam', not a tfjs optimizer: pass one such as tf.train.adam(1e-3)");
  await rejects(create({ layout: 'nchw' }), TfjsStageError, "`layout` is 'nchw': 'NHWC' (tfjs's conv layers; the default) or 'NCHW'");
});

test('labels shaped like Keras’s ([N, 1] sparse, [N, C] one-hot) where the criterion reads class indices [N]: a TfjsStageError saying how to pass them', async () => {
  if (!tf) return;
  const t = tf;
  const { d, x, y } = await kdDistiller(t);
  const sparse = t.tensor2d(y, [y.length, 1], 'int32');
  const oneHot = t.oneHot(t.tensor1d(y, 'int32'), 10);
  await rejects(() => d.step(x, sparse), TfjsStageError, "'targets' has shape [6, 1]; the criterion reads class indices of shape [N]: pass targets.reshape([-1])");
  await rejects(() => d.step(x, oneHot), TfjsStageError, "'targets' has shape [6, 10]; the criterion reads class indices of shape [N] (one-hot rows? tf.argMax(targets, 1))");
  t.dispose([sparse, oneHot, x]);
  d.dispose();
});

test('a check the criterion makes on the GPU (BCELoss on a student output outside [0, 1]): a GpuInputError, no update applied; later steps run', async () => {
  if (!tf) return;
  const t = tf;
  const { plan } = await stageOf('test/fixtures/tfjs-bridge/bce.yaml');
  const input = t.input({ shape: [4] });
  const dense = (name: string, activation: 'sigmoid' | 'linear') =>
    t.model({ name, inputs: input, outputs: t.layers.dense({ units: 64, activation, name: `${name}_fc`, biasInitializer: t.initializers.constant({ value: 0.5 }) }).apply(input) as tfjs.SymbolicTensor });
  const student = dense('student', 'linear');
  const d = await TfjsDistiller.create(t, { plan }, { student, teacher: dense('teacher', 'sigmoid'), optimizer: t.train.sgd(0.1) });
  const inRange = t.fill([32, 4], 0.01); // outputs ≈ 0.5
  const outOfRange = t.randomUniform([32, 4], -30, 30, 'float32', 1);
  assert.ok(Number.isFinite((await d.step(inRange)).loss));
  const weights = async () => Promise.all(student.trainableWeights.map(async (w) => Array.from(await (w.read() as tfjs.Tensor).data())));
  const before = await weights();
  const n = t.memory().numTensors;
  await rejects(() => d.step(outOfRange), GpuInputError, /'student\/\.\/output' element \d+ is .*binary_cross_entropy: all elements of input should be between 0 and 1/);
  assert.is(t.memory().numTensors, n, 'the failed step leaks no tensors');
  assert.equal(await weights(), before, 'the failed step changed no weight');
  assert.ok(Number.isFinite((await d.step(inRange)).loss), 'the next step runs');
  t.dispose([inRange, outOfRange]);
  d.dispose();
});

test('tfjs on another backend: TfjsBackendError naming it', async () => {
  if (!tf) return;
  const t = tf;
  const { plan } = await stageOf('examples/mnist-kd/kd.yaml');
  await t.setBackend('cpu');
  try {
    const student = cnn(t, 'student', 3, 4, 1);
    await TfjsDistiller.create(t, { plan }, { student, teacher: student });
    assert.unreachable('created');
  } catch (e) {
    assert.instance(e, TfjsBackendError);
    assert.match((e as Error).message, "tfjs runs on its 'cpu' backend");
  } finally {
    await t.setBackend('webgpu');
  }
});

test.after(() => {
  setTimeout(() => process.exit(process.exitCode ?? 0), 10).unref?.();
});

test.run();
