// Plan variants for adapters with more storage bindings (issue 9 item 6): `tdc compile` plans every stage for
// WebGPU's default limit (8 storage buffers per shader stage) and carries variants for devices allowing more,
// which the runtime picks at pipeline creation (selectPlanVariant) unless the application forces the default
// plan. A compiled DIST (the sample config at the golden case's shapes, batch symbolic) lists its variants in
// the manifest and runs both the variant lavapipe allows and, forced, the default plan through the generated
// glue, each matching the float64 oracle at golden/README.md's tolerance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import ts from 'typescript';
import { nestByName, selectPlanVariant, type KernelPlan } from 'tdc-runtime';
import { compileStages, sampleInputShapes, type CompileResult } from '../src/compiler/compile.js';
import { DEFAULT_STORAGE_BUFFERS, STORAGE_BUFFER_TIERS, bytesMoved, storageBuffersNeeded } from '../src/compiler/plan-variants.js';
import type { Manifest } from '../src/api/manifest-types.js';
import { compareCase, familyOf, loadCase, newWorst, toleranceTable, type LoadedCase } from './helpers/golden-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { goldenIndex } from './helpers/golden.js';

const DIST = 'sample__ilsvrc2012__dist__resnet18_from_resnet34';
const KD = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function compileCase(id: string): Promise<{ c: LoadedCase; out: CompileResult; plan: KernelPlan; manifest: Manifest }> {
  const c = await loadCase(id);
  if ('problems' in c) throw new Error(`${id}: ${c.problems.join('; ')}`);
  const out = await compileStages([c.stage], { configFile: `golden/${id}/config.yaml`, moduleName: 'criterion', shapes: sampleInputShapes(c.tensors) });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.map((d) => d.message), [], `${id} compiles`);
  return { c, out, plan: out.stages[0]!.plan, manifest: JSON.parse(out.files!.get('manifest.json')!) as Manifest };
}

test('a compiled DIST plans for the default 8 storage buffers and carries better variants (fewer kernels or fewer bytes), listed in the manifest', async () => {
  const { out, plan, manifest } = await compileCase(DIST);
  assert.ok(storageBuffersNeeded(plan) <= DEFAULT_STORAGE_BUFFERS, `the default plan binds ${storageBuffersNeeded(plan)} storage buffers`);
  const variants = plan.variants ?? [];
  assert.ok(variants.length >= 1, 'DIST has a variant');
  let below = plan;
  for (const v of variants) {
    assert.is(storageBuffersNeeded(v.plan), v.minStorageBuffers, 'minStorageBuffers is what its kernels bind at most');
    assert.ok(v.minStorageBuffers > storageBuffersNeeded(below) && v.minStorageBuffers <= Math.max(...STORAGE_BUFFER_TIERS));
    // better than the plan below (plan-variants.ts better()): fewer kernels, or as many moving fewer bytes (DIST at 14
    // buffers: the 6 kernels of the 10-buffer plan with fewer statistics re-read)
    const [k, kb, b, bb] = [v.plan.kernels.length, below.kernels.length, bytesMoved(v.plan), bytesMoved(below)];
    assert.ok(k < kb || (k === kb && b < bb), `${k} kernels moving ${b} bytes at ${v.minStorageBuffers} buffers; below: ${kb} kernels, ${bb} bytes`);
    assert.equal(v.plan.inputs.map((i) => i.name), plan.inputs.map((i) => i.name));
    assert.equal(v.plan.outputs.grads.map((g) => g.input), plan.outputs.grads.map((g) => g.input));
    below = v.plan;
  }
  console.log(`DIST kernels: ${plan.kernels.length} at 8 storage buffers, ${variants.map((v) => `${v.plan.kernels.length} at ${v.minStorageBuffers}`).join(', ')}`);
  // the manifest lists both, each kernel with its own file (the WGSL written there, by hash)
  const stage = manifest.stages[0]!;
  assert.is(stage.kernels.length, plan.kernels.length);
  assert.equal(stage.variants?.map((v) => [v.minStorageBuffers, v.kernels.length]), variants.map((v) => [v.minStorageBuffers, v.plan.kernels.length]));
  assert.ok(manifest.conventions['variants'], 'the manifest says how to pick a variant');
  for (const k of [...stage.kernels, ...(stage.variants ?? []).flatMap((v) => v.kernels)]) {
    const wgsl = out.files!.get(k.file);
    assert.ok(wgsl !== undefined, `${k.file} is written`);
    assert.is(createHash('sha256').update(wgsl).digest('hex'), k.sha256, k.file);
  }
  for (const v of stage.variants ?? []) for (const k of v.kernels) assert.ok(k.bindings.length - 1 <= v.minStorageBuffers, `${k.file} binds ${k.bindings.length - 1}`);
  for (const k of stage.kernels) assert.ok(k.bindings.length - 1 <= DEFAULT_STORAGE_BUFFERS, `${k.file} binds ${k.bindings.length - 1}`);
});

test('no variant where more bindings change nothing (KD: the same plan at every limit)', async () => {
  const { plan, manifest, out } = await compileCase(KD);
  assert.is(plan.variants, undefined);
  assert.is(manifest.stages[0]!.variants, undefined);
  assert.is(manifest.conventions['variants'], undefined);
  assert.not.match(out.files!.get('criterion.ts')!, /\bvariants: \[/);
});

test('the runtime picks the variant with the most storage bindings the device allows, or the default plan when asked', async () => {
  const { plan } = await compileCase(DIST);
  const variants = plan.variants!;
  const top = variants[variants.length - 1]!;
  assert.is(selectPlanVariant(plan, 8), plan);
  assert.is(selectPlanVariant(plan, variants[0]!.minStorageBuffers - 1), plan);
  for (const v of variants) assert.is(selectPlanVariant(plan, v.minStorageBuffers), v.plan);
  assert.is(selectPlanVariant(plan, 1000), top.plan);
  assert.is(selectPlanVariant(plan, 1000, 'default'), plan);
  assert.is(selectPlanVariant(plan, 1000, 'auto'), top.plan);
});

test('the generated glue of a compiled DIST runs the variant lavapipe allows and, forced, the default plan: both match the oracle', async () => {
  const rt = await openTestRuntime('plan-variants GPU test');
  if (!rt) return;
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'dist', 'tmp-variants-'));
  try {
    const { c, out, plan } = await compileCase(DIST);
    // the glue as a user gets it, pointed at this checkout's runtime
    const src = out.files!.get('criterion.ts')!.replace(/from 'tdc-runtime'/, `from '${import.meta.resolve('tdc-runtime')}'`);
    writeFileSync(join(dir, 'criterion.mjs'), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText);
    type Criterion = { activePlan: KernelPlan; forward(i: unknown, t: unknown, o: { readback: true }): Promise<{ loss: number; terms: Record<string, number>; grads: Record<string, unknown> }>; destroy(): void };
    const glue = (await import(pathToFileURL(join(dir, 'criterion.mjs')).href)) as { TrainCriterion: { create(rt: unknown, o?: { planVariant?: 'auto' | 'default' }): Promise<Criterion> } };
    const limit = rt.device.limits.maxStorageBuffersPerShaderStage;
    const expectedPlan = selectPlanVariant(plan, limit);
    assert.ok(expectedPlan !== plan, `lavapipe (maxStorageBuffersPerShaderStage ${limit}) runs a variant`);
    const tol = toleranceTable().get(familyOf(goldenIndex().find((x) => x.case === DIST)!.losses))!;
    const inputs = nestByName(new Map([...c.inputs].filter(([n]) => n !== 'targets')));
    for (const choice of [undefined, 'default'] as const) {
      const crit = await glue.TrainCriterion.create(rt, choice ? { planVariant: choice } : {});
      const want = choice === 'default' ? plan : expectedPlan;
      const kernels = (p: KernelPlan) => p.kernels.map((k) => `${k.name}\n${k.wgsl}`).join('\n');
      assert.is(crit.activePlan.kernels.length, want.kernels.length, `${choice ?? 'auto'}: the plan that runs`);
      assert.ok(kernels(crit.activePlan) === kernels(want), `${choice ?? 'auto'}: the glue runs the kernels of the plan chosen`);
      const r = await crit.forward(inputs, c.inputs.get('targets'), { readback: true });
      const flat = new Map<string, { data: Float32Array }>();
      const walk = (o: Record<string, unknown>, path: string[]) => {
        for (const [k, v] of Object.entries(o)) v instanceof Float32Array ? flat.set([...path, k].join('/'), { data: v }) : walk(v as Record<string, unknown>, [...path, k]);
      };
      walk(r.grads, []);
      const problems = compareCase(c, { loss: r.loss, terms: Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, { value: v }])), grads: flat }, tol, newWorst());
      assert.equal(problems, [], `${choice ?? 'auto'} (${crit.activePlan.kernels.length} kernels)`);
      console.log(`DIST via the glue, ${choice ?? 'auto'}: ${crit.activePlan.kernels.length} kernels, loss ${r.loss} (oracle ${c.expected.loss})`);
      crit.destroy();
    }
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
