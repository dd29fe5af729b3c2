#!/usr/bin/env node
// QA sweep over the real torchdistill configs (../shared/torchdistill/configs), along the path a user takes with
// the CLI: `tdc check` every config; per stage, `tdc compile` with `--shape` (batch and every other dim symbolic,
// as a user without a sample file writes it) and with `--like` a generated io_dict; `tdc run` on the CPU and on
// the GPU on the same generated inputs; CPU (float64) vs GPU (float32) loss, terms and gradients compared under
// golden/README.md's float32 tolerances (its per-family table, else its default); and, for one config of each loss
// family, the generated glue type-checked with `tsc --strict` the way test/consumer does (helpers/typecheck-glue).
//
// Inputs are generated, not the golden ones: the shapes and dtypes come from the golden case of the config and
// stage (every modern config has one), else from a golden case reading the same tensors (legacy configs), else
// logits [4, 10] and labels [4]; floats are fresh seeded values in the golden tensor's range (non-negative
// where it is: probabilities, variances), integers are drawn from the golden tensor's values (class ids,
// ignore_index, CRD's sample indices). Configs whose golden case shrinks kwargs (CRD's 1281167×128 memory banks)
// are compiled at their real sizes but not run.
//
//   node scripts/sweep-configs.mjs [--only SUBSTR]... [--no-gpu] [--no-tsc] [--timeout S] [--out DIR] [--keep]
//
// Needs a build (npm run build). Writes DIR/results.json (one record per config and stage) and prints a summary
// table: counts per outcome, then every finding grouped by outcome with the command that reproduces it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, writeSafetensors } from 'tdc-runtime';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env['TDC_SHARED'] ?? resolve(ROOT, '..', 'shared');
const CONFIGS = join(SHARED, 'torchdistill', 'configs');
const GOLDEN = join(SHARED, 'golden');
const TDC = join(ROOT, 'bin', 'tdc.js');

const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const opt = (f, d) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
const only = args.flatMap((a, i) => (args[i - 1] === '--only' ? [a] : []));
const GPU = !flag('--no-gpu');
const TSC = !flag('--no-tsc');
const TIMEOUT_S = Number(opt('--timeout', '180'));
const OUT = resolve(opt('--out', join(ROOT, 'scratch-sweep')));
const KEEP = flag('--keep');

const env = { ...process.env, NO_COLOR: '1', TDC_TUNING_CACHE: 'off' };
delete env['FORCE_COLOR'];

function yamlFiles(dir) {
  const out = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (n.endsWith('.yaml') || n.endsWith('.yml')) out.push(p);
  }
  return out;
}

/** One CLI call: status, streams, seconds, and how it ended (exit, timeout, signal). */
function tdc(argv, timeoutS = TIMEOUT_S) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [TDC, ...argv], { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 256 * 1024 * 1024 });
  const s = (performance.now() - t0) / 1000;
  const timedOut = r.error?.code === 'ETIMEDOUT' || (r.signal === 'SIGTERM' && s >= timeoutS - 1);
  return { status: r.status, signal: r.signal, timedOut, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').split('\n').filter((l) => !/artificially reduced/.test(l)).join('\n'), s };
}

const quote = (a) => (/^[\w./=:+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const cmdline = (argv) => ['node bin/tdc.js', ...argv.map(quote)].join(' ');

/** What went wrong in a CLI call, by class: a stack trace or internal error (exit 70), a timeout, a signal. */
function failureClass(r) {
  if (r.timedOut) return 'hang/timeout';
  if (r.signal) return `killed (${r.signal})`;
  if (r.status === 70 || /^\s+at .+\(.+:\d+:\d+\)$/m.test(r.stderr) || /please report/i.test(r.stderr)) return 'crash (internal error / stack trace)';
  if (/\b(WGSL|Tint|Dawn|GPUValidationError|Validation Error)\b/.test(r.stderr) && !/TDC\d{3}/.test(r.stderr)) return 'raw GPU/WGSL error';
  if (r.status !== 0 && !/TDC\d{3}/.test(r.stderr)) return 'unclear diagnostic (no TDC code)';
  return undefined;
}

// ---- golden cases: where the shapes come from
const index = JSON.parse(readFileSync(join(GOLDEN, 'index.json'), 'utf8'));
const bySource = new Map(); // 'configs/<rel>' + '#' + stage → case id
const byReads = new Map(); // sorted read names → case ids
const caseInfo = new Map();
for (const c of index.cases) {
  const e = JSON.parse(readFileSync(join(GOLDEN, c.case, 'expected.json'), 'utf8'));
  caseInfo.set(c.case, { losses: c.losses, overrides: e.overrides ?? [], inputs: e.inputs });
  if (c.kind === 'config') bySource.set(`${c.source_config}#${c.stage}`, c.case);
  const key = e.inputs.filter((n) => !n.startsWith('state_in/') && !n.startsWith('model_loss/')).sort().join('|');
  if (!byReads.has(key)) byReads.set(key, []);
  byReads.get(key).push(c.case);
}

// ---- tolerances: golden/README.md (as test/helpers/golden-gpu.ts reads them)
const readme = readFileSync(join(GOLDEN, 'README.md'), 'utf8');
const tolTable = new Map();
for (const line of readme.split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  if (cells.length !== 9 || !/^\d+$/.test(cells[2])) continue;
  const loss = Number(cells[6]);
  const grad = Number(cells[7]);
  if (Number.isFinite(loss) && Number.isFinite(grad)) tolTable.set(cells[1], { loss, grad });
}
const dm = /Default: \*\*loss rtol = ([0-9.e-]+); gradients rtol_grad = ([0-9.e-]+)/.exec(readme);
const DEFAULT_TOL = { loss: Number(dm[1]), grad: Number(dm[2]) };
const familyOf = (losses) => losses.filter((l) => l !== 'CrossEntropyLoss' && l !== 'model_term').sort().join('+');
const toleranceOf = (losses) => tolTable.get(familyOf(losses)) ?? DEFAULT_TOL;

// ---- generated inputs
/** A seeded generator (xorshift128+ over a sha256 seed): the same config and stage always get the same inputs. */
function rng(seedText) {
  const h = createHash('sha256').update(seedText).digest();
  let s0 = h.readBigUInt64LE(0) | 1n;
  let s1 = h.readBigUInt64LE(8) | 2n;
  const M = (1n << 64n) - 1n;
  const next = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x = (x ^ (x << 23n)) & M;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(((s1 + y) & M) >> 11n) / 2 ** 53;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { uniform: next, normal };
}

/** Inputs like a golden case's (its names, shapes and dtypes; values fresh, in its range), floats as F32. */
function inputsLike(caseId, seed) {
  const { tensors } = readSafetensors(readFileSync(join(GOLDEN, caseId, 'tensors.safetensors')));
  const r = rng(seed);
  const out = new Map();
  for (const [name, t] of tensors) {
    if (name.startsWith('grad/') || name.startsWith('state_out/')) continue;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype === 'I64' || t.dtype === 'I32') {
      const vals = [...t.data].map(Number);
      // integers: drawn from the golden tensor's values (valid class ids, ignore_index, sample indices)
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) data[i] = BigInt(vals[Math.floor(r.uniform() * vals.length)] ?? 0);
      out.set(name, { dtype: 'I64', shape: t.shape, data });
      continue;
    }
    const g = [...t.data];
    const min = Math.min(...g);
    const max = Math.max(...g);
    const mean = g.reduce((a, b) => a + b, 0) / Math.max(1, n);
    const std = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n)) || 1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = min >= 0 ? min + (max - min) * r.uniform() : mean + std * r.normal();
    out.set(name, { dtype: 'F32', shape: t.shape, data });
  }
  return out;
}

/** The fallback: logits [4, 10] for every float read, labels [4]. */
function defaultInputs(reads, seed) {
  const r = rng(seed);
  const out = new Map();
  for (const name of reads) {
    if (name === 'targets') out.set(name, { dtype: 'I64', shape: [4], data: BigInt64Array.from({ length: 4 }, () => BigInt(Math.floor(r.uniform() * 10))) });
    else out.set(name, { dtype: 'F32', shape: [4, 10], data: Float32Array.from({ length: 40 }, () => r.normal()) });
  }
  return out;
}

/** `--shape` arguments for the inputs: the batch dim N, every other dim its own symbol (`:int` for integers). */
function shapeArgs(inputs, reads) {
  const firsts = [...inputs.values()].filter((t) => t.shape.length > 0).map((t) => t.shape[0]);
  const counts = new Map();
  for (const f of firsts) counts.set(f, (counts.get(f) ?? 0) + 1);
  const batch = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const out = [];
  let k = 0;
  for (const [name, t] of inputs) {
    // only what the stage reads (a golden io_dict also holds hooked tensors no term reads: --shape refuses them, TDC614)
    if (name.startsWith('state_in/') || (!reads.includes(name) && !name.startsWith('model_loss/'))) continue;
    const dims = t.shape.map((d, i) => (i === 0 && d === batch ? 'N' : `D${k++}`));
    const isInt = t.dtype === 'I64' || t.dtype === 'I32';
    if (name === 'targets' && isInt && dims.length === 1 && dims[0] === 'N') continue; // the default
    out.push('--shape', `${name}=${dims.length ? dims.join('x') : '[]'}${isInt && name !== 'targets' ? ':int' : ''}`);
  }
  return out;
}

// ---- comparisons
const relErr = (x, g) => (x === g ? 0 : Math.abs(x - g) / Math.max(Math.abs(g), 1e-30));
/** golden/README.md's gradient bound: |x − g| ≤ rtol·max|g| + rtol·|g|; the worst element's excess over it. */
function gradExcess(x, g, rtol) {
  let maxAbs = 0;
  for (const v of g) maxAbs = Math.max(maxAbs, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < g.length; i++) {
    const bound = rtol * maxAbs + rtol * Math.abs(g[i]);
    const err = Math.abs(x[i] - g[i]);
    if (Number.isNaN(x[i]) !== Number.isNaN(g[i])) return Infinity;
    if (Number.isNaN(g[i])) continue;
    worst = Math.max(worst, bound > 0 ? err / bound : err > 0 ? Infinity : 0);
  }
  return worst;
}

function compare(cpu, gpu, cpuGrads, gpuGrads, tol) {
  const problems = [];
  const num = (v) => (v === null || v === undefined ? NaN : v);
  const cmp = (what, a, b) => {
    const x = num(b);
    const g = num(a);
    if (Number.isNaN(x) && Number.isNaN(g)) return;
    if (!(relErr(x, g) <= tol.loss)) problems.push(`${what}: gpu ${x} vs cpu ${g} (rel ${relErr(x, g).toExponential(2)}, tol ${tol.loss})`);
  };
  cmp('loss', cpu.loss, gpu.loss);
  for (const [name, t] of Object.entries(cpu.terms ?? {})) cmp(`term ${name}`, t.value, gpu.terms?.[name]?.value);
  for (const name of new Set([...cpuGrads.keys(), ...gpuGrads.keys()])) {
    const a = cpuGrads.get(name);
    const b = gpuGrads.get(name);
    if (!a || !b) {
      problems.push(`${name}: only on the ${a ? 'CPU' : 'GPU'}`);
      continue;
    }
    if (a.data.length !== b.data.length) {
      problems.push(`${name}: ${a.data.length} vs ${b.data.length} elements`);
      continue;
    }
    const e = gradExcess(Float64Array.from(b.data), Float64Array.from(a.data), tol.grad);
    if (!(e <= 1)) problems.push(`${name}: off by ${e.toFixed(2)}× the bound (rtol_grad ${tol.grad})`);
  }
  return problems;
}

const readTensors = (file) => (existsSync(file) ? readSafetensors(readFileSync(file)).tensors : new Map());

// ---- tsc --strict of the glue (one config per loss family)
let typecheckStrict;
async function typecheck(outDir) {
  typecheckStrict ??= (await import(join(ROOT, 'dist', 'test', 'helpers', 'typecheck-glue.js'))).typecheckStrict;
  const glue = readdirSync(outDir).find((f) => f.endsWith('.ts'));
  if (!glue) return 'no .ts glue written';
  // inside the repo's dist/ (as test/glue.test.ts does), so that tdc-runtime and @types resolve from its node_modules
  const dir = mkdtempSync(join(ROOT, 'dist', 'tmp-sweep-glue-'));
  try {
    copyFileSync(join(outDir, glue), join(dir, glue));
    writeFileSync(join(dir, 'consumer.ts'), `import * as glue from './${glue.replace(/\.ts$/, '.js')}';\nexport const names: string[] = Object.keys(glue);\n`);
    return typecheckStrict([join(dir, glue), join(dir, 'consumer.ts')], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the sweep
const configs = yamlFiles(CONFIGS).filter((p) => only.length === 0 || only.some((o) => p.includes(o)));
mkdirSync(OUT, { recursive: true });
const results = [];
const findings = [];
const note = (rel, stage, outcome, detail, repro) => findings.push({ rel, stage, outcome, detail, repro });
const familiesTyped = new Set();
const swept = new Map(); // criterion key → the first config swept with it

console.log(`sweep: ${configs.length} configs, GPU ${GPU ? 'on' : 'off'}, tsc ${TSC ? 'on' : 'off'}, timeout ${TIMEOUT_S}s, work dir ${relative(ROOT, OUT) || OUT}`);
const t0 = performance.now();
for (const [ci, path] of configs.entries()) {
  const rel = relative(CONFIGS, path);
  const id = rel.replace(/\.ya?ml$/, '').replace(/\//g, '__');
  const work = join(OUT, id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rec = { rel, check: undefined, stages: [] };
  results.push(rec);

  const chk = tdc(['check', path, '--json']);
  const cls = failureClass({ ...chk, stderr: chk.stderr + chk.stdout }); // --json: the diagnostics are on stdout
  rec.check = { status: chk.status, s: chk.s };
  if (cls) note(rel, '-', `check: ${cls}`, chk.stderr.slice(-600), cmdline(['check', path]));
  let checkDiags = [];
  try {
    checkDiags = JSON.parse(chk.stdout).flatMap((f) => f.diagnostics ?? []);
  } catch {
    if (!cls) note(rel, '-', 'check: --json not JSON', chk.stdout.slice(0, 300), cmdline(['check', path, '--json']));
  }
  const errors = checkDiags.filter((d) => d.severity === 'error');
  rec.check.errors = errors.map((d) => `${d.code}: ${d.message}`);
  if (chk.status !== 0) {
    rec.check.outcome = errors.length ? 'check: config error (diagnosed)' : 'check: failed without a diagnostic';
    if (!errors.length && !cls) note(rel, '-', rec.check.outcome, chk.stderr.slice(-600), cmdline(['check', path]));
    console.log(`[${ci + 1}/${configs.length}] ${rel}: check exit ${chk.status} (${rec.check.errors.join('; ').slice(0, 160)})`);
    continue;
  }
  rec.check.outcome = 'check: ok';

  const ins = tdc(['inspect', path, '--json']);
  let stages;
  try {
    stages = JSON.parse(ins.stdout).stages;
  } catch {
    note(rel, '-', `inspect: ${failureClass(ins) ?? 'not JSON'}`, ins.stderr.slice(-600), cmdline(['inspect', path, '--json']));
    continue;
  }

  for (const st of stages) {
    const srec = { stage: st.name, outcome: [], s: {} };
    rec.stages.push(srec);
    const reads = [...new Set(st.terms.flatMap((t) => t.reads))].sort();
    const losses = st.terms.map((t) => t.key);
    // a golden case supplies the shapes only where it holds every tensor the stage reads (a legacy config may read
    // other paths than its modern twin: the GLUE KD configs' student/./output, not student/classifier/output)
    const covers = (c) => c !== undefined && reads.every((r) => caseInfo.get(c).inputs.includes(r)) ? c : undefined;
    let caseId = covers(bySource.get(`configs/${rel}#${st.name}`));
    if (!caseId && rel.startsWith('legacy/')) caseId = covers(bySource.get(`configs/${rel.slice('legacy/'.length)}#${st.name}`));
    if (!caseId) {
      const same = byReads.get(reads.join('|')) ?? [];
      caseId = same.find((c) => caseInfo.get(c).losses.slice().sort().join() === [...losses, ...(caseInfo.get(c).losses.includes('model_term') ? ['model_term'] : [])].sort().join()) ?? same[0];
    }
    srec.shapesFrom = caseId ?? 'default [4, 10]';
    // the same criterion (terms, kwargs, reads, trainable sides) on inputs of the same names and ranks compiles and
    // runs as one already swept: counted as that one's duplicate (legacy configs repeat their modern twin's)
    const ranks = caseId ? [...readSafetensors(readFileSync(join(GOLDEN, caseId, 'tensors.safetensors'))).tensors].map(([n, t]) => `${n}:${t.shape.length}`).sort() : reads;
    const key = JSON.stringify({ box: st.box, trainable: st.trainable, criterion: st.criterion, terms: st.terms.map(({ wrapper, ...t }) => ({ ...t, wrapper: wrapper && { key: wrapper.key, input: wrapper.input, target: wrapper.target } })), ranks });
    const first = swept.get(key);
    if (first) {
      srec.dupOf = first.rel;
      srec.outcome = ['duplicate criterion: not recompiled or rerun'];
      continue;
    }
    swept.set(key, { rel, outcome: srec.outcome });
    const info = caseId ? caseInfo.get(caseId) : undefined;
    const tol = toleranceOf(info ? info.losses : losses);
    const inputs = caseId ? inputsLike(caseId, `${rel}#${st.name}`) : defaultInputs(reads, `${rel}#${st.name}`);
    const inputsFile = join(work, `${st.name}.inputs.safetensors`);
    writeFileSync(inputsFile, writeSafetensors(inputs));
    const stageArgs = ['--stage', st.name];

    // compile with --shape (symbolic), as a user without a sample file does
    const shapes = shapeArgs(inputs, reads);
    const outShape = join(work, `${st.name}.out-shape`);
    const cs = tdc(['compile', path, '-o', outShape, ...stageArgs, ...shapes]);
    srec.s.compileShape = cs.s;
    const csCls = failureClass(cs);
    if (cs.status === 0) srec.outcome.push('compile --shape ok');
    else {
      srec.outcome.push(`compile --shape: ${csCls ?? `exit ${cs.status} (diagnosed)`}`);
      note(rel, st.name, `compile --shape: ${csCls ?? 'diagnosed error'}`, cs.stderr.trim().slice(-800), cmdline(['compile', path, '-o', '/tmp/out', ...stageArgs, ...shapes]));
    }
    // compile with --like the generated io_dict
    const outLike = join(work, `${st.name}.out-like`);
    const family = familyOf(losses) || 'CrossEntropyLoss';
    const typed = TSC && !familiesTyped.has(family);
    const shrunk = info?.overrides.some((o) => /shrunk/.test(o.reason ?? ''));
    const cl = shrunk ? { status: null, stderr: '' } : tdc(['compile', path, '-o', outLike, ...stageArgs, '--like', inputsFile, ...(typed ? [] : ['--no-glue'])]);
    srec.s.compileLike = cl.s;
    const clCls = failureClass(cl);
    if (cl.status === 0) srec.outcome.push('compile --like ok');
    else if (shrunk) srec.outcome.push('compile --like skipped: golden shrinks kwargs (real sizes too large)');
    else {
      srec.outcome.push(`compile --like: ${clCls ?? `exit ${cl.status} (diagnosed)`}`);
      note(rel, st.name, `compile --like: ${clCls ?? 'diagnosed error'}`, cl.stderr.trim().slice(-800), cmdline(['compile', path, '-o', '/tmp/out', ...stageArgs, '--like', '<inputs>']));
    }
    if (typed && cl.status === 0) {
      familiesTyped.add(family);
      const ts = await typecheck(outLike);
      srec.tsc = ts ? 'errors' : 'ok';
      srec.outcome.push(ts ? 'tsc --strict: errors' : 'tsc --strict ok');
      if (ts) note(rel, st.name, 'glue: tsc --strict errors', ts.slice(0, 1500), `tdc compile … --like; tsc --strict ${outLike}`);
    }

    if (shrunk) {
      srec.outcome.push('run skipped: golden shrinks kwargs (real sizes too large)');
      continue;
    }
    // run on the CPU and the GPU, same inputs
    const runArgs = (dev, grads) => ['run', path, ...stageArgs, '--inputs', inputsFile, '--device', dev, '--json', '--grads-out', grads];
    const gc = join(work, `${st.name}.grads-cpu.safetensors`);
    const rc = tdc(runArgs('cpu', gc));
    srec.s.runCpu = rc.s;
    let cpu;
    try {
      cpu = JSON.parse(rc.stdout);
    } catch {}
    const rcCls = failureClass(rc);
    if (rc.status !== 0 || !cpu?.ok) {
      const o = `run cpu: ${rcCls ?? `exit ${rc.status} (diagnosed)`}${cs.status === 0 ? ' (compile ok)' : ''}`;
      srec.outcome.push(o);
      note(rel, st.name, o, rc.stderr.trim().slice(-800), cmdline(runArgs('cpu', '/tmp/g.safetensors')).replace(inputsFile, '<inputs>'));
    } else srec.outcome.push('run cpu ok');
    if (!GPU) continue;
    const gg = join(work, `${st.name}.grads-gpu.safetensors`);
    const rg = tdc(runArgs('gpu', gg));
    srec.s.runGpu = rg.s;
    let gpu;
    try {
      gpu = JSON.parse(rg.stdout);
    } catch {}
    const rgCls = failureClass(rg);
    if (rg.status !== 0 || !gpu?.ok) {
      const o = `run gpu: ${rgCls ?? `exit ${rg.status} (diagnosed)`}${cpu?.ok ? ' (cpu ok)' : ''}`;
      srec.outcome.push(o);
      note(rel, st.name, o, rg.stderr.trim().slice(-800), cmdline(runArgs('gpu', '/tmp/g.safetensors')).replace(inputsFile, '<inputs>'));
      continue;
    }
    srec.outcome.push('run gpu ok');
    if (!cpu?.ok) continue;
    const problems = compare(cpu, gpu, readTensors(gc), readTensors(gg), tol);
    if (problems.length) {
      srec.outcome.push('CPU≠GPU');
      srec.mismatch = problems;
      note(rel, st.name, 'CPU≠GPU', problems.slice(0, 6).join('\n'), `${cmdline(runArgs('cpu', 'c.safetensors'))} vs --device gpu (inputs: ${relative(ROOT, inputsFile)})`);
    } else srec.outcome.push('CPU=GPU');
  }
  const el = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`[${ci + 1}/${configs.length}] ${rel} (${el}s): ${rec.stages.map((s) => `${s.stage}: ${s.outcome.join(', ')}`).join(' | ')}`);
  if (!KEEP && rec.stages.every((s) => !s.outcome.some((o) => /:|≠/.test(o) && !/ok$/.test(o)))) rmSync(work, { recursive: true, force: true });
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ results, findings }, null, 1));
}

// ---- summary
const count = new Map();
const bump = (k) => count.set(k, (count.get(k) ?? 0) + 1);
for (const r of results) {
  bump(r.check.outcome ?? 'check: ?');
  for (const s of r.stages) for (const o of s.outcome) bump(o);
}
console.log(`\n## Summary: ${results.length} configs, ${results.reduce((a, r) => a + r.stages.length, 0)} stages (${((performance.now() - t0) / 60000).toFixed(1)} min)\n`);
console.log('| outcome | count |\n|---|---|');
for (const [k, v] of [...count].sort()) console.log(`| ${k} | ${v} |`);
const groups = new Map();
for (const f of findings) {
  if (!groups.has(f.outcome)) groups.set(f.outcome, []);
  groups.get(f.outcome).push(f);
}
for (const [o, fs] of groups) {
  console.log(`\n### ${o} (${fs.length})`);
  for (const f of fs) console.log(`- ${f.rel} [${f.stage}]: ${f.detail.split('\n').slice(0, 4).join(' ⏎ ').slice(0, 400)}\n  repro: ${f.repro}`);
}
writeFileSync(join(OUT, 'results.json'), JSON.stringify({ results, findings, summary: Object.fromEntries(count) }, null, 1));
process.exitCode = findings.length ? 1 : 0;
