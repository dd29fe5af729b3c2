// Validation before dispatch on the GPU path, with the KD example config: a teacher/student batch mismatch, a
// target ≥ C and a target of -1 each fail — through `tdc run --device gpu` (a diagnostic naming the tensor,
// exit 1, no number printed) and through the executor the generated glue drives (a plan from `tdc compile`'s
// library call, symbolic in N) — instead of producing a loss from clamped or mismatched reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuInputError, GpuRuntime, PlanExecutor, readSafetensors, writeSafetensors, type SafeTensor, type TensorInput } from 'tdc-runtime/node';
import { checkFile } from '../src/compiler/driver/check.js';
import { compileStages } from '../src/compiler/compile.js';
import { GOLDEN, GOLDEN_TORCH, hasStackTrace, noLossPrinted, ROOT, tdc } from './helpers/cli.js';

const CONFIG = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'examples', 'kd', 'io.safetensors')))).tensors; // [7, 37], targets [7]
const dir = mkdtempSync(join(tmpdir(), 'tdc-rtval-'));

const firstRows = (t: SafeTensor, n: number): SafeTensor => {
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * row) as SafeTensor['data'] };
};
const withTarget = (v: number): SafeTensor => {
  const t = IO.get('targets')!;
  const data = t.data.slice() as BigInt64Array;
  data[0] = BigInt(v);
  return { ...t, data };
};

/** The KD example's plan as `tdc compile` makes it (symbolic in N, workgroup size 8). */
async function kdPlan() {
  const ir = checkFile(CONFIG).ir!;
  const c = await compileStages(ir.stages, { configFile: 'config.yaml', moduleName: 'kd', workgroupSize: 8, glue: false });
  return c.stages[0]!.plan;
}

// [what, inputs changed, what the plan's run-time check says, and (when it differs) what `tdc run --device gpu` says:
// shapes that break the graph's assumed dim equalities are instantiated concretely, so it reports the CPU's TDC403]
const CASES: [string, Record<string, SafeTensor>, RegExp[], { code: RegExp; patterns: RegExp[] }?][] = [
  [
    'teacher batch 5, student batch 7',
    { 'teacher/./output': firstRows(IO.get('teacher/./output')!, 5) },
    [/'teacher\/\.\/output' \[5, 37\]/, /'student\/\.\/output' \[7, 37\]/, /N = 7/],
    { code: /TDC403/, patterns: [/\[5, 37\] \(computed from 'teacher\/\.\/output'\)/, /\[7, 37\] \(computed from 'student\/\.\/output'\)/] },
  ],
  ['a target of 5000 with 37 classes', { targets: withTarget(5000) }, [/'targets' element 0 is 5000/, /\[0, 37\)/]],
  ['a target of -1', { targets: withTarget(-1) }, [/'targets' element 0 is -1/, /\[0, 37\)/]],
];

test('tdc run --device gpu: each bad input is a diagnostic naming the tensor, exit 1, no loss printed', () => {
  for (const [what, change, planPatterns, cli] of CASES) {
    const file = join(dir, 'io.safetensors');
    writeFileSync(file, writeSafetensors(new Map([...IO, ...Object.entries(change)])));
    for (const json of [[], ['--json']]) {
      const r = tdc(['run', CONFIG, '--inputs', file, '--device', 'gpu', ...json]);
      assert.is(r.code, 1, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      noLossPrinted(r, json.length > 0, what);
      assert.not.match(r.stderr, /loss =/);
      assert.not.ok(hasStackTrace(r.stderr), r.stderr);
      assert.match(r.stderr, cli?.code ?? /TDC524/);
      for (const p of cli?.patterns ?? planPatterns) assert.match(r.stderr, p, what);
    }
  }
  // The unchanged inputs still run.
  const ok = tdc(['run', CONFIG, '--inputs', join(ROOT, 'examples', 'kd', 'io.safetensors'), '--device', 'gpu', '--json']);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(Number.isFinite((JSON.parse(ok.stdout) as { loss: number }).loss));
});

test('the compiled plan (what the generated glue runs) rejects the same inputs before dispatch', async () => {
  const plan = await kdPlan();
  assert.ok(plan.indexInputs?.some((i) => i.input === 'targets'), 'targets are declared class indices in the plan');
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, plan);
  try {
    const asInputs = (m: Map<string, SafeTensor>): Map<string, TensorInput> => new Map(plan.inputs.map((i) => [i.name, m.get(i.name)! as unknown as TensorInput]));
    for (const [what, change, patterns] of CASES) {
      let err: unknown;
      try {
        await exec.run(asInputs(new Map([...IO, ...Object.entries(change)])), { readback: 'scalars' });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof Error, `${what}: no error`);
      for (const p of patterns.slice(0, 1)) assert.match((err as Error).message, p.source.includes('teacher') ? /'teacher\/\.\/output'/ : p, what);
    }
    const r = await exec.run(asInputs(IO), { readback: 'scalars' });
    assert.ok(Number.isFinite(r.loss), 'good inputs still run on the same executor');
  } finally {
    exec.destroy();
    rt.destroy?.();
  }
});

test('class indices in a GPUBuffer (the host cannot look) are checked on the device, read back with the scalars', async () => {
  const plan = await kdPlan();
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, plan);
  const STORAGE = 0x80;
  const COPY_SRC = 0x4;
  const COPY_DST = 0x8;
  const made: GPUBuffer[] = [];
  const targetsBuffer = (values: number[], usage: number): GPUBuffer => {
    const b = rt.device.createBuffer({ size: Math.max(16, 4 * values.length), usage: usage | COPY_DST });
    rt.device.queue.writeBuffer(b, 0, Int32Array.from(values));
    made.push(b);
    return b;
  };
  const y = Array.from(IO.get('targets')!.data as BigInt64Array, Number); // 7 targets in [0, 37)
  const withDeviceTargets = (values: number[], usage: number): Map<string, TensorInput> =>
    new Map(plan.inputs.map((i) => [i.name, i.name === 'targets' ? { shape: [values.length], buffer: targetsBuffer(values, usage) } : (IO.get(i.name)! as unknown as TensorInput)]));
  try {
    const good = await exec.run(new Map(plan.inputs.map((i) => [i.name, IO.get(i.name)! as unknown as TensorInput])), { readback: 'scalars' });
    for (const usage of [STORAGE, COPY_SRC]) {
      const how = usage === STORAGE ? 'bound in place' : 'copied in';
      const ok = await exec.run(withDeviceTargets(y, usage), { readback: 'scalars' });
      assert.is(ok.loss, good.loss, `${how}: valid device targets give the host-input loss`);
      for (const [bad, at] of [
        [5000, 0],
        [-1, 3],
        [37, 6],
      ] as const) {
        const v = y.slice();
        v[at] = bad;
        let err: unknown;
        try {
          await exec.run(withDeviceTargets(v, usage), { readback: 'scalars' });
        } catch (e) {
          err = e;
        }
        assert.instance(err, GpuInputError, `${how}: target ${bad} at ${at} is an error, not a loss`);
        // the message names the offending value, read back with the flag (no extra synchronisation)
        assert.match(
          (err as Error).message,
          new RegExp(`'targets' element ${at} is ${bad}: a class index must lie in \\[0, 37\\) or be ignore_index -100 \\(torch raises "Target ${bad} is out of bounds"\\); the results of this run were discarded`),
        );
      }
      // ignore_index is legal
      const ign = y.slice();
      ign[2] = -100;
      const r = await exec.run(withDeviceTargets(ign, usage), { readback: 'scalars' });
      assert.ok(Number.isFinite(r.loss), `${how}: ignore_index -100 is accepted`);
    }
    // a run without readback is reported by the next run that reads back; that run's results are discarded too
    const v = y.slice();
    v[1] = 99;
    await exec.run(withDeviceTargets(v, STORAGE), { readback: 'none' });
    let err: unknown;
    try {
      await exec.run(withDeviceTargets(y, STORAGE), { readback: 'scalars' });
    } catch (e) {
      err = e;
    }
    assert.instance(err, GpuInputError, 'the earlier bad dispatch is reported at the next readback');
    assert.match((err as Error).message, /'targets' element 1 is 99: a class index/);
    const after = await exec.run(withDeviceTargets(y, STORAGE), { readback: 'scalars' });
    assert.is(after.loss, good.loss, 'the flag is cleared once reported');
  } finally {
    exec.destroy();
    for (const b of made) b.destroy();
    rt.destroy();
  }
});

test('a bad device target with gradients read back over several chunks: the error from the first chunk, the next runs whole', async () => {
  const plan = await kdPlan();
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, plan);
  // 40 000 x 37 logits: a 5.9 MB gradient, two readback chunks
  const n = 40000;
  let s = 7;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 8 - 4;
  const logits = () => ({ dtype: 'float' as const, shape: [n, 37], data: Float32Array.from({ length: n * 37 }, rnd) });
  const student = logits();
  const teacher = logits();
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % 37);
  const buffer = rt.device.createBuffer({ size: 4 * n, usage: 0x80 | 0x8 /* STORAGE | COPY_DST */ });
  const inputs = (targets: TensorInput): Map<string, TensorInput> =>
    new Map(plan.inputs.map((i) => [i.name, i.name === 'targets' ? targets : i.name === 'student/./output' ? student : teacher]));
  try {
    const host = await exec.run(inputs({ dtype: 'I32', shape: [n], data: y }), { readback: 'all' });
    const grad = host.grads.get('student/./output')!;
    assert.is(grad.length, n * 37);
    const bad = y.slice();
    bad[n - 1] = 37;
    rt.device.queue.writeBuffer(buffer, 0, bad);
    let err: unknown;
    try {
      await exec.run(inputs({ shape: [n], buffer }), { readback: 'all' });
    } catch (e) {
      err = e;
    }
    assert.instance(err, GpuInputError);
    assert.match((err as Error).message, new RegExp(`'targets' element ${n - 1} is 37: a class index`));
    rt.device.queue.writeBuffer(buffer, 0, y);
    const again = await exec.run(inputs({ shape: [n], buffer }), { readback: 'all' });
    assert.is(again.loss, host.loss);
    assert.equal(again.grads.get('student/./output'), grad, 'the device-target run reads back the host-target gradient');
  } finally {
    exec.destroy();
    buffer.destroy();
    rt.destroy();
  }
});

test('SKD: a covariance that is not positive-definite fails on the GPU as in torch (checked on the device)', () => {
  // torch.linalg.cholesky raises "the leading minor of order 1 is not positive-definite" for Σ = cov − 10·I
  const G = join(GOLDEN, 'sample__ilsvrc2012__skd__resnet18_from_resnet34');
  const text = readFileSync(join(G, 'config.yaml'), 'utf8');
  assert.match(text, /tikhonov: 0\.1/);
  const cfg = join(dir, 'skd.yaml');
  writeFileSync(cfg, text.replace('tikhonov: 0.1', 'tikhonov: -10.0'));
  for (const json of [[], ['--json']]) {
    const r = tdc(['run', cfg, '--inputs', join(G, 'tensors.safetensors'), '--device', 'gpu', ...json]);
    assert.is(r.code, 1, `exit ${r.code}\n${r.stdout}${r.stderr}`);
    noLossPrinted(r, json.length > 0, 'skd');
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    assert.match(r.stderr, /TDC524/);
    assert.match(r.stderr, /term 'direction': cholesky of matrix 0 \(8 × 8\).*not positive-definite \(the leading minor of order 1/);
    // the offending diagonal entry, read back with the flag: sqrt of a negative pivot
    assert.match(r.stderr, /the factor's diagonal entry 0 came out NaN/);
  }
  const cpu = tdc(['run', cfg, '--inputs', join(G, 'tensors.safetensors'), '--device', 'cpu']);
  assert.is(cpu.code, 1, 'the CPU executor refuses it too');
  assert.match(cpu.stderr, /not positive-definite/);
});

test('BCELoss: an input outside [0, 1] (or NaN) fails on the GPU and the CPU as torch raises, host arrays and GPUBuffers alike', async () => {
  // torch 1.13: F.binary_cross_entropy(tensor([1.5, 0.3]), …) and a NaN input raise "all elements of input should be
  // between 0 and 1"; targets are not checked (a target of 1.5 gives a loss)
  const G = join(GOLDEN_TORCH, 'torch__BCELoss__mean');
  const io = readSafetensors(new Uint8Array(readFileSync(join(G, 'tensors.safetensors')))).tensors;
  const x = io.get('student/sigmoid/output')!;
  const bad = (v: number): Map<string, SafeTensor> => {
    const data = (x.data as Float32Array | Float64Array).slice();
    data[1] = v;
    return new Map([...io, ['student/sigmoid/output', { ...x, data }]]);
  };
  const file = join(dir, 'bce.safetensors');
  for (const [v, shown] of [
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [-0.25, '-0.25'],
    // no exact float32: shown as written (the float32's shortest form), not 1.100000023841858
    [1.1, '1\\.1'],
  ] as const) {
    writeFileSync(file, writeSafetensors(bad(v)));
    const r = tdc(['run', join(G, 'config.yaml'), '--inputs', file, '--device', 'gpu', '--json']);
    assert.is(r.code, 1, `input ${shown}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    noLossPrinted(r, true, `input ${shown}`);
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    assert.match(r.stderr, new RegExp(`'student/sigmoid/output' element 1 is ${shown}, outside \\[0, 1\\] \\(torch raises "binary_cross_entropy: all elements of input should be between 0 and 1"\\)`));
    // at the config term whose loss reads it (GpuInputError.unitInputs), as index inputs are: not at the stage
    const term = `${join(G, 'config.yaml')}:17:9 - error TDC524`;
    assert.ok(r.stderr.includes(term), r.stderr);
    assert.match(r.stderr, /read here, in tdc's built-in spec/);
    // the CPU executor refuses the same input with the same message
    const cpu = tdc(['run', join(G, 'config.yaml'), '--inputs', file, '--device', 'cpu', '--json']);
    assert.is(cpu.code, 1, `cpu, input ${shown}: exit ${cpu.code}\n${cpu.stdout}${cpu.stderr}`);
    noLossPrinted(cpu, true, `cpu, input ${shown}`);
    assert.match(cpu.stderr, new RegExp(`'student/sigmoid/output' element 1 is ${shown}, outside \\[0, 1\\]`));
    assert.ok(cpu.stderr.includes(term), cpu.stderr);
  }
  const ok = tdc(['run', join(G, 'config.yaml'), '--inputs', join(G, 'tensors.safetensors'), '--device', 'gpu', '--json']);
  assert.is(ok.code, 0, ok.stderr);

  // the same input as a GPUBuffer: checked on the device, read back with the scalars
  const ir = checkFile(join(G, 'config.yaml')).ir!;
  const pinned = new Map(['student/sigmoid/output', 'targets'].map((n) => [n, { shape: [7, 28], dtype: 'float' as const }]));
  const c = await compileStages(ir.stages, { configFile: 'config.yaml', moduleName: 'bce', glue: false, shapes: pinned });
  assert.ok(c.stages[0], c.diagnostics.map((d) => d.message).join('\n'));
  const plan = c.stages[0]!.plan;
  assert.equal(plan.unitInputs?.map((u) => u.input), ['student/sigmoid/output']);
  const rt = await GpuRuntime.open();
  const exec = await PlanExecutor.create(rt, plan);
  const buffers: GPUBuffer[] = [];
  const withDevice = (m: Map<string, SafeTensor>): Map<string, TensorInput> =>
    new Map(
      plan.inputs.map((i) => {
        const t = m.get(i.name)!;
        if (i.name !== 'student/sigmoid/output') return [i.name, t as unknown as TensorInput];
        const f = Float32Array.from(t.data as Float32Array | Float64Array);
        const b = rt.device.createBuffer({ size: Math.max(16, f.byteLength), usage: 0x80 | 0x8 });
        rt.device.queue.writeBuffer(b, 0, f);
        buffers.push(b);
        return [i.name, { shape: t.shape, buffer: b }];
      }),
    );
  try {
    const good = await exec.run(withDevice(io), { readback: 'scalars' });
    assert.ok(Number.isFinite(good.loss));
    for (const v of [1.5, Number.NaN]) {
      let err: unknown;
      try {
        await exec.run(withDevice(bad(v)), { readback: 'scalars' });
      } catch (e) {
        err = e;
      }
      assert.instance(err, GpuInputError, `device input ${v}`);
      assert.equal((err as GpuInputError).unitInputs, ['student/sigmoid/output']);
      assert.match(
        (err as Error).message,
        new RegExp(`'student/sigmoid/output' element 1 is ${v}, outside \\[0, 1\\] \\(torch raises "binary_cross_entropy: all elements of input should be between 0 and 1"\\); the results of this run were discarded`),
      );
    }
  } finally {
    exec.destroy();
    for (const b of buffers) b.destroy();
    rt.destroy();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
