// Faults of the GPU runtime, on a real adapter (lavapipe in CI): device loss gives a typed error on the next call
// and the runtime can be reopened; a destroyed stage (PlanExecutor) or runtime fails clearly; concurrent forwards
// on one stage are serialized, never interleaved on its shared buffers; a GPU timeout names the kernels and the
// workload and neither blocks on the running kernel nor keeps the process from exiting; 1000 open/destroy cycles
// leave the thread count and RSS flat (one Dawn instance per option set, idle devices reused); a GPUBuffer of another
// GPUDevice is a GpuInputError naming the input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { tinyPlan } from './fixtures/tiny-plan.js';
import {
  GpuDeviceLostError,
  GpuInputError,
  GpuRuntime,
  GpuStageDestroyedError,
  GpuTimeoutError,
  GpuUsageError,
  GpuValidationError,
  PlanError,
  PlanExecutor,
  ResidentState,
  tunePlan,
  type FloatTensor,
  type KernelPlan,
  type TensorInput,
  type TuneOptions,
} from 'tdc-runtime/node';

/** Inputs of the tiny plan (loss = Σ ½(a+b)² + Σ y) with a seeded pattern; `k` makes each set distinct. */
function inputs(n: number, c: number, k: number): { map: Map<string, TensorInput>; loss: number } {
  const a = Float32Array.from({ length: n * c }, (_, i) => (((i * 7 + k * 13) % 17) - 8) / 8);
  const b = Float32Array.from({ length: n * c }, (_, i) => (((i * 5 + k * 3) % 11) - 5) / 10);
  const y = Int32Array.from({ length: n }, (_, i) => (i + k) % 10);
  let loss = 0;
  for (let i = 0; i < n * c; i++) loss += 0.5 * (a[i]! + b[i]!) ** 2;
  for (const v of y) loss += v;
  return {
    map: new Map<string, TensorInput>([
      ['student/./output', { dtype: 'F32', shape: [n, c], data: a }],
      ['teacher/./output', { dtype: 'F32', shape: [n, c], data: b }],
      ['targets', { dtype: 'I32', shape: [n], data: y }],
    ]),
    loss,
  };
}

async function rejects(p: Promise<unknown> | (() => unknown), cls: Function, match?: RegExp): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.instance(e, cls, `expected ${cls.name}, got ${String(e)}`);
    if (match) assert.match((e as Error).message, match);
    return e as Error;
  }
  assert.unreachable(`expected a ${cls.name}`);
  throw new Error('unreachable');
}

const close = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(y));

test('device loss: the next call is a GpuDeviceLostError; a reopened runtime works (and is not the lost device)', async () => {
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const x = inputs(3, 10, 1);
  assert.ok(close((await exec.run(x.map, { readback: 'scalars' })).loss, x.loss));
  const lost = rt.device;
  lost.destroy(); // the device goes away under the runtime (as on a driver reset)
  const lostError = await rejects(exec.run(x.map, { readback: 'scalars' }), GpuDeviceLostError, /lost|destroyed/);
  // what happened and how to go on, as every runtime error's hint says (in the diagnostic too: the CLI prints it)
  const reopen = /open a new runtime \(await GpuRuntime\.open\(\), from tdc-runtime\/node in Node\) and create the stages on it again/;
  assert.match((lostError as GpuDeviceLostError).hint ?? '', /something called destroy\(\) on the GPUDevice/);
  assert.match((lostError as GpuDeviceLostError).hint ?? '', reopen);
  assert.is((lostError as GpuDeviceLostError).diagnostic.hint, (lostError as GpuDeviceLostError).hint);
  assert.match(new GpuDeviceLostError('the WebGPU device was lost (unknown): reset').hint ?? '', /a lost device usually means the GPU driver reset/);
  assert.match(new GpuDeviceLostError('x').hint ?? '', reopen);
  await rejects(() => rt.check(), GpuDeviceLostError);
  await rejects(PlanExecutor.create(rt, tinyPlan()), GpuDeviceLostError);
  rt.destroy();

  const again = await GpuRuntime.open();
  assert.ok(again.device !== lost, 'a lost device is never handed out again');
  const exec2 = await PlanExecutor.create(again, tinyPlan());
  assert.ok(close((await exec2.run(x.map, { readback: 'scalars' })).loss, x.loss), 'the reopened runtime computes');
  exec2.destroy();
  again.destroy();
});

test('a validation error of a run (a destroyed input buffer) is a GpuValidationError, and the stage runs again after it', async () => {
  // runs after the first map their readback together with the error scopes (executor.ts runNow): a failed scope
  // must still be the run's error, and the map it raced must not leave the staging buffer mid-map
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const x = inputs(4, 6, 3);
  const a = x.map.get('student/./output')! as { data: Float32Array; shape: number[] };
  const upload = (): GPUBuffer => {
    const b = rt.device.createBuffer({ size: a.data.byteLength, usage: 0x80 | 0x4 | 0x8 /* STORAGE | COPY_SRC | COPY_DST */ });
    rt.device.queue.writeBuffer(b, 0, a.data.buffer as ArrayBuffer, a.data.byteOffset, a.data.byteLength);
    return b;
  };
  const onDevice = (b: GPUBuffer) => new Map<string, TensorInput>([...x.map, ['student/./output', { shape: a.shape, buffer: b }]]);
  const lossOf = async (m: Map<string, TensorInput>, readback: 'scalars' | 'all'): Promise<number> =>
    readback === 'all' ? (await exec.run(m, { readback: 'all' })).loss : (await exec.run(m, { readback: 'scalars' })).loss;
  const good = upload();
  for (let i = 0; i < 4; i++) for (const readback of ['scalars', 'all'] as const) assert.ok(close(await lossOf(onDevice(good), readback), x.loss));
  const gone = upload();
  gone.destroy();
  for (const readback of ['scalars', 'all'] as const) await rejects(lossOf(onDevice(gone), readback), GpuValidationError, /running the kernel plan/);
  for (const readback of ['scalars', 'all'] as const) assert.ok(close(await lossOf(onDevice(good), readback), x.loss), 'the stage runs again');
  good.destroy();
  exec.destroy();
  rt.destroy();
});

test('a destroyed stage or runtime fails clearly; other runtimes are unaffected', async () => {
  const rt = await GpuRuntime.open();
  const other = await GpuRuntime.open();
  assert.ok(rt.device !== other.device, 'two live runtimes never share a pooled device');
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const x = inputs(2, 7, 2);
  await exec.run(x.map, { readback: 'scalars' });
  exec.destroy();
  const e = await rejects(exec.run(x.map, { readback: 'scalars' }), GpuStageDestroyedError, /PlanExecutor was destroyed/);
  assert.is((e as GpuStageDestroyedError).code, 'TDC527');
  await rejects(() => exec.submit(x.map), GpuStageDestroyedError);

  const exec2 = await PlanExecutor.create(rt, tinyPlan());
  rt.destroy();
  const destroyed = await rejects(exec2.run(x.map, { readback: 'scalars' }), GpuDeviceLostError, /GpuRuntime was destroyed/);
  assert.match((destroyed as GpuDeviceLostError).hint ?? '', /its destroy\(\) was called, which released the device: open a new runtime/);
  await rejects(PlanExecutor.create(rt, tinyPlan()), GpuDeviceLostError, /GpuRuntime was destroyed/);

  const exec3 = await PlanExecutor.create(other, tinyPlan());
  assert.ok(close((await exec3.run(x.map, { readback: 'scalars' })).loss, x.loss), 'the other runtime still computes');
  exec3.destroy();
  other.destroy();
});

test('concurrent forwards on one stage are serialized: each gets its own inputs’ results', async () => {
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const sets = Array.from({ length: 8 }, (_, k) => inputs(k % 2 ? 5 : 3, k % 3 ? 33 : 64, k));
  // sequential reference on the same executor
  const seq: { loss: number; grad: Float32Array }[] = [];
  for (const s of sets) {
    const r = await exec.run(s.map, { readback: 'all' });
    seq.push({ loss: r.loss, grad: r.grads.get('student/./output')! });
  }
  // all at once, shapes changing from one to the next (buffers resized under the queue)
  const results = await Promise.all(sets.map((s) => exec.run(s.map, { readback: 'all' })));
  results.forEach((r, k) => {
    assert.ok(close(r.loss, sets[k]!.loss), `run ${k}: loss ${r.loss} vs ${sets[k]!.loss}`);
    assert.is(r.loss, seq[k]!.loss, `run ${k}: bit-identical to the sequential run`);
    assert.equal(r.grads.get('student/./output'), seq[k]!.grad, `run ${k}: gradient`);
  });
  // submit() cannot overtake a run in flight: a usage error (TDC529) saying what to do, not a device validation error
  const pending = exec.run(sets[0]!.map, { readback: 'scalars' });
  const misuse = await rejects(() => exec.submit(sets[1]!.map), GpuUsageError, /still in flight.*nothing was submitted/);
  assert.is((misuse as GpuUsageError).code, 'TDC529');
  assert.match((misuse as GpuUsageError).hint ?? '', /await the run\(\)/);
  assert.is((await pending).loss, seq[0]!.loss, 'the run in flight is not disturbed');
  // but a run that was awaited is over: a submit() right after it is not refused (the run counted itself as in
  // flight until a microtask after its promise settled, so this threw 'still in flight')
  for (const mode of ['none', 'scalars', 'all'] as const) {
    await exec.run(sets[0]!.map, { readback: mode });
    const sub = exec.submit(sets[1]!.map);
    await sub.done;
  }
  exec.destroy();
  rt.destroy();
});

test("a run's host arrays may be refilled as soon as run() returns: a run started at once uploaded them, one queued behind another works on a copy", async () => {
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const sets = [0, 1, 2].map((k) => inputs(3, 33, k));
  const seq: { loss: number; grad: Float32Array }[] = [];
  for (const s of sets) {
    const r = await exec.run(s.map, { readback: 'all' });
    seq.push({ loss: r.loss, grad: r.grads.get('student/./output')! });
  }
  /** A training loop's reused arrays: set k's values now, refilled (in place) with set j's by refill(). */
  const reused = (k: number) => {
    const map = new Map([...sets[k]!.map].map(([n, t]) => [n, { ...t, data: (t as { data: Float32Array | Int32Array }).data.slice() } as TensorInput]));
    const refill = (j: number) => {
      for (const [n, t] of map) (t as { data: Float32Array | Int32Array }).data.set((sets[j]!.map.get(n) as unknown as { data: Float32Array & Int32Array }).data);
    };
    return { map, refill };
  };
  for (const mode of ['all', 'scalars', 'none'] as const) {
    // nothing in flight: the run starts (and uploads) before run() returns
    const a = reused(0);
    const pa = exec.run(a.map, { readback: mode });
    a.refill(2);
    // behind it, in flight: this run waits with a copy of its arrays taken at the call
    const b = reused(1);
    const pb = exec.run(b.map, { readback: mode });
    b.refill(2);
    const [ra, rb] = await Promise.all([pa, pb]);
    if (mode === 'none') {
      // the gradient buffer holds the queued run's result: set 1's, not set 2's
      const bytes = 4 * seq[1]!.grad.length;
      const staging = rt.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = rt.device.createCommandEncoder();
      enc.copyBufferToBuffer(exec.gradBuffer('student/./output')!, 0, staging, 0, bytes);
      rt.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      assert.equal(new Float32Array(staging.getMappedRange().slice(0)), seq[1]!.grad, 'none: the queued run used the values given at the call');
      staging.destroy();
      continue;
    }
    assert.is((ra as { loss: number }).loss, seq[0]!.loss, `${mode}: the first run used the values given at the call`);
    assert.is((rb as { loss: number }).loss, seq[1]!.loss, `${mode}: the queued run used the values given at the call`);
    if (mode === 'all') {
      assert.equal((ra as { grads: Map<string, Float32Array> }).grads.get('student/./output'), seq[0]!.grad);
      assert.equal((rb as { grads: Map<string, Float32Array> }).grads.get('student/./output'), seq[1]!.grad);
    }
  }
  exec.destroy();
  rt.destroy();
});

test('a GPU timeout names the kernels and the workload, does not block, and the process can exit', () => {
  // An endless kernel (2·10⁹ iterations per invocation that the compiler cannot remove), a 1.5 s timeout.
  const script = `
const { GpuRuntime, PlanExecutor, GpuTimeoutError } = await import(${JSON.stringify(import.meta.resolve('tdc-runtime/node'))});
const { tinyPlan } = await import(${JSON.stringify(import.meta.resolve('./fixtures/tiny-plan.js'))});
const plan = tinyPlan();
plan.kernels[0].wgsl = plan.kernels[0].wgsl.replace('let row = wg.x;',
  'let row = wg.x;\\n  var spin = 0u;\\n  for (var i = 0u; i < dims.C * 2000000u; i++) { spin = spin * 1664525u + i; }\\n  if (spin == 7u) { ga[0] = 1.0; }');
const rt = await GpuRuntime.open({ timeoutMs: 1500 });
const exec = await PlanExecutor.create(rt, plan);
const inputs = new Map([
  ['student/./output', { dtype: 'F32', shape: [2, 1000], data: new Float32Array(2000) }],
  ['teacher/./output', { dtype: 'F32', shape: [2, 1000], data: new Float32Array(2000) }],
  ['targets', { dtype: 'I32', shape: [2], data: new Int32Array(2) }],
]);
const out = {};
try { await exec.run(inputs, { readback: 'scalars' }); out.ran = true; } catch (e) { out.first = { name: e.name, code: e.code, message: e.message }; }
try { await exec.run(inputs, { readback: 'scalars' }); } catch (e) { out.second = { name: e.name, code: e.code, message: e.message }; }
const t = performance.now();
exec.destroy();
rt.destroy();
out.destroyMs = performance.now() - t;
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.signal, null, `the child did not exit by itself (killed: ${r.signal}): ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ran?: boolean; first?: { name: string; code: string; message: string }; second?: { name: string; message: string }; destroyMs: number };
  assert.not.ok(out.ran, 'the endless kernel did not finish');
  assert.is(out.first?.name, 'GpuTimeoutError');
  assert.is(out.first?.code, 'TDC523');
  // the first run of new pipelines waits on each kernel at its first dispatch: the endless one is named
  assert.match(out.first!.message, /^running kernels k0_row, k1_sum \(workload N = 2, C = 1000\): kernel k0_row, at its first dispatch on this device \(software adapters compile it then\), did not complete within 1500 ms( of the time this process ran \([^)]*\))?$/);
  assert.is(out.second?.name, 'GpuStageDestroyedError', 'the stage is unusable after the timeout (its work may still run)');
  assert.match(out.second!.message, /unusable after an earlier failure .*did not complete within 1500 ms/);
  assert.ok(out.destroyMs < 5000, `destroy() returned after ${out.destroyMs} ms: it must not wait for the kernel`);
  assert.ok(GpuTimeoutError);
});

test('GPUBuffer inputs are checked against the shapes the caller declares: size, and the device limits by name', async () => {
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const lim = rt.device.limits;
  const x = inputs(2, 3, 5);
  const buffer = rt.device.createBuffer({ size: 64, usage: 0x80 | 0x4 | 0x8 });
  try {
    const small = new Map(x.map);
    small.set('student/./output', { shape: [4, 5], buffer });
    small.set('teacher/./output', { dtype: 'F32', shape: [4, 5], data: new Float32Array(20) });
    small.set('targets', { dtype: 'I32', shape: [4], data: new Int32Array(4) });
    await rejects(exec.run(small, { readback: 'scalars' }), GpuInputError, /'student\/\.\/output': its GPUBuffer holds 64 bytes, shape \[4, 5\] needs 80/);
    // a declared shape past maxStorageBufferBindingSize: named by the tensor and the limit, before any allocation
    const rows = Math.ceil(lim.maxStorageBufferBindingSize / 4 / 1000) + 1;
    const huge = new Map(x.map);
    huge.set('student/./output', { shape: [rows, 1000], buffer });
    huge.set('teacher/./output', { shape: [rows, 1000], buffer });
    huge.set('targets', { shape: [rows], buffer });
    const e = await rejects(exec.run(huge, { readback: 'scalars' }), GpuInputError);
    assert.match(e.message, new RegExp(`'student/\\./output' \\[${rows}, 1000\\] would need ${rows * 4000} bytes; this device binds at most ${lim.maxStorageBufferBindingSize} per storage buffer \\(maxStorageBufferBindingSize\\)`));
    assert.ok(close((await exec.run(x.map, { readback: 'scalars' })).loss, x.loss), 'the stage still runs afterwards');
  } finally {
    buffer.destroy();
    exec.destroy();
    rt.destroy();
  }
});

test('a GPUBuffer made on another GPUDevice is a GpuInputError naming the input or state (bound in place, copied; run, submit, setState); the stage runs on', async () => {
  const rt = await GpuRuntime.open();
  const other = await GpuRuntime.open();
  assert.ok(rt.device !== other.device);
  const plan = tinyPlan();
  // a state input, for ResidentState.set (no kernel reads it: set() only uploads)
  plan.inputs.push({ name: 'state_in/t/bank', shape: [4], dtype: 'float', buffer: 6 });
  plan.buffers.push({ id: 6, name: 'state_bank', role: 'input', dtype: 'f32', length: 4 });
  const exec = await PlanExecutor.create(rt, plan);
  const x = inputs(3, 8, 4);
  const a = x.map.get('student/./output')! as { data: Float32Array; shape: number[] };
  const bank = { shape: [4], data: new Float32Array(4) };
  const withState = (m: Map<string, TensorInput>) => new Map<string, TensorInput>([...m, ['state_in/t/bank', bank]]);
  const NAMED = /invalid inputs: 'student\/\.\/output': its GPUBuffer belongs to another GPUDevice than this runtime's$/;
  // STORAGE: bound in place; COPY_SRC only: copied in; both: bound in place
  for (const usage of [0x80, 0x4, 0x80 | 0x4]) {
    const foreign = other.device.createBuffer({ size: a.data.byteLength, usage: usage | 0x8 /* COPY_DST */ });
    const m = withState(new Map<string, TensorInput>([...x.map, ['student/./output', { shape: a.shape, buffer: foreign }]]));
    for (const readback of ['none', 'scalars', 'all'] as const) {
      const e = await rejects(exec.run(m, { readback }), GpuInputError, NAMED);
      assert.is((e as GpuInputError).code, 'TDC524');
      assert.match((e as GpuInputError).hint ?? '', /runtime\.device/);
    }
    await rejects(exec.submit(m).done, GpuInputError, NAMED);
    foreign.destroy();
  }
  assert.ok(close((await exec.run(withState(x.map), { readback: 'scalars' })).loss, x.loss), 'the stage runs on');
  const state = new ResidentState(exec);
  const foreignBank = other.device.createBuffer({ size: 16, usage: 0x4 | 0x8 });
  await rejects(state.set(new Map([['t/bank', { shape: [4], buffer: foreignBank }]])), GpuInputError, /invalid state: state 't\/bank': its GPUBuffer belongs to another GPUDevice than this runtime's/);
  await state.set(new Map([['t/bank', bank]]));
  assert.equal(await state.read(), new Map([['t/bank', new Float32Array(4)]]), 'the state is set after the refusal');
  foreignBank.destroy();
  state.destroy();
  exec.destroy();
  other.destroy();
  rt.destroy();
});

test('public runtime functions given arguments of the wrong kind: a typed error naming the argument (were TypeErrors from inside)', async () => {
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, tinyPlan());
  const x = inputs(2, 3, 5);
  const asObject = Object.fromEntries(x.map) as unknown as Map<string, TensorInput>;
  await rejects(exec.run(asObject, { readback: 'scalars' }), GpuInputError, /^run\(\): inputs must be a Map of name → tensor, got a plain object \(from an object: new Map\(Object\.entries\(inputs\)\)\)$/);
  await rejects(exec.run(undefined as unknown as Map<string, TensorInput>), GpuInputError, /inputs must be a Map of name → tensor, got undefined/);
  await rejects(exec.run(x.map, { readback: 'bogus' as 'all' }), GpuInputError, /readback must be false, true, 'none', 'scalars' or 'all', got 'bogus'/);
  await rejects(exec.run(x.map, null as unknown as {}), GpuInputError, /the options must be an object \(\{ readback, into \}\), got null/);
  await rejects(exec.run(x.map, { readback: 'all', into: {} as unknown as Map<string, Float32Array> }), GpuInputError, /readback into must be a Map of gradient name → Float32Array, got a plain object/);
  await rejects(() => exec.submit(asObject), GpuInputError, /^submit\(\): inputs must be a Map/);
  await rejects(PlanExecutor.create(null as unknown as GpuRuntime, tinyPlan()), GpuUsageError, /PlanExecutor\.create: the first argument must be a GpuRuntime or a GPUDevice, got null/);
  await rejects(PlanExecutor.create(rt, null as unknown as KernelPlan), PlanError, /the plan is null, not a kernel plan/);
  await rejects(PlanExecutor.create(rt, {} as KernelPlan), PlanError, /its 'symbols' is undefined, not an array/);
  await rejects(PlanExecutor.create(rt, tinyPlan(), { subgroups: 'x' as unknown as boolean }), GpuInputError, /subgroups must be true, false or left out, got the string "x"/);
  await rejects(PlanExecutor.create(rt, tinyPlan(), { workgroupSize: 'x' as unknown as number }), GpuInputError, /workgroupSize must be a number or an object of kernel class → number, got the string "x"/);
  await rejects(() => GpuRuntime.fromDevice({} as GPUDevice), GpuUsageError, /GpuRuntime\.fromDevice: expected a GPUDevice, got a plain object/);
  await rejects(() => new ResidentState(null as unknown as PlanExecutor), GpuUsageError, /ResidentState: expected the PlanExecutor of the stage, got null/);
  await rejects(new ResidentState(exec).set({} as Map<string, FloatTensor>), GpuInputError, /invalid state: state must be a Map of name → tensor, got a plain object/);
  await rejects(tunePlan(null as unknown as GpuRuntime, tinyPlan(), {} as TuneOptions), GpuUsageError, /tunePlan: the first argument must be a GpuRuntime, got null/);
  await rejects(tunePlan(rt, null as unknown as KernelPlan, {} as TuneOptions), PlanError, /the plan is null/);
  assert.ok(close((await exec.run(x.map, { readback: 'scalars' })).loss, x.loss), 'the stage runs on');
  exec.destroy();
  rt.destroy();
});

test('exported helpers and options objects given the wrong kind (null, a number, …): typed errors naming them, never a TypeError from inside', async () => {
  const m = await import('tdc-runtime/node');
  const typed = async (f: () => unknown, cls: Function, message: RegExp) => rejects(async () => f(), cls, message);
  await typed(() => m.nestByName(null as unknown as Map<string, number>), GpuUsageError, /^nestByName: expected a Map of '\/'-separated name → value, got null$/);
  await typed(() => m.nestByName({ a: 1 } as unknown as Map<string, number>), GpuUsageError, /got a plain object/);
  await typed(() => m.nestByName(new Map([['a', 1], ['a/b', 2]])), GpuUsageError, /'a\/b' lies under 'a', which is given a value of its own/);
  await typed(() => m.flattenInputs({}, null as unknown as string[]), GpuUsageError, /^flattenInputs: names must be an Array of the plan's input names \(strings\), got null$/);
  await typed(() => m.evalDim(null as unknown as number, {}), GpuUsageError, /^evalDim: a dim must be a number, \{ sym: string \} or \{ op: 'add' \| .*, got null$/);
  await typed(() => m.evalDim({ op: 'pow' as 'add', a: 1, b: 2 }, {}), GpuUsageError, /got op the string "pow"/);
  await typed(() => m.evalDim({ sym: 'N' }, null as unknown as Record<string, number>), GpuUsageError, /^evalDim: env must be an object of symbol → value, got null$/);
  await typed(() => m.evalShape(undefined as unknown as number[], {}), GpuUsageError, /^evalShape: a shape must be an Array of dims, got undefined$/);
  await typed(() => m.shapeToString(null as unknown as number[]), GpuUsageError, /^shapeToString: a shape must be an Array of dims/);
  await typed(() => m.dimToString([null] as unknown as number), GpuUsageError, /^dimToString: a dim must be/);
  await typed(() => m.dimSymbols('N' as unknown as number), GpuUsageError, /^dimSymbols: a dim must be/);
  await typed(() => m.GpuRuntime.open(null as unknown as {}), m.GpuOptionsError, /^GpuRuntime\.open: the options must be an object \(NodeGpuOptions\) or left out, got null$/);
  await typed(() => m.GpuRuntime.fromDevice({} as GPUDevice, 3 as unknown as {}), m.GpuOptionsError, /^GpuRuntime\.fromDevice: the options must be an object/);
  assert.equal(m.optionsProblems(null as unknown as {}).map((e) => e.message), ['GpuRuntime.open: the options must be an object (NodeGpuOptions) or left out, got null']);
  await typed(() => m.dawnOptions(null as unknown as {}), m.GpuOptionsError, /^dawnOptions: the options must be an object/);
  await typed(() => m.defaultTuningPath(null as unknown as {}), GpuUsageError, /^defaultTuningPath: env must be an object/);
  // a wrong argument to deadline() threw from inside its timer, past every catch, and ended the process
  await typed(() => m.deadline(10, undefined, null as unknown as () => void), GpuUsageError, /^deadline: expire must be a function, got null$/);
  await typed(() => m.withTimeout(new Promise(() => {}), 'x' as unknown as number, 'a wait'), GpuUsageError, /^deadline: ms must be a number of milliseconds, got the string "x"$/);
  await typed(() => m.didYouMean(null as unknown as string, ['a']), GpuUsageError, /^closest: the word must be a string, got null$/);
  await typed(() => m.closest('a', null as unknown as string[]), GpuUsageError, /^closest: the candidates must be an iterable of strings \(an Array, a Set\), got null$/);
  await typed(() => m.editDistance('a', 3 as unknown as string), GpuUsageError, /^editDistance: expected two strings, got the string "a" and a number \(3\)$/);
  for (const f of [() => m.planHash(null as unknown as KernelPlan), () => m.tuneSymbols(null as unknown as KernelPlan), () => m.tuneInputs(null as unknown as KernelPlan, {}), () => m.selectPlanVariant(null as unknown as KernelPlan, 8)])
    await typed(f, PlanError, /the plan is null, not a kernel plan/);
  await typed(() => m.planHash({} as KernelPlan), PlanError, /its 'symbols' is undefined, not an array \(is this a kernel plan\?\)/);
  assert.is(m.didYouMean('outptu', ['output', 'input']), "did you mean 'output'?", 'good arguments work as before');
  assert.is(m.evalDim({ op: 'add', a: { sym: 'N' }, b: 2 }, { N: 3 }), 5, 'good dims evaluate as before');
});

test('the remaining exported helpers (tuning, subgroups, device checks, tfjs hooks) given null or the wrong kind: a GpuUsageError naming the function and the argument', async () => {
  const m = await import('tdc-runtime/node');
  const tf = await import('tdc-runtime/tfjs');
  const typed = async (f: () => unknown, message: RegExp) => rejects(async () => f(), GpuUsageError, message);
  const x = null as never;
  const limits = { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 };
  const support = { feature: false, subgroupId: undefined, maxSize: undefined };
  await typed(() => m.DeviceWatch.of(x), /^DeviceWatch\.of: the device must be a GPUDevice, got null$/);
  await typed(() => m.adapterKey(x), /^adapterKey: info must be an AdapterDescription \(GpuRuntime\.adapter\), got null$/);
  await typed(() => m.isSoftwareAdapter('lavapipe' as never), /^isSoftwareAdapter: info must be an AdapterDescription \(GpuRuntime\.adapter\), got the string "lavapipe"$/);
  await typed(() => m.bindSymbols(x, new Map(), []), /^bindSymbols: inputs must be an Array of the plan's inputs \(plan\.inputs\), got null$/);
  await typed(() => m.bindSymbols([], {} as never, []), /^bindSymbols: shapes must be a Map of input name → shape, got a plain object$/);
  await typed(() => m.bindSymbols([], new Map(), x), /^bindSymbols: symbols must be an Array/);
  await typed(() => m.chooseSubgroupVariants(x, [], support, 'auto' as never), /^chooseSubgroupVariants: kernels must be an Array/);
  await typed(() => m.chooseSubgroupVariants([], [], x, 'auto' as never), /^chooseSubgroupVariants: the support must be a SubgroupSupport \(subgroupSupport\), got null$/);
  await typed(() => m.subgroupSupport(x, undefined, undefined), /^subgroupSupport: the device must be a GPUDevice, got null$/);
  await typed(() => m.subgroupsUnavailable(undefined as never), /^subgroupsUnavailable: the support must be a SubgroupSupport \(subgroupSupport\), got undefined$/);
  await typed(() => m.computedIndexProblem(x, 0, 1), /^computedIndexProblem: the check must be an object/);
  await typed(() => m.hostIndexProblem(x, [1]), /^hostIndexProblem: the check must be an object/);
  await typed(() => m.hostIndexProblem({ input: 'y', size: 2 }, x), /^hostIndexProblem: data must be an Array or typed array of indices, got null$/);
  await typed(() => m.indexCheckProblem(x, 0, 1, false), /^indexCheckProblem: the check must be an object/);
  await typed(() => m.unitCheckProblem(x, 0, 1, false), /^unitCheckProblem: the check must be an object/);
  await typed(() => m.dawnInstance(x, []), /^dawnInstance: create must be a function \(the webgpu package's create\), got null$/);
  await typed(() => m.dawnInstance(() => ({}) as GPU, 'x' as never), /^dawnInstance: options must be an Array of Dawn option strings, got the string "x"$/);
  await typed(() => m.describeOutcome(x), /^describeOutcome: the report must be a KernelReport \(TuneResult\.kernels\), got null$/);
  await typed(() => m.nonFiniteParts(x), /^nonFiniteParts: the result must be a run result \(\{ loss, terms, … \}\), got null$/);
  await typed(() => m.overrideConstants(x, false, limits), /^overrideConstants: kernels must be an Array/);
  await typed(() => m.overrideConstants([], false, x), /^overrideConstants: limits must be the device's workgroup limits \(GPUSupportedLimits\), got null$/);
  await rejects(async () => m.tunedChoices(undefined, x, 'a', limits, false), PlanError, /the plan is null, not a kernel plan/);
  await typed(() => m.tunedChoices(undefined, tinyPlan(), 'a', x, false), /^tunedChoices: limits must be/);
  await typed(() => m.withEntry(x, {} as never), /^withEntry: the cache must be a TuningCache \(parseTuningCache, emptyTuningCache\), got null$/);
  await typed(() => m.withEntry(m.emptyTuningCache(), x), /^withEntry: the entry must be a TuningEntry, got null$/);
  await typed(() => tf.parseHookName(x), /^parseHookName: the name must be a string like 'student\/conv2\/output', got null$/);
  await typed(() => tf.resolveHooks(x, []), /^resolveHooks: the model must be a tfjs LayersModel, got null$/);
  await typed(() => tf.resolveHooks({ getLayer: () => undefined } as never, x), /^resolveHooks: refs must be an Array of HookRef \(parseHookName\), got null$/);
  await typed(() => tf.resolveHooks({ getLayer: () => undefined } as never, [], null as never), /^resolveHooks: the map must be an object/);
  // good arguments work as before
  assert.is(m.subgroupsUnavailable({ feature: true, subgroupId: true, maxSize: undefined }), undefined);
  assert.equal(tf.parseHookName('student/./output'), { name: 'student/./output', side: 'student', path: '.', io: 'output' });
  assert.equal(m.nonFiniteParts({ loss: 1, terms: { a: 2 } }), []);
  assert.equal(m.withEntry(m.emptyTuningCache(), { adapter: 'a', plan: 'p', kernels: {} } as never).entries.length, 1);
});

test('1000 runtime open/destroy cycles (100 of them compiling and running a stage) leave threads and RSS flat', () => {
  const script = `
import { readFileSync } from 'node:fs';
const { GpuRuntime, PlanExecutor } = await import(${JSON.stringify(import.meta.resolve('tdc-runtime/node'))});
const { tinyPlan } = await import(${JSON.stringify(import.meta.resolve('./fixtures/tiny-plan.js'))});
const status = () => { const s = readFileSync('/proc/self/status', 'utf8'); return { threads: Number(/Threads:\\s+(\\d+)/.exec(s)[1]), rssKb: Number(/VmRSS:\\s+(\\d+)/.exec(s)[1]) }; };
const inputs = new Map([
  ['student/./output', { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }],
  ['teacher/./output', { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }],
  ['targets', { dtype: 'I32', shape: [2], data: new Int32Array(2) }],
]);
const marks = {};
for (let i = 1; i <= 1000; i++) {
  const rt = await GpuRuntime.open();
  if (i % 10 === 0) {
    const exec = await PlanExecutor.create(rt, tinyPlan());
    await exec.run(inputs, { readback: 'scalars' });
    exec.destroy();
  } else {
    await rt.wait(rt.device.queue.onSubmittedWorkDone(), 'a round trip');
  }
  rt.destroy();
  if (i === 100 || i === 1000) marks[i] = status();
}
process.stdout.write(JSON.stringify(marks));
process.exit(0);
`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, `child: ${r.status} ${r.signal} ${r.stderr}`);
  const m = JSON.parse(r.stdout) as Record<string, { threads: number; rssKb: number }>;
  const [a, b] = [m['100']!, m['1000']!];
  console.log(`  cycles 100 → 1000: threads ${a.threads} → ${b.threads}, RSS ${(a.rssKb / 1024).toFixed(1)} → ${(b.rssKb / 1024).toFixed(1)} MB`);
  assert.ok(b.threads <= a.threads + 2, `threads grew from ${a.threads} to ${b.threads}`);
  assert.ok(b.rssKb - a.rssKb <= 32 * 1024, `RSS grew by ${((b.rssKb - a.rssKb) / 1024).toFixed(1)} MB over 900 cycles`);
});

test.run();
