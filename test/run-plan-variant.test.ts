// `tdc run --device gpu` runs the plan the compiled glue runs (issue 9): it plans a stage as `tdc compile` does
// (the plan for WebGPU's default 8 storage buffers per kernel and its variants for 10 and 16) and the runtime
// chooses among them by the device's maxStorageBuffersPerShaderStage, as the glue does, unless told to run the
// default plan (--plan-variant default, the glue's planVariant: 'default'). Checked on golden cases with
// variants (DIST: 3 plans, KR) on devices allowing 8, 10 and the adapter's 16 storage buffers, each run matching
// the float64 oracle; and through the CLI: `tdc run --explain --json` names the kernels of the plan that the
// manifest of `tdc compile --like` (same config, same tensors) selects for the device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuRuntime, RAISED_LIMITS, selectPlanVariant, type KernelPlan } from 'tdc-runtime';
import { compileStages, sampleInputShapes } from '../src/compiler/compile.js';
import { runStageOnGpu } from '../src/compiler/run-gpu.js';
import type { Manifest } from '../src/api/manifest-types.js';
import { compareCase, familyOf, loadCase, newWorst, toleranceTable, type LoadedCase } from './helpers/golden-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { casePath, goldenIndex } from './helpers/golden.js';
import { tdc } from './helpers/cli.js';

const DIST = 'sample__ilsvrc2012__dist__resnet18_from_resnet34';
const KR = 'sample__ilsvrc2012__kr__resnet18_from_resnet34';

async function load(id: string): Promise<LoadedCase> {
  const c = await loadCase(id);
  if ('problems' in c) throw new Error(`${id}: ${c.problems.join('; ')}`);
  return c;
}

/** The plan `tdc compile --like tensors` emits for the case's stage (default plan + variants). */
async function compiledPlan(c: LoadedCase): Promise<KernelPlan> {
  const out = await compileStages([c.stage], { configFile: 'config.yaml', moduleName: 'criterion', shapes: sampleInputShapes(c.tensors), glue: false });
  assert.equal(out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], `${c.id} compiles`);
  return out.stages[0]!.plan;
}

const kernelsOf = (p: KernelPlan): string => p.kernels.map((k) => `${k.name}\n${k.wgsl}`).join('\n');

/** A runtime on a device allowing only `storageBuffers` storage buffers per shader stage (the adapter's other maxima). */
async function runtimeAllowing(rt: GpuRuntime, storageBuffers: number): Promise<GpuRuntime> {
  const adapter = (await rt.gpu!.requestAdapter())!;
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) requiredLimits[k] = (adapter.limits as unknown as Record<string, number>)[k]!;
  requiredLimits['maxStorageBuffersPerShaderStage'] = storageBuffers;
  return GpuRuntime.fromDevice(await adapter.requestDevice({ requiredLimits }));
}

test('tdc run runs the plan the compiled glue selects, on devices allowing 8, 10 and 16 storage buffers, and the default plan when asked', async () => {
  const rt = await openTestRuntime('run-plan-variant GPU test');
  if (!rt) return;
  const adapterLimit = rt.device.limits.maxStorageBuffersPerShaderStage;
  try {
    for (const id of [DIST, KR]) {
      const c = await load(id);
      const compiled = await compiledPlan(c);
      assert.ok(compiled.variants?.length, `${id} has plan variants`);
      const tol = toleranceTable().get(familyOf(goldenIndex().find((x) => x.case === id)!.losses))!;
      const limits = id === DIST ? [8, 10, adapterLimit] : [adapterLimit];
      const runs: [number, 'auto' | 'default'][] = [...limits.map((l) => [l, 'auto'] as [number, 'auto']), [adapterLimit, 'default']];
      for (const [limit, choice] of runs) {
        const device: GpuRuntime = limit === adapterLimit ? rt : await runtimeAllowing(rt, limit);
        try {
          assert.is(device.device.limits.maxStorageBuffersPerShaderStage, limit);
          const want = selectPlanVariant(compiled, limit, choice);
          const what = `${id} on a device allowing ${limit} storage buffers, planVariant ${choice}`;
          const r = await runStageOnGpu(c.stage, c.inputs, { file: c.file, runtime: device, planVariant: choice });
          assert.ok(r.result, `${what}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
          const gpu = r.result!.gpu;
          assert.is(gpu.plan.kernels.length, want.kernels.length, `${what}: kernels`);
          assert.ok(kernelsOf(gpu.plan) === kernelsOf(want), `${what}: the kernels that ran are the compiled plan's`);
          assert.is(gpu.variant, compiled.variants!.find((v) => v.plan === want)?.minStorageBuffers, `${what}: the variant named`);
          assert.is(kernelsOf(gpu.compiled), kernelsOf(compiled), `${what}: planned as tdc compile plans`);
          assert.is(gpu.deviceStorageBuffers, limit);
          const problems = compareCase(c, r.result!, tol, newWorst());
          assert.equal(problems, [], what);
          console.log(`${what}: ${gpu.plan.kernels.length} kernels (${gpu.variant ?? 'default'}), loss ${r.result!.loss} (oracle ${c.expected.loss})`);
        } finally {
          if (device !== rt) device.destroy();
        }
      }
      // the choice is the adapter's: at its limit, the variant with the most storage buffers
      assert.ok(selectPlanVariant(compiled, adapterLimit) !== compiled, `${id}: lavapipe (${adapterLimit} storage buffers) runs a variant`);
    }
  } finally {
    rt.destroy();
  }
});

test('tdc run --explain names the plan that ran: the kernels the manifest of tdc compile --like selects for the device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-run-variant-'));
  try {
    const config = casePath(DIST, 'config.yaml');
    const inputs = casePath(DIST, 'tensors.safetensors');
    const compiled = tdc(['compile', config, '--like', inputs, '-o', join(dir, 'out'), '--no-glue']);
    assert.is(compiled.code, 0, compiled.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as Manifest;
    const stage = manifest.stages[0]!;
    for (const choice of ['auto', 'default'] as const) {
      const r = tdc(['run', config, '--inputs', inputs, '--device', 'gpu', '--explain', '--json', '--plan-variant', choice]);
      if (r.code !== 0 && /TDC510/.test(r.stderr)) {
        if (process.env['TDC_REQUIRE_GPU'] === '1') assert.unreachable(`no adapter (TDC_REQUIRE_GPU=1): ${r.stderr}`);
        console.log('!!!!!!!! run-plan-variant CLI test SKIPPED — no WebGPU adapter');
        return;
      }
      assert.is(r.code, 0, r.stderr);
      const plan = (
        JSON.parse(r.stdout) as {
          plan: { variant?: number; choice: string; deviceStorageBuffers: number; kernels: string[]; plans: { storageBuffers: number; kernels: number }[]; firstDispatchMs: { kernel: string; ms: number }[] };
        }
      ).plan;
      assert.is(plan.choice, choice);
      // a fresh process: every kernel's pipeline is dispatched for the first time, each awaited and timed on its own
      assert.equal(plan.firstDispatchMs.map((k) => k.kernel), plan.kernels, `${choice}: first dispatches`);
      for (const k of plan.firstDispatchMs) assert.ok(Number.isFinite(k.ms) && k.ms >= 0, `${k.kernel}: ${k.ms} ms`);
      // the manifest's rule (conventions.variants): the largest minStorageBuffers the device allows, else the stage's plan
      const allowed = (stage.variants ?? []).filter((v) => v.minStorageBuffers <= plan.deviceStorageBuffers);
      const chosen = choice === 'auto' && allowed.length ? allowed[allowed.length - 1]! : undefined;
      const names = (chosen?.kernels ?? stage.kernels).map((k) => k.name);
      assert.equal(plan.kernels, names, `${choice}: the kernels that ran are the ones the compiled output selects`);
      assert.is(plan.variant, chosen?.minStorageBuffers);
      // the plans made (--plan-variant default makes only the default one)
      const variants = choice === 'auto' ? (stage.variants ?? []).map((v) => ({ storageBuffers: v.minStorageBuffers, kernels: v.kernels.length })) : [];
      assert.equal(plan.plans, [{ storageBuffers: 8, kernels: stage.kernels.length }, ...variants]);
      const text = tdc(['run', config, '--inputs', inputs, '--device', 'gpu', '--explain', '--plan-variant', choice]);
      assert.is(text.code, 0, text.stderr);
      assert.match(text.stdout, choice === 'auto' ? `plan: the variant for ${chosen!.minStorageBuffers} storage buffers per kernel, ${names.length} kernels` : `plan: the plan for WebGPU's default limits (8 storage buffers per kernel), ${names.length} kernels (forced by --plan-variant default)`);
      for (const n of names) assert.match(text.stdout, ` ${n} `);
      assert.match(text.stdout, new RegExp(`time: plan [\\d.]+ s, pipelines [\\d.]+ s, run [\\d.]+ s \\(of which the ${names.length} kernels' first dispatches [\\d.]+ s\\)`));
      for (const n of names) assert.match(text.stdout, new RegExp(` ${n} .* first dispatch [\\d.]+ s`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--plan-variant takes auto or default only (a usage error otherwise)', () => {
  const r = tdc(['run', casePath(DIST, 'config.yaml'), '--inputs', casePath(DIST, 'tensors.safetensors'), '--plan-variant', 'sb16']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /--plan-variant/);
  assert.match(r.stderr, /auto, default/);
});

test.run();
