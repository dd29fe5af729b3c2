// REFERENCE ANCHOR — NOT COMPILER OUTPUT. A hand-written fused KD+CE plan (the design of perf-anchors.md
// §2 "b": one workgroup per row, online max/sum-exp statistics in one sweep, the gradient in a second, then a
// tiny batch-sum dispatch). `npm run bench -- --reference` reports it as 'reference-wgsl' next to tdc's own
// plans so a gap between the compiler and a hand-tuned kernel is visible; the 'tdc' numbers never use it.
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { ALPHA, TEMPERATURE } from './kd-data.js';

const f32 = (x: number): string => (Number.isInteger(x) ? `${x}.0` : String(x));

function rowKernel(wg: number): string {
  return `// reference-wgsl: fused KD+CE row kernel (hand-written anchor, not tdc output)
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<i32>;
@group(0) @binding(4) var<storage, read_write> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> rows: array<f32>;

const WG: u32 = ${wg}u;
const T: f32 = ${f32(TEMPERATURE)};
const INV_T: f32 = ${f32(1 / TEMPERATURE)};
const ALPHA: f32 = ${f32(ALPHA)};
const LOWEST: f32 = -3.402823e38;

var<workgroup> w_ms: array<f32, WG>;
var<workgroup> w_mt: array<f32, WG>;
var<workgroup> w_z1: array<f32, WG>;
var<workgroup> w_zs: array<f32, WG>;
var<workgroup> w_zt: array<f32, WG>;
var<workgroup> w_a: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let cols = dims.C;
  let base = row * cols;
  // Sweep 1, online: max of s and t; Σe^(s−ms), Σe^((s−ms)/T), Σe^((t−mt)/T), Σe^((t−mt)/T)·(t−s).
  var ms = LOWEST;
  var mt = LOWEST;
  var z1 = 0.0;
  var zs = 0.0;
  var zt = 0.0;
  var a = 0.0;
  for (var j = lid; j < cols; j += WG) {
    let sv = s[base + j];
    let tv = t[base + j];
    if (sv > ms) {
      z1 *= exp(ms - sv);
      zs *= exp((ms - sv) * INV_T);
      ms = sv;
    }
    if (tv > mt) {
      let r = exp((mt - tv) * INV_T);
      zt *= r;
      a *= r;
      mt = tv;
    }
    z1 += exp(sv - ms);
    zs += exp((sv - ms) * INV_T);
    let et = exp((tv - mt) * INV_T);
    zt += et;
    a += et * (tv - sv);
  }
  w_ms[lid] = ms;
  w_mt[lid] = mt;
  w_z1[lid] = z1;
  w_zs[lid] = zs;
  w_zt[lid] = zt;
  w_a[lid] = a;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let o = lid + half;
      let m1 = w_ms[lid];
      let m2 = w_ms[o];
      let m = max(m1, m2);
      w_z1[lid] = w_z1[lid] * exp(m1 - m) + w_z1[o] * exp(m2 - m);
      w_zs[lid] = w_zs[lid] * exp((m1 - m) * INV_T) + w_zs[o] * exp((m2 - m) * INV_T);
      w_ms[lid] = m;
      let n1 = w_mt[lid];
      let n2 = w_mt[o];
      let n = max(n1, n2);
      let r1 = exp((n1 - n) * INV_T);
      let r2 = exp((n2 - n) * INV_T);
      w_zt[lid] = w_zt[lid] * r1 + w_zt[o] * r2;
      w_a[lid] = w_a[lid] * r1 + w_a[o] * r2;
      w_mt[lid] = n;
    }
    workgroupBarrier();
  }
  ms = w_ms[0];
  mt = w_mt[0];
  z1 = w_z1[0];
  zs = w_zs[0];
  zt = w_zt[0];
  a = w_a[0];
  let label = u32(y[row]);
  if (lid == 0u) {
    let ce = log(z1) + ms - s[base + label];
    let kl = (a - (mt - ms) * zt) / (T * zt) + log(zs) - log(zt);
    rows[row] = ALPHA * ce + (1.0 - ALPHA) * T * T * kl;
  }
  // Sweep 2: d L / d s = α/N·(softmax(s) − onehot(y)) + (1−α)·T/N·(softmax(s/T) − softmax(t/T)).
  let n_rows = f32(dims.N);
  let ca = ALPHA / n_rows;
  let cb = (1.0 - ALPHA) * T / n_rows;
  let iz1 = 1.0 / z1;
  let izs = 1.0 / zs;
  let izt = 1.0 / zt;
  for (var j = lid; j < cols; j += WG) {
    let sv = s[base + j];
    let tv = t[base + j];
    let hard = exp(sv - ms) * iz1 - select(0.0, 1.0, j == label);
    g[base + j] = ca * hard + cb * (exp((sv - ms) * INV_T) * izs - exp((tv - mt) * INV_T) * izt);
  }
}
`;
}

const REDUCE = `// reference-wgsl: batch mean of the row losses (hand-written anchor, not tdc output)
struct Dims { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var r = lid; r < dims.N; r += 64u) { acc += rows[r]; }
  part[lid] = acc;
  workgroupBarrier();
  for (var half = 32u; half > 0u; half >>= 1u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let loss = part[0] / f32(dims.N);
    scalars[0] = loss;
    scalars[1] = loss;
  }
}
`;

/** The reference KD+CE plan; `workgroupSize` must be a power of two (8 was fastest on lavapipe). */
export function referenceKdPlan(workgroupSize = 8): KernelPlan {
  const N = { sym: 'N' };
  const C = { sym: 'C' };
  const NC = { op: 'mul' as const, a: N, b: C };
  return {
    workgroupSize,
    symbols: ['N', 'C'],
    inputs: [
      { name: 'student/./output', shape: [N, C], dtype: 'float', buffer: 0 },
      { name: 'teacher/./output', shape: [N, C], dtype: 'float', buffer: 1 },
      { name: 'targets', shape: [N], dtype: 'int', buffer: 2 },
    ],
    buffers: [
      { id: 0, name: 'in_student_._output', role: 'input', dtype: 'f32', length: NC },
      { id: 1, name: 'in_teacher_._output', role: 'input', dtype: 'f32', length: NC },
      { id: 2, name: 'in_targets', role: 'input', dtype: 'i32', length: N },
      { id: 3, name: 'grad_student_._output', role: 'output', dtype: 'f32', length: NC },
      { id: 4, name: 'rowstat_0', role: 'scratch', dtype: 'f32', length: N },
      { id: 5, name: 'out_scalars', role: 'output', dtype: 'f32', length: 2 },
    ],
    kernels: [
      {
        name: 'ref_row_kd_ce',
        wgsl: rowKernel(workgroupSize),
        summary: 'reference anchor: KD+CE row statistics, row loss and gradient row',
        terms: ['kd'],
        bindings: [
          { binding: 1, buffer: 0, access: 'read' },
          { binding: 2, buffer: 1, access: 'read' },
          { binding: 3, buffer: 2, access: 'read' },
          { binding: 4, buffer: 3, access: 'read_write' },
          { binding: 5, buffer: 4, access: 'read_write' },
        ],
        dispatch: [N, 1, 1],
        bytesRead: { op: 'mul', a: 16, b: NC },
        bytesWritten: { op: 'mul', a: 4, b: NC },
      },
      {
        name: 'ref_reduce',
        wgsl: REDUCE,
        summary: 'reference anchor: batch mean of the row losses',
        terms: ['kd'],
        bindings: [
          { binding: 1, buffer: 4, access: 'read' },
          { binding: 2, buffer: 5, access: 'read_write' },
        ],
        dispatch: [1, 1, 1],
        bytesRead: { op: 'mul', a: 4, b: N },
        bytesWritten: 8,
      },
    ],
    outputs: {
      scalars: { buffer: 5, loss: 0, terms: [{ name: 'kd', weight: 1, index: 1 }] },
      grads: [{ input: 'student/./output', buffer: 3, shape: [N, C] }],
    },
  };
}
