// Regression cases in the golden format, computed by PyTorch 1.13 in float64 and checked in
// (test/fixtures/golden-regress, written by scripts/gen-golden-regress.py): CTCLoss through a custom spec (each
// CTC case carries its spec.tdl: no torchdistill config can feed CTC's four tensors), integer/bool weights of
// the BCE family, and the torch losses at their edges (ignored positions holding -inf, every target ignored, hinge
// ties, p = inf / 0 distances, nested-list weights, unbatched input, infinite differences; each through a spec.tdl). CPU: `tdc run --device cpu [--spec <case>/spec.tdl]` to 1e-9, as the golden suites; GPU: the
// real GPU path at golden/README.md's tolerances (the loss's row, else the default). No adapter: a failure when
// TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTestRuntime } from './helpers/open-gpu.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSpecFile } from '../src/registry/registry.js';
import { GOLDEN_REGRESS, tdcAsync } from './helpers/cli.js';
import { casePath, checkRun, indexedCases, type RunJson } from './helpers/golden.js';
import { checkGpuCase, defaultTolerance, newWorst, toleranceTable } from './helpers/golden-gpu.js';

const cases = indexedCases(GOLDEN_REGRESS);
const specOf = (id: string): string[] => (existsSync(casePath(id, 'spec.tdl')) ? ['--spec', casePath(id, 'spec.tdl')] : []);

test(`tdc run --device cpu matches the ${cases.length} regression cases (CTCLoss, BCE-family int/bool weights, torch-loss edges) to 1e-9`, async () => {
  assert.ok(cases.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'tdc-regress-cpu-'));
  const failures: string[] = [];
  try {
    for (const c of cases) {
      const grads = join(dir, `${c.case}.grads.safetensors`);
      const r = await tdcAsync(['run', casePath(c.case, 'config.yaml'), '--inputs', casePath(c.case, 'tensors.safetensors'), ...specOf(c.case), '--device', 'cpu', '--json', '--grads-out', grads]);
      if (r.code !== 0) {
        failures.push(`${c.case}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
        continue;
      }
      failures.push(...checkRun(c.case, JSON.parse(r.stdout) as RunJson, { grads }, 1e-9).failures);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(failures, [], failures.join('\n'));
});

test(`the ${cases.length} regression cases on the GPU (golden/README.md tolerances)`, async () => {
  // lavapipe sharing a loaded CPU can take longer than the default 60 s GPU timeout to compile and run these plans
  // (a hang guard, not a tolerance)
  const rt = await openTestRuntime('golden-regress GPU', { timeoutMs: 600_000 });
  if (!rt) return;
  const table = toleranceTable();
  const worst = newWorst();
  const failures: string[] = [];
  const registered = new Set<string>();
  try {
    for (const c of cases) {
      const spec = specOf(c.case)[1];
      if (spec) {
        const text = readFileSync(spec, 'utf8');
        if (!registered.has(text)) {
          registered.add(text);
          assert.equal(registerSpecFile(spec).filter((d) => d.severity === 'error'), [], spec);
        }
      }
      const problems = await checkGpuCase(c.case, rt, table.get(c.losses[0]!) ?? defaultTolerance(), worst);
      if (problems.length) failures.push(`${c.case}:\n    ${problems.join('\n    ')}`);
    }
  } finally {
    rt.destroy();
  }
  console.log(`  golden-regress on the GPU: ${cases.length - failures.length}/${cases.length}; worst loss rel ${worst.loss.err.toExponential(2)} (${worst.loss.case}), grad ${worst.grad.err.toExponential(2)}× bound (${worst.grad.case})`);
  assert.equal(failures, [], failures.join('\n'));
});

test.run();
