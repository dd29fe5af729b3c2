// `tdc tune` and the tuning cache (src/runtime/tune.ts, tune-cache.ts, src/cli/tune.ts): the command measures
// the KD example's kernels on this GPU and writes a cache; a runtime opened on that cache applies each kernel's
// tuned workgroup size and subgroup choice at pipeline creation (checked on the executor's constants), and the
// results still match the float64 oracle; a cache tuned for another compile of the plan, a file that is not a
// cache, a size the device cannot take are ignored with a note; the command refuses to overwrite a file that is
// not a cache, and never hangs (--budget). No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), else a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlanExecutor, TUNING_FORMAT, adapterKey, describeOutcome, formatMeasured, formatMs, planHash, readSafetensors, tunedChoices, type SafeTensor, type TuningCache } from 'tdc-runtime/node';
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
