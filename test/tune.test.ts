// `tdc tune` and the tuning cache (src/runtime/tune.ts, tune-cache.ts, src/cli/tune.ts): the command measures
// the KD example's kernels on this GPU and writes a cache; a runtime opened on that cache applies each kernel's
// tuned workgroup size and subgroup choice at pipeline creation (checked on the executor's constants), and the
// results still match the float64 oracle; a cache tuned for another compile of the plan, a file that is not a
// cache, a size the device cannot take are ignored with a note; the command refuses to overwrite a file that is
// not a cache, and never hangs (--budget). No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), else a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { PlanExecutor, TUNING_FORMAT, adapterKey, describeOutcome, formatMeasured, formatMs, kernelTuningKey, planHash, readSafetensors, tunedChoices, writeSafetensors, type ExecutorTuning, type GpuRuntime, type KernelPlan, type SafeTensor, type TuningCache, type TuningEntry } from 'tdc-runtime/node';
import { compile } from '../src/index.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { hasStackTrace, pipeOf, ROOT, tdc } from './helpers/cli.js';
import { casePath, expected, gradExcess, relErr } from './helpers/golden.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const KD_CASE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';
const dir = mkdtempSync(join(tmpdir(), 'tdc-tune-'));
const LIMITS = { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 };

async function kdPlan(workgroupSize?: number) {
  const r = await compile(KD, { like: IO, root: ROOT, glue: false, ...(workgroupSize ? { workgroupSize } : {}) });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.stages[0]!.plan;
}

test('cache lookup (no GPU): applies an entry for this plan and adapter; stale, invalid and impossible ones are ignored with a note', async () => {
  const plan = await kdPlan();
  const key = 'v|a|d|desc||8|8';
  const kernels = Object.fromEntries(plan.kernels.map((k) => [k.name, { workgroupSize: 16, subgroups: false }]));
  const cache: TuningCache = { format: TUNING_FORMAT, entries: [{ adapter: key, plan: planHash(plan), kernels }] };
  const hit = tunedChoices(cache, plan, key, LIMITS, true);
  assert.equal(hit.workgroupSizes, plan.kernels.map(() => 16));
  assert.equal(hit.notes, []);
  assert.equal(tunedChoices(cache, plan, 'another adapter', LIMITS, true).workgroupSizes, plan.kernels.map(() => undefined), 'other adapters: nothing');
  // the same config compiled differently: same kernel names, other plan
  const other = await kdPlan(16);
  assert.is.not(planHash(other), planHash(plan));
  const stale = tunedChoices(cache, other, key, LIMITS, true);
  assert.equal(stale.workgroupSizes, plan.kernels.map(() => undefined));
  assert.match(stale.notes.join('\n'), /stale for this plan.*run `tdc tune` again/);
  assert.match(tunedChoices({ hello: 1 }, plan, key, LIMITS, true).notes.join(), /ignored: format undefined is not 'tdc-tuning\/1'/);
  const big = { ...cache, entries: [{ ...cache.entries[0]!, kernels: { ...kernels, [plan.kernels[0]!.name]: { workgroupSize: 4096, subgroups: true } } }] };
  const partly = tunedChoices(big, plan, key, LIMITS, false);
  assert.is(partly.workgroupSizes[0], undefined);
  assert.match(partly.notes.join('\n'), /workgroup size 4096 is ignored/);
  assert.equal(partly.workgroupSizes.slice(1), plan.kernels.slice(1).map(() => 16));
});

test('cache lookup (no GPU): a choice is keyed by the kernel without its sizes, so one tuned with every size a symbol applies where --like or --inputs fixed them; a kernel of the same name that changed is ignored with a note', async () => {
  const symbolic = (await compile(KD, { root: ROOT, glue: false })).stages[0]!.plan; // what `tdc tune --size N=… --size C=…` tunes
  const fixed = await kdPlan(); // C fixed to 37 by --like: other WGSL, the same kernels
  assert.ok(fixed.kernels.some((k, i) => k.wgsl !== symbolic.kernels[i]!.wgsl), 'the class count is folded into the WGSL');
  assert.equal(fixed.kernels.map(kernelTuningKey), symbolic.kernels.map(kernelTuningKey));
  assert.is(planHash(fixed), planHash(symbolic));
  const key = 'v|a|d|desc||8|8';
  const entry: TuningEntry = { adapter: key, plan: planHash(symbolic), stage: 'train', sizes: { N: 64, C: 100 }, kernels: Object.fromEntries(symbolic.kernels.map((k) => [k.name, { workgroupSize: 16, subgroups: false, key: kernelTuningKey(k) }])) };
  const hit = tunedChoices({ format: TUNING_FORMAT, entries: [entry] }, fixed, key, LIMITS, true);
  assert.equal(hit.workgroupSizes, fixed.kernels.map(() => 16));
  assert.equal(hit.entries, fixed.kernels.map(() => entry));
  assert.equal(hit.notes, []);
  // the latest entry for a kernel wins (tuning again replaces); one recording another kernel of the same name is skipped
  const later: TuningEntry = { ...entry, plan: 'other', kernels: { ...entry.kernels, k1_row_kd: { workgroupSize: 32, subgroups: false, key: kernelTuningKey(fixed.kernels[1]!) }, k2_reduce_kd: { workgroupSize: 64, subgroups: false, key: 'another kernel' } } };
  const mixed = tunedChoices({ format: TUNING_FORMAT, entries: [entry, later] }, fixed, key, LIMITS, true);
  assert.equal(mixed.workgroupSizes, [16, 32, 16]);
  assert.equal(mixed.notes, [], 'the older entry has k2_reduce_kd as it is');
  const stale = tunedChoices({ format: TUNING_FORMAT, entries: [later] }, fixed, key, LIMITS, true);
  assert.equal(stale.workgroupSizes, [16, 32, undefined]);
  assert.match(stale.notes.join('\n'), /the choice for k2_reduce_kd is stale \(tuned for another kernel of the same name\) and ignored — run `tdc tune` again/);
});

test('tdc tune on the KD example writes a cache the runtime then applies; the results match the oracle', async () => {
  const rt = await openTestRuntime('tune GPU test', { tuning: false });
  if (!rt) return;
  rt.destroy();
  const file = join(dir, 'tuning.json');
  const r = tdc(['tune', KD, '--like', IO, '-o', file, '--candidates', '8,16', '--runs', '2', '--budget', '300'], { timeoutMs: 600_000 });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /wrote /);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as TuningCache;
  assert.is(doc.format, TUNING_FORMAT);
  assert.is(doc.entries.length, 1);
  const plan = await kdPlan();
  const entry = doc.entries[0]!;
  assert.is(entry.plan, planHash(plan), 'the entry is for the plan tdc compile makes with the same options');
  assert.equal(Object.keys(entry.kernels), plan.kernels.map((k) => k.name));
  for (const k of plan.kernels) assert.ok(entry.measured![k.name]!.length >= 2, `${k.name}: several candidates measured`);
  console.log(r.stdout.trim());
  // tiny kernels are repeated until their time is measurable: no kernel's default reads 0 (it did: 0.000 ms for
  // every candidate of the KD reductions, then a pick among noise), and no time is printed as 0.000 ms
  for (const k of plan.kernels) assert.ok(entry.measured![k.name]![0]!.ms > 0, `${k.name}: default measured ${entry.measured![k.name]![0]!.ms} ms`);
  assert.not.match(r.stdout, /0\.000 ms/);
  assert.match(r.stdout, /^train\.k0_\w+: wg \d+( \+ subgroups)? (< )?[\d.]+ (µs|ms) \((default wg|the default, (fastest|kept))/m);

  // a chosen size that is not the default, so that applying it is visible
  const first = plan.kernels[0]!.name;
  entry.kernels[first] = { workgroupSize: 16, subgroups: false };
  writeFileSync(file, JSON.stringify(doc));
  const tuned = await openTestRuntime('tune GPU test', { tuning: file });
  if (!tuned) return;
  try {
    assert.is(entry.adapter, adapterKey(tuned.adapterInfo, { min: tuned.adapter?.info.subgroupMinSize, max: tuned.adapter?.info.subgroupMaxSize }));
    const notes: string[] = [];
    const exec = await PlanExecutor.create(tuned, plan, { onNote: (m) => notes.push(m) });
    try {
      assert.equal(notes, []);
      assert.ok(exec.tuning.entry, 'the entry applies');
      plan.kernels.forEach((k, i) => {
        assert.is(exec.constants[i]!['wg_size'], entry.kernels[k.name]!.workgroupSize, `${k.name}: tuned size applied`);
        assert.is(exec.subgroupVariants[i], entry.kernels[k.name]!.subgroups, `${k.name}: tuned subgroup choice applied`);
      });
      assert.is(exec.constants[0]!['wg_size'], 16);
      const { tensors } = readSafetensors(new Uint8Array(readFileSync(casePath(KD_CASE, 'tensors.safetensors'))));
      const inputs = new Map<string, SafeTensor>(plan.inputs.map((i) => [i.name, tensors.get(i.name)!]));
      const got = await exec.run(inputs, { readback: 'all' });
      assert.ok(relErr(got.loss, expected(KD_CASE).loss) <= 1e-5, `loss ${got.loss}`);
      assert.ok(gradExcess(got.grads.get('student/./output')!, tensors.get('grad/student/./output')!.data as Float64Array, 1e-4, 1e-4) <= 1);
    } finally {
      exec.destroy();
    }
    // the application's explicit choice wins over the cache
    const mine = await PlanExecutor.create(tuned, plan, { workgroupSize: 32 });
    assert.equal(mine.constants.map((c) => c['wg_size']), plan.kernels.map(() => 32));
    mine.destroy();
    // another compile of the same config (pinned size): the entry is stale, ignored with a note
    const other = await kdPlan(64);
    const staleNotes: string[] = [];
    const stale = await PlanExecutor.create(tuned, other, { onNote: (m) => staleNotes.push(m) });
    assert.is(stale.tuning.entry, undefined);
    assert.equal(stale.constants.map((c) => c['wg_size']), other.kernels.map(() => 64));
    assert.match(staleNotes.join('\n'), /tuning\.json is stale for this plan/);
    stale.destroy();
  } finally {
    tuned.destroy();
  }
  // a file that is not JSON: ignored with a note
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ not json');
  const badRt = await openTestRuntime('tune GPU test', { tuning: bad });
  if (!badRt) return;
  const badNotes: string[] = [];
  const e = await PlanExecutor.create(badRt, plan, { onNote: (m) => badNotes.push(m) });
  assert.match(badNotes.join('\n'), /bad\.json is ignored: it is not JSON/);
  e.destroy();
  badRt.destroy();
});

test('a choice tuned for the KD config reaches every run of its kernels: tdc run (sizes fixed by --inputs, two batch sizes) and the compiled glue (--like); --explain and the glue\'s `tuning` name the kernels, the file and the entry', async () => {
  const probe = await openTestRuntime('tune GPU test', { tuning: false });
  if (!probe) return;
  const info = probe.adapter?.info;
  const adapter = adapterKey(probe.adapterInfo, { min: info?.subgroupMinSize, max: info?.subgroupMaxSize });
  probe.destroy();
  // the entry `tdc tune KD --size N=64 --size C=100` writes, with a choice no adapter takes by default (8 on
  // software adapters, 128 on hardware ones), written directly: deterministic, no timing
  const symbolic = (await compile(KD, { root: ROOT, glue: false })).stages[0]!.plan;
  const file = join(dir, 'tuning-run.json');
  const entry: TuningEntry = {
    adapter,
    plan: planHash(symbolic),
    stage: 'train',
    config: 'examples/kd/config.yaml',
    sizes: { N: 64, C: 100 },
    kernels: Object.fromEntries(symbolic.kernels.map((k) => [k.name, { workgroupSize: 16, subgroups: false, key: kernelTuningKey(k) }])),
  };
  writeFileSync(file, JSON.stringify({ format: TUNING_FORMAT, entries: [entry] }));
  const names = symbolic.kernels.map((k) => k.name);
  const env = { TDC_TUNING_CACHE: file };

  // tdc run: the plan it builds has C fixed to the inputs' 37 (other WGSL than the plan tuned); at batch 7 and at 3
  const small = join(dir, 'io-3.safetensors');
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(IO)));
  const cut = (t: SafeTensor, n: number) => ({ dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * t.shape.slice(1).reduce((a, b) => a * b, 1)) });
  writeFileSync(small, writeSafetensors(new Map(['student/./output', 'teacher/./output', 'targets'].map((n) => [n, cut(tensors.get(n)!, 3)])) as never));
  for (const inputs of [IO, small]) {
    const r = tdc(['run', KD, '--inputs', inputs, '--device', 'gpu', '--explain', '--json'], { env, timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr + r.stdout);
    const plan = (JSON.parse(r.stdout) as { plan: { workgroupSizes: number[]; tuning: { source: string; kernels: { kernel: string; workgroupSize?: number; sizes: unknown }[]; notes: string[] } } }).plan;
    assert.equal(plan.workgroupSizes, names.map(() => 16), `${inputs}: the tuned sizes ran`);
    assert.is(plan.tuning.source, `the tuning cache ${file}`);
    assert.equal(plan.tuning.kernels.map((k) => [k.kernel, k.workgroupSize, k.sizes]), names.map((n) => [n, 16, { N: 64, C: 100 }]));
    assert.equal(plan.tuning.notes, []);
  }
  const text = tdc(['run', KD, '--inputs', IO, '--device', 'gpu', '--explain'], { env, timeoutMs: 120_000 });
  assert.is(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(`tuning: 3 of 3 kernels run choices from the tuning cache ${file} (stage 'train' of examples/kd/config.yaml measured at N=64, C=100)`), text.stdout);
  assert.match(text.stdout, /#1 k1_row_kd .* wg 16 \(tuned\)/);
  // the application's --workgroup-size wins over the cache; the tuned subgroup choice still applies, and says so
  const asked = tdc(['run', KD, '--inputs', IO, '--device', 'gpu', '--explain', '--workgroup-size', '32'], { env, timeoutMs: 120_000 });
  assert.is(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, /#1 k1_row_kd .* wg 32 \(subgroup choice tuned\)/);
  // no cache: explain says so, and the defaults run
  const off = tdc(['run', KD, '--inputs', IO, '--device', 'gpu', '--explain'], { env: { TDC_TUNING_CACHE: 'off' }, timeoutMs: 120_000 });
  assert.match(off.stdout, /^tuning: no tuning cache \(TDC_TUNING_CACHE=off, or no default path/m);
  assert.not.match(off.stdout, /\(tuned\)/);
  // no file at the default path: explain names the path it looked at
  const missing = join(dir, 'no-such-tuning.json');
  const none = tdc(['run', KD, '--inputs', IO, '--device', 'gpu', '--explain'], { env: { TDC_TUNING_CACHE: missing }, timeoutMs: 120_000 });
  assert.ok(none.stdout.includes(`tuning: no tuning cache (none at ${missing}): the kernels run the default workgroup sizes`), none.stdout);

  // the compiled glue (`tdc compile KD --like IO -o out/`: C fixed to 37) on a runtime reading the same file
  const out = join(ROOT, 'dist', `tmp-tune-glue-${process.pid}`);
  mkdirSync(out, { recursive: true });
  try {
    const c = tdc(['compile', KD, '--like', IO, '-o', join(out, 'kd')], { timeoutMs: 120_000 });
    assert.is(c.code, 0, c.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'kd', 'manifest.json'), 'utf8')) as { stages: { kernels: { name: string; tuningKey: string }[] }[] };
    assert.equal(manifest.stages[0]!.kernels.map((k) => [k.name, k.tuningKey]), names.map((n) => [n, entry.kernels[n]!.key]), 'the manifest gives each kernel its tuning key');
    const src = readFileSync(join(out, 'kd', 'config.ts'), 'utf8').replace(/from 'tdc-runtime'/, `from '${import.meta.resolve('tdc-runtime')}'`);
    writeFileSync(join(out, 'kd.mjs'), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText);
    type Criterion = { tuning: ExecutorTuning; activePlan: KernelPlan; forward(inputs: unknown, targets: unknown, o: { readback: true }): Promise<{ loss: number }> };
    const glue = (await import(pathToFileURL(join(out, 'kd.mjs')).href)) as { TrainCriterion: { create(rt: GpuRuntime, o?: object): Promise<Criterion> } };
    const rt = await openTestRuntime('tune GPU test', { tuning: file });
    if (!rt) return;
    try {
      const crit = await glue.TrainCriterion.create(rt);
      assert.is(crit.tuning.source, `the tuning cache ${file}`);
      assert.equal(crit.tuning.kernels.map((k) => [k.kernel, k.workgroupSize, k.entry.sizes]), names.map((n) => [n, 16, { N: 64, C: 100 }]));
      assert.equal(crit.tuning.notes, []);
      assert.ok(crit.activePlan.kernels.some((k, i) => k.wgsl !== symbolic.kernels[i]!.wgsl), 'the glue runs other WGSL than the plan tuned');
      const golden = readSafetensors(new Uint8Array(readFileSync(casePath(KD_CASE, 'tensors.safetensors')))).tensors;
      const t = (n: string) => golden.get(n)!;
      const r = await crit.forward({ student: { '.': { output: t('student/./output') } }, teacher: { '.': { output: t('teacher/./output') } } }, t('targets'), { readback: true });
      assert.ok(relErr(r.loss, expected(KD_CASE).loss) <= 1e-5, `loss ${r.loss}`);
      // the application's own choice wins, and is then not reported as tuned (the tuned subgroup choice still is)
      const mine = await glue.TrainCriterion.create(rt, { workgroupSize: 32 });
      assert.equal(mine.tuning.kernels.map((k) => [k.kernel, k.workgroupSize, k.subgroups]), names.map((n) => [n, undefined, false]));
      const own = await glue.TrainCriterion.create(rt, { workgroupSize: 32, subgroups: false });
      assert.equal(own.tuning.kernels, []);
    } finally {
      rt.destroy();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('tune timings (no GPU): printed to 3 significant digits in µs or ms; below the resolution as < it; a tie keeps the default and says so', () => {
  assert.is(formatMs(0.0424), '42.4 µs');
  assert.is(formatMs(3.06), '3.06 ms');
  assert.is(formatMs(0.0000004), '0.000 µs');
  assert.is(formatMs(12345), '12345 ms');
  assert.is(formatMeasured(0.001, 0.005), '< 5.00 µs');
  const m = (workgroupSize: number, ms: number) => ({ workgroupSize, subgroups: false, ms });
  const base = { kernel: 'k0', default: m(8, 0.001), resolutionMs: 0.005 };
  assert.is(describeOutcome({ ...base, chosen: base.default, outcome: 'tie', ties: 4 }), 'wg 8 < 5.00 µs (the default, kept: 4 candidates tie with it within the timing resolution, 5.00 µs)');
  assert.is(describeOutcome({ ...base, chosen: m(16, 0.5), default: m(8, 0.75), outcome: 'faster', ties: 0 }), 'wg 16 500 µs (default wg 8 750 µs)');
  assert.is(describeOutcome({ ...base, default: m(8, 0.02), chosen: m(8, 0.02), outcome: 'unconfirmed', ties: 0, best: m(32, 0.012) }), 'wg 8 20.0 µs (the default, kept: wg 32 measured 12.0 µs but did not win by the margin when re-timed)');
});

test('tdc tune refuses to overwrite a file that is not a tuning cache; missing sizes are an error, not a hang', async () => {
  const rt = await openTestRuntime('tune GPU test', { tuning: false });
  if (!rt) return;
  rt.destroy();
  const file = join(dir, 'precious.json');
  writeFileSync(file, '{"mine": true}');
  const r = tdc(['tune', KD, '--like', IO, '-o', file, '--candidates', '8', '--runs', '1'], { timeoutMs: 300_000 });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /TDC681.*is not a tdc tuning cache.*not overwritten/);
  assert.is(readFileSync(file, 'utf8'), '{"mine": true}');
  // sizes with no value: a usage error (TDC680, as a bad --size), found before the GPU is opened
  const n = tdc(['tune', KD, '-o', join(dir, 'n.json'), '--candidates', '8', '--runs', '1'], { timeoutMs: 300_000 });
  assert.is(n.code, 2, n.stderr);
  assert.match(n.stderr, /error TDC680: stage train: tuning needs a value for every input size symbol: missing N, C/);
  assert.match(n.stderr, /--size N=64 --size C=64/);
  assert.not.match(n.stderr, /tuning stage|TDC683/);
  const u = tdc(['tune', KD, '--size', 'N=abc']);
  assert.is(u.code, 2);
  assert.match(u.stderr, /--size takes NAME=positive integer/);
  // a --size naming no symbol of the plan is a usage error naming the symbols, before any GPU work
  const x = tdc(['tune', KD, '--size', 'n=64', '--size', 'C=100', '-o', join(dir, 'x.json')]);
  assert.is(x.code, 2, x.stderr);
  assert.match(x.stderr, /TDC680: --size n: no stage's plan has a size symbol 'n'/);
  assert.match(x.stderr, /did you mean 'N'\? the plan's symbols are N, C/);
});

test('tdc tune --like from a pipe (<(…)): the header read once, as compile read it (it failed: 0 bytes)', async () => {
  const rt = await openTestRuntime('tune GPU test', { tuning: false });
  if (!rt) return;
  rt.destroy();
  const r = tdc(['tune', KD, '--like', pipeOf(IO, dir), '-o', join(dir, 'piped.json'), '--candidates', '8', '--runs', '1', '--budget', '1'], { timeoutMs: 300_000 });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /tuning stage train on .* at N=7/);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
});

test('tdc tune at sizes the device cannot hold: a diagnostic naming the buffer and the limit (it was a raw "Invalid typed array length")', async () => {
  const rt = await openTestRuntime('tune GPU test', { tuning: false });
  if (!rt) return;
  const max = rt.device.limits.maxStorageBufferBindingSize;
  rt.destroy();
  const r = tdc(['tune', KD, '-o', join(dir, 'huge.json'), '--size', 'N=99999999', '--size', 'C=1000', '--candidates', '8', '--runs', '1'], { timeoutMs: 300_000 });
  assert.is(r.code, 1, r.stderr);
  // the runtime's code for inputs the device cannot hold (TDC524, as `tdc run` reports it), not the generic TDC683
  assert.match(r.stderr, /error TDC524: tuning stage train: the sizes N=99999999, C=1000 do not fit this device:/);
  assert.not.match(r.stderr, /TDC683/);
  assert.ok(r.stderr.includes(`'student/./output' [99999999, 1000] would need 399999996000 bytes; this device binds at most ${max} per storage buffer`), r.stderr);
  assert.not.match(r.stderr, /Invalid typed array length/);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
});

test('clean up', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
