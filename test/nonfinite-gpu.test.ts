// Non-finite constants on the GPU behave as torch: a temperature of 0, ∞ or NaN, a NaN weight and `x / 0` in a
// spec give NaN (torch 1.13: KD at T = 0, ∞, NaN → nan; mean(s / 0.0), mean(s * 0.0) / 0.0 → nan), never a
// finite number (WGSL has no NaN/inf literals, and drivers fold `x / 0.0` and `x * 0.0` to 0) and never an
// internal error. Each case runs `tdc run --device gpu` and `--device cpu` (the torch-checked oracle) and the two
// must agree: both NaN (`"loss": null`), or both finite and close.
// And spec programs where a rewrite used to change torch's non-finite outcome give torch's loss and gradients on
// both devices (test/fixtures/nonfinite-rewrites, computed by PyTorch 1.13 with scripts/gen-nonfinite-rewrites.py):
// - sum(s / 0.0) was -inf on the GPU: the scheduler's algebra moved the constant divisor out of the sum,
//   (Σ s) / 0, which is ±inf where torch's Σ (s / 0) is NaN (s has both signs) — schedule/algebra.ts;
// - sum(s / (t - t)) was a finite 0 on the GPU with no TDC504: the driver folds t - t (and t + -t) to 0 and then
//   s / 0 to 0 (WGSL allows finite math) — the emitter writes x - x as |x|·0 on the bits (wgsl/emitter.ts);
// - amax/amin of a tensor holding NaN were finite (or +inf) on the GPU, amax of an all-NaN tensor -F32_MAX with no
//   TDC504, amax of all -inf -F32_MAX: WGSL's max/min (and subgroupMax/Min) may drop a NaN operand, and the
//   accumulators started at ∓F32_MAX — row kernels now fold plain f32 max/min reductions with max_f32/min_f32
//   (NaN decided on the bits) from ∓inf (wgsl/row-kernel.ts, subgroup-combine.ts); adaptive_max_pool2d likewise
//   (wgsl/emitter.ts). Softmax-style cases check that an online max, left as it was, still gives NaN;
// - amax/amin's backward sent the whole gradient to the first extreme element on both devices: torch 1.13 splits it
//   evenly over the tied elements, and gives NaN to every element of a row whose result is NaN (graph/ops/reduce.ts);
//   a p = ±inf vector_norm keeps torch's norm backward there (0 in a NaN row: prelude.tdl);
// - adaptive_max_pool2d's backward sent a bin's gradient to its first NaN (CPU) or its first non-NaN maximum, and a
//   bin of -inf's to the plane's cell 0 (GPU): torch's kernel picks the last NaN, else the first maximum, else the
//   bin's first cell (graph/ops/pool.ts, wgsl/emitter.ts);
// - 0.0 / s was 0 on the GPU where s is 0 at run time (torch: NaN): the driver folds 0 / x; zero_div_f32 makes it
//   on the bits (wgsl/emitter.ts, kernel-ir/helpers.ts);
// - x * -0.0, (-x) * 0.0 and x / -inf were +0 on the GPU (torch: -0, so 1 / it is -inf): lavapipe folds x * ±0 to
//   +0; mul_zero_f32 makes the zero's sign on the bits (kernel-ir/helpers.ts);
// - a factor of constants that overflows in float32 (k = float(arange(4)) * 1.7e38 + 1.7e38 holds inf) or a divisor
//   that underflows to 0 moved out of a sum: ±inf where torch's Σ k·s is NaN. The value-range analysis bounds such
//   values (graph/value-range.ts). GPU only: the CPU executor's float64 does not overflow there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from 'tdc-runtime';
import { writeSafetensors } from 'tdc-runtime/node';
import { hasStackTrace, ROOT, tdc } from './helpers/cli.js';
import { customTermConfig, customTermSpec } from './helpers/custom-term.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-nonfinite-'));
const KD = readFileSync(join(ROOT, 'examples', 'kd', 'config.yaml'), 'utf8');
const KD_IO = join(ROOT, 'examples', 'kd', 'io.safetensors');

function loss(args: string[], device: 'cpu' | 'gpu', what: string): number | null {
  const r = tdc([...args, '--device', device, '--json']);
  assert.is(r.code, 0, `${what} (${device}): exit ${r.code}\n${r.stderr}`);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.not.match(r.stderr, /TDC690|internal error/, `${what} (${device})`);
  return (JSON.parse(r.stdout) as { loss: number | null }).loss;
}

function agree(args: string[], what: string, expectNaN: boolean): void {
  const cpu = loss(args, 'cpu', what);
  const gpu = loss(args, 'gpu', what);
  assert.is(cpu === null, expectNaN, `${what}: the CPU executor gives ${cpu}`);
  if (cpu === null) assert.is(gpu, null, `${what}: torch and the CPU executor give NaN, the GPU gave ${gpu}`);
  else assert.ok(gpu !== null && Math.abs(gpu - cpu) <= 1e-4 * Math.max(1, Math.abs(cpu)), `${what}: GPU ${gpu} vs CPU ${cpu}`);
}

test('KD example: temperature 0, ∞ and NaN, and a NaN weight, give NaN on the GPU as in torch', () => {
  assert.match(KD, /temperature: 1\.0/);
  assert.match(KD, /weight: 1\.0/);
  const cases: [string, string, boolean][] = [
    ['temperature 1 (control)', KD, false],
    ['temperature 0', KD.replace('temperature: 1.0', 'temperature: 0.0'), true],
    ['temperature ∞', KD.replace('temperature: 1.0', 'temperature: .inf'), true],
    ['temperature NaN', KD.replace('temperature: 1.0', 'temperature: .nan'), true],
    ['weight NaN', KD.replace('weight: 1.0', 'weight: .nan'), true],
  ];
  for (const [what, text, nan] of cases) {
    const cfg = join(dir, 'kd.yaml');
    writeFileSync(cfg, text);
    agree(['run', cfg, '--inputs', KD_IO], what, nan);
  }
});

const CONFIG = customTermConfig('MyTerm', { module: 'layer3', weight: 0.5 });
const spec = (expr: string): string => customTermSpec('MyTerm', `  return ${expr}`);

test('spec programs dividing by a constant 0 (or multiplying a non-finite value by 0) give NaN/inf as torch', () => {
  const cfg = join(dir, 'my.yaml');
  writeFileSync(cfg, CONFIG);
  const io = join(dir, 'my.safetensors');
  // s holds an exact 0 (0/0 = NaN) and both signs (±inf)
  const s = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.3);
  const t = Float32Array.from({ length: 12 }, (_, i) => (i % 3) * 0.7 - 0.2);
  writeFileSync(
    io,
    writeSafetensors(
      new Map([
        ['student/layer3/output', { dtype: 'F32', shape: [3, 4], data: s }],
        ['teacher/layer3/output', { dtype: 'F32', shape: [3, 4], data: t }],
      ]),
    ),
  );
  const cases: [string, boolean][] = [
    ['mean(abs(s - t))', false],
    ['mean(s / 0.0)', true],
    ['mean(abs(s) / 0.0)', true],
    ['mean(s / -0.0)', true],
    ['mean(s - t) / 0.0', true],
    ['mean(s * 0.0) / 0.0', true],
    ['mean(s * 0.0)', false],
  ];
  for (const [expr, nan] of cases) {
    const file = join(dir, 'my.tdl');
    writeFileSync(file, spec(expr));
    agree(['--spec', file, 'run', cfg, '--inputs', io], expr, nan);
  }
});

const FIXTURE = join(ROOT, 'test', 'fixtures', 'nonfinite-rewrites');
type Value = number | 'NaN' | 'Infinity' | '-Infinity';
interface Case {
  expr: string;
  loss: Value;
  grads: Record<string, Value[]>;
  /** Where the case runs when not on both devices (a float32 overflow the CPU executor's float64 does not have). */
  devices?: ('cpu' | 'gpu')[];
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { cases: Case[] };
const decode = (v: Value): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
const agrees = (got: number, want: number): boolean =>
  Number.isNaN(want) ? Number.isNaN(got) : !Number.isFinite(want) ? got === want : Number.isFinite(got) && Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want));

/** Mismatches of `tdc run --device <device>` against torch for one case (the fixture has the term's weight 0.5). */
function check(c: Case, device: 'cpu' | 'gpu'): string[] {
  const cfg = join(dir, 'my.yaml');
  writeFileSync(cfg, CONFIG);
  const file = join(dir, 'my.tdl');
  writeFileSync(file, spec(c.expr));
  const grads = join(dir, `grads-${device}.safetensors`);
  const r = tdc(['--spec', file, 'run', cfg, '--inputs', join(FIXTURE, 'io.safetensors'), '--device', device, '--json', '--grads-out', grads]);
  const what = `${c.expr} (${device})`;
  if (r.code !== 0 || hasStackTrace(r.stderr)) return [`${what}: exit ${r.code}\n${r.stderr}`];
  const out: string[] = [];
  const json = JSON.parse(r.stdout) as { loss: number | null; nonfinite?: { kind: string; value?: string }[] };
  // --json prints a non-finite loss as null, its value in "nonfinite"
  const loss = json.loss ?? Number(json.nonfinite?.find((x) => x.kind === 'loss')?.value);
  if (!agrees(loss, decode(c.loss))) out.push(`${what}: loss ${loss}, torch ${c.loss}`);
  const written = readSafetensors(new Uint8Array(readFileSync(grads))).tensors;
  assert.ok(written.has('grad/student/layer3/output'), `${what}: no student gradient`);
  for (const [name, want] of Object.entries(c.grads)) {
    const g = written.get(`grad/${name}`);
    if (!g) continue; // a side that does not train
    const data = Array.from(g.data as Float32Array | Float64Array);
    const bad = want.map(decode).flatMap((w, i) => (agrees(data[i]!, w) ? [] : [`[${i}] ${data[i]} (torch ${want[i]})`]));
    if (bad.length) out.push(`${what}: gradient ${name}: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ` … ${bad.length} elements` : ''}`);
  }
  return out;
}

test('non-finite spec programs give torch loss and gradients on the CPU executor', () => {
  assert.ok(expected.cases.length >= 9);
  const failures = expected.cases.filter((c) => c.devices?.includes('cpu') ?? true).flatMap((c) => check(c, 'cpu'));
  assert.equal(failures, [], failures.join('\n'));
});

test('and on the GPU: no constant factor leaves a sum where that changes NaN to ±inf, x - x stays NaN for ±inf, amax/amin propagate NaN', () => {
  const failures = expected.cases.filter((c) => c.devices?.includes('gpu') ?? true).flatMap((c) => check(c, 'gpu'));
  assert.equal(failures, [], failures.join('\n'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
