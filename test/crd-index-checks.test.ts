// Index inputs that select whole slices: CRD's pos_idx (B,) and contrast_idx (B, K+1) index the rows of its memory
// banks [M, d]. torchdistill reads them with torch.index_select (IndexError "index out of range in self" for any
// value outside [0, M), -1 included: index_select does not wrap) and writes with index_copy_; a WGSL gather would
// read a clamped row and the in-place update write one. Every path refuses them with the index checks' message
// (input, element, value, range, torch's words): the plan's indexInputs (index-checks.ts traces gather, index_copy
// and scatter_add index operands), `tdc run --device gpu|cpu`, the CPU executor, the kernel IR interpreter and the
// executor the glue drives, with host arrays and with GPUBuffers (checked on the device). A run refused on the device
// leaves the banks it updates in place (the caller's buffers, the glue's ResidentState) bit-identical, as torch does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuInputError, PlanExecutor, ResidentState, writeSafetensors, type KernelPlan, type SafeTensor, type TensorInput } from 'tdc-runtime/node';
import { GraphBuilder } from '../src/graph/builder.js';
import { attachInputChecks, indexInputChecks } from '../src/compiler/index-checks.js';
import { planWithVariants } from '../src/compiler/plan-variants.js';
import { stageGraph } from '../src/compiler/run-gpu.js';
import { runStageOnCpu } from '../src/compiler/run-cpu.js';
import { schedule } from '../src/compiler/schedule/index.js';
import { generatePlanModules } from '../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../src/codegen/kernel-ir/interpret-plan.js';
import type { Diagnostic } from '../src/diagnostics/index.js';
import { loadCase, type LoadedCase } from './helpers/golden-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { GOLDEN, hasStackTrace, tdc } from './helpers/cli.js';

const CASES = ['sample__ilsvrc2012__crd__resnet18_from_resnet50', 'official__ilsvrc2012__yoshitomo-matsubara__rrpr2020__crd-resnet18_from_resnet34'];
const POS = 'student/empty/input/pos_idx';
const CONTRAST = 'student/empty/input/contrast_idx';
const M = 50; // both cases' banks: [50, 16]
const BANK = "an index into dimension 0 of 'state_in/crd/memory_v1'";

/** [input, element, value]: past the end, and -1 (which `memory[idx]` would wrap, index_select does not). */
const BAD: [string, number, number][] = [
  [POS, 0, M],
  [POS, 1, -1],
  [CONTRAST, 3, M],
  [CONTRAST, 3, -1],
  [CONTRAST, 0, M + 7], // column 0, the positive
];

/** The message every path gives, from `'<input>' element …` to torch's words (the device path adds to it). */
const message = (input: string, at: number, v: number) => `'${input}' element ${at} is ${v}: ${BANK} must lie in [0, ${M}) (torch raises "index out of range in self")`;

async function crdCase(id: string): Promise<LoadedCase> {
  const c = await loadCase(id);
  if ('problems' in c) throw new Error(c.problems.join('; '));
  return c;
}

function withIndex(c: LoadedCase, input: string, at: number, v: number): Map<string, SafeTensor> {
  return new Map(
    [...c.inputs].map(([n, t]) => {
      if (n !== input) return [n, t];
      const data = (t.data as BigInt64Array).slice();
      data[at] = BigInt(v);
      return [n, { ...t, data } as SafeTensor];
    }),
  );
}

/** The plan `tdc run --device gpu` and `tdc compile` make: every variant with its input checks. */
function gpuPlan(c: LoadedCase): KernelPlan {
  const ds: Diagnostic[] = [];
  const g = stageGraph(c.stage, c.inputs, true, ds);
  if (!g) throw new Error(ds.map((d) => d.message).join('; '));
  const plan = planWithVariants(g, { state: true });
  for (const p of [plan, ...(plan.variants ?? []).map((v) => v.plan)]) attachInputChecks(p, g);
  return plan;
}

test('index operands traced generally: gather of whole slices, index_copy and scatter_add name their torch errors; class picks unchanged', () => {
  const b = new GraphBuilder();
  const bank = b.input('bank', [M, 4], 'float', false);
  const rows = b.input('rows', [3], 'int', false); // only an index_copy reads it
  const cols = b.input('cols', [3], 'int', false); // only a scatter_add reads it
  const picks = b.input('picks', [6, 1], 'int', false); // bank[picks] as gather(bank, 0, expand(picks, [6, 4]))
  const labels = b.input('labels', [M], 'int', false); // a class pick per row: gather(bank, 1, labels[:, None])
  const src = b.input('src', [3, 4], 'float', true);
  const copied = b.op('index_copy', [bank, rows, src], { axis: 0 });
  const srcRow = b.op('reshape', [b.op('reduce', [src], { fn: 'sum', axes: [1], keepdim: false })], { shape: [1, 3] });
  const scattered = b.op('scatter_add', [b.op('reshape', [cols], { shape: [1, 3] }), srcRow], { axis: 1, shape: [1, 9] });
  const selected = b.op('gather', [bank, b.op('broadcast', [picks], { shape: [6, 4] })], { axis: 0 });
  const picked = b.op('gather', [bank, b.op('reshape', [labels], { shape: [M, 1] })], { axis: 1 });
  const sum = (x: number) => b.op('reduce', [x], { fn: 'sum', axes: b.shape(x).map((_, i) => i), keepdim: false });
  const loss = b.binary('add', b.binary('add', sum(copied), sum(scattered)), b.binary('add', sum(selected), sum(picked)));
  const checks = indexInputChecks(b.finish({ loss, terms: [] }));
  assert.equal(
    checks.sort((x, y) => x.input.localeCompare(y.input)),
    [
      { input: 'cols', size: 9, what: 'an index into dimension 1', torch: 'index {value} is out of bounds for dimension 1 with size {size}' },
      { input: 'labels', size: 4 },
      { input: 'picks', size: M, what: "an index into dimension 0 of 'bank'", torch: 'index out of range in self' },
      { input: 'rows', size: M, what: "an index into dimension 0 of 'bank'", torch: 'index_copy_(): index {value} is out of bounds for dimension 0 with size {size}' },
    ],
  );
});

test('the CRD plans list pos_idx and contrast_idx as indices into the banks (every variant; no extra kernel: the device check is the plan\'s own check kernel)', async () => {
  for (const id of CASES) {
    const c = await crdCase(id);
    const plan = gpuPlan(c);
    for (const p of [plan, ...(plan.variants ?? []).map((v) => v.plan)]) {
      const idx = (p.indexInputs ?? []).filter((i) => i.input.startsWith('student/empty/'));
      assert.equal(
        idx.map((i) => [i.input, i.size, i.ignore, i.what, i.torch]).sort(),
        [
          [CONTRAST, M, undefined, BANK, 'index out of range in self'],
          [POS, M, undefined, BANK, 'index out of range in self'],
        ],
        id,
      );
      assert.equal(Object.keys(p.checkKernels ?? {}), ['index'], `${id}: one index check kernel, outside p.kernels`);
    }
  }
});

test('tdc run --device cpu and --device gpu: an out-of-range pos_idx / contrast_idx is TDC524 naming the input, exit 1, no loss', async () => {
  const id = CASES[0]!;
  const c = await crdCase(id);
  const dir = mkdtempSync(join(tmpdir(), 'tdc-crd-idx-'));
  try {
    for (const [input, at, v] of [BAD[0]!, BAD[3]!]) {
      const file = join(dir, 'io.safetensors');
      writeFileSync(file, writeSafetensors(withIndex(c, input, at, v)));
      for (const device of ['cpu', 'gpu']) {
        const r = tdc(['run', join(GOLDEN, id, 'config.yaml'), '--inputs', file, '--device', device]);
        assert.is(r.code, 1, `${device} ${input}[${at}] = ${v}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        assert.not.match(r.stdout + r.stderr, /loss =/);
        assert.not.ok(hasStackTrace(r.stderr), r.stderr);
        assert.match(r.stderr, /TDC524/);
        assert.ok(r.stderr.includes(message(input, at, v)), `${device}: ${r.stderr}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CPU executor path and the kernel IR interpreter refuse them with the same message; the golden inputs still run', async () => {
  for (const id of CASES) {
    const c = await crdCase(id);
    const ds: Diagnostic[] = [];
    const g = stageGraph(c.stage, c.inputs, true, ds)!;
    const { plan, modules } = generatePlanModules(schedule(g, { state: true }));
    attachInputChecks(plan, g);
    for (const [input, at, v] of BAD) {
      const bad = withIndex(c, input, at, v);
      const cpu = runStageOnCpu(c.stage, bad);
      assert.is(cpu.result, undefined, `${id}: CPU ${input}[${at}] = ${v} gives no result`);
      assert.equal(cpu.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message]), [['TDC524', message(input, at, v)]]);
      assert.throws(() => interpretPlan(plan, modules, bad), (e: Error) => e.message === `invalid inputs: ${message(input, at, v)}`);
    }
    assert.ok(Number.isFinite(runStageOnCpu(c.stage, c.inputs).result!.loss), `${id}: the golden inputs run on the CPU`);
    assert.ok(Number.isFinite(interpretPlan(plan, modules, c.inputs).loss), `${id}: and under the interpreter`);
  }
});

/** A GPUBuffer's first n f32s, read back. */
async function readF32(device: GPUDevice, src: GPUBuffer, n: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: 4 * n, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, 4 * n);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

const BANKS = ['state_in/crd/memory_v1', 'state_in/crd/memory_v2'];
const KEPT = `; the state the plan updates in place in your buffers ('state_out/crd/memory_v1', 'state_out/crd/memory_v2') was left as it was`;

test('the executor the glue drives: host arrays refused before dispatch, GPUBuffers on the device; the banks bound in place are left bit-identical, as torch leaves them', async () => {
  const rt = await openTestRuntime('CRD index checks on the GPU');
  if (!rt) return;
  const made: GPUBuffer[] = [];
  // STORAGE (bound in place) | COPY_SRC (copied in, read back); COPY_DST to fill it
  const buffer = (data: Int32Array | Float32Array, usage = 0x80 | 0x4): GPUBuffer => {
    const b = rt.device.createBuffer({ size: Math.max(16, data.byteLength), usage: usage | 0x8 });
    rt.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    made.push(b);
    return b;
  };
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && new Uint32Array(a.buffer).every((x, i) => x === new Uint32Array(b.buffer)[i]);
  try {
    const c = await crdCase(CASES[0]!);
    const plan = gpuPlan(c);
    const exec = await PlanExecutor.create(rt, plan);
    try {
      const host = (m: Map<string, SafeTensor>) => new Map(plan.inputs.map((i) => [i.name, m.get(i.name)! as unknown as TensorInput]));
      const good = await exec.run(host(c.inputs), { readback: 'scalars' });
      assert.ok(Number.isFinite(good.loss));
      const bankData = BANKS.map((k) => Float32Array.from(c.inputs.get(k)!.data as Float64Array));
      /** The inputs of `m` with the banks as GPUBuffers of the golden banks (bound in place, as ResidentState binds them). */
      const withBanks = (m: Map<string, TensorInput>) => {
        const banks = bankData.map((d) => buffer(d));
        BANKS.forEach((k, j) => m.set(k, { shape: [...c.inputs.get(k)!.shape], buffer: banks[j]! }));
        return { inputs: m, banks };
      };
      const banksKept = async (banks: GPUBuffer[], what: string) => {
        for (let j = 0; j < banks.length; j++) assert.ok(same(await readF32(rt.device, banks[j]!, bankData[j]!.length), bankData[j]!), `${what}: ${BANKS[j]} bit-identical`);
      };
      // a good run with the banks in place updates them (the rows of pos_idx): what a refused run must not do
      const updated = withBanks(host(c.inputs));
      await exec.run(updated.inputs, { readback: 'scalars' });
      assert.not.ok(same(await readF32(rt.device, updated.banks[0]!, bankData[0]!.length), bankData[0]!), 'a good run updates the bank in place');

      for (const [input, at, v] of BAD) {
        const bad = withIndex(c, input, at, v);
        let err: unknown;
        // host index arrays, banks as host arrays and in place
        for (const banked of [false, true]) {
          const { inputs, banks } = banked ? withBanks(host(bad)) : { inputs: host(bad), banks: [] };
          err = undefined;
          try {
            await exec.run(inputs, { readback: 'scalars' });
          } catch (e) {
            err = e;
          }
          assert.instance(err, GpuInputError, `host ${input}[${at}] = ${v}`);
          assert.is((err as Error).message, `invalid inputs: ${message(input, at, v)}`);
          await banksKept(banks, `host ${input}[${at}] = ${v}`);
        }

        // the index input as a GPUBuffer, read in place or copied in; the banks bound in place
        for (const usage of ['in place', 'copied']) {
          const idx = Int32Array.from(bad.get(input)!.data as BigInt64Array, Number);
          const ib = buffer(idx, usage === 'in place' ? 0x80 | 0x4 : 0x4);
          const { inputs: dev, banks } = withBanks(host(bad));
          dev.set(input, { shape: [...bad.get(input)!.shape], buffer: ib });
          err = undefined;
          try {
            await exec.run(dev, { readback: 'scalars' });
          } catch (e) {
            err = e;
          }
          assert.instance(err, GpuInputError, `device (${usage}) ${input}[${at}] = ${v}`);
          await banksKept(banks, `device (${usage}) ${input}[${at}] = ${v}`);
          assert.is((err as Error).message, `invalid input values (checked on the device): ${message(input, at, v)}; the results of this run were discarded${KEPT}`);
        }
      }

      // submit() (no readback): the banks are left as they were, by that run and by every run until a readback has
      // reported the failure; then the flags are cleared and a good run updates them again
      const [input, at, v] = BAD[1]!;
      const bad = withIndex(c, input, at, v);
      const { inputs: dev, banks } = withBanks(host(bad));
      dev.set(input, { shape: [...bad.get(input)!.shape], buffer: buffer(Int32Array.from(bad.get(input)!.data as BigInt64Array, Number)) });
      await exec.submit(dev).done;
      await banksKept(banks, 'submit()');
      const next = withBanks(host(c.inputs));
      let err: unknown;
      try {
        await exec.run(next.inputs, { readback: 'scalars' });
      } catch (e) {
        err = e;
      }
      assert.instance(err, GpuInputError, 'the next readback reports the submitted run');
      assert.is((err as Error).message, `invalid input values (checked on the device): ${message(input, at, v)}; the results of this run were discarded${KEPT}`);
      await banksKept(banks, 'submit(), then a good run reporting it');
      await banksKept(next.banks, 'the good run reporting it');
      const after = withBanks(host(c.inputs));
      const r = await exec.run(after.inputs, { readback: 'scalars' });
      assert.is(r.loss, good.loss, 'the flags are cleared once reported: the golden inputs run again');
      for (let j = 0; j < BANKS.length; j++) {
        const want = await readF32(rt.device, updated.banks[j]!, bankData[j]!.length);
        assert.ok(same(await readF32(rt.device, after.banks[j]!, bankData[j]!.length), want), `${BANKS[j]} updated again, as by the first good run`);
      }
    } finally {
      exec.destroy();
    }
  } finally {
    for (const b of made) b.destroy();
    rt.destroy();
  }
});

interface ResidentCase {
  rt: Awaited<ReturnType<typeof openTestRuntime>> & object;
  c: LoadedCase;
  exec: PlanExecutor;
  state: ResidentState;
  /** The plan's inputs but the state from `m`. */
  host: (m: Map<string, SafeTensor>) => Map<string, TensorInput>;
  /** The golden state (`<term>/<buffer>` → floats). */
  golden: () => Map<string, { shape: number[]; data: Float32Array }>;
  /** The inputs of `bad` (not the state) with `input` given as a GPUBuffer, so checked on the device. */
  onDevice: (bad: Map<string, SafeTensor>, input: string) => Map<string, TensorInput>;
}

/** Runs `body` with the first CRD case's plan, its executor and a ResidentState of it (nothing without a GPU). */
async function withResidentState(title: string, body: (r: ResidentCase) => Promise<void>): Promise<void> {
  const rt = await openTestRuntime(title);
  if (!rt) return;
  const made: GPUBuffer[] = [];
  try {
    const c = await crdCase(CASES[0]!);
    const plan = gpuPlan(c);
    const exec = await PlanExecutor.create(rt, plan);
    const state = new ResidentState(exec);
    try {
      const host = (m: Map<string, SafeTensor>) => new Map(plan.inputs.filter((i) => !i.name.startsWith('state_in/')).map((i) => [i.name, m.get(i.name)! as unknown as TensorInput]));
      const golden = () => new Map(state.keys.map((k) => [k, { shape: [...c.inputs.get(`state_in/${k}`)!.shape], data: Float32Array.from(c.inputs.get(`state_in/${k}`)!.data as Float64Array) }]));
      const onDevice = (bad: Map<string, SafeTensor>, input: string) => {
        const inputs = host(bad);
        const ib = rt.device.createBuffer({ size: 16 * Math.ceil(bad.get(input)!.data.length / 4), usage: 0x80 | 0x8 });
        made.push(ib);
        rt.device.queue.writeBuffer(ib, 0, Int32Array.from(bad.get(input)!.data as BigInt64Array, Number));
        inputs.set(input, { shape: [...bad.get(input)!.shape], buffer: ib });
        return inputs;
      };
      await body({ rt, c, exec, state, host, golden, onDevice });
    } finally {
      state.destroy();
      exec.destroy();
    }
  } finally {
    for (const b of made) b.destroy();
    rt.destroy();
  }
}

test('ResidentState (the glue\'s state): a step refused on the device leaves every state buffer as it was, banks and params', () =>
  withResidentState('CRD index checks with resident state', async ({ c, exec, state, host, golden, onDevice }) => {
    await state.set(golden());
    const before = await state.read();
    for (const [input, at, v] of [BAD[0]!, BAD[1]!, BAD[3]!]) {
      const inputs = onDevice(withIndex(c, input, at, v), input);
      let err: unknown;
      try {
        await state.step((st) => exec.run(new Map([...inputs, ...st]), { readback: 'scalars' }));
      } catch (e) {
        err = e;
      }
      assert.instance(err, GpuInputError, `${input}[${at}] = ${v}`);
      const now = await state.read();
      for (const [k, x] of before) assert.equal(new Uint32Array(now.get(k)!.buffer), new Uint32Array(x.buffer), `${input}[${at}] = ${v}: state '${k}' as it was`);
      assert.ok((err as Error).message.endsWith(KEPT), (err as Error).message);
    }
    await state.step((st) => exec.run(new Map([...host(c.inputs), ...st]), { readback: 'scalars' }));
    const stepped = await state.read();
    assert.not.equal(new Uint32Array(stepped.get('crd/memory_v1')!.buffer), new Uint32Array(before.get('crd/memory_v1')!.buffer), 'a good step updates the bank');
  }));

test('ResidentState: a step refused on the device that reads nothing back (run readback none, submit()) carries every state buffer over unchanged, params included', () =>
  withResidentState('CRD index checks with resident state, no readback', async ({ c, exec, state, host, golden, onDevice }) => {
    // Z1, Z2 unset (-1, as torchdistill's first step sees them): a step that runs sets them from its batch
    const initial = golden();
    const params = initial.get('crd/params')!.data;
    params[2] = -1;
    params[3] = -1;
    const modes: [string, (inputs: Map<string, TensorInput>) => Promise<unknown>][] = [
      ["run(…, { readback: 'none' })", (inputs) => exec.run(inputs, { readback: 'none' })],
      ['submit()', (inputs) => exec.submit(inputs).done],
    ];
    for (const [what, go] of modes) {
      await state.set(initial);
      const before = await state.read();
      const [input, at, v] = BAD[1]!;
      const inputs = onDevice(withIndex(c, input, at, v), input);
      // nothing read back: nothing to report yet, and nothing of the state changed (torch raised before)
      await state.step((st) => go(new Map([...inputs, ...st])));
      const now = await state.read();
      for (const [k, x] of before) assert.equal(new Uint32Array(now.get(k)!.buffer), new Uint32Array(x.buffer), `${what}: state '${k}' as it was`);
      // the next read-back step reports it and changes nothing either (the flags stay set until reported)
      let err: unknown;
      try {
        await state.step((st) => exec.run(new Map([...host(c.inputs), ...st]), { readback: 'scalars' }));
      } catch (e) {
        err = e;
      }
      assert.instance(err, GpuInputError, `${what}: the next read-back step reports it`);
      const reported = await state.read();
      for (const [k, x] of before) assert.equal(new Uint32Array(reported.get(k)!.buffer), new Uint32Array(x.buffer), `${what}, then a reporting step: state '${k}' as it was`);
      // then a good step sets Z1, Z2 and updates the banks
      await state.step((st) => exec.run(new Map([...host(c.inputs), ...st]), { readback: 'scalars' }));
      const stepped = await state.read();
      assert.ok(stepped.get('crd/params')![2]! > 0 && stepped.get('crd/params')![3]! > 0, `${what}: a good step sets Z1, Z2 (${stepped.get('crd/params')!.join(', ')})`);
      assert.not.equal(new Uint32Array(stepped.get('crd/memory_v1')!.buffer), new Uint32Array(before.get('crd/memory_v1')!.buffer), `${what}: a good step updates the bank`);
    }
  }));

test.run();
