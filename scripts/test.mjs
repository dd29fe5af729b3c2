// Runs every compiled uvu test file (dist/test/*.test.js) in its own process and prints one closing line
// `N passed, N failed` (CI reads it; uvu's own per-file summaries are shown above it).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'dist/test';
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;

function runFile(file) {
  return new Promise((resolve) => {
    // a developer's tuning cache (tdc tune) must not change what the tests run: off unless a test names one
    const child = spawn(process.execPath, [join(dir, file)], { env: { TDC_TUNING_CACHE: 'off', ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('close', (code, signal) => resolve({ out: strip(out), code, signal }));
  });
}

for (const file of files) {
  console.log(`\n### ${file}`);
  const { out, code, signal } = await runFile(file);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    console.log(`!!! ${file} exited (code ${code}, signal ${signal}) without a uvu summary: counted as 1 failure`);
    failed += 1;
    continue;
  }
  passed += ok;
  failed += total - ok - skipped;
  if (code !== 0 && total === ok + skipped) {
    console.log(`!!! ${file} exited with code ${code} after its tests: counted as 1 failure`);
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
