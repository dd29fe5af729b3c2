// A bounded, seeded slice of the fuzz targets (test/fuzz/targets.ts) in `npm test`; `npm run fuzz` runs them long.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TARGETS } from './fuzz/targets.js';
import { differentialContract, differentialStats, disposeDifferential, float32ModelErrors, type DiffCase } from './fuzz/differential-spec.js';

const SEED = 20261205;
// differential-spec: each input is a GPU run on lavapipe, so only a handful here
const RUNS: Record<string, number> = { 'configs-mutated': 40, 'configs-generated': 40, specs: 150, safetensors: 300, 'differential-spec': 5 };

for (const t of TARGETS) {
  test(`fuzz slice: ${t.name} (${RUNS[t.name]} inputs, seed ${SEED})`, async () => {
    let r: fc.RunDetails<[unknown]>;
    try {
      r = await fc.check(t.property() as fc.IProperty<[unknown]>, { seed: SEED, numRuns: RUNS[t.name] ?? 50 });
    } finally {
      await t.dispose?.();
    }
    assert.not.ok(r.failed, `${t.name}: ${String(r.errorInstance)}\ncounterexample: ${JSON.stringify(r.counterexample).slice(0, 1500)}`);
    assert.is(r.numRuns, RUNS[t.name] ?? 50);
    if (t.name === 'differential-spec') {
      console.log(`  differential-spec: ${r.numRuns} programs, ${differentialStats.gpuCases} also on the GPU${differentialStats.noAdapter ? ' (no adapter: GPU part SKIPPED)' : ''}`);
      if (!differentialStats.noAdapter) assert.is(differentialStats.gpuCases, r.numRuns);
    }
  });
}

// The conditioning-aware bound of differential-spec (see its file): the float32 model must tell an ill-conditioned
// program from a well-conditioned one, and the GPU must pass on the ill-conditioned one through that rule.
const program = (x: string, loss: string) => `mid FuzzDiffSpec() {\n  let s = student["."]["output"]\n  let t = teacher["."]["output"]\n  let x = ${x}\n  return ${loss}\n}\n`;
const S = [0.337, -1.2, 0.9, 1.4, -0.25, 0.05];
test('differential-spec: the float32 model bound separates ill- from well-conditioned programs', async () => {
  // (s − t)² with t = s + 0.0002: float32 rounding of the inputs alone (~1e-7) is 5e-4 of the difference
  const ill: DiffCase = { spec: program('(s - t)', 'sum(x * x)'), b: 2, d: 3, s: S, t: S.map((v) => v + 0.0002) };
  const well: DiffCase = { spec: program('(s * t)', 'sum(exp(tanh(x)))'), b: 2, d: 3, s: S, t: S.map((v) => 0.5 - v) };
  const mi = float32ModelErrors(ill);
  const mw = float32ModelErrors(well);
  assert.ok(Math.min(...mi.grads) > 0.25, `ill-conditioned: model gradient errors ${mi.grads} (× default bound) should exceed 1/SAFETY`);
  assert.ok(Math.max(...mw.grads) < 0.05, `well-conditioned: model gradient errors ${mw.grads} (× default bound) should be far below it`);
  assert.ok(mw.loss < 1e-6, `well-conditioned loss: model ${mw.loss}`);
  try {
    await differentialContract(ill);
    await differentialContract(well);
  } finally {
    await disposeDifferential();
  }
});

test.run();
