// Every generated WGSL module is checked by Dawn's own compiler (Tint) on the null backend — no GPU needed:
// all golden configs that schedule (fused, at two workgroup sizes), the hand-built op graphs (fused and
// unfused, five workgroup sizes including non-powers of two) — plus the text-level rules of the generator:
// f32 literals that round-trip, no infinities, shapes from the dims uniform, deterministic output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../src/diagnostics/format.js';
import { DiagnosticError, hasErrors, type Diagnostic } from '../src/diagnostics/index.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { f32Literal, i32Literal } from '../src/codegen/wgsl/literals.js';
import { readSafetensors } from 'tdc-runtime';
import { stageGraph } from '../src/compiler/run-gpu.js';
import { validateWgsl } from '../src/codegen/validate-wgsl.js';
import { isNoAdapterError } from 'tdc-runtime/node';
import { loadGoldenStage, GOLDEN_DIR } from './helpers/golden-stage.js';
import { opCases } from './helpers/op-graphs.js';

/** Dawn's diagnostics for every kernel of a plan (plus the text rules), as printable lines. */
async function check(plan: KernelPlan, where: string): Promise<string[]> {
  const problems: string[] = [];
  for (const k of plan.kernels) {
    // the pipeline is built with the kernel's workgroup size override at its (software) default
    const constants = Object.fromEntries((k.overrides ?? []).map((o) => [o.name, o.default.software]));
    const ds: Diagnostic[] = await validateWgsl(k.wgsl, { file: `${k.name}.wgsl`, constants });
    if (hasErrors(ds)) problems.push(`${where}/${k.name}:\n${ds.map((d) => formatDiagnostic(d, () => k.wgsl)).join('\n')}`);
    if (/\binf\b|Infinity|NaN/.test(k.wgsl)) problems.push(`${where}/${k.name}: spells an infinity or NaN`);
  }
  return problems;
}

let nullBackend = true;
test('Dawn null backend is available', async () => {
  try {
    await validateWgsl('@compute @workgroup_size(1) fn main() {}');
  } catch (e) {
    if (!isNoAdapterError(e)) throw e;
    nullBackend = false;
    throw new Error(`Dawn's null backend is needed to validate WGSL: ${(e as Error).message}`);
  }
});

test('every golden config that the GPU backend lowers gives valid WGSL (fused; workgroup 8 and 64)', async () => {
  if (!nullBackend) return;
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const problems: string[] = [];
  const unsupported = new Map<string, string>();
  let kernels = 0;
  for (const { case: id } of index.cases) {
    const dir = join(GOLDEN_DIR, id);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { stage: string; trainable: { student: boolean | null; teacher: boolean | null } };
    const { stage } = await loadGoldenStage(dir, expected.stage);
    if (!stage) {
      problems.push(`${id}: no stage`);
      continue;
    }
    stage.trainable = { student: expected.trainable.student !== false, teacher: expected.trainable.teacher === true };
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
    const ds: Diagnostic[] = [];
    const g = stageGraph(stage, new Map([...tensors].filter(([n]) => !n.startsWith('grad/') && !n.startsWith('state_out/'))), true, ds);
    if (!g) {
      problems.push(`${id}: instantiation failed: ${ds.map((d) => d.message).join('; ')}`);
      continue;
    }
    for (const wg of [8, 64]) {
      let plan: KernelPlan;
      try {
        plan = kernelPlan(g, { workgroupSize: wg });
      } catch (e) {
        if (e instanceof DiagnosticError && e.diagnostic.code === 'TDC601') {
          unsupported.set(id, e.diagnostic.message);
          break;
        }
        problems.push(`${id} (wg ${wg}): ${(e as Error).stack}`);
        continue;
      }
      kernels += plan.kernels.length;
      problems.push(...(await check(plan, `${id} (wg ${wg})`)));
    }
  }
  console.log(`validated ${kernels} kernels of ${index.cases.length - unsupported.size} golden cases; not lowered: ${[...unsupported].map(([id, m]) => `${id} (${m})`).join('; ') || 'none'}`);
  assert.is(problems.length, 0, problems.slice(0, 5).join('\n'));
  // every golden case lowers (sort, cholesky and triangular_solve included)
  assert.is(unsupported.size, 0, `unexpectedly unsupported: ${[...unsupported.keys()].join(', ')}`);
});

test('every op of the backend, fused and unfused, at workgroup sizes 1, 8, 24, 64 and 256', async () => {
  if (!nullBackend) return;
  const problems: string[] = [];
  let kernels = 0;
  for (const c of opCases())
    for (const mode of ['fused', 'unfused'] as const)
      for (const wg of [1, 8, 24, 64, 256]) {
        const plan = kernelPlan(c.graph, { workgroupSize: wg, mode });
        kernels += plan.kernels.length;
        problems.push(...(await check(plan, `${c.name} ${mode} wg ${wg}`)));
      }
  console.log(`validated ${kernels} kernels of the op graphs`);
  assert.is(problems.length, 0, problems.slice(0, 5).join('\n'));
});

test('f32 literals round-trip exactly, always read as floats, and never leave the f32 range', () => {
  const values = [0, -0, 1, -1, 0.5, 0.1, 1 / 3, 1e-7, 123456789, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, 2 ** -126, Math.PI, 4.0, 1e38, 100];
  for (const v of values) {
    const s = f32Literal(v);
    assert.match(s, /[.e]/, `${v} → ${s}`);
    assert.is(Math.fround(Number(s)), Math.fround(v), `${v} → ${s}`);
    assert.ok(Math.abs(Number(s)) <= 3.4028234663852886e38, `${v} → ${s} is outside the f32 range`);
  }
  assert.is(f32Literal(Infinity), '3.4028234663852886e38');
  assert.is(f32Literal(-Infinity), '-3.4028234663852886e38');
  assert.throws(() => f32Literal(NaN));
  assert.is(i32Literal(-100), '(-100i)');
  assert.is(i32Literal(-2147483648), '(-2147483647i - 1i)');
});

test('shapes come from the dims uniform: one module serves every batch size; modules are deterministic', () => {
  const kd = opCases().find((c) => c.name === 'kd-symbolic-rows')!;
  const plan = kernelPlan(kd.graph, { workgroupSize: 8 });
  for (const k of plan.kernels) {
    assert.match(k.wgsl, /struct Dims \{\n {2}N: u32,\n {2}C: u32,\n\}/);
    assert.not.match(k.wgsl, /\b(1000|37)u\b/, 'no baked-in sizes');
  }
  assert.is(JSON.stringify(kernelPlan(kd.graph, { workgroupSize: 8 })), JSON.stringify(plan));
  // hyperparameters are baked in as f32 constants (T = 3 → ÷3, and the weight 9 of the term)
  assert.ok(plan.kernels.some((k) => /\/ 3\.0\b/.test(k.wgsl) || /\* 0\.33333334\b/.test(k.wgsl)));
});

test.run();
