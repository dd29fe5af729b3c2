// Numeric parity on a WebGPU adapter for the golden cases beyond the core set (every mid-level loss), through
// the real GPU path, with golden/README.md's per-family float32 tolerances (its "Recommended tolerances"
// table, read from the README: loss rtol, gradient rtol_grad; state outputs are held to rtol_grad too).
// Also: the rank-based SSKD cases at workgroup sizes 64 and 24. No adapter: a failure when
// TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GpuRuntime } from 'tdc-runtime/node';
import { isNoAdapterError } from '../src/compiler/run-gpu.js';
import { nonCoreCases, torchIndex } from './helpers/golden.js';
import { checkGpuCase, defaultTolerance, familyOf, newWorst, toleranceTable } from './helpers/golden-gpu.js';

const REQUIRE = process.env['TDC_REQUIRE_GPU'] === '1';
const cases = nonCoreCases();

const table = toleranceTable();
const torchCases = torchIndex();

async function openRuntime(): Promise<GpuRuntime | undefined> {
  try {
    return await GpuRuntime.open();
  } catch (e) {
    if (!isNoAdapterError(e)) throw e;
    const msg = `no WebGPU adapter: ${(e as Error).message}`;
    if (REQUIRE) throw new Error(`${msg} (TDC_REQUIRE_GPU=1)`);
    console.log(`\n!!!!!!!! golden-gpu-all SKIPPED — ${msg}\n!!!!!!!! install Mesa lavapipe (mesa-vulkan-drivers) to run it; CI sets TDC_REQUIRE_GPU=1\n`);
    return undefined;
  }
}

let runtime: GpuRuntime | undefined;
let opened = false;
async function gpu(): Promise<GpuRuntime | undefined> {
  if (!opened) {
    opened = true;
    runtime = await openRuntime();
  }
  return runtime;
}

test('every non-core case has a tolerance row in golden/README.md', () => {
  assert.ok(cases.length > 0, 'golden/index.json lists non-core cases');
  const missing = [...new Set(cases.map((c) => familyOf(c.losses)))].filter((f) => !table.has(f));
  assert.equal(missing, []);
});

test(`golden cases with mid-level losses on the GPU (${cases.length})`, async () => {
  const rt = await gpu();
  if (!rt) return;
  const failures: string[] = [];
  const byFamily = new Map<string, { pass: number; total: number; worst: ReturnType<typeof newWorst> }>();
  for (const c of cases) {
    const fam = familyOf(c.losses);
    const f = byFamily.get(fam) ?? { pass: 0, total: 0, worst: newWorst() };
    byFamily.set(fam, f);
    const problems = await checkGpuCase(c.case, rt, table.get(fam)!, f.worst);
    f.total++;
    if (problems.length) failures.push(`${c.case}:\n    ${problems.join('\n    ')}`);
    else f.pass++;
  }
  for (const [fam, f] of [...byFamily].sort(([a], [b]) => a.localeCompare(b)))
    console.log(
      `  ${fam}: ${f.pass}/${f.total}; worst loss rel ${f.worst.loss.err.toExponential(1)}, grad ${f.worst.grad.err.toExponential(1)}× bound, ` +
        `grad max|err|/max|g| ${f.worst.gradMax.err.toExponential(1)}`,
    );
  if (failures.length) console.log(failures.join('\n'));
  console.log(`golden-gpu-all on ${rt.describe()}: ${cases.length - failures.length}/${cases.length} pass`);
  assert.is(failures.length, 0, `${failures.length} golden cases differ on the GPU`);
});

test(`golden-torch cases on the GPU (${torchCases.length}; golden/README.md tolerances: the loss's row, else the default)`, async () => {
  const rt = await gpu();
  if (!rt) return;
  const failures: string[] = [];
  const worst = newWorst();
  const byLoss = new Map<string, { pass: number; total: number }>();
  for (const c of torchCases) {
    const loss = c.losses[0]!;
    const f = byLoss.get(loss) ?? { pass: 0, total: 0 };
    byLoss.set(loss, f);
    const problems = await checkGpuCase(c.case, rt, table.get(loss) ?? defaultTolerance(), worst);
    f.total++;
    if (problems.length) failures.push(`${c.case}:\n    ${problems.join('\n    ')}`);
    else f.pass++;
  }
  console.log(`  ${[...byLoss].map(([l, f]) => `${l} ${f.pass}/${f.total}`).join(', ')}`);
  if (failures.length) console.log(failures.join('\n'));
  console.log(
    `golden-torch on ${rt.describe()}: ${torchCases.length - failures.length}/${torchCases.length} pass; worst loss rel ${worst.loss.err.toExponential(2)} (${worst.loss.case}); ` +
      `worst grad ${worst.grad.err.toExponential(2)}× bound (${worst.grad.case})`,
  );
  assert.is(failures.length, 0, `${failures.length} golden-torch cases differ on the GPU`);
});

test('SSKD cases (rank-based row selection) with workgroups of 64 and 24', async () => {
  const rt = await gpu();
  if (!rt) return;
  const failures: string[] = [];
  for (const wg of [64, 24])
    for (const c of cases.filter((x) => x.losses.includes('SSKDLoss'))) {
      const problems = await checkGpuCase(c.case, rt, table.get(familyOf(c.losses))!, newWorst(), wg);
      if (problems.length) failures.push(`${c.case} (wg ${wg}):\n    ${problems.join('\n    ')}`);
    }
  if (failures.length) console.log(failures.join('\n'));
  assert.is(failures.length, 0, `${failures.length} cases differ`);
});

test('release the device', () => {
  runtime?.destroy();
});

test.run();
