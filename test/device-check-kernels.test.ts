// The runtime's device-check kernels come from the compiler's kernel IR and printer (src/codegen/wgsl/
// device-check-kernels.ts) inside the plan (KernelPlan.checkKernels); the runtime carries no WGSL and imports no
// compiler code. Here: the IR under the interpreter records what src/runtime/device-checks.ts's contract says
// (first bad element, its value's bits, the owner index), the plan carries exactly the kernels its checks need,
// the runtime refuses a plan that lists checks without their kernels, and no source file outside the printer
// holds WGSL text. (The kernels on the GPU, through PlanExecutor: safety-runtime.test.ts and ctc.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkPlan, CHECK_PARAMS, CHECK_WORKGROUP_SIZE, NO_ERROR, PlanError, type KernelPlan } from 'tdc-runtime';
import { DEVICE_CHECKS, deviceCheckKernels } from '../src/codegen/wgsl/device-check-kernels.js';
import { interpretCheck } from '../src/codegen/kernel-ir/interpret.js';
import { printCheckModule } from '../src/codegen/wgsl/print-check.js';
import { ROOT } from './helpers/cli.js';

const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

/** Run `main` then `offending_value` of a check over x with the runtime's params for one check in slot 0 of 1. */
function run(kind: 'index' | 'factor' | 'unit', x: Int32Array | Uint32Array, n: number, extra: { size?: number; ignore?: number } = {}): Uint32Array {
  const flags = new Uint32Array(3).fill(NO_ERROR);
  const groups = Math.max(1, Math.ceil(n / CHECK_WORKGROUP_SIZE));
  const params = { n, size: extra.size ?? 0, ignore: extra.ignore ?? 0, has_ignore: extra.ignore === undefined ? 0 : 1, slot: 0, row: groups * CHECK_WORKGROUP_SIZE, values_at: 1 };
  assert.equal(Object.keys(params).sort(), CHECK_PARAMS.map((p) => p.name).sort(), 'the test sets every contract field');
  interpretCheck(DEVICE_CHECKS[kind], 'main', { params, x, flags, groups: [groups, 1] });
  interpretCheck(DEVICE_CHECKS[kind], 'offending_value', { params, x, flags, groups: [1, 1] });
  return flags;
}

test('index check (IR under the interpreter): first element outside [0, size) that is not ignore, its value, its owner', () => {
  const x = Int32Array.from({ length: 200 }, (_, k) => k % 10);
  assert.equal([...run('index', x, 200, { size: 10 })], [NO_ERROR, NO_ERROR, NO_ERROR]);
  x[150] = -100;
  x[70] = 10;
  x[99] = -1;
  assert.equal([...run('index', x, 200, { size: 10, ignore: -100 })], [70, 10, 70]);
  x[70] = 3;
  assert.equal([...run('index', x, 200, { size: 10, ignore: -100 })], [99, -1 >>> 0, 99]);
  assert.equal([...run('index', x, 200, { size: 10 })], [99, -1 >>> 0, 99], 'without ignore, -100 at 150 comes after -1 at 99');
  x[99] = 0;
  assert.equal([...run('index', x, 200, { size: 10 })], [150, -100 >>> 0, 150]);
  assert.equal([...run('index', x, 150, { size: 10 })], [NO_ERROR, NO_ERROR, NO_ERROR], 'elements past n are not checked');
});

test('factor check: the first diagonal entry (matrix · size + j) that is not positive and finite, with its bits', () => {
  const size = 3;
  const count = 40;
  const x = new Uint32Array(count * size * size);
  for (let m = 0; m < count; m++) for (let j = 0; j < size; j++) x[m * size * size + j * size + j] = bitsOf(1 + j);
  assert.equal([...run('factor', x, count * size, { size })], [NO_ERROR, NO_ERROR, NO_ERROR]);
  for (const [bad, at] of [[NaN, 31 * 3 + 2], [-0, 30 * 3 + 1], [Infinity, 25 * 3], [0, 21 * 3 + 2]] as const) {
    const m = Math.floor(at / size);
    const j = at % size;
    x[m * size * size + j * size + j] = bitsOf(bad);
    const flags = run('factor', x, count * size, { size });
    assert.equal([flags[0], flags[2]], [at, at], `${bad} at matrix ${m}, entry ${j}`);
    assert.is(flags[1], bitsOf(bad));
  }
});

test('unit check: the first element outside [0, 1] or NaN (−0 allowed), with its bits', () => {
  const x = Uint32Array.from({ length: 130 }, (_, k) => bitsOf(k / 129));
  x[5] = bitsOf(-0);
  assert.equal([...run('unit', x, 130)], [NO_ERROR, NO_ERROR, NO_ERROR]);
  x[128] = bitsOf(NaN);
  x[100] = bitsOf(1.0000001);
  assert.equal([...run('unit', x, 130)], [100, bitsOf(1.0000001), 100]);
  x[100] = bitsOf(-1e-30);
  assert.equal([...run('unit', x, 130)], [100, bitsOf(-1e-30), 100]);
  x[100] = bitsOf(1);
  assert.equal([...run('unit', x, 130)], [128, bitsOf(NaN), 128]);
});

test('a plan carries the printed kernels of exactly the checks it lists; the runtime refuses one without them', () => {
  const none = deviceCheckKernels({});
  assert.is(none, undefined);
  const some = deviceCheckKernels({ indexInputs: [{ input: 'targets', size: 10 }], unitInputs: [{ input: 'p', message: 'm' }] })!;
  assert.equal(Object.keys(some).sort(), ['index', 'unit']);
  assert.is(some.index, printCheckModule(DEVICE_CHECKS.index));
  assert.match(some.index!, /@compute @workgroup_size\(64\)\nfn main\(@builtin\(global_invocation_id\) gid: vec3<u32>\)/);
  assert.match(some.unit!, /fn offending_value\(\)/);
  const plan: KernelPlan = {
    symbols: [],
    inputs: [],
    buffers: [{ id: 0, name: 'out_scalars', dtype: 'f32', length: 1, role: 'output' }],
    kernels: [],
    outputs: { scalars: { buffer: 0, loss: 0, terms: [] }, grads: [] },
    indexInputs: [{ input: 'targets', size: 10 }],
  };
  assert.throws(() => checkPlan(plan), (e: unknown) => e instanceof PlanError && /carries no checkKernels\.index/.test((e as Error).message));
  plan.checkKernels = some;
  checkPlan(plan);
});

/** Every .ts file under `dir` (build output excluded). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'dist' || f === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

test('the only WGSL text is produced by the printer: no WGSL declarations in any source file outside src/codegen/wgsl/print*', () => {
  // the same as: grep -rnE "@compute|var<(storage|uniform|workgroup)|\bfn [A-Za-z_][A-Za-z0-9_]*\(|@workgroup_size|@builtin" src --include=*.ts --exclude-dir=dist | grep -v "^src/codegen/wgsl/print"
  const wgsl = /@compute|var<(storage|uniform|workgroup)|\bfn [A-Za-z_][A-Za-z0-9_]*\(|@workgroup_size|@builtin/;
  const files = sources(join(ROOT, 'src'));
  assert.ok(files.length > 100);
  const found = files
    .filter((f) => !/^src\/codegen\/wgsl\/print[^/]*\.ts$/.test(relative(ROOT, f)))
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, k) => (wgsl.test(line) ? [`${relative(ROOT, f)}:${k + 1}: ${line.trim()}`] : [])),
    );
  assert.equal(found, []);
  // and the printer does print them (the pattern is not vacuous)
  assert.ok(wgsl.test(printCheckModule(DEVICE_CHECKS.unit)));
});

test.run();
