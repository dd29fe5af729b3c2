// Row kernels carry a second WGSL text whose lanes combine their partials with subgroup operations
// (PlanKernel.wgslSubgroups, src/codegen/wgsl/subgroup-combine.ts); the runtime picks one text per kernel at
// pipeline creation (src/runtime/subgroups.ts). Here: the rule (no GPU), the compiled output (the variant is a
// file of its own, listed in the manifest, valid WGSL), and on the GPU one compile of the KD example run with the
// variants on and off, both matching the float64 oracle, with the choice the runtime reports. The golden suites
// run every case both ways (golden-gpu.test.ts, golden-interpret.test.ts).
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlanExecutor, GpuInputError, chooseSubgroupVariants, readSafetensors, type SafeTensor, type SubgroupSupport } from 'tdc-runtime/node';
import { compile } from '../src/index.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { ROOT } from './helpers/cli.js';
import { casePath, expected, gradExcess, relErr } from './helpers/golden.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const KD_CASE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';

async function compiledKd() {
  const r = await compile(KD, { like: IO, root: ROOT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r;
}

test('row kernels carry a subgroup variant: its own file, listed in the manifest, enabling subgroups', async () => {
  const r = await compiledKd();
  const plan = r.stages[0]!.plan;
  const rows = plan.kernels.filter((k) => k.overrides?.[0]?.class === 'row');
  assert.ok(rows.length > 0);
  for (const k of plan.kernels) {
    const m = r.manifest!.stages[0]!.kernels.find((x) => x.name === k.name)!;
    if (!k.wgslSubgroups) {
      assert.is(m.subgroups, undefined);
      continue;
    }
    assert.match(k.wgslSubgroups, /^enable subgroups;$/m);
    assert.match(k.wgslSubgroups, /subgroupShuffleXor/);
    assert.not.match(k.wgsl, /subgroup/);
    assert.ok(m.subgroups, `${k.name}: the manifest lists its subgroup file`);
    assert.is(r.files.get(m.subgroups!.file), k.wgslSubgroups);
  }
  assert.ok(plan.kernels.some((k) => k.wgslSubgroups), 'the KD row kernels have subgroup variants');
});

test('the runtime rule: the device feature, the subgroup_id language feature, workgroup a multiple of the subgroup size', async () => {
  const plan = (await compiledKd()).stages[0]!.plan;
  const has = plan.kernels.map((k) => k.wgslSubgroups !== undefined);
  const full: SubgroupSupport = { feature: true, subgroupId: true, maxSize: 8 };
  const all = (wg: number) => plan.kernels.map(() => wg);
  assert.equal(chooseSubgroupVariants(plan.kernels, all(8), full, undefined), has);
  assert.equal(chooseSubgroupVariants(plan.kernels, all(64), full, undefined), has);
  assert.equal(chooseSubgroupVariants(plan.kernels, all(12), full, undefined), has.map(() => false), 'partial subgroups: not chosen by default');
  assert.equal(chooseSubgroupVariants(plan.kernels, all(12), full, true), has, 'forced');
  assert.equal(chooseSubgroupVariants(plan.kernels, all(8), full, false), has.map(() => false));
  assert.equal(chooseSubgroupVariants(plan.kernels, all(8), { ...full, maxSize: undefined }, undefined), has.map(() => false), 'unknown subgroup size');
  assert.equal(chooseSubgroupVariants(plan.kernels, all(8), { ...full, subgroupId: undefined }, undefined), has.map(() => false), 'unknown language features');
  assert.equal(chooseSubgroupVariants(plan.kernels, all(8), full, false, has.map(() => true)), has, 'a per-kernel choice wins');
  assert.throws(() => chooseSubgroupVariants(plan.kernels, all(8), { ...full, feature: false }, true), (e: unknown) => e instanceof GpuInputError && /no 'subgroups' feature/.test(e.message));
});

test('one compile of the KD example with the subgroup variants on and off: both match the oracle; the choice is applied', async () => {
  const plan = (await compiledKd()).stages[0]!.plan;
  const rt = await openTestRuntime('subgroups GPU test');
  if (!rt) return;
  try {
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(casePath(KD_CASE, 'tensors.safetensors'))));
    const inputs = new Map<string, SafeTensor>(plan.inputs.map((i) => [i.name, tensors.get(i.name)!]));
    const want = expected(KD_CASE);
    const g = tensors.get('grad/student/./output')!.data as Float64Array;
    const feature = rt.device.features.has('subgroups');
    console.log(`${rt.describe()}: subgroups feature ${feature}, subgroup sizes ${rt.adapter?.info.subgroupMinSize}..${rt.adapter?.info.subgroupMaxSize}`);
    const runs: { on: boolean; loss: number }[] = [];
    for (const on of feature ? [true, false] : [false]) {
      const exec = await PlanExecutor.create(rt, plan, { subgroups: on });
      try {
        assert.equal(exec.subgroupVariants, plan.kernels.map((k) => on && k.wgslSubgroups !== undefined));
        const r = await exec.run(inputs, { readback: 'all' });
        assert.ok(relErr(r.loss, want.loss) <= 1e-5, `subgroups ${on}: loss ${r.loss} vs ${want.loss}`);
        const e = gradExcess(r.grads.get('student/./output')!, g, 1e-4, 1e-4);
        assert.ok(e <= 1, `subgroups ${on}: gradient ${e}× the bound`);
        runs.push({ on, loss: r.loss });
      } finally {
        exec.destroy();
      }
    }
    console.log(runs.map((x) => `subgroups ${x.on ? 'on' : 'off'}: loss ${x.loss} (rel err ${relErr(x.loss, want.loss).toExponential(2)})`).join('; '));
    // the default on this adapter: the variants wherever the workgroup size is a multiple of the subgroup size
    const auto = await PlanExecutor.create(rt, plan);
    const max = rt.adapter?.info.subgroupMaxSize;
    assert.equal(
      auto.subgroupVariants,
      plan.kernels.map((k, i) => feature && k.wgslSubgroups !== undefined && max !== undefined && auto.constants[i]!['wg_size']! % max === 0),
    );
    auto.destroy();
  } finally {
    rt.destroy();
  }
});

test('a device without the feature: subgroups forced on is a clear error; the default runs the plain kernels', async () => {
  const plan = (await compiledKd()).stages[0]!.plan;
  const rt = await openTestRuntime('subgroups GPU test', { subgroups: false });
  if (!rt) return;
  try {
    assert.not.ok(rt.device.features.has('subgroups'));
    await PlanExecutor.create(rt, plan, { subgroups: true }).then(
      () => assert.unreachable('subgroups: true on a device without the feature'),
      (e: unknown) => assert.ok(e instanceof GpuInputError && /no 'subgroups' feature/.test((e as Error).message), String(e)),
    );
    const exec = await PlanExecutor.create(rt, plan);
    assert.equal(exec.subgroupVariants, plan.kernels.map(() => false));
    exec.destroy();
  } finally {
    rt.destroy();
  }
});

test.run();
