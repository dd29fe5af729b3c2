// Compensated f32 sums on the GPU keep IEEE semantics for non-finite values, as torch and the CPU executor do:
// a sum with +inf is +inf, with −inf −inf, with both or a NaN NaN. Neumaier's compensation alone would turn
// every infinite sum into NaN (its correction term computes inf − inf). Checked in a whole reduction, row
// reductions (wide rows: per-lane partials, then the serial fold at workgroup size 8 and the tree at 64) and a
// matmul (x · 1 with an inf in x), each against the float64 CPU executor on the same graph.
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../src/graph/builder.js';
import { execute, type HostTensor } from '../src/cpu/executor.js';
import type { Graph, GraphTerm } from '../src/graph/types.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import { GpuRuntime, PlanExecutor } from 'tdc-runtime/node';
import { isNoAdapterError } from '../src/compiler/run-gpu.js';

const REQUIRE = process.env['TDC_REQUIRE_GPU'] === '1';
const W = 1000;

/** Rows of width W: finite values in [0, 1) with the listed specials at spread-out positions. */
function rows(specials: number[][]): HostTensor {
  const data = new Float64Array(specials.length * W);
  specials.forEach((sp, r) => {
    for (let j = 0; j < W; j++) data[r * W + j] = Math.fround(((r * 7919 + j * 104729) % 1000) / 1000);
    sp.forEach((v, k) => (data[r * W + Math.floor(((k + 1) * W) / (sp.length + 1))] = v));
  });
  return { shape: [specials.length, W], dtype: 'float', data };
}

const SPECIALS = [[], [Infinity], [-Infinity], [Infinity, -Infinity], [NaN], [Infinity, Infinity], [-Infinity, 5]];

/** Terms: each row's sum (a row reduction), each row's mean, the whole sum, and rows of x · 1 (a matmul). */
function graph(): Graph {
  const b = new GraphBuilder();
  const n = SPECIALS.length;
  const x = b.input('x', [n, W], 'float', false);
  const terms: GraphTerm[] = [];
  const scalar = (v: number) => b.op('reshape', [v], { shape: [] });
  const pick = (v: number, r: number) => scalar(b.op('slice', [v], { axis: 0, start: r, end: r + 1, step: 1 }));
  const rowSum = b.op('reduce', [x], { fn: 'sum', axes: [1], keepdim: false });
  const rowMean = b.binary('div', rowSum, b.constant(W));
  const ones = b.input('ones', [W, 2], 'float', false); // an input: a constant right-hand side could be simplified away
  const mm = b.op('reshape', [b.op('slice', [b.op('matmul', [x, ones], {})], { axis: 1, start: 0, end: 1, step: 1 })], { shape: [n] });
  for (let r = 0; r < n; r++) {
    terms.push({ name: `rowsum${r}`, weight: 0, node: pick(rowSum, r) });
    terms.push({ name: `rowmean${r}`, weight: 0, node: pick(rowMean, r) });
    terms.push({ name: `matmul${r}`, weight: 0, node: pick(mm, r) });
  }
  // whole reductions: all rows (NaN), and single rows read as [1, W] (+inf, −inf, ±inf)
  terms.push({ name: 'whole', weight: 0, node: b.op('reduce', [x], { fn: 'sum', axes: [0, 1], keepdim: false }) });
  for (const r of [1, 2, 3])
    terms.push({ name: `whole_row${r}`, weight: 0, node: b.op('reduce', [b.op('slice', [x], { axis: 0, start: r, end: r + 1, step: 1 })], { fn: 'sum', axes: [0, 1], keepdim: false }) });
  return b.finish({ loss: b.constant(0), terms });
}

test('GPU sums with ±inf and NaN: inf, −inf or NaN as on the CPU (row, whole and matmul reductions; workgroups 8 and 64)', async () => {
  let rt: GpuRuntime;
  try {
    rt = await GpuRuntime.open();
  } catch (e) {
    if (!isNoAdapterError(e)) throw e;
    if (REQUIRE) throw new Error(`no WebGPU adapter (TDC_REQUIRE_GPU=1): ${(e as Error).message}`);
    console.log(`\n!!!!!!!! compensated-nonfinite SKIPPED — no WebGPU adapter: ${(e as Error).message}\n`);
    return;
  }
  const g = graph();
  const inputs = new Map<string, HostTensor>([
    ['x', rows(SPECIALS)],
    ['ones', { shape: [W, 2], dtype: 'float', data: new Float64Array(2 * W).fill(1) }],
  ]);
  const want = execute(g, inputs).terms;
  const problems: string[] = [];
  try {
    for (const wg of [8, 64]) {
      const exec = await PlanExecutor.create(rt, kernelPlan(g, { workgroupSize: wg, mode: 'fused', maxStorageBuffers: rt.device.limits.maxStorageBuffersPerShaderStage }));
      try {
        const got = (await exec.run(inputs, { readback: 'scalars' })).terms;
        for (const [name, w] of Object.entries(want)) {
          const v = got[name]!;
          const ok = Number.isFinite(w) ? Math.abs(v - w) <= 1e-5 * Math.abs(w) : Object.is(v, w) || (Number.isNaN(v) && Number.isNaN(w));
          if (!ok) problems.push(`wg ${wg} ${name}: GPU ${v}, CPU ${w}`);
        }
      } finally {
        exec.destroy();
      }
    }
  } finally {
    rt.destroy();
  }
  assert.equal(problems, [], problems.join('\n'));
});

test.run();
