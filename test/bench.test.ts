// The bench's pieces without timing anything real: the harness (median, interleaved rounds), the float64
// KD+CE reference (against finite differences), and each implementation's numbers at small shapes — tfjs-webgpu
// and the hand-written reference plan — on the adapter (lavapipe in CI; no adapter is a failure).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { median, timeImpls, type BenchImpl } from '../bench/harness.js';
import { PlanKd } from '../bench/impl-plan.js';
import { loadTfWebGpu, TfjsKd } from '../bench/impl-tfjs.js';
import { KD_TOLERANCE, kdCase, kdErrors, kdReference } from '../bench/kd-data.js';
import { benchGraph, compilerPlans } from '../bench/plan-source.js';
import { referenceKdPlan } from '../bench/reference-kd-plan.js';
import { GpuRuntime } from 'tdc-runtime/node';
import { lossGraph, runLossBench, TFJS_MATMUL_WORKAROUND, TFJS_TOLERANCE, type LossBenchOptions } from '../bench/losses.js';
import { TFJS_LOSSES } from '../bench/losses-tfjs.js';
import { LOSS_CASES } from '../bench/losses-suite.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import { planWithVariants } from '../src/compiler/plan-variants.js';
import { selectPlanVariant } from 'tdc-runtime';
import { validateWgsl } from '../src/codegen/validate-wgsl.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, SHARED } from './helpers/cli.js';

test('median', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('timeImpls interleaves rounds, warms up untimed, starts each turn with an untimed step, and respects minSteps / roundMs', async () => {
  let clock = 0;
  const order: string[] = [];
  const fake = (name: string, cost: number): BenchImpl => ({
    name,
    setup: async () => {},
    step: async () => {
      clock += cost;
      order.push(name);
      return { loss: 0, grad: new Float32Array() };
    },
    dispose: () => {},
  });
  const times = await timeImpls([fake('a', 1), fake('b', 10)], { rounds: 2, roundMs: 5, minSteps: 2, warmupSteps: 1 }, () => clock);
  assert.equal(times.get('a'), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(times.get('b'), [10, 10, 10, 10]);
  assert.equal(order.slice(0, 2), ['a', 'b'], 'warm-up first');
  assert.equal(order.slice(2, 9), ['a', 'a', 'a', 'a', 'a', 'a', 'b'], "then round 1: a's untimed first step, a for ≥ 5 ms, b …");
  assert.is(order.filter((x) => x === 'a').length, 1 + 2 * (1 + 5), 'a: warm-up, then per round one untimed + five timed steps');
  assert.is(order.filter((x) => x === 'b').length, 1 + 2 * (1 + 2));
});

test('the float64 KD+CE reference gradient matches finite differences', () => {
  const k = kdCase(3, 7, 9);
  const ref = kdReference(k);
  const s64 = Float64Array.from(k.student);
  for (const i of [0, 5, 11, 20]) {
    const h = 1e-3;
    const at = (d: number): number => {
      const s = Float32Array.from(s64);
      s[i] = s64[i]! + d;
      return kdReference({ ...k, student: s }).loss;
    };
    // f32 storage of s ± h limits the accuracy: compare to 1e-5 absolute.
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(Math.abs(fd - ref.grad[i]!) < 1e-4, `element ${i}: fd ${fd} vs ${ref.grad[i]}`);
  }
});

let rt: GpuRuntime | undefined;
let openError: unknown;
try {
  rt = await GpuRuntime.open();
} catch (e) {
  openError = e;
}

test('a WebGPU adapter is available (required)', () => {
  if (openError) assert.unreachable(`no WebGPU adapter: ${(openError as Error).message}. These tests fail, never skip, without one.`);
});

test('the reference plan validates and matches the float64 reference (C = 10, 1271, 1000)', async () => {
  for (const k of referenceKdPlan().kernels) assert.equal(await validateWgsl(k.wgsl, { file: `${k.name}.wgsl` }), [], k.name);
  const impl = new PlanKd('reference-wgsl', rt!, referenceKdPlan());
  for (const [n, c] of [
    [5, 10],
    [3, 1271],
    [16, 1000],
  ] as const) {
    const k = kdCase(n, c);
    await impl.setup(k);
    const r = await impl.step();
    const e = kdErrors(kdReference(k), r.loss, r.grad);
    assert.ok(e.lossRel <= KD_TOLERANCE.lossRel && e.gradRel <= KD_TOLERANCE.gradRel, `${n}x${c}: ${JSON.stringify(e)}`);
  }
  impl.dispose();
});

test('tfjs-webgpu runs on the WebGPU backend and matches the float64 reference', async () => {
  const { globals } = (await import('webgpu')) as { globals: object };
  const tf = await loadTfWebGpu(rt!.gpu!, globals);
  assert.is(tf.getBackend(), 'webgpu');
  const impl = new TfjsKd(tf);
  for (const [n, c] of [
    [5, 10],
    [16, 1000],
  ] as const) {
    const k = kdCase(n, c);
    await impl.setup(k);
    const before = tf.memory().numTensors;
    const r = await impl.step();
    assert.is(tf.memory().numTensors, before, 'no tensors leak per step');
    const e = kdErrors(kdReference(k), r.loss, r.grad);
    assert.ok(e.lossRel <= KD_TOLERANCE.lossRel && e.gradRel <= KD_TOLERANCE.gradRel, `${n}x${c}: ${JSON.stringify(e)}`);
  }
  impl.dispose();
});

test("the bench config instantiates; the compiler's fused and unfused plans are correct", async () => {
  const g = benchGraph();
  assert.equal(g.grads.map((x) => x.input), ['student/./output'], 'only the student is trainable');
  const plans = compilerPlans({ fused: 64, unfused: 64 });
  for (const [mode, p] of Object.entries(plans)) {
    assert.ok('plan' in p, `${mode}: ${'unavailable' in p ? p.unavailable : ''}`);
    if (!('plan' in p)) continue;
    const impl = new PlanKd(mode, rt!, p.plan);
    const k = kdCase(4, 100);
    await impl.setup(k);
    const r = await impl.step();
    const e = kdErrors(kdReference(k), r.loss, r.grad);
    assert.ok(e.lossRel <= KD_TOLERANCE.lossRel && e.gradRel <= KD_TOLERANCE.gradRel, `${mode}: ${JSON.stringify(e)}`);
    impl.dispose();
  }
});

test('bench --losses: every suite loss compiles from its real sample config within the default binding limit', () => {
  for (const c of LOSS_CASES) {
    const { graph, names } = lossGraph(c, 2);
    assert.ok(names.size > 0, c.id);
    const plan = kernelPlan(graph, { workgroupSize: 8, maxStorageBuffers: 8 });
    assert.ok(plan.kernels.length > 0 && plan.kernels.every((k) => k.bindings.length <= 8), c.id);
  }
});

/** runLossBench at tiny batches (1/32 of each case's), one short round, no torch, rows as JSON. */
const tinyLossBench = (o: Partial<LossBenchOptions> & Pick<LossBenchOptions, 'ids' | 'bindings'>) =>
  runLossBench({ timing: { rounds: 1, roundMs: 1, minSteps: 1, warmupSteps: 0 }, torch: false, batchScale: 1 / 32, wg: 0, json: true, log: () => {}, ...o });

test('bench --losses smoke: tiny batches run, with kernels, times and bytes reported', async () => {
  const rows = await tinyLossBench({
    ids: ['kd', 'at', 'pkt'],
    bindings: 8,
  });
  assert.equal(rows.map((r) => r.id), ['kd', 'at', 'pkt']);
  for (const r of rows) {
    assert.is(r.error, undefined, `${r.id}: ${r.error}`);
    assert.ok(r.kernels > 0 && Number.isFinite(r.tdc_ms) && r.bytes_min > 0 && r.bytes_moved >= r.bytes_min * 0.5, JSON.stringify(r));
  }
});

test('bench --losses --profile: one device time per kernel of the plan', async () => {
  const lines: string[] = [];
  const rows = await tinyLossBench({
    ids: ['pkt'],
    bindings: 8,
    profile: true,
    log: (s) => void lines.push(s),
  });
  assert.is(rows[0]!.error, undefined, rows[0]!.error);
  const kernelLines = lines.flatMap((l) => l.split('\n')).filter((l) => / ms .*% .* wg  k\d+_/.test(l));
  assert.is(kernelLines.length, rows[0]!.kernels, lines.join('\n'));
});

test('bench --losses --baseline: another checkout plans the loss too and both run interleaved (this one as its own baseline)', async () => {
  const rows = await tinyLossBench({
    ids: ['pkt'],
    bindings: 8,
    baseline: ROOT,
  });
  const r = rows[0]!;
  assert.is(r.error, undefined, r.error);
  assert.is(r.baseline_kernels, r.kernels);
  assert.ok(Number.isFinite(r.baseline_ms) && Number.isFinite(r.tdc_ms), JSON.stringify(r));
});

test('bench --losses --bindings auto (the default): each loss runs the plan variant the runtime chooses, as tdc compile output does', async () => {
  if (!rt) return;
  const rows = await tinyLossBench({
    ids: ['dist'],
    bindings: 'auto',
    baseline: ROOT,
  });
  const r = rows[0]!;
  assert.is(r.error, undefined, r.error);
  const compiled = planWithVariants(lossGraph(LOSS_CASES.find((c) => c.id === 'dist')!, r.batch).graph, { workgroupSize: 8, state: true });
  assert.ok((compiled.variants?.length ?? 0) > 0, 'DIST has plan variants');
  const chosen = selectPlanVariant(compiled, rt.device.limits.maxStorageBuffersPerShaderStage);
  assert.is(r.kernels, chosen.kernels.length);
  assert.is(r.bindings, Math.max(8, ...chosen.kernels.map((k) => k.bindings.length)));
  assert.is(r.baseline_kernels, r.kernels);
  // where the device allows more than 8, that is fewer kernels than the plan for the default limit
  if (rt.device.limits.maxStorageBuffersPerShaderStage > 8) assert.ok(r.kernels < compiled.kernels.length, `${r.kernels} vs ${compiled.kernels.length}`);
});

// --tfjs: every suite loss in tfjs-webgpu (losses-tfjs.ts), checked against tdc's loss and gradients, then timed.
// Batch scale 1/16: every batch ≥ 2 (RKD's mean of positive distances needs two rows).
test('bench --losses --tfjs: every suite loss in tfjs matches tdc (loss and gradients) at tiny batches and is timed, leaking no tensors', async () => {
  const { globals } = (await import('webgpu')) as { globals: object };
  const tf = await loadTfWebGpu(rt!.gpu!, globals);
  const before = tf.memory().numTensors;
  const rows = await runLossBench({
    ids: [],
    timing: { rounds: 1, roundMs: 1, minSteps: 1, warmupSteps: 0 },
    torch: false,
    tfjs: true,
    batchScale: 1 / 16,
    bindings: 8,
    wg: 0,
    json: true,
    log: () => {},
  });
  assert.equal(rows.map((r) => r.id), LOSS_CASES.map((c) => c.id));
  assert.equal(Object.keys(TFJS_LOSSES).sort(), LOSS_CASES.map((c) => c.id).sort(), 'a tfjs loss for every suite loss');
  for (const r of rows) {
    assert.is(r.error, undefined, `${r.id}: ${r.error}`);
    assert.is(r.tfjs_unavailable, undefined, `${r.id}: ${r.tfjs_unavailable}`);
    assert.ok(r.tfjs_loss_rel! <= TFJS_TOLERANCE.lossRel && r.tfjs_grad_err! <= TFJS_TOLERANCE.gradRel, JSON.stringify(r));
    assert.ok(Number.isFinite(r.tfjs_ms) && Number.isFinite(r.tfjs_readback_ms), JSON.stringify(r));
  }
  assert.is(tf.memory().numTensors, before, 'every tfjs tensor disposed');
});

test('bench --losses --tfjs: a tfjs loss that disagrees with tdc is an error and is not timed', async () => {
  const lines: string[] = [];
  const rows = await runLossBench({
    ids: ['srd'],
    timing: { rounds: 1, roundMs: 1, minSteps: 1, warmupSteps: 0 },
    torch: false,
    tfjs: true,
    tfjsLosses: { srd: { loss: (tf, x) => tf.mul(TFJS_LOSSES['srd']!.loss(tf, x), 1.01) } },
    batchScale: 1 / 16,
    bindings: 8,
    wg: 0,
    json: true,
    log: (s) => void lines.push(s),
  });
  assert.match(rows[0]!.error ?? '', /^tfjs MISMATCH: loss .* vs tdc .* — tfjs not timed$/);
  assert.is(rows[0]!.tfjs_ms, undefined);
  assert.ok(Number.isFinite(rows[0]!.tdc_ms), 'tdc is still timed');
  assert.match(lines.join('\n'), /^srd .* ! tfjs MISMATCH/m);
});

test("bench --losses --tfjs --state: CRD planned with its memory-bank update (as tdc run plans it); tfjs's banks match tdc's, a wrong bank is caught", async () => {
  const opts = { ids: ['crd'], timing: { rounds: 1, roundMs: 1, minSteps: 1, warmupSteps: 0 }, torch: false, tfjs: true, state: true, batchScale: 1 / 16, bindings: 8, wg: 0, json: true, log: () => {} };
  const [ok] = await runLossBench(opts);
  assert.is(ok!.error, undefined, ok!.error);
  assert.ok(ok!.tfjs_grad_err! <= TFJS_TOLERANCE.gradRel && Number.isFinite(ok!.tfjs_ms), JSON.stringify(ok));
  const crd = TFJS_LOSSES['crd']!;
  const [bad] = await runLossBench({
    ...opts,
    timing: { ...opts.timing, rounds: 0 },
    // memory_v1 not updated
    tfjsLosses: { crd: { loss: crd.loss, state: (tf, x) => ({ ...crd.state!(tf, x), 'state_out/crd/memory_v1': tf.clone(x('state_in/crd/memory_v1')) }) } },
  });
  assert.match(bad!.error ?? '', /tfjs MISMATCH: .* worst gradient or state state_out\/crd\/memory_v1 err/);
});

test("bench --losses --tfjs: where tfjs's default disagrees with tdc, the row says so and tfjs is checked and timed with the matmul workaround", async () => {
  const rows = await runLossBench({
    ids: ['srd'],
    timing: { rounds: 1, roundMs: 1, minSteps: 1, warmupSteps: 0 },
    torch: false,
    tfjs: true,
    // right only under the workaround's flags (as PKT's, SPKD's and RKD's Grams under tfjs's split-K matmul on lavapipe)
    tfjsLosses: {
      srd: {
        loss: (tf, x) => {
          const l = TFJS_LOSSES['srd']!.loss(tf, x);
          return tf.env().get('WEBGPU_MATMUL_PROGRAM_TYPE') === TFJS_MATMUL_WORKAROUND['WEBGPU_MATMUL_PROGRAM_TYPE'] ? l : tf.mul(l, 1.01);
        },
      },
    },
    batchScale: 1 / 16,
    bindings: 8,
    wg: 0,
    json: true,
    log: () => {},
  });
  const r = rows[0]!;
  assert.is(r.error, undefined, r.error);
  assert.match(r.tfjs_default_mismatch ?? '', /^tfjs MISMATCH: loss /);
  assert.equal(r.tfjs_flags, TFJS_MATMUL_WORKAROUND);
  assert.ok(Number.isFinite(r.tfjs_ms) && r.tfjs_loss_rel! <= TFJS_TOLERANCE.lossRel, JSON.stringify(r));
});

test('bench --reference: tdc per workgroup size and subgroup variant, each checked and with its ratio to the reference kernel', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'bench.js'), '--reference', '--impls', 'tdc', '--shapes', '8x100', '--variants', '8,16', '--rounds', '1', '--round-ms', '1'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const sg = rt!.device.features.has('subgroups');
  for (const v of ['tdc wg8', 'tdc wg16', ...(sg ? ['tdc wg8+sg', 'tdc wg16+sg'] : [])]) {
    // the variant ran (its kernels' sizes and subgroup choices are logged) and has a ratio to the reference
    assert.match(r.stdout, new RegExp(`^  ${v.replace('+', '\\+')}: k0_\\w+ wg ${v.includes('16') ? 16 : 8}${v.endsWith('+sg') ? ' \\+subgroups' : ','}`, 'm'), r.stdout);
    assert.match(r.stdout, new RegExp(`^  ${v.replace('+', '\\+')} +median .*× reference-wgsl$`, 'm'), r.stdout);
  }
});

// torch_losses.py's losses on named inputs (KR, CRD, SSKD, VID) against torchdistill's float64 values in the
// golden cases (loss, every gradient, CRD's bank update). Needs python3 with torch (Debian python3-torch).
test('bench torch losses on named inputs match the golden cases', () => {
  const python = process.env['TDC_PYTHON'] ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`\n!!!!!!!! torch golden check SKIPPED — no torch for ${python}\n`);
    return;
  }
  const r = spawnSync(python, [join(ROOT, 'bench', 'torch_losses.py'), '--check-golden', join(SHARED, 'golden')], { encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.is(r.stdout.trim().split('\n').length, 4, r.stdout);
});

// --torch: torch's steps run in a subprocess (torch-loss.ts) inside the same interleaved rounds as tdc's; a python
// that cannot start leaves the row's tdc times and says why.
test('bench --losses --torch: torch steps time in the same rounds; a failing python is the row\'s error', async () => {
  const python = process.env['TDC_PYTHON'] ?? '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
    console.log(`\n!!!!!!!! bench --torch check SKIPPED — no torch for ${python}\n`);
    return;
  }
  const [row] = await tinyLossBench({ ids: ['srd'], bindings: 8, torch: true });
  assert.ok(row!.torch_ms !== undefined && row!.torch_ms > 0 && Number.isFinite(row!.torch_ms), JSON.stringify(row));
  assert.ok(row!.tdc_ms! > 0 && row!.error === undefined, JSON.stringify(row));
  const saved = process.env['TDC_PYTHON'];
  process.env['TDC_PYTHON'] = '/bin/false';
  try {
    const [bad] = await tinyLossBench({ ids: ['srd'], bindings: 8, torch: true });
    assert.is(bad!.torch_ms, undefined);
    assert.ok(bad!.tdc_ms! > 0, JSON.stringify(bad));
    assert.match(bad!.error ?? '', /^torch: /);
  } finally {
    if (saved === undefined) delete process.env['TDC_PYTHON'];
    else process.env['TDC_PYTHON'] = saved;
  }
});

test.after(() => rt?.destroy());
test.run();
