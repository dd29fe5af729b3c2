// CRD's memory-bank update stored in place (schedule/in-place-state.ts): torchdistill's
// `memory.index_copy_(0, pos_idx, normalize(momentum·memory[pos] + (1 − momentum)·emb))` writes B rows of an
// [M, d] bank. The plan marks each bank's state output `inPlace` (its buffer is the state input's), the scatter
// kernel runs after every kernel reading the bank and writes only the B rows, computed by an earlier kernel; a
// repeated pos_idx resolves as torch's sequential CPU index_copy_ (the last b wins). The CPU float64 executor and
// the kernel IR interpreter keep functional semantics (a new bank; the caller's arrays untouched); the GPU executor
// updates a bank the caller binds in place (the glue's resident state) and never a host array.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evalDim, PlanExecutor, type GpuRuntime, type KernelPlan, type SafeTensor } from 'tdc-runtime';
import { stageGraph } from '../src/compiler/run-gpu.js';
import { runStageOnCpu } from '../src/compiler/run-cpu.js';
import { schedule } from '../src/compiler/schedule/index.js';
import { generatePlanModules } from '../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../src/codegen/kernel-ir/interpret-plan.js';
import type { Diagnostic } from '../src/diagnostics/index.js';
import { loadCase, type LoadedCase } from './helpers/golden-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';

const CRD = 'sample__ilsvrc2012__crd__resnet18_from_resnet50';
const BANKS = ['crd/memory_v1', 'crd/memory_v2'];
const POS = 'student/empty/input/pos_idx';

async function crdCase(): Promise<LoadedCase> {
  const c = await loadCase(CRD);
  if ('problems' in c) throw new Error(c.problems.join('; '));
  return c;
}

/** The case's inputs with pos_idx repeating rows (b = 2, 6 repeat b = 0's row, b = 4 repeats b = 1's). */
function withRepeats(c: LoadedCase): Map<string, SafeTensor> {
  const pos = c.inputs.get(POS)!;
  const p = Array.from(pos.data as ArrayLike<number | bigint>, (v) => Number(v));
  const rep = [p[0]!, p[1]!, p[0]!, p[3]!, p[1]!, p[5]!, p[0]!];
  return new Map([...c.inputs].map(([n, t]) => [n, n === POS ? ({ dtype: 'I64', shape: [7], data: BigInt64Array.from(rep.map(BigInt)) } as unknown as SafeTensor) : t]));
}

function planOf(c: LoadedCase, inputs: Map<string, SafeTensor>, maxStorageBuffers?: number) {
  const ds: Diagnostic[] = [];
  const g = stageGraph(c.stage, inputs, true, ds);
  if (!g) throw new Error(ds.map((d) => d.message).join('; '));
  return generatePlanModules(schedule(g, { state: true, ...(maxStorageBuffers ? { maxStorageBuffers } : {}) }));
}

const bankInput = (plan: KernelPlan, key: string) => plan.inputs.find((i) => i.name === `state_in/${key}`)!;

test('the plan updates each bank in place: its state output is the state input buffer, one kernel writes B rows after every read', async () => {
  const c = await crdCase();
  for (const limit of [8, 10, 16]) {
    const { plan } = planOf(c, c.inputs, limit);
    const env = { N: 7 };
    const M = 50;
    const d = 16;
    for (const key of BANKS) {
      const out = plan.outputs.state!.find((s) => s.name === `state_out/${key}`)!;
      const inp = bankInput(plan, key);
      assert.is(out.inPlace, true, `${key} (limit ${limit}) is updated in place`);
      assert.is(out.buffer, inp.buffer, `${key}: the output is the input's buffer`);
      const writers = plan.kernels.map((k, i) => [k, i] as const).filter(([k]) => k.bindings.some((b) => b.buffer === inp.buffer && b.access === 'read_write'));
      assert.is(writers.length, 1, `${key}: one kernel writes the bank`);
      const [w, wi] = writers[0]!;
      plan.kernels.forEach((k, i) => {
        if (k.bindings.some((b) => b.buffer === inp.buffer && b.access === 'read')) assert.ok(i < wi, `${k.name} reads ${key} before ${w.name} writes it`);
      });
      // only the rows: B·d floats per bank written (the kernel writes both banks), not M·d
      assert.is(evalDim(w.bytesWritten, env), 4 * 7 * d * 2, `${w.name} writes ${evalDim(w.bytesWritten, env)} bytes`);
    }
    // no [M, d] buffer but the two banks themselves (no state_out copy, no full-bank scratch)
    const big = plan.buffers.filter((b) => evalDim(b.length, env) >= M * 16);
    assert.equal(big.map((b) => b.name).sort(), BANKS.map((k) => bankInput(plan, k)).map((i) => plan.buffers.find((b) => b.id === i.buffer)!.name).sort(), `limit ${limit}`);
  }
});

/** Rows of the updated bank: untouched ones equal the f32 input bit for bit, the others the float64 oracle within 1e-6. */
function checkBank(key: string, got: Float32Array, input: SafeTensor, want: ArrayLike<number>, pos: number[]): void {
  const d = 16;
  const old = Float32Array.from(input.data as ArrayLike<number>);
  const written = new Set(pos);
  let worst = 0;
  for (let r = 0; r < 50; r++)
    for (let j = 0; j < d; j++) {
      const i = r * d + j;
      if (!written.has(r)) assert.is(got[i], old[i], `${key}[${r}, ${j}] (not in pos_idx) is untouched`);
      else worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    }
  assert.ok(worst <= 1e-6, `${key}: updated rows differ from the oracle by ${worst}`);
  // the repeated rows hold the LAST b's update: b = 6 for pos[0], b = 4 for pos[1] (the oracle is torch's order)
  for (const r of [pos[0]!, pos[1]!]) assert.ok(Array.from(got.subarray(r * d, r * d + d)).some((v, j) => v !== old[r * d + j]), `${key}[${r}] was updated`);
}

test('repeated pos_idx under the IR interpreter: the last b wins (float64 executor), other rows untouched, the caller\'s arrays unchanged', async () => {
  const c = await crdCase();
  const inputs = withRepeats(c);
  const pos = Array.from(inputs.get(POS)!.data as ArrayLike<number | bigint>, (v) => Number(v));
  const cpu = runStageOnCpu(c.stage, inputs).result!;
  assert.ok(cpu, 'the CPU executor runs');
  // the oracle itself: rows pos[0] and pos[1] of the float64 result are the update of the last b with that row
  const copies = new Map([...inputs].filter(([n]) => n.startsWith('state_in/')).map(([n, t]) => [n, Float64Array.from(t.data as ArrayLike<number>)]));
  const { plan, modules } = planOf(c, inputs);
  const run = interpretPlan(plan, modules, inputs);
  for (const key of BANKS) {
    checkBank(key, run.state.get(`state_out/${key}`)!, inputs.get(`state_in/${key}`)!, cpu.state!.get(`state_out/${key}`)!.data, pos);
    assert.equal(Array.from(inputs.get(`state_in/${key}`)!.data as ArrayLike<number>), Array.from(copies.get(`state_in/${key}`)!), `${key}: the input array is unchanged`);
  }
});

/** Both banks' first M·d floats, read back through one staging buffer. */
async function readBanks(rt: GpuRuntime, banks: GPUBuffer[]): Promise<Float32Array[]> {
  const bytes = 4 * 50 * 16;
  const staging = rt.device.createBuffer({ size: bytes * banks.length, usage: 0x1 | 0x8 /* MAP_READ | COPY_DST */ });
  const enc = rt.device.createCommandEncoder();
  banks.forEach((b, k) => enc.copyBufferToBuffer(b, 0, staging, k * bytes, bytes));
  rt.device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const all = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return banks.map((_, k) => all.subarray((k * bytes) / 4, ((k + 1) * bytes) / 4));
}

test('on the GPU: a bank bound in place is updated in the caller\'s buffer (no copy of it on the device), a host bank is not changed', async () => {
  const rt = await openTestRuntime('in-place state GPU test');
  if (!rt) return;
  try {
    const c = await crdCase();
    const inputs = withRepeats(c);
    const pos = Array.from(inputs.get(POS)!.data as ArrayLike<number | bigint>, (v) => Number(v));
    const cpu = runStageOnCpu(c.stage, inputs).result!;
    const { plan } = planOf(c, inputs);
    const exec = await PlanExecutor.create(rt, plan);
    try {
      // host banks: uploaded, updated on the device, the arrays themselves unchanged
      const host = new Map([...inputs].map(([n, t]) => [n, { shape: [...t.shape], data: n.startsWith('state_in/') ? Float32Array.from(t.data as ArrayLike<number>) : t.data }]));
      const before = new Map(BANKS.map((k) => [k, Float32Array.from(host.get(`state_in/${k}`)!.data as Float32Array)]));
      await exec.run(host as never, { readback: 'all' });
      const own = await readBanks(rt, BANKS.map((k) => exec.planBuffer(bankInput(plan, k).buffer)!));
      BANKS.forEach((key, k) => {
        assert.equal(host.get(`state_in/${key}`)!.data, before.get(key), `${key}: the host array is unchanged`);
        checkBank(key, own[k]!, inputs.get(`state_in/${key}`)!, cpu.state!.get(`state_out/${key}`)!.data, pos);
      });

      // banks bound in place (as the glue's ResidentState binds them): the caller's buffers are the updated state
      const exec2 = await PlanExecutor.create(rt, plan);
      try {
        const dev = new Map(
          BANKS.map((k) => {
            const f = Float32Array.from(inputs.get(`state_in/${k}`)!.data as ArrayLike<number>);
            const b = rt.device.createBuffer({ size: f.byteLength, usage: 0x80 | 0x4 | 0x8 });
            rt.device.queue.writeBuffer(b, 0, f);
            return [k, b] as const;
          }),
        );
        const withDev = new Map<string, unknown>([...host].map(([n, t]) => [n, n.startsWith('state_in/crd/memory') ? { shape: t.shape, buffer: dev.get(n.slice('state_in/'.length))! } : t]));
        await exec2.run(withDev as never, { readback: 'all' });
        const got = await readBanks(rt, BANKS.map((k) => dev.get(k)!));
        BANKS.forEach((key, k) => {
          const id = bankInput(plan, key).buffer;
          assert.is(exec2.planBuffer(id), undefined, `${key}: the executor holds no copy of the bank`);
          assert.is(exec2.boundBuffer(id), dev.get(key), `${key}: the state output is the caller's buffer`);
          checkBank(key, got[k]!, inputs.get(`state_in/${key}`)!, cpu.state!.get(`state_out/${key}`)!.data, pos);
        });
        for (const b of dev.values()) b.destroy();
      } finally {
        exec2.destroy();
      }
    } finally {
      exec.destroy();
    }
  } finally {
    rt.destroy();
  }
});

test.run();
