// GPU runtime on a real adapter (lavapipe in CI): a tiny hand-written plan through PlanExecutor, input
// validation, readback modes, buffer reuse, device loss, and WGSL validation on Dawn's null backend.
// No adapter is a FAILURE here, not a skip: CI must provide one (Mesa lavapipe).
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { tinyPlan } from './fixtures/tiny-plan.js';
import {
  GpuDeviceLostError,
  GpuInputError,
  GpuOptionsError,
  GpuRuntime,
  GpuTimeoutError,
  GpuValidationError,
  NoWebGpuAdapterError,
  PlanError,
  PlanExecutor,
  dawnOptions,
  deadline,
  withTimeout,
  type TensorInput,
} from 'tdc-runtime/node';
import { GpuRuntime as BrowserGpuRuntime } from 'tdc-runtime';
import { validateWgsl } from '../src/codegen/validate-wgsl.js';
import { READBACK_CHUNK_BYTES } from '../src/runtime/readback.js';
import { FRESH_BYTES } from '../src/runtime/node-host-floats.js';

/** Seeded data: a, b ∈ [-1, 1), y ∈ {-100, 0..9}. */
function data(n: number, c: number, seed = 1) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const a = Float64Array.from({ length: n * c }, rnd);
  const b = Float64Array.from({ length: n * c }, rnd);
  const y = BigInt64Array.from({ length: n }, (_, i) => (i % 4 === 3 ? -100n : BigInt(i % 10)));
  let loss = 0;
  const grad = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let acc = 0;
    for (let j = 0; j < c; j++) {
      const v = Math.fround(a[r * c + j]!) + Math.fround(b[r * c + j]!);
      grad[r * c + j] = v;
      acc += 0.5 * v * v;
    }
    loss += acc + Number(y[r]);
  }
  return { a, b, y, loss, grad };
}

function inputsOf(d: ReturnType<typeof data>, n: number, c: number): Map<string, TensorInput> {
  return new Map<string, TensorInput>([
    ['student/./output', { dtype: 'F64', shape: [n, c], data: d.a }],
    ['teacher/./output', { dtype: 'float', shape: [n, c], data: d.b }],
    ['targets', { dtype: 'I64', shape: [n], data: d.y }],
  ]);
}

const maxAbsDiff = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
};

async function rejects(p: Promise<unknown>, cls: Function, match?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, cls, `expected ${cls.name}, got ${String(e)}`);
    if (match) assert.match((e as Error).message, match);
    return e as Error;
  }
  assert.unreachable(`expected a ${cls.name} rejection`);
  throw new Error('unreachable');
}

let rt: GpuRuntime | undefined;
let openError: unknown;
try {
  rt = await GpuRuntime.open();
} catch (e) {
  openError = e;
}

test('a WebGPU adapter is available (required: install Mesa lavapipe, e.g. mesa-vulkan-drivers)', () => {
  if (openError instanceof NoWebGpuAdapterError)
    assert.unreachable(`no WebGPU adapter: ${openError.message}\n  hint: ${openError.diagnostic.hint}\n  GPU tests FAIL without an adapter on purpose; they never skip.`);
  if (openError) throw openError;
  assert.ok(rt);
  assert.ok(rt.describe().length > 0);
});

test("opening a Node runtime puts Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, …) where a browser has them, leaving defined names alone", () => {
  const script = [
    "import { GpuRuntime } from 'tdc-runtime/node';",
    'globalThis.GPUMapMode = "mine";',
    'const before = typeof GPUBufferUsage;',
    'const rt = await GpuRuntime.open();',
    'console.log(JSON.stringify({ before, storage: GPUBufferUsage.STORAGE, mapMode: GPUMapMode, shader: typeof GPUShaderStage }));',
    'rt.destroy();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(out, { before: 'undefined', storage: 0x80, mapMode: 'mine', shader: 'function' });
});

test('dawnOptions: options and TDC_WEBGPU_* variables become Dawn create() options', () => {
  assert.equal(dawnOptions({ env: {} }), []);
  assert.equal(dawnOptions({ env: { TDC_WEBGPU_BACKEND: 'vulkan', TDC_WEBGPU_ADAPTER: 'llvmpipe' } }), ['backend=vulkan', 'adapter=llvmpipe']);
  assert.equal(dawnOptions({ backend: 'null', env: { TDC_WEBGPU_BACKEND: 'vulkan' }, enableToggles: ['a', 'b'], disableToggles: ['c'] }), [
    'backend=null',
    'enable-dawn-features=a,b',
    'disable-dawn-features=c',
  ]);
});

test('an unknown backend or adapter is a NoWebGpuAdapterError, not a crash', async () => {
  await rejects(GpuRuntime.open({ backend: 'no-such-backend', env: {} }), NoWebGpuAdapterError, /no-such-backend/);
  await rejects(GpuRuntime.open({ adapter: 'no such adapter', env: {} }), NoWebGpuAdapterError);
});

test('a timeout that is no positive number (TDC_WEBGPU_TIMEOUT_MS or timeoutMs) is a GpuOptionsError (TDC528) at open, not silently the default', async () => {
  for (const v of ['abc', '0', '-1', '0x10', 'Infinity', '1e99', '5ms'])
    await rejects(GpuRuntime.open({ env: { TDC_WEBGPU_TIMEOUT_MS: v } }), GpuOptionsError, new RegExp(`TDC_WEBGPU_TIMEOUT_MS='${v}': expected a positive number of milliseconds`));
  for (const v of [0, -5, NaN, Infinity])
    await rejects(GpuRuntime.open({ timeoutMs: v, env: {} }), GpuOptionsError, /^timeoutMs .*: expected a positive number of milliseconds/);
  await rejects(BrowserGpuRuntime.fromGpu({} as GPU, { timeoutMs: -1 }), GpuOptionsError, /timeoutMs -1/);
  const e = (await rejects(GpuRuntime.open({ env: { TDC_WEBGPU_TIMEOUT_MS: 'abc' } }), GpuOptionsError)) as GpuOptionsError;
  assert.is(e.code, 'TDC528');
  assert.match(e.hint ?? '', /leave it out for the default, 60000 ms/);
  // blank is unset (the default), and a valid value opens
  const ok = await GpuRuntime.open({ env: { TDC_WEBGPU_TIMEOUT_MS: ' ' } });
  assert.is(ok.timeoutMs, 60_000);
  ok.destroy();
  const set = await GpuRuntime.open({ env: { TDC_WEBGPU_TIMEOUT_MS: '2500' } });
  assert.is(set.timeoutMs, 2500);
  set.destroy();
});

test('tiny plan: loss, terms and gradient match a float64 reference (C not a power of two)', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  for (const [n, c] of [
    [3, 10],
    [7, 1000],
    [1, 1],
  ] as const) {
    const d = data(n, c, n * 31 + c);
    const r = await exec.run(inputsOf(d, n, c), { readback: true });
    assert.ok(Math.abs(r.loss - d.loss) <= 1e-5 * Math.max(1, Math.abs(d.loss)), `loss ${r.loss} vs ${d.loss} at ${n}x${c}`);
    assert.equal(r.terms['half_sq'], r.loss);
    assert.ok(Math.abs(r.terms['mean_row']! - d.loss / n) <= 1e-5 * Math.max(1, Math.abs(d.loss / n)));
    const g = r.grads.get('student/./output')!;
    assert.is(g.length, n * c);
    assert.ok(maxAbsDiff(g, d.grad) <= 1e-6, `grad error ${maxAbsDiff(g, d.grad)}`);
  }
  exec.destroy();
});

test('buffers are reused across runs with the same shapes; readback modes', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(4, 33, 7);
  const first = await exec.run(inputsOf(d, 4, 33), { readback: 'none' });
  const second = await exec.run(inputsOf(d, 4, 33), { readback: 'scalars' });
  assert.is(second.device.scalars, first.scalars, 'same scalars buffer');
  assert.is(second.device.grads.get('student/./output'), first.grads.get('student/./output'), 'same gradient buffer');
  assert.ok(Math.abs(second.loss - d.loss) <= 1e-5 * Math.abs(d.loss));
  assert.not.ok('grads' in second, "'scalars' reads no gradients back");
  const smaller = await exec.run(inputsOf(data(2, 33, 8), 2, 33), { readback: 'none' });
  assert.is(smaller.grads.get('student/./output'), first.grads.get('student/./output'), 'smaller shapes reuse the larger buffers');
  assert.is(exec.gradBuffer('student/./output'), first.grads.get('student/./output'));
  assert.is(second.modelTerm, undefined);
  exec.destroy();

  const withModelTerm = tinyPlan();
  withModelTerm.outputs.scalars.modelTerm = { index: 2, weight: 1 };
  const exec2 = await PlanExecutor.create(rt!, withModelTerm);
  const r = await exec2.run(inputsOf(d, 4, 33), { readback: 'scalars' });
  assert.is(r.modelTerm, r.terms['mean_row'], 'the model term is read from its scalar slot');
  exec2.destroy();
});

test("readback 'all' into the caller's arrays: the same arrays come back, filled as a fresh readback; wrong ones are refused", async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(5, 37, 11);
  const fresh = await exec.run(inputsOf(d, 5, 37), { readback: 'all' });
  const mine = new Float32Array(5 * 37).fill(NaN);
  const r = await exec.run(inputsOf(d, 5, 37), { readback: 'all', into: new Map([['student/./output', mine]]) });
  assert.is(r.grads.get('student/./output'), mine, 'the caller array is returned');
  assert.equal(Array.from(mine), Array.from(fresh.grads.get('student/./output')!));
  assert.is(r.loss, fresh.loss);
  await rejects(exec.run(inputsOf(d, 5, 37), { readback: 'all', into: new Map([['student/./output', new Float32Array(5 * 37 - 1)]]) }), GpuInputError, /185 elements/);
  await rejects(exec.run(inputsOf(d, 5, 37), { readback: 'all', into: new Map([['teacher/./output', new Float32Array(5 * 37)]]) }), GpuInputError, /not a gradient of this plan/);
  const after = await exec.run(inputsOf(d, 5, 37), { readback: 'all' });
  assert.equal(Array.from(after.grads.get('student/./output')!), Array.from(mine), 'a refused run leaves the executor usable');
  // without `into`, every run's gradients are arrays of their own (made while the device works)
  assert.is.not(after.grads.get('student/./output'), fresh.grads.get('student/./output'));
  exec.destroy();
});

test("readback 'all' into arrays that share memory (the same array, or overlapping views, for two gradients) is refused: one would overwrite the other", async () => {
  // the tiny plan with a second gradient output (the teacher's: the same buffer, so the same values)
  const plan = tinyPlan();
  plan.outputs.grads.push({ input: 'teacher/./output', buffer: plan.outputs.grads[0]!.buffer, shape: plan.outputs.grads[0]!.shape });
  const exec = await PlanExecutor.create(rt!, plan);
  const d = data(3, 8, 4);
  const fresh = await exec.run(inputsOf(d, 3, 8), { readback: 'all' });
  const mem = new Float32Array(2 * 24 + 4);
  const cases: [string, Float32Array, Float32Array][] = [
    ['the same array', mem.subarray(0, 24), mem.subarray(0, 24)],
    ['overlapping views', mem.subarray(0, 24), mem.subarray(20, 44)],
  ];
  for (const [what, s, t] of cases)
    await rejects(
      exec.run(inputsOf(d, 3, 8), { readback: 'all', into: new Map([['student/./output', s], ['teacher/./output', t]]) }),
      GpuInputError,
      /the arrays for 'student\/\.\/output' and 'teacher\/\.\/output' share memory/,
    ).catch((e: unknown) => assert.unreachable(`${what}: ${String(e)}`));
  // views side by side in one buffer are fine
  const r = await exec.run(inputsOf(d, 3, 8), { readback: 'all', into: new Map([['student/./output', mem.subarray(0, 24)], ['teacher/./output', mem.subarray(24, 48)]]) });
  assert.equal(Array.from(r.grads.get('teacher/./output')!), Array.from(fresh.grads.get('student/./output')!));
  assert.equal(Array.from(r.grads.get('student/./output')!), Array.from(fresh.grads.get('student/./output')!));
  exec.destroy();
});

test('a gradient longer than several readback chunks reads back whole: fresh, into, and again after a smaller run', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  // 1031 x 3001 floats: 12.4 MB, three full 4 MiB chunks and a partial one (cut points inside rows)
  const [n, c] = [1031, 3001];
  assert.ok(4 * n * c > 2.5 * READBACK_CHUNK_BYTES, 'the gradient spans more than two chunks');
  const d = data(n, c, 5);
  const r = await exec.run(inputsOf(d, n, c), { readback: 'all' });
  const g = r.grads.get('student/./output')!;
  assert.is(g.length, n * c);
  assert.ok(maxAbsDiff(g, d.grad) <= 1e-6, `grad error ${maxAbsDiff(g, d.grad)}`);
  assert.ok(Math.abs(r.loss - d.loss) <= 1e-5 * Math.abs(d.loss));
  const mine = new Float32Array(n * c).fill(NaN);
  await exec.run(inputsOf(d, n, c), { readback: 'all', into: new Map([['student/./output', mine]]) });
  assert.equal(mine, g, 'into: the same values');
  // a one-chunk run in between leaves the later chunks' buffers usable
  const small = data(3, 10, 6);
  const rs = await exec.run(inputsOf(small, 3, 10), { readback: 'all' });
  assert.ok(maxAbsDiff(rs.grads.get('student/./output')!, small.grad) <= 1e-6);
  const again = await exec.run(inputsOf(d, n, c), { readback: 'all' });
  assert.equal(again.grads.get('student/./output'), g, 'the large readback again, identical');
  exec.destroy();
});

test("Node runtimes read gradients back into uninitialized arrays (hostFloats), every element written; the browser entry's are zero-filled", async () => {
  assert.ok(rt!.hostFloats, 'GpuRuntime.open sets it');
  assert.ok(GpuRuntime.fromDevice(rt!.device).hostFloats, "tdc-runtime/node's fromDevice sets it");
  assert.is(BrowserGpuRuntime.fromDevice(rt!.device).hostFloats, undefined, "the default entry's fromDevice does not");
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  try {
    // the memory of collected arrays comes back uninitialized: fill the heap with NaN bits, drop them, read back
    for (const [n, c] of [
      [37, 101],
      [300, 997],
    ] as const) {
      for (let k = 0; k < 20; k++) rt!.hostFloats!(n * c).fill(NaN);
      const d = data(n, c, n + c);
      const r = await exec.run(inputsOf(d, n, c), { readback: 'all' });
      const g = r.grads.get('student/./output')!;
      assert.is(g.length, n * c);
      assert.is(g.byteOffset, 0);
      assert.is(g.buffer.byteLength, 4 * n * c, "the array's buffer is its own, of its length");
      assert.ok(maxAbsDiff(g, d.grad) <= 1e-6, `every element written: max error ${maxAbsDiff(g, d.grad)}`);
    }
  } finally {
    exec.destroy();
  }
});

test("Node runtimes' readback arrays come with every page mapped, those of 32 MiB or more read from /dev/zero; a gradient that large reads back whole", async () => {
  // minor page faults of this process (Linux /proc/self/stat, field 10)
  const minorFaults = (): number => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[7]);
  // (large arrays are read from /dev/zero where node:fs comes without an import: process.getBuiltinModule, Node 20.16+)
  const sizes = [(256 << 10) / 4 + 3, ...('getBuiltinModule' in process ? [FRESH_BYTES / 4 + 1024 + 3] : [])];
  for (const n of sizes) {
    const a = rt!.hostFloats!(n);
    const pages = Math.ceil((4 * n) / 4096);
    const before = minorFaults();
    for (let i = 0; i < n; i += 1024) a[i] = 1;
    const faults = minorFaults() - before;
    // a page the array did not have mapped costs one fault here; a few come from other threads
    assert.ok(faults < Math.max(8, pages / 50), `${faults} page faults writing one element in each of the ${pages} pages of a ${4 * n}-byte array`);
  }
  // 2053 x 4099 floats: 33.7 MB, above FRESH_BYTES: every element is the readback's, none of /dev/zero's
  const [n, c] = [2053, 4099];
  assert.ok(4 * n * c > FRESH_BYTES);
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  try {
    const d = data(n, c, 9);
    const g = (await exec.run(inputsOf(d, n, c), { readback: 'all' })).grads.get('student/./output')!;
    assert.is(g.length, n * c);
    assert.is(g.buffer.byteLength, 4 * n * c, "the array's buffer is its own, of its length");
    assert.ok(maxAbsDiff(g, d.grad) <= 1e-6, `every element written: max error ${maxAbsDiff(g, d.grad)}`);
  } finally {
    exec.destroy();
  }
});

test('Node runtimes poll while they wait (busyWaits): runs that sleep through the expected work first read back the same results', async () => {
  assert.is(rt!.busyWaits, true, "tdc-runtime/node's GpuRuntime.open");
  assert.is(GpuRuntime.fromDevice(rt!.device).busyWaits, true, "tdc-runtime/node's fromDevice");
  assert.is(BrowserGpuRuntime.fromDevice(rt!.device).busyWaits, false, "the default entry's fromDevice (browsers wait on events)");
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const [n, c] = [512, 4099]; // a run of several milliseconds on lavapipe: long enough to sleep through
  const inputs = inputsOf(data(n, c, 5), n, c);
  const own = rt!.busyWaits;
  try {
    rt!.busyWaits = false;
    await exec.run(inputs, { readback: 'all' }); // first dispatch of each pipeline: waited kernel by kernel
    const polled = await exec.run(inputs, { readback: 'all' });
    rt!.busyWaits = true;
    for (let i = 0; i < 2; i++) {
      const s = await exec.run(inputs, { readback: 'scalars' });
      assert.is(s.loss, polled.loss, `run ${i}: loss`);
      const r = await exec.run(inputs, { readback: 'all' });
      assert.is(r.loss, polled.loss, `run ${i}: loss with the gradients`);
      assert.equal(Array.from(r.grads.get('student/./output')!), Array.from(polled.grads.get('student/./output')!), `run ${i}: gradient`);
    }
  } finally {
    rt!.busyWaits = own;
    exec.destroy();
  }
});

test('on a software adapter, waits sleep between polls (throttlePolling: default there, off when asked); runs read back the same results', async () => {
  const software = /software|llvmpipe|lavapipe|swiftshader/i.test(rt!.describe());
  assert.is(rt!.waitHook !== undefined, software, `GpuRuntime.open on ${rt!.describe()}`);
  assert.is(GpuRuntime.fromDevice(rt!.device).waitHook !== undefined, software, "tdc-runtime/node's fromDevice");
  assert.is(GpuRuntime.fromDevice(rt!.device, { throttlePolling: false }).waitHook, undefined, 'fromDevice, throttlePolling: false');
  assert.is(BrowserGpuRuntime.fromDevice(rt!.device).waitHook, undefined, "the default entry's fromDevice (browsers wait on events)");
  const plain = await GpuRuntime.open({ throttlePolling: false });
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const other = await PlanExecutor.create(plain, tinyPlan());
  try {
    assert.is(plain.waitHook, undefined, 'GpuRuntime.open, throttlePolling: false');
    const [n, c] = [256, 1031];
    const inputs = inputsOf(data(n, c, 9), n, c);
    const a = await exec.run(inputs, { readback: 'all' });
    const b = await other.run(inputs, { readback: 'all' });
    assert.is(a.loss, b.loss);
    assert.equal(Array.from(a.grads.get('student/./output')!), Array.from(b.grads.get('student/./output')!));
  } finally {
    exec.destroy();
    other.destroy();
    plain.destroy();
  }
});

test("a run whose submit the device refuses (a destroyed input buffer) is this run's GpuValidationError, in every readback mode; the executor stays usable", async () => {
  const device = rt!.device;
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(4, 21, 9);
  const good = inputsOf(d, 4, 21);
  const first = await exec.run(good, { readback: 'all' });
  for (const readback of ['none', 'scalars', 'all'] as const) {
    const a32 = Float32Array.from(d.a);
    const gone = device.createBuffer({ size: a32.byteLength, usage: 0x80 | 0x4 | 0x8 });
    device.queue.writeBuffer(gone, 0, a32);
    gone.destroy();
    const bad = new Map(good);
    bad.set('student/./output', { shape: [4, 21], buffer: gone });
    await rejects(exec.run(bad, { readback }), GpuValidationError, /running the kernel plan/);
    const after = await exec.run(good, { readback: 'all' });
    assert.is(after.loss, first.loss, `${readback}: the next run`);
    assert.equal(Array.from(after.grads.get('student/./output')!), Array.from(first.grads.get('student/./output')!), `${readback}: the next run's gradient`);
  }
  exec.destroy();
});

test('GPUBuffer inputs: STORAGE buffers are bound in place, others copied; bind groups follow the buffers', async () => {
  const device = rt!.device;
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(5, 17, 3);
  const d2 = data(5, 17, 4);
  const upload = (x: Float64Array, usage: number): GPUBuffer => {
    const a32 = Float32Array.from(x);
    const b = device.createBuffer({ size: a32.byteLength, usage });
    device.queue.writeBuffer(b, 0, a32);
    return b;
  };
  const STORAGE = 0x80;
  const COPY_SRC = 0x4;
  const COPY_DST = 0x8;
  const inputs = inputsOf(d, 5, 17);
  const check = async (want: ReturnType<typeof data>, what: string) => {
    const r = await exec.run(inputs, { readback: 'all' });
    assert.ok(Math.abs(r.loss - want.loss) <= 1e-5 * Math.abs(want.loss), `${what}: loss ${r.loss} vs ${want.loss}`);
    assert.ok(maxAbsDiff(r.grads.get('student/./output')!, want.grad) <= 1e-6, `${what}: gradient`);
    return r;
  };
  // copied (COPY_SRC only)
  const copied = upload(d.a, COPY_SRC | COPY_DST);
  inputs.set('student/./output', { shape: [5, 17], buffer: copied });
  await check(d, 'copied');
  // bound in place (STORAGE only: no copy is possible); writes to it between runs are seen by the next run
  const inPlace = upload(d.a, STORAGE | COPY_DST);
  inputs.set('student/./output', { shape: [5, 17], buffer: inPlace });
  await check(d, 'in place');
  device.queue.writeBuffer(inPlace, 0, Float32Array.from(d2.a));
  const d2a = { ...d2, loss: 0, grad: new Float64Array(5 * 17) };
  for (let r = 0; r < 5; r++)
    for (let j = 0; j < 17; j++) {
      const v = Math.fround(d2.a[r * 17 + j]!) + Math.fround(d.b[r * 17 + j]!);
      d2a.grad[r * 17 + j] = v;
      d2a.loss += 0.5 * v * v;
    }
  d2a.loss += d.loss - d.grad.reduce((acc, v) => acc + 0.5 * v * v, 0);
  await check(d2a, 'in place, rewritten');
  // alternating buffers: each run binds the buffer it is given (cached bind groups per buffer set)
  const other = upload(d.a, STORAGE | COPY_DST);
  inputs.set('student/./output', { shape: [5, 17], buffer: other });
  await check(d, 'second in-place buffer');
  inputs.set('student/./output', { shape: [5, 17], buffer: inPlace });
  await check(d2a, 'first in-place buffer again');
  // both float inputs in place, the teacher too
  inputs.set('teacher/./output', { shape: [5, 17], buffer: upload(d.b, STORAGE | COPY_DST) });
  inputs.set('student/./output', { shape: [5, 17], buffer: other });
  await check(d, 'student and teacher in place');
  // the executor's own gradient buffer as an input: it is written by the run, so it is copied in first
  const own = exec.gradBuffer('student/./output')!;
  inputs.set('student/./output', { shape: [5, 17], buffer: own });
  const r = await exec.run(inputs, { readback: 'all' });
  const prev = Float32Array.from(d.grad);
  assert.ok(maxAbsDiff(r.grads.get('student/./output')!, prev.map((v, i) => v + Math.fround(d.b[i]!))) <= 1e-5, 'own gradient buffer as input');
  // neither STORAGE nor COPY_SRC; a STORAGE buffer too small is an input error
  const unusable = device.createBuffer({ size: 5 * 17 * 4, usage: COPY_DST });
  inputs.set('student/./output', { shape: [5, 17], buffer: unusable });
  await rejects(exec.run(inputs, { readback: 'all' }), GpuInputError, /COPY_SRC.*STORAGE/);
  const small = device.createBuffer({ size: 16, usage: STORAGE | COPY_SRC });
  inputs.set('student/./output', { shape: [5, 17], buffer: small });
  await rejects(exec.run(inputs, { readback: 'all' }), GpuInputError, /holds 16 bytes/);
  for (const b of [copied, inPlace, other, unusable, small]) b.destroy();
  exec.destroy();
});

test("inputs bound in place take no device memory of the executor's own; host inputs make (and grow) it at first need", async () => {
  const device = rt!.device;
  const STORAGE = 0x80;
  const COPY_DST = 0x8;
  const resident = (x: Float64Array): GPUBuffer => {
    const a32 = Float32Array.from(x);
    const b = device.createBuffer({ size: a32.byteLength, usage: STORAGE | COPY_DST });
    device.queue.writeBuffer(b, 0, a32);
    return b;
  };
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const check = async (inputs: Map<string, TensorInput>, want: ReturnType<typeof data>, what: string) => {
    const r = await exec.run(inputs, { readback: 'all' });
    assert.ok(Math.abs(r.loss - want.loss) <= 1e-5 * Math.abs(want.loss), `${what}: loss ${r.loss} vs ${want.loss}`);
    assert.ok(maxAbsDiff(r.grads.get('student/./output')!, want.grad) <= 1e-6, `${what}: gradient`);
  };
  const d = data(5, 17, 5);
  const inPlace = inputsOf(d, 5, 17);
  const sBuf = resident(d.a);
  const tBuf = resident(d.b);
  inPlace.set('student/./output', { shape: [5, 17], buffer: sBuf });
  inPlace.set('teacher/./output', { shape: [5, 17], buffer: tBuf });
  await check(inPlace, d, 'both float inputs in place');
  const bound = exec.deviceBytes;
  // the same step with the student as host data: its own buffer appears (5·17 floats, padded to whole vec4 rows at most)
  await check(inputsOf(d, 5, 17), d, 'host inputs');
  const withOwn = exec.deviceBytes - bound;
  assert.ok(withOwn >= 2 * 4 * 5 * 17 && withOwn <= 2 * 4 * 5 * 20, `two float inputs' own buffers: ${withOwn} bytes`);
  // a larger batch from the host grows them; back to in place at the first size, everything still matches
  const big = data(9, 17, 6);
  await check(inputsOf(big, 9, 17), big, 'larger batch from the host');
  await check(inPlace, d, 'in place again after growing');
  await check(inputsOf(d, 5, 17), d, 'host again at the first size');
  // a fresh executor that only ever binds in place never makes them
  const exec2 = await PlanExecutor.create(rt!, tinyPlan());
  const r2 = await exec2.run(inPlace, { readback: 'all' });
  assert.ok(Math.abs(r2.loss - d.loss) <= 1e-5 * Math.abs(d.loss));
  assert.is(exec2.deviceBytes, bound, 'same bytes as the first executor had before host inputs');
  for (const b of [sBuf, tBuf]) b.destroy();
  exec.destroy();
  exec2.destroy();
});

test('inputs are validated before any dispatch, with every problem named', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(4, 10, 5);
  const good = inputsOf(d, 4, 10);
  const before = await exec.run(good, { readback: true });

  const nMismatch = new Map(good);
  nMismatch.set('teacher/./output', { dtype: 'F64', shape: [3, 10], data: d.b.subarray(0, 30) });
  const e1 = await rejects(exec.run(nMismatch, { readback: true }), GpuInputError);
  assert.match(e1.message, /'teacher\/\.\/output' dim 0 is 3, but N = 4 \(from 'student\/\.\/output' dim 0\)/);

  const cMismatch = new Map(good);
  cMismatch.set('teacher/./output', { dtype: 'F64', shape: [4, 8], data: d.b.subarray(0, 32) });
  await rejects(exec.run(cMismatch, { readback: true }), GpuInputError, /dim 1 is 8, but C = 10/);

  const missing = new Map(good);
  missing.delete('targets');
  missing.set('target', good.get('targets')!);
  const e2 = await rejects(exec.run(missing, { readback: true }), GpuInputError);
  assert.match(e2.message, /unknown input 'target' \(did you mean 'targets'\?\)/);
  assert.match(e2.message, /missing input 'targets'/);

  const floatTargets = new Map(good);
  floatTargets.set('targets', { dtype: 'F32', shape: [4], data: new Float32Array(4) });
  await rejects(exec.run(floatTargets, { readback: true }), GpuInputError, /'targets' is F32 but the plan reads it as integers/);

  const fracTargets = new Map(good);
  fracTargets.set('targets', { dtype: 'int', shape: [4], data: Float64Array.of(1, 2, 2.5, 3) });
  await rejects(exec.run(fracTargets, { readback: true }), GpuInputError, /element 2 is 2\.5, not a 32-bit integer/);

  const badRank = new Map(good);
  badRank.set('student/./output', { dtype: 'F64', shape: [40], data: d.a });
  await rejects(exec.run(badRank, { readback: true }), GpuInputError, /rank 1/);

  const badLen = new Map(good);
  badLen.set('student/./output', { dtype: 'F64', shape: [4, 10], data: d.a.subarray(0, 39) });
  await rejects(exec.run(badLen, { readback: true }), GpuInputError, /39 elements/);

  // Nothing ran: the gradient buffer still holds the good run's values.
  const after = await exec.run(good, { readback: true });
  assert.equal(after.grads.get('student/./output'), before.grads.get('student/./output'));
  exec.destroy();
});

/** A Float32Array of `n` elements whose ArrayBuffer was transferred away (as postMessage's transfer list does). */
function detached(n: number): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

test('a value that is no tensor (null, no data, a plain Array, a detached array) is a GpuInputError naming the input, not a TypeError from inside', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const good = inputsOf(data(4, 10, 5), 4, 10);
  const before = await exec.run(good, { readback: true });
  const cases: [string, unknown, RegExp][] = [
    ['targets', null, /'targets' is null, not a tensor: expected \{ shape: \[N\], data: Int32Array \} or \{ shape: \[N\], buffer: GPUBuffer \}/],
    ['targets', 3, /'targets' is a number \(3\), not a tensor/],
    // a bare typed array (whose own `buffer` made it pass for a GPUBuffer input: "an invalid shape undefined") or GPUBuffer
    ['targets', Int32Array.of(0, 1, 2, 3), /'targets' is an Int32Array, not a tensor: expected \{ shape: \[N\], data: Int32Array \} \(that array as data\)/],
    ['student/./output', rt!.device.createBuffer({ size: 160, usage: GPUBufferUsage.STORAGE }), /'student\/\.\/output' is a bare GPUBuffer, not a tensor: expected \{ shape: \[N, C\], buffer: that GPUBuffer \}/],
    ['student/./output', { shape: [4, 10] }, /'student\/\.\/output' has no data: expected a typed array \(Float32Array or Float64Array for floats, Int32Array or BigInt64Array for integers\)/],
    ['student/./output', { shape: [4, 10], data: Array.from({ length: 40 }, () => 0.5) }, /'student\/\.\/output' has data that is a plain Array: expected a typed array/],
    // integer inputs too: a plain Array of class indices was taken before, as floats are not
    ['targets', { shape: [4], data: [0, 1, 2, 3] }, /'targets' has data that is a plain Array/],
    ['targets', { shape: [4], data: new DataView(new ArrayBuffer(16)) }, /'targets' has data that is a DataView/],
    // an array whose memory went to a worker (postMessage's transfer list): not "0 elements", what happened
    ['student/./output', { shape: [4, 10], data: detached(40) }, /'student\/\.\/output' has data whose ArrayBuffer was detached \(transferred/],
  ];
  for (const [name, value, msg] of cases) await rejects(exec.run(new Map(good).set(name, value as TensorInput), { readback: true }), GpuInputError, msg);
  await rejects(exec.run(good, { readback: true, into: new Map([['student/./output', detached(40)]]) }), GpuInputError, /got one whose ArrayBuffer was detached/);
  // Nothing ran: the gradient buffer still holds the good run's values.
  const after = await exec.run(good, { readback: true });
  assert.equal(after.grads.get('student/./output'), before.grads.get('student/./output'));
  exec.destroy();
});

test('host arrays over a SharedArrayBuffer (and views at an offset) run as their own copies would: same loss and gradients bit for bit', async () => {
  const exec = await PlanExecutor.create(rt!, tinyPlan());
  const d = data(5, 33, 9);
  const good = inputsOf(d, 5, 33);
  const want = await exec.run(good, { readback: true });
  // the SharedArrayBuffer-backed arrays Dawn's writeBuffer refuses (a raw TypeError before); a view at an offset into it
  const shared = <T extends Float32Array | Int32Array>(src: ArrayLike<number>, Ctor: { new (b: SharedArrayBuffer, off: number, n: number): T }, off: number): T => {
    const v = new Ctor(new SharedArrayBuffer(4 * (src.length + off)), 4 * off, src.length);
    v.set(src);
    return v;
  };
  const inputs = new Map<string, TensorInput>([
    ['student/./output', { shape: [5, 33], data: shared(Float32Array.from(d.a), Float32Array, 0) }],
    ['teacher/./output', { shape: [5, 33], data: shared(Float32Array.from(d.b), Float32Array, 3) }],
    ['targets', { shape: [5], data: shared(Int32Array.from(d.y, Number), Int32Array, 1) }],
  ]);
  for (let i = 0; i < 2; i++) {
    const got = await exec.run(inputs, { readback: true });
    assert.is(got.loss, want.loss, `run ${i}: loss`);
    assert.equal(got.grads.get('student/./output'), want.grads.get('student/./output'), `run ${i}: gradient`);
  }
  // readback into a shared array works too (the copy out of the mapped range is a typed-array set)
  const into = new Float32Array(new SharedArrayBuffer(4 * 5 * 33));
  await exec.run(inputs, { readback: true, into: new Map([['student/./output', into]]) });
  assert.equal(Array.from(into), Array.from(want.grads.get('student/./output')!));
  exec.destroy();
});

test('a malformed plan is a PlanError; a kernel that does not compile names itself', async () => {
  const p1 = tinyPlan();
  p1.kernels[0]!.bindings[0]!.binding = 0;
  await rejects(PlanExecutor.create(rt!, p1), PlanError, /binding 0 is the dims uniform/);
  const p2 = tinyPlan();
  p2.kernels[1]!.bindings[1]!.buffer = 42;
  await rejects(PlanExecutor.create(rt!, p2), PlanError, /buffer 42/);
  const p3 = tinyPlan();
  p3.kernels[1]!.wgsl = p3.kernels[1]!.wgsl.replace('acc += rows[r];', 'acc += rowz[r];');
  await rejects(PlanExecutor.create(rt!, p3), GpuValidationError, /k1_sum.*rowz/s);
  rt!.check(); // the compile error was captured, not left behind as an uncaptured error
});

test('waits time out instead of hanging; a lost device fails fast', async () => {
  await rejects(withTimeout(new Promise(() => {}), 20, 'a wait that never ends'), GpuTimeoutError, /within 20 ms/);
  const own = await GpuRuntime.open();
  const exec = await PlanExecutor.create(own, tinyPlan());
  const d = data(2, 5);
  await exec.run(inputsOf(d, 2, 5), { readback: true });
  own.destroy();
  await new Promise((r) => setTimeout(r, 10));
  await rejects(exec.run(inputsOf(d, 2, 5), { readback: true }), GpuDeviceLostError);
});

test('waitProgress bounds a stall, not the total: each completion restarts the clock; no progress is a TDC523 naming the piece waited for', async () => {
  const after = <T>(ms: number, v: T): Promise<T> => new Promise((r) => setTimeout(() => r(v), ms));
  const name = (i: number): string => `piece ${i}`;
  // four pieces 150 ms apart: 600 ms in all, never 400 ms without one completing
  assert.equal(await rt!.waitProgress([after(150, 'a'), after(300, 'b'), after(450, 'c'), after(600, 'd')], name, 400), ['a', 'b', 'c', 'd']);
  // one that never completes: the first pending piece is named, with how many completed before the stall
  const e = await rejects(rt!.waitProgress([after(50, 1), new Promise<number>(() => {}), after(100, 3)], name, 300), GpuTimeoutError);
  // (a process starved of CPU also gets "of the time this process ran (…)" before the count)
  assert.match(e.message, /^piece 1 did not complete within 300 ms( of the time this process ran \([^)]*\))? \(2 of 3 completed; none since\)$/);
  assert.is((e as GpuTimeoutError).code, 'TDC523');
  // a piece that fails is that failure (a compile error stays TDC522)
  await rejects(rt!.waitProgress([Promise.reject(new GpuValidationError('kernel k0: bad')), after(50, 1)], name, 300), GpuValidationError, /kernel k0: bad/);
  assert.equal(await rt!.waitProgress([], name, 10), []);
});

test("timeouts count the time the process ran: wall time minus its wait for a CPU (a starved process's slow compile is no hung GPU)", async () => {
  // a process given a quarter of a CPU: three quarters of the wall time spent waiting for one
  const t0 = performance.now();
  const starved = (): number => 0.75 * (performance.now() - t0);
  const start = performance.now();
  const note = await new Promise<string>((resolve) => deadline(400, starved, resolve));
  const wall = performance.now() - start;
  assert.ok(wall >= 1500, `expired after ${wall.toFixed(0)} ms of wall time: 400 ms of running time take ≥ 1600 ms at a quarter of a CPU`);
  assert.match(note, /^ of the time this process ran \([\d.]+ s of wall time, [\d.]+ s of it waiting for a CPU\)$/);
  const e = await rejects(withTimeout(new Promise(() => {}), 400, 'a wait', starved), GpuTimeoutError, /^a wait did not complete within 400 ms of the time this process ran \(/);
  assert.match(e.message, /of it waiting for a CPU\)$/);
  // without a measure of the wait (browsers), and when the process ran unhindered: wall time, no note
  assert.is(await new Promise<string>((resolve) => deadline(50, undefined, resolve)), '');
  await rejects(withTimeout(new Promise(() => {}), 20, 'a wait that never ends', () => 0), GpuTimeoutError, /^a wait that never ends did not complete within 20 ms$/);
});

test("a run waits on each kernel at its pipeline's first dispatch on the device (firstDispatchMs); later runs and executors of those pipelines do not; results are identical", async () => {
  const plan = tinyPlan();
  for (const k of plan.kernels) k.wgsl += '\n// pipelines of this test only\n'; // pipelines no other test dispatched
  const d = data(7, 1000, 5);
  const a = await PlanExecutor.create(rt!, plan);
  assert.equal(a.firstDispatchMs, []);
  await a.run(inputsOf(d, 7, 1000), { readback: 'none' });
  assert.equal(a.firstDispatchMs, [], 'a run that waits for nothing records nothing');
  const r1 = await a.run(inputsOf(d, 7, 1000), { readback: true });
  assert.equal(a.firstDispatchMs.map((x) => x.kernel), plan.kernels.map((k) => k.name), 'each kernel awaited at its first dispatch');
  for (const x of a.firstDispatchMs) assert.ok(Number.isFinite(x.ms) && x.ms >= 0, `${x.kernel}: ${x.ms} ms`);
  assert.ok(Math.abs(r1.loss - d.loss) <= 1e-5 * Math.abs(d.loss), `loss ${r1.loss} vs ${d.loss}`);
  const r2 = await a.run(inputsOf(d, 7, 1000), { readback: true });
  assert.is(a.firstDispatchMs.length, plan.kernels.length, 'recorded by the first run only');
  assert.is(r2.loss, r1.loss);
  assert.equal(r2.grads.get('student/./output'), r1.grads.get('student/./output'), 'the kernels submitted one by one compute what one submission computes');
  const b = await PlanExecutor.create(rt!, plan);
  const r3 = await b.run(inputsOf(d, 7, 1000), { readback: 'scalars' });
  assert.equal(b.firstDispatchMs, [], 'the same pipelines (cached per device) were dispatched before');
  assert.is(r3.loss, r1.loss);
  a.destroy();
  b.destroy();
});

test("the create() object outlives a dropped GpuRuntime while its device is used (Dawn aborts otherwise)", async () => {
  const script = `
const { GpuRuntime } = await import(${JSON.stringify(import.meta.resolve('tdc-runtime/node'))});
const { device } = await GpuRuntime.open();
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
const b = device.createBuffer({ size: 16, usage: 1 | 8 });
await b.mapAsync(1);
for (let i = 0; i < 3; i++) { globalThis.gc(); await device.queue.onSubmittedWorkDone(); }
process.stdout.write('ok');
`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, `child exited with ${r.status} / ${r.signal}: ${r.stderr}`);
  assert.is(r.stdout, 'ok');
});

test('validateWgsl: generated kernels pass, a broken shader gets a positioned diagnostic', async () => {
  for (const k of tinyPlan().kernels) assert.equal(await validateWgsl(k.wgsl, { file: `${k.name}.wgsl` }), [], k.name);
  const broken = 'struct Dims { N: u32 }\n@group(0) @binding(0) var<uniform> dims: Dims;\n@compute @workgroup_size(8)\nfn main() {\n  let x: f32 = dims.N;\n}\n';
  const ds = await validateWgsl(broken, { file: 'broken.wgsl' });
  const err = ds.find((d) => d.severity === 'error');
  assert.ok(err, 'an error diagnostic');
  assert.is(err!.code, 'TDC660');
  assert.is(err!.span?.file, 'broken.wgsl');
  assert.is(err!.span?.start.line, 5);
  const nonUniform =
    '@group(0) @binding(0) var<storage, read> x: array<f32>;\n@compute @workgroup_size(8)\nfn main(@builtin(local_invocation_index) i: u32) {\n  if (x[i] > 0.0) { workgroupBarrier(); }\n}\n';
  const ds2 = await validateWgsl(nonUniform);
  assert.ok(ds2.some((d) => d.severity === 'error' && /uniform control flow/.test(d.message)), JSON.stringify(ds2));
  const tooBig = '@compute @workgroup_size(4096)\nfn main() {}\n';
  const ds3 = await validateWgsl(tooBig);
  assert.ok(ds3.some((d) => d.severity === 'error'), 'workgroup size over the limit is an error');
});

test.after(() => rt?.destroy());
test.run();
