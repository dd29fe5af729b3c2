// A bounded, seeded slice of the fuzz targets (test/fuzz/targets.ts) in `npm test`; `npm run fuzz` runs them long.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TARGETS } from './fuzz/targets.js';

const SEED = 20261205;
const RUNS: Record<string, number> = { 'configs-mutated': 40, 'configs-generated': 40, specs: 150, safetensors: 300 };

for (const t of TARGETS) {
  test(`fuzz slice: ${t.name} (${RUNS[t.name]} inputs, seed ${SEED})`, () => {
    const r = fc.check(t.property() as fc.IProperty<[unknown]>, { seed: SEED, numRuns: RUNS[t.name] ?? 50 }) as fc.RunDetails<[unknown]>;
    assert.not.ok(r.failed, `${t.name}: ${String(r.errorInstance)}\ncounterexample: ${JSON.stringify(r.counterexample).slice(0, 1500)}`);
    assert.is(r.numRuns, RUNS[t.name] ?? 50);
  });
}

test.run();
