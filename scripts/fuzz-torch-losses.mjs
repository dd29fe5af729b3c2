// Differential fuzzing of tdc's torch losses against PyTorch 1.13: runs the cases scripts/fuzz-torch-losses.py wrote
// (golden format, one spec.tdl each) through tdc in this process, after `npm run build`. Not part of CI.
//
//   node scripts/fuzz-torch-losses.mjs [--out DIR] [--gpu] [--only SUBSTRING]
//
// CPU (float64 executor, what `tdc run --device cpu` runs): loss to 1e-9 relative, gradients to 1e-9 of the
// tensor's max |value|, the set of gradients equal to torch's; the tolerances of test/golden-regress.test.ts.
// GPU (--gpu; the real path: fused schedule, WGSL, PlanExecutor): golden/README.md's float32 tolerances (the loss's
// row, else the default), compared by the golden-gpu tests' compareCase. Refusal cases (expect_error) must end in an
// error diagnostic with a code, on the CPU path, never in a number. Prints one line per failure and a summary per
// loss; exit 1 when anything failed.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from 'tdc-runtime';
import { registerSpecFile } from '../dist/src/registry/registry.js';
import { runStageOnCpu } from '../dist/src/compiler/run-cpu.js';
import { runStageOnGpu } from '../dist/src/compiler/run-gpu.js';
import { formatDiagnostic } from '../dist/src/diagnostics/format.js';
import { loadGoldenStage } from '../dist/test/helpers/golden-stage.js';
import { compareCase, defaultTolerance, newWorst, toleranceTable } from '../dist/test/helpers/golden-gpu.js';
import { gradExcess, relErr } from '../dist/test/helpers/golden.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const OUT = arg('--out', '/tmp/tdc-fuzz-torch');
const GPU = process.argv.includes('--gpu');
const ONLY = arg('--only', '');
const RTOL_CPU = 1e-9;

const index = JSON.parse(readFileSync(join(OUT, 'index.json'), 'utf8'));
const cases = index.cases.filter((c) => c.case.includes(ONLY));
const summary = new Map(); // loss -> {run, cpuFail, gpuFail, refusals, refusalFail}
const failures = [];
const table = toleranceTable();
const worst = newWorst();
const registered = new Set();

function load(c) {
  const dir = join(OUT, c.case);
  const spec = join(dir, 'spec.tdl');
  // one registration per spec text (the CTC cases share gen-golden-regress.py's StudentCTCLoss)
  const specText = existsSync(spec) ? readFileSync(spec, 'utf8') : undefined;
  const ds = specText !== undefined && !registered.has(specText) ? (registered.add(specText), registerSpecFile(spec).filter((d) => d.severity === 'error')) : [];
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'), (k, v) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
  );
  const { stage, diagnostics, text, file } = loadGoldenStage(dir, 'train');
  const show = (xs) => xs.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, (f) => (f === file ? text : readFileSync(f, 'utf8'))));
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
  const inputs = new Map([...tensors].filter(([n]) => !n.startsWith('grad/')));
  if (stage) stage.trainable = { student: true, teacher: false };
  return { id: c.case, dir, expected, stage, file, tensors, inputs, show, errors: [...ds, ...diagnostics.filter((d) => d.severity === 'error')] };
}

function checkCpu(lc) {
  const problems = [];
  const { result, diagnostics } = runStageOnCpu(lc.stage, lc.inputs);
  if (!result) return [`no CPU result: ${lc.show(diagnostics).join(' | ').slice(0, 600)}`];
  const le = relErr(result.loss, lc.expected.loss);
  if (!(le <= RTOL_CPU)) problems.push(`CPU loss ${result.loss} vs torch ${lc.expected.loss} (rel ${le.toExponential(2)})`);
  const want = new Set(lc.expected.grads.map((g) => g.slice('grad/'.length)));
  for (const name of want) if (!result.grads.has(name)) problems.push(`CPU: no gradient for ${name}`);
  for (const [name, t] of result.grads) {
    if (!want.has(name)) {
      problems.push(`CPU: gradient for ${name}, which torch leaves None`);
      continue;
    }
    const g = lc.tensors.get(`grad/${name}`).data;
    const e = gradExcess(t.data, g, RTOL_CPU, 0);
    if (!(e <= 1)) {
      let at = 0;
      let m = -1;
      for (let i = 0; i < g.length; i++) {
        const d = Number.isFinite(g[i]) ? Math.abs(t.data[i] - g[i]) : relErr(t.data[i], g[i]);
        if (d > m || Number.isNaN(d)) (m = Number.isNaN(d) ? Infinity : d), (at = i);
      }
      problems.push(`CPU grad/${name}: ${e.toExponential(2)}x the bound; worst at [${at}]: ${t.data[at]} vs torch ${g[at]}`);
    }
  }
  return problems;
}

function tally(loss) {
  if (!summary.has(loss)) summary.set(loss, { values: 0, cpuFail: 0, gpuFail: 0, refusals: 0, refusalFail: 0 });
  return summary.get(loss);
}

const lossOf = (c) => c.case.replace(/^regress__fz_/, '').replace(/_\d+$/, '');
let rt;
if (GPU) {
  const { GpuRuntime } = await import('tdc-runtime/node');
  rt = await GpuRuntime.open({ timeoutMs: 600_000 });
}
for (const c of cases) {
  const loss = lossOf(c);
  const s = tally(loss);
  let lc;
  try {
    lc = load(c);
  } catch (e) {
    failures.push(`${c.case}: load threw ${e.stack ?? e}`);
    continue;
  }
  if (lc.expected.expect_error) {
    s.refusals++;
    let ok = lc.errors.length > 0;
    let detail = lc.errors.map((d) => `${d.code}: ${d.message}`).join(' | ');
    if (!ok && lc.stage) {
      try {
        const { result, diagnostics } = runStageOnCpu(lc.stage, lc.inputs);
        const errs = diagnostics.filter((d) => d.severity === 'error');
        ok = !result && errs.length > 0 && errs.every((d) => /^TDC\d+/.test(d.code));
        detail = result ? `a result: loss ${result.loss}` : errs.map((d) => `${d.code}: ${d.message}`).join(' | ');
      } catch (e) {
        detail = `threw ${e.stack ?? e}`;
      }
    }
    if (!ok) {
      s.refusalFail++;
      failures.push(`${c.case}: expected a refusal (${lc.expected.expect_error}), got ${detail.slice(0, 400)}`);
    } else if (process.env.FUZZ_VERBOSE) console.log(`${c.case}: refused as torch does (${lc.expected.expect_error}): ${detail.slice(0, 300)}`);
    continue;
  }
  s.values++;
  if (lc.errors.length || !lc.stage) {
    s.cpuFail++;
    failures.push(`${c.case}: refused a case torch computes: ${lc.show(lc.errors).join(' | ').slice(0, 600)}\n    ${lc.expected.notes}`);
    continue;
  }
  let problems;
  try {
    problems = checkCpu(lc);
  } catch (e) {
    problems = [`CPU threw ${e.stack ?? e}`];
  }
  if (problems.length) {
    s.cpuFail++;
    failures.push(`${c.case} [cpu]: ${problems.join('\n    ')}\n    ${lc.expected.notes}`);
  }
  const probe = lc.expected.f32_probe?.loss_rel_err;
  if (rt && typeof probe === 'number' && probe > (table.get(loss) ?? defaultTolerance()).loss / 10) {
    s.f32Ill = (s.f32Ill ?? 0) + 1; // float32-ill-conditioned (the py script's probe): no GPU comparison
  } else if (rt) {
    let gp;
    try {
      const { result, diagnostics } = await runStageOnGpu(lc.stage, lc.inputs, { file: lc.file, runtime: rt });
      gp = result ? compareCase(lc, result, table.get(loss) ?? defaultTolerance(), worst) : [`no GPU result: ${lc.show(diagnostics).join(' | ').slice(0, 600)}`];
    } catch (e) {
      gp = [`GPU threw ${e.stack ?? e}`];
    }
    if (gp.length) {
      s.gpuFail++;
      failures.push(`${c.case} [gpu]: ${gp.join('\n    ')}\n    ${lc.expected.notes}`);
    }
  }
}
rt?.destroy();
for (const f of failures) console.log(f);
console.log(`\n${'loss'.padEnd(32)} values cpu-fail${GPU ? ' gpu-fail' : ''} refusals refusal-fail`);
for (const [loss, s] of [...summary].sort()) console.log(`${loss.padEnd(32)} ${String(s.values).padStart(6)} ${String(s.cpuFail).padStart(8)}${GPU ? String(s.gpuFail).padStart(9) : ''} ${String(s.refusals).padStart(8)} ${String(s.refusalFail).padStart(12)}`);
if (GPU) console.log(`GPU skipped as float32-ill-conditioned (torch's own float32 probe off by > loss tolerance / 10): ${[...summary].map(([l, x]) => (x.f32Ill ? `${l} ${x.f32Ill}` : '')).filter(Boolean).join(', ') || 'none'}`);
if (GPU) console.log(`GPU worst: loss rel ${worst.loss.err.toExponential(2)} (${worst.loss.case}), grad ${worst.grad.err.toExponential(2)}x bound (${worst.grad.case})`);
console.log(`${cases.length} cases, ${failures.length} failures (seed ${index.seed}; stats ${JSON.stringify(index.stats)})`);
process.exit(failures.length ? 1 : 0);
