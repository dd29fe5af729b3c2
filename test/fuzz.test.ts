// A bounded, seeded slice of the fuzz targets (test/fuzz/targets.ts) in `npm test`; `npm run fuzz` runs them long.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TARGETS } from './fuzz/targets.js';
import { differentialStats } from './fuzz/differential-spec.js';

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

test.run();
