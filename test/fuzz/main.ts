// `npm run fuzz -- [--runs N] [--seed S] [--target NAME]`: runs every fuzz target (test/fuzz/targets.ts) with
// fast-check, seeded, and prints per target the inputs run and the failures (with fast-check's shrunk
// counterexample and the seed/path to replay it). Exit 1 on any failure.
import fc from 'fast-check';
import { TARGETS } from './targets.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const runs = Number(arg('runs', '2000'));
const seed = Number(arg('seed', String(Date.now() % 2 ** 31)));
const only = arg('target', '');
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--runs N] [--seed S] [--target NAME]\n');
  process.exit(2);
}

let total = 0;
let failures = 0;
const t0 = performance.now();
for (const t of TARGETS) {
  if (only && t.name !== only) continue;
  const n = Math.max(1, Math.round(runs / t.weight));
  const started = performance.now();
  const r = await fc.check(t.property() as fc.IProperty<[unknown]>, { seed, numRuns: n, endOnFailure: true });
  await t.dispose?.();
  total += r.numRuns;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (r.failed) {
    failures++;
    process.stdout.write(`FAIL ${t.name}: after ${r.numRuns} inputs (${secs} s), seed ${seed}, path ${r.counterexamplePath}\n`);
    process.stdout.write(`  counterexample: ${JSON.stringify(r.counterexample).slice(0, 2000)}\n  ${String(r.errorInstance).slice(0, 2000)}\n`);
  } else process.stdout.write(`ok   ${t.name}: ${r.numRuns} inputs, 0 failures (${secs} s)\n`);
}
process.stdout.write(`fuzz: ${total} inputs, ${failures} failing target${failures === 1 ? '' : 's'}, seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
process.exitCode = failures ? 1 : 0;
