// The kernel IR interpreter against the float64 oracle, with no GPU: every golden case (golden/, golden-torch/
// and the checked-in regression cases of test/fixtures/golden-regress: CTC, BCE int/bool weights, their
// custom specs registered as golden-regress.test.ts does) through the real compile path — symbolic batch, fused schedule, kernel IR — run by the
// interpreter (src/codegen/kernel-ir/interpret.ts: invocations of a workgroup as phases between barriers,
// workgroup memory, f32 rounding after every operation), compared at the GPU tolerances of golden/README.md
// (core cases 1e-5 / 1e-4 as in golden-gpu; the other families their row of the table; golden-torch and
// regression cases their loss's row, else the default). Workgroups of 8 (the software default, serial folds of the partials)
// for all cases; every 5th case also at 64 (tree reductions) and 24 (not a power of two).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { CORE_LOSSES, casePath, goldenIndex, gradExcess, indexedCases, relErr, torchIndex, type GoldenIndexCase } from './helpers/golden.js';
import { GOLDEN_REGRESS } from './helpers/cli.js';
import { registerSpecFile } from '../src/registry/registry.js';
import { defaultTolerance, familyOf, newWorst, toleranceTable, type Tolerance } from './helpers/golden-gpu.js';
import { checkInterpretedCase, widened } from './helpers/golden-interpret.js';
import { opCases, reference } from './helpers/op-graphs.js';
import { schedule } from '../src/compiler/schedule/index.js';
import { generatePlanModules } from '../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../src/codegen/kernel-ir/interpret-plan.js';

const table = toleranceTable();
const regress = indexedCases(GOLDEN_REGRESS);
const cases = [...goldenIndex(), ...torchIndex(), ...regress];

// the regression cases' custom specs (a file may serve several cases: registered once)
for (const spec of new Set(regress.map((c) => casePath(c.case, 'spec.tdl')).filter((f) => existsSync(f)))) {
  const errors = registerSpecFile(spec).filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${spec}: ${errors.map((d) => d.message).join('; ')}`);
}

function tolerance(c: GoldenIndexCase): Tolerance {
  if (c.case.startsWith('torch__') || c.case.startsWith('regress__')) return table.get(c.losses[0]!) ?? defaultTolerance();
  if (c.losses.every((l) => CORE_LOSSES.has(l))) return { loss: 1e-5, grad: 1e-4 };
  const t = table.get(familyOf(c.losses));
  if (!t) throw new Error(`${c.case}: no tolerance row for ${familyOf(c.losses)} in golden/README.md`);
  return t;
}

async function run(list: GoldenIndexCase[], workgroupSize?: number, subgroupSize?: number): Promise<void> {
  const failures: string[] = [];
  const worst = newWorst();
  for (const c of list) {
    const problems = await checkInterpretedCase(c.case, tolerance(c), worst, workgroupSize, subgroupSize);
    if (problems.length) failures.push(`${c.case}:\n    ${problems.slice(0, 4).join('\n    ')}`);
  }
  if (failures.length) console.log(failures.slice(0, 20).join('\n'));
  if (widened.length) console.log(`planned for 16 storage buffers (they need more than 8): ${[...new Set(widened)].join(', ')}`);
  console.log(
    `interpreter${workgroupSize ? ` (workgroup ${workgroupSize})` : ''}${subgroupSize ? ` (subgroup variants, subgroups of ${subgroupSize})` : ''}: ${list.length - failures.length}/${list.length} golden cases pass; ` +
      `worst loss/term rel err ${worst.loss.err.toExponential(2)} (${worst.loss.case}); worst grad ${worst.grad.err.toExponential(2)} of the bound (${worst.grad.case})`,
  );
  assert.is(failures.length, 0, `${failures.length} golden cases differ under the interpreter`);
}

test(`every golden case (${cases.length}) through the kernel IR interpreter, workgroups of 8`, async () => {
  assert.ok(cases.length > 200 && regress.length > 0, 'the golden/, golden-torch/ and golden-regress index files list the cases');
  await run(cases);
});

for (const wg of [64, 24])
  test(`every 5th golden case with workgroups of ${wg}`, async () => {
    await run(
      cases.filter((_, i) => i % 5 === 0),
      wg,
    );
  });

// The row kernels' subgroup variants (subgroup-combine.ts): one subgroup per workgroup (lavapipe's 8 of 8),
// several subgroups folded through workgroup memory (64 of 8, 8 of 4), and a partial last subgroup (12 of 8:
// the subgroupAdd fallback).
test(`every golden case (${cases.length}), subgroup variants, workgroups of 8 in subgroups of 8`, async () => {
  await run(cases, 8, 8);
});

for (const [wg, sg] of [[64, 8], [8, 4], [12, 8]] as const)
  test(`every 5th golden case, subgroup variants, workgroups of ${wg} in subgroups of ${sg}`, async () => {
    await run(
      cases.filter((_, i) => i % 5 === 0),
      wg,
      sg,
    );
  });

test('every lowered op (hand-built graphs) under the interpreter matches the float64 CPU executor, fused and unfused', () => {
  const failures: string[] = [];
  let runs = 0;
  for (const c of opCases())
    for (const [mode, wg] of [['fused', 8], ['fused', 64], ['fused', 24], ['unfused', 8]] as const) {
      const { plan, modules } = generatePlanModules(schedule(c.graph, { workgroupSize: wg, mode }));
      for (const [k, inp] of c.inputs.entries()) {
        const where = `${c.name} ${mode} wg ${wg} [${[...inp.values()][0]!.shape.join('x')}]`;
        runs++;
        try {
          const want = reference(c, k);
          const got = interpretPlan(plan, modules, new Map(plan.inputs.map((i) => [i.name, inp.get(i.name)!])));
          if (!(relErr(got.loss, want.loss) <= 1e-5)) failures.push(`${where}: loss ${got.loss} vs ${want.loss}`);
          for (const [name, g] of want.grads) {
            const e = gradExcess(got.grads.get(name)!, g.data, 1e-4, 1e-4);
            if (!(e <= 1)) failures.push(`${where}: grad ${name} ${e.toFixed(2)}× the bound`);
          }
        } catch (e) {
          failures.push(`${where}: ${(e as Error).message}`);
        }
      }
    }
  console.log(`op graphs under the interpreter: ${runs - failures.length}/${runs} runs match`);
  assert.is(failures.length, 0, failures.slice(0, 10).join('\n'));
});

test.run();
