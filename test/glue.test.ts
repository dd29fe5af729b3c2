// Generated glue: deterministic, type-checks under strict NodeNext (with a consumer whose @ts-expect-error
// lines prove the input/term/grad types are exact), and runs on the GPU with the same results as PlanExecutor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { emitGlue, GlueError } from '../src/codegen/glue/index.js';
import { GpuInputError, GpuRuntime, PlanExecutor, type NonFinite, type TensorInput } from 'tdc-runtime/node';
import { tinyPlan } from './fixtures/tiny-plan.js';
import { typecheckStrict } from './helpers/typecheck-glue.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPTS = { moduleName: 'tiny', configFile: 'configs/tiny.yaml', tdcVersion: '0.0.0-test' };

/** A scratch dir inside the repo's dist/ so it inherits "type": "module" and node_modules. */
function scratch(): string {
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  return mkdtempSync(join(REPO, 'dist', 'tmp-glue-'));
}

const CONSUMER = `
import { openGpu } from 'tdc-runtime/node';
import { TrainCriterion, EvalCriterion, type TrainInputs } from './tiny.js';

export async function demo(): Promise<number> {
  const rt = await openGpu();
  const c = await TrainCriterion.create(rt);
  const x = { shape: [2, 3], data: new Float32Array(6) };
  const inputs: TrainInputs = { student: { '.': { output: x } }, teacher: { '.': { output: { shape: [2, 3], data: new Float64Array(6) } } } };
  const targets = { shape: [2], data: new BigInt64Array(2) };
  const a = await c.forward(inputs, targets);
  const g1: GPUBuffer = a.grads.student['.'].output;
  const b = await c.forward(inputs, targets, { readback: true });
  const g2: Float32Array = b.grads.student['.'].output;
  // the next readback into the same arrays (typed like the gradients; undefined on the first step)
  let loop: Awaited<ReturnType<typeof c.forward>> | undefined;
  for (let i = 0; i < 2; i++) loop = await c.forward(inputs, targets, { readback: true, into: loop?.grads });
  const g3: Float32Array = loop!.grads.student['.'].output;
  // @ts-expect-error: into takes host arrays, not GPUBuffers
  await c.forward(inputs, targets, { readback: true, into: a.grads });
  // readback known only at run time (a boolean, not a literal): either result
  const readBack: boolean = g1.size > 0;
  const either = await c.forward(inputs, targets, { readback: readBack, into: loop?.grads });
  const g4: Float32Array | GPUBuffer = either.grads.student['.'].output;
  // @ts-expect-error: a run-time readback may have left the gradients on the device
  const notKnown: Float32Array = either.grads.student['.'].output;
  const literalFalse: GPUBuffer = (await c.forward(inputs, targets, { readback: false })).grads.student['.'].output;
  const t: number = b.loss + b.terms.half_sq + b.terms.mean_row;
  const bad: 'loss' | 'term' | 'model_term' | 'grad' | 'state' | undefined = a.nonfinite[0]?.kind;
  // @ts-expect-error: the non-finite list is read-only
  b.nonfinite.push({ kind: 'loss', nan: 1, posInf: 0, negInf: 0, size: 1 });
  const d = await c.dispatch(inputs, targets);
  const s: GPUBuffer = d.scalars;
  // @ts-expect-error: no such io
  void inputs.student['.'].outptu;
  // @ts-expect-error: targets are integers
  await c.forward(inputs, { shape: [2], data: new Float32Array(2) });
  // @ts-expect-error: no such term
  void b.terms.kd;
  // @ts-expect-error: the teacher gets no gradient
  void b.grads.teacher;
  // @ts-expect-error: readback gradients are not GPUBuffers
  const wrong: GPUBuffer = b.grads.student['.'].output;
  const e = await EvalCriterion.create(rt.device);
  // @ts-expect-error: this stage's module path is 'layer4.1', and it takes no targets argument
  await e.forward({ student: { layer4: { output: x } } }, targets);
  const r = await e.forward({ student: { 'layer4.1': { output: x } }, model_loss: { loss: { shape: [], data: new Float32Array(1) } } });
  // @ts-expect-error: stage 'train' has no model term
  void b.modelTerm;
  c.destroy();
  return (bad ? 1 : 0) + g2.length + g3.length + (g4 === notKnown ? 1 : 0) + literalFalse.size + t + (g1 === d.grads.student['.'].output ? 1 : 0) + s.size + wrong.size + r.terms.half_sq + r.modelTerm;
}
`;

/** A second stage: different paths, a model_loss input, no targets. */
function evalPlan() {
  const p = tinyPlan();
  p.inputs = [
    { name: 'student/layer4.1/output', shape: p.inputs[0]!.shape, dtype: 'float', buffer: 0 },
    { name: 'model_loss/loss', shape: [], dtype: 'float', buffer: 1 },
  ];
  p.outputs.grads = [{ input: 'student/layer4.1/output', buffer: 3, shape: p.outputs.grads[0]!.shape }];
  p.outputs.scalars.modelTerm = { index: 2, weight: 0.5 };
  return p;
}

test('glue is deterministic and names stages, WGSL constants and plans', async () => {
  const stages = [
    { stage: 'train', plan: tinyPlan() },
    { stage: 'eval', plan: evalPlan() },
  ];
  const a = await emitGlue(stages, OPTS);
  const b = await emitGlue(stages, OPTS);
  assert.is(a, b);
  assert.match(a, /^\/\/ tiny\.ts — generated by tdc 0\.0\.0-test from configs\/tiny\.yaml/);
  assert.match(a, /from 'tdc-runtime';/);
  for (const name of ['TrainCriterion', 'EvalCriterion', 'TrainInputs', 'EvalInputs', 'TRAIN_K0_ROW_WGSL', 'EVAL_K1_SUM_WGSL', 'TRAIN_PLAN', 'EVAL_PLAN'])
    assert.match(a, new RegExp(`\\b${name}\\b`), name);
  assert.ok(a.includes(tinyPlan().kernels[0]!.wgsl), 'WGSL inlined verbatim');
  assert.ok(a.includes("'layer4.1'"));
});

test('clashing tensor names are a GlueError', async () => {
  const p = tinyPlan();
  p.inputs.push({ name: 'student/./output/0', shape: [], dtype: 'float', buffer: 1 });
  try {
    await emitGlue([{ stage: 'train', plan: p }], OPTS);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, GlueError);
  }
});

test('generated glue type-checks (strict, NodeNext, erasable syntax only) and its types are exact', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'tiny.ts'), await emitGlue([
      { stage: 'train', plan: tinyPlan() },
      { stage: 'eval', plan: evalPlan() },
    ], OPTS));
    writeFileSync(join(dir, 'use.ts'), CONSUMER);
    const text = typecheckStrict([join(dir, 'tiny.ts'), join(dir, 'use.ts')], dir);
    assert.is(text, '', text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('glue of stages without integer inputs imports no IntTensor (a consumer with noUnusedLocals accepts it)', async () => {
  // stages reading no targets (CE on model_loss, BERT's GLUE samples, detection stages): the glue must not import
  // a type it never names, or a project with noUnusedLocals (Vite's TypeScript template) fails `tsc` on it
  const dir = scratch();
  try {
    const src = await emitGlue([{ stage: 'eval', plan: evalPlan() }], OPTS);
    assert.not.match(src, /\bIntTensor\b/);
    writeFileSync(join(dir, 'tiny.ts'), src);
    writeFileSync(join(dir, 'use.ts'), `import { EvalCriterion } from './tiny.js';\nexport const plan = EvalCriterion.plan;\n`);
    const text = typecheckStrict([join(dir, 'tiny.ts'), join(dir, 'use.ts')], dir);
    assert.is(text, '', text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('generated glue runs on the GPU and matches PlanExecutor', async () => {
  const dir = scratch();
  const rt = await GpuRuntime.open();
  try {
    const runtimeUrl = import.meta.resolve('tdc-runtime');
    const src = await emitGlue([{ stage: 'train', plan: tinyPlan() }], { ...OPTS, runtimeImport: runtimeUrl });
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(dir, 'tiny.mjs'), js);
    const glue = (await import(pathToFileURL(join(dir, 'tiny.mjs')).href)) as {
      TrainCriterion: {
        create(rt: GpuRuntime): Promise<{
          forward(i: unknown, t: unknown, o?: { readback: boolean; into?: unknown }): Promise<{ loss: number; terms: Record<string, number>; grads: any; nonfinite: NonFinite[] }>;
          destroy(): void;
        }>;
      };
    };
    const n = 3;
    const c = 7;
    const s = { shape: [n, c], data: Float32Array.from({ length: n * c }, (_, i) => Math.sin(i)) };
    const t = { shape: [n, c], data: Float32Array.from({ length: n * c }, (_, i) => Math.cos(i)) };
    const y = { shape: [n], data: Int32Array.of(1, -100, 4) };
    const crit = await glue.TrainCriterion.create(rt);
    const viaGlue = await crit.forward({ student: { '.': { output: s } }, teacher: { '.': { output: t } } }, y, { readback: true });
    const exec = await PlanExecutor.create(rt, tinyPlan());
    const direct = await exec.run(new Map<string, TensorInput>([['student/./output', s], ['teacher/./output', t], ['targets', y]]), { readback: true });
    assert.is(viaGlue.loss, direct.loss);
    assert.equal(viaGlue.terms, direct.terms);
    assert.equal(viaGlue.grads.student['.'].output, direct.grads.get('student/./output'));
    // readback into the caller's arrays: the same arrays come back, holding what a fresh readback holds
    const mine = new Float32Array(n * c).fill(7);
    const viaInto = await crit.forward({ student: { '.': { output: s } }, teacher: { '.': { output: t } } }, y, { readback: true, into: { student: { '.': { output: mine } } } });
    assert.ok(viaInto.grads.student['.'].output === mine, 'the array given in into is the one returned');
    assert.equal(mine, direct.grads.get('student/./output'));
    assert.is(viaInto.loss, direct.loss);
    try {
      await crit.forward({ student: { '.': { output: s } }, teacher: { '.': { output: t } } }, y, { readback: true, into: { student: { '.': { output: new Float32Array(5) } } } });
      assert.unreachable('an into array of the wrong length must be refused');
    } catch (e) {
      assert.instance(e, GpuInputError);
      assert.match((e as Error).message, /must be a Float32Array of 21 elements/);
    }
    const onDevice = await crit.forward({ student: { '.': { output: s } }, teacher: { '.': { output: t } } }, y);
    assert.is(onDevice.loss, direct.loss);
    assert.ok(typeof onDevice.grads.student['.'].output.mapAsync === 'function', 'gradient is a GPUBuffer');
    assert.equal(viaGlue.nonfinite, []);
    assert.equal(onDevice.nonfinite, []);
    // nonfinite is scanned when first read (a loop that never reads it does not pay a scan of every gradient), from
    // the arrays as they are then, and kept: a NaN written into a clean step's gradient before the first read is
    // named; later writes are not (computed when the step returns, as before, the list would be empty)
    const lazy = await crit.forward({ student: { '.': { output: s } }, teacher: { '.': { output: t } } }, y, { readback: true });
    const lg = lazy.grads.student['.'].output as Float32Array;
    lg[3] = NaN;
    const lazyParts = lazy.nonfinite;
    assert.equal(lazyParts, [{ kind: 'grad', name: 'student/./output', nan: 1, posInf: 0, negInf: 0, size: n * c }]);
    lg[4] = Infinity;
    assert.is(lazy.nonfinite, lazyParts, 'read once, then kept');
    assert.equal((JSON.parse(JSON.stringify(lazy)) as { nonfinite: unknown }).nonfinite, lazyParts, 'serialised with the result');

    // a NaN in the student's output propagates as in torch and is named (the CLI's "nonfinite" list, same shape)
    const sNaN = { shape: [n, c], data: Float32Array.from(s.data) };
    sNaN.data[c + 2] = NaN;
    const inputsNaN = { student: { '.': { output: sNaN } }, teacher: { '.': { output: t } } };
    const withNaN = await crit.forward(inputsNaN, y, { readback: true });
    assert.ok(Number.isNaN(withNaN.loss), `loss ${withNaN.loss}`);
    const g = withNaN.grads.student['.'].output as Float32Array;
    const gNaN = g.filter((v) => Number.isNaN(v)).length;
    assert.ok(gNaN > 0, 'the gradient has NaNs');
    const termsNaN = Object.entries(withNaN.terms).filter(([, v]) => Number.isNaN(v)).map(([k]) => k);
    assert.ok(termsNaN.length > 0, JSON.stringify(withNaN.terms));
    assert.equal(withNaN.nonfinite, [
      { kind: 'loss', nan: 1, posInf: 0, negInf: 0, size: 1, value: 'NaN' },
      ...termsNaN.map((name) => ({ kind: 'term', name, nan: 1, posInf: 0, negInf: 0, size: 1, value: 'NaN' })),
      { kind: 'grad', name: 'student/./output', nan: gNaN, posInf: 0, negInf: 0, size: n * c },
    ]);
    // gradients left on the device are not looked at: only the scalars are listed
    const scalarsOnly = await crit.forward(inputsNaN, y);
    assert.equal(scalarsOnly.nonfinite, withNaN.nonfinite.filter((p) => p.kind !== 'grad'));
    crit.destroy();
    exec.destroy();
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('glue inputs that are no tensor (a bare typed array, a number, an Array, null) and unknown nested keys are GpuInputErrors naming them', async () => {
  const dir = scratch();
  const rt = await GpuRuntime.open();
  try {
    const src = await emitGlue([{ stage: 'train', plan: tinyPlan() }], { ...OPTS, runtimeImport: import.meta.resolve('tdc-runtime') });
    writeFileSync(join(dir, 'tiny.mjs'), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText);
    const glue = (await import(pathToFileURL(join(dir, 'tiny.mjs')).href)) as {
      TrainCriterion: { create(rt: GpuRuntime): Promise<{ forward(i: unknown, t: unknown, o?: { readback: boolean; into?: unknown }): Promise<{ loss: number }>; destroy(): void }> };
    };
    const s = { shape: [3, 7], data: new Float32Array(21).fill(0.5) };
    const y = { shape: [3], data: Int32Array.of(1, 2, 3) };
    const crit = await glue.TrainCriterion.create(rt);
    const io = (student: unknown, teacher: unknown = { '.': { output: s } }, extra: object = {}) => ({ student: { '.': { output: student } }, teacher, ...extra });
    const refused = async (inputs: unknown, targets: unknown, message: string, opts?: { readback: boolean; into?: unknown }) => {
      try {
        await crit.forward(inputs, targets, opts);
        assert.unreachable(`must be refused: ${message}`);
      } catch (e) {
        assert.instance(e, GpuInputError, String(e));
        assert.ok((e as Error).message.includes(message), `${(e as Error).message}\n  should say: ${message}`);
      }
    };
    const form = (shape: string, data: string) => `expected { shape: ${shape}, data: ${data} }`;
    // targets: the form the plan reads, not "an invalid shape undefined" (a typed array has a `buffer` of its own)
    await refused(io(s), new Int32Array(3), `'targets' is an Int32Array, not a tensor: ${form('[N]', 'Int32Array')} (that array as data)`);
    await refused(io(s), 3, `'targets' is a number (3), not a tensor: ${form('[N]', 'Int32Array')}`);
    await refused(io(s), [1, 2, 3], `'targets' is an Array, not a tensor: ${form('[N]', 'Int32Array')} (data: Int32Array.from(array))`);
    await refused(io(s), null, `'targets' is null, not a tensor: ${form('[N]', 'Int32Array')}`);
    await refused(io(s), { data: Int32Array.of(1, 2, 3) }, `'targets' has an invalid shape undefined: expected [N], an Array of non-negative integers`);
    // nested inputs alike
    await refused(io(new Float32Array(21)), y, `'student/./output' is a Float32Array, not a tensor: ${form('[N, C]', 'Float32Array')} (that array as data)`);
    await refused(io(2), y, `'student/./output' is a number (2), not a tensor: ${form('[N, C]', 'Float32Array')}`);
    await refused(io([0.5, 0.5]), y, `'student/./output' is an Array, not a tensor: ${form('[N, C]', 'Float32Array')} (data: Float32Array.from(array))`);
    await refused(io(null), y, `'student/./output' is null, not a tensor: ${form('[N, C]', 'Float32Array')}`);
    // a whole level null, or the inputs argument itself: named, not "missing input 'student/./output'"
    await refused({ student: { '.': null }, teacher: { '.': { output: s } } }, y, `'student/.' is null, not an object of the tensors under it (it should hold 'student/./output')`);
    await refused({ student: null, teacher: { '.': { output: s } } }, y, `'student' is null, not an object of the tensors under it (it should hold 'student/./output')`);
    await refused(null, y, `the inputs must be an object of nested tensors (inputs.student['.'].output), got null`);
    // an unknown key anywhere in the nesting is refused with the closest input, as an unknown flat name is
    await refused(io(s, { '.': { output: s, outptu: s } }), y, `unknown input 'teacher/./outptu' (did you mean 'teacher/./output'?)`);
    await refused(io(s, { '.': { output: s }, fc: { output: s } }), y, `unknown input 'teacher/fc/output'`);
    await refused(io(s, undefined, { techer: { '.': { output: s } } }), y, `unknown input 'techer/./output' (did you mean 'teacher/./output'?)`);
    await refused(io(s, undefined, { extra: {} }), y, `unknown input 'extra'`);
    await refused(io(s), y, `'student/./outptu' is not a gradient of this plan (did you mean 'student/./output'?`, { readback: true, into: { student: { '.': { outptu: new Float32Array(21) } } } });
    assert.ok(Number.isFinite((await crit.forward(io(s), y)).loss), 'the criterion still runs');
    crit.destroy();
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
