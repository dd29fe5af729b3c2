// tanh and its gradient on the GPU path against float64, through the real pipeline (spec → instantiate →
// fused WGSL → GpuRuntime). Loss = sum(tanh(s) · t) with t = 1: the gradient w.r.t. t is tanh(s) exactly as the
// kernel computed it (times 1), and the gradient w.r.t. s is t · tanh'(s) = sech²(s).
//
// Bounds (float32 ulp = |reference|·2⁻²³):
// - tanh ≤ 3 ulp everywhere, NaN kept. The measured error of the generated tanh_f32 on Mesa lavapipe over 65 536
//   points in [−12, 12] is ≤ 0.5 ulp below |x| = 0.55 and ≤ 1.9 ulp above; lavapipe's builtin tanh (what tdc
//   emitted before) is off by up to 3 600 ulp near 0 (tanh(1e-3) wrong in the 4th digit, tanh(1e-30) = 3e-8,
//   tanh(NaN) = −1) — the bound fails that by three orders of magnitude.
// - tanh' ≤ 2e-6 relative (≈ 16 ulp: exp's WGSL budget is 3 + 2|x| ulp, then three roundings). torch's form
//   1 − y² from a float32 y is off by up to 2⁻²⁴/(1 − y²) relative: 3e-4 at x = 5, 100% from x ≈ 9 on (where y
//   rounds to 1 and 1 − y² = 0 while sech²(9) = 6e-8), so the bound tells the two forms apart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GpuRuntime, type SafeTensor } from 'tdc-runtime/node';
import { loadConfig } from '../src/compiler/load/load.js';
import { checkConfig } from '../src/compiler/driver/check.js';
import { isNoAdapterError, runStageOnGpu } from '../src/compiler/run-gpu.js';
import { registerMidLevelLoss } from '../src/registry/registry.js';

const SPEC = `mid TanhProbe() {
  let s = student["."]["output"]
  let t = teacher["."]["output"]
  return sum(tanh(s) * t)
}
`;
const CONFIG = `train:
  teacher: {forward_hook: {input: [], output: []}}
  student: {forward_hook: {input: [], output: []}}
  criterion:
    key: 'WeightedSumLoss'
    kwargs: {sub_terms: {term: {criterion: {key: 'TanhProbe', kwargs: {}}, weight: 1.0}}}
`;

/** float32 points: tiny, around 0, around the 0.55 switch, the saturation range and past it, both signs. */
const MAG = [1e-30, 1e-8, 1e-4, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.5499, 0.5501, 0.6, 0.8, 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9, 9.5, 10, 12, 20, 100];
const S = Float32Array.from([...MAG, ...MAG.map((v) => -v), 0]);

const ulpOf = (r: number) => Math.max(Math.abs(r) * 2 ** -23, 2 ** -149);
const sech2 = (x: number) => (Math.abs(x) > 300 ? 0 : 1 / Math.cosh(x) ** 2);

test('tanh within 3 ulp and its gradient within 2e-6 relative of float64 on the GPU path', async () => {
  let rt: GpuRuntime;
  try {
    rt = await GpuRuntime.open();
  } catch (e) {
    if (!isNoAdapterError(e) || process.env['TDC_REQUIRE_GPU'] === '1') throw e;
    console.log(`\n!!!!!!!! tanh accuracy SKIPPED — no WebGPU adapter: ${(e as Error).message}\n`);
    return;
  }
  try {
    assert.equal(registerMidLevelLoss(SPEC, { file: 'tanh-probe.tdl', key: 'TanhProbe', override: true }).filter((d) => d.severity === 'error'), []);
    const loaded = loadConfig(CONFIG, 'tanh-probe.yaml');
    const stage = checkConfig(loaded.config).ir.stages.find((s) => s.name === 'train');
    assert.ok(stage, 'stage train');
    stage.trainable = { student: true, teacher: true };
    const tensors = new Map<string, SafeTensor>([
      ['student/./output', { dtype: 'F32', shape: [1, S.length], data: S }],
      ['teacher/./output', { dtype: 'F32', shape: [1, S.length], data: new Float32Array(S.length).fill(1) }],
    ]);
    const run = await runStageOnGpu(stage, tensors, { file: 'tanh-probe.yaml', runtime: rt });
    assert.ok(run.result, JSON.stringify(run.diagnostics));
    const y = run.result.grads.get('teacher/./output')!.data;
    const dy = run.result.grads.get('student/./output')!.data;
    const bad: string[] = [];
    for (let i = 0; i < S.length; i++) {
      const x = S[i]!;
      const ulps = Math.abs(y[i]! - Math.tanh(x)) / ulpOf(Math.tanh(x));
      if (!(ulps <= 3) || Object.is(x, -0) !== Object.is(y[i], -0)) bad.push(`tanh(${x}) = ${y[i]} vs ${Math.tanh(x)} (${ulps.toFixed(1)} ulp)`);
      const want = sech2(x);
      const rel = Math.abs(dy[i]! - want) / Math.max(want, 2 ** -149);
      if (!(rel <= 2e-6)) bad.push(`tanh'(${x}) = ${dy[i]} vs ${want} (relative ${rel.toExponential(2)})`);
    }
    assert.equal(bad, []);

    // NaN propagates (the builtin gave −1): forward and gradient
    const nan = new Map(tensors).set('student/./output', { dtype: 'F32', shape: [1, 2], data: Float32Array.from([NaN, 1]) });
    nan.set('teacher/./output', { dtype: 'F32', shape: [1, 2], data: Float32Array.from([1, 1]) });
    const r2 = await runStageOnGpu(stage, nan, { file: 'tanh-probe.yaml', runtime: rt });
    assert.ok(r2.result, JSON.stringify(r2.diagnostics));
    assert.ok(Number.isNaN(r2.result.grads.get('teacher/./output')!.data[0]), `tanh(NaN) = ${r2.result.grads.get('teacher/./output')!.data[0]}`);
    assert.ok(Number.isNaN(r2.result.grads.get('student/./output')!.data[0]), `tanh'(NaN) = ${r2.result.grads.get('student/./output')!.data[0]}`);
    assert.ok(Math.abs(r2.result.grads.get('teacher/./output')!.data[1]! - Math.tanh(1)) <= 3 * ulpOf(Math.tanh(1)));
  } finally {
    rt.destroy();
  }
});

test.run();
