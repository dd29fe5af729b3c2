// Register-tiled matmul [..., M, K] @ [..., K, N]. A workgroup of wg_size invocations (a 1-D override constant)
// owns spec.uniform consecutive indices of one output axis (rows, or columns when spec.swap; the schedule's
// matmul-layout.ts decides) and wg_size · spec.reg indices of the other; each invocation accumulates a
// uniform × reg block in registers. The uniform indices come from the workgroup id alone, so every read of
// the operand on that side is uniform across the workgroup: a software rasteriser (lavapipe) loads it once
// and broadcasts it to its SIMD lanes instead of gathering, and a hardware GPU serves it from one cache line;
// only the reg reads per k of the other operand differ between lanes. No workgroup memory and no barriers (a barrier costs a coroutine switch
// per invocation on software rasterisers). Operands are expressions (elementwise prologues fuse in),
// evaluated once per (row, k) and (k, column) and reused across the block. Out-of-range rows/columns read a
// clamped (valid) index and are not stored. The result is materialised.
//
// Accumulation is compensated in two levels (compensated.ts): each register sums a chunk of MM_CHUNK products
// with plain fma (a few ulps of the chunk's magnitude), and each chunk sum is folded into the accumulator with
// Neumaier compensation (mm_acc the running sum, mm_cmp its rounding errors, added at the store). The error no
// longer grows with K (a Gram/FSP matmul sums tens of thousands of products per output), at 1/MM_CHUNK of the
// cost of compensating every product.
import { ixLit, ixNode, ixVar, type Ix } from '../../compiler/schedule/index-expr.js';
import { isOne } from '../../compiler/schedule/index-math.js';
import { ixWgsl } from './print-ix.js';
import type { MatmulKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { assembleModule } from './prelude.js';
import { kernelEmitter } from './kernel-emitter.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import { compensatedAddInto } from './compensated.js';

/** Products summed plainly before each compensated fold. */
const MM_CHUNK = 16;

export function matmulKernelWgsl(spec: MatmulKernelSpec): string {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  if (n.op !== 'matmul') throw new Error(`node ${spec.node} is not a matmul`);
  const { math, scopes, emitter } = kernelEmitter(spec);
  const [a, b] = n.inputs as [number, number];
  const sa = g.nodes[a]!.shape;
  const sb = g.nodes[b]!.shape;
  const so = n.shape;
  const r = so.length;
  const batch = so.slice(0, -2);
  const M = so[r - 2]!;
  const N = so[r - 1]!;
  const K = sa[sa.length - 1]!;
  const root = scopes.root;
  const body = root.lines;
  const Mx = ixWgsl(math.dim(M));
  const Nx = ixWgsl(math.dim(N));
  const Kx = ixWgsl(math.dim(K));
  // rows × cols registers per invocation: the lane axis gets spec.reg, the uniform axis spec.uniform
  const RM = spec.swap ? spec.reg : spec.uniform;
  const RN = spec.swap ? spec.uniform : spec.reg;
  const lane0 = `(wid.x * ${WG_SIZE} + lid3.x) * ${spec.reg}u`;
  const uniform0 = `wid.y * ${spec.uniform}u`;
  body.push(`let mm_row0 = ${spec.swap ? lane0 : uniform0};`, `let mm_col0 = ${spec.swap ? uniform0 : lane0};`);
  // No barriers in this kernel: invocations past the output leave at once (every dispatched wid.y starts inside it).
  body.push(spec.swap ? `if (mm_row0 >= ${Mx}) { return; }` : `if (mm_col0 >= ${Nx}) { return; }`);
  for (const v of ['mm_col0', 'mm_row0', 'lid3']) scopes.define(v, root);
  const rows: Ix[] = [];
  const cols: Ix[] = [];
  for (let i = 0; i < RM; i++) {
    body.push(`let mm_r${i} = min(mm_row0 + ${i}u, ${Mx} - 1u);`);
    scopes.define(`mm_r${i}`, root);
    rows.push(ixVar(`mm_r${i}`));
  }
  for (let j = 0; j < RN; j++) {
    body.push(`let mm_c${j} = min(mm_col0 + ${j}u, ${Nx} - 1u);`);
    scopes.define(`mm_c${j}`, root);
    cols.push(ixVar(`mm_c${j}`));
  }
  const bc = math.unravel(ixVar('wid.z'), batch);
  const batchIdx: Ix[] = bc.map((e, k) => {
    if (isOne(batch[k]!)) return e;
    body.push(`let bz${k} = ${ixWgsl(e)};`);
    scopes.define(`bz${k}`, root);
    return ixVar(`bz${k}`);
  });
  const acc = RM * RN;
  body.push(`var mm_acc: array<f32, ${acc}>;`, `var mm_cmp: array<f32, ${acc}>;`, `var mm_part: array<f32, ${acc}>;`);
  const chunk = scopes.open(root);
  scopes.define('mm_k0', chunk);
  chunk.lines.push(`let mm_k1 = min(mm_k0 + ${MM_CHUNK}u, ${Kx});`);
  scopes.define('mm_k1', chunk);
  const loop = scopes.open(chunk);
  scopes.define('mm_k', loop);
  const pa = math.broadcast(sa.slice(0, -2), batch, batchIdx);
  const pb = math.broadcast(sb.slice(0, -2), batch, batchIdx);
  const va = rows.map((row) => emitter.as(emitter.value(a, [...pa, row, ixVar('mm_k')]), 'f32', 'f32'));
  const vb = cols.map((col) => emitter.as(emitter.value(b, [...pb, ixVar('mm_k'), col]), 'f32', 'f32'));
  for (let i = 0; i < RM; i++) loop.lines.push(`let mm_a${i} = ${va[i]};`);
  for (let j = 0; j < RN; j++) loop.lines.push(`let mm_b${j} = ${vb[j]};`);
  for (let i = 0; i < RM; i++)
    for (let j = 0; j < RN; j++) loop.lines.push(`mm_part[${i * RN + j}] = fma(mm_a${i}, mm_b${j}, mm_part[${i * RN + j}]);`);
  scopes.close(loop, `for (var mm_k = mm_k0; mm_k < mm_k1; mm_k = mm_k + 1u)`);
  for (let q = 0; q < acc; q++) chunk.lines.push(`${compensatedAddInto(`mm_acc[${q}]`, `mm_cmp[${q}]`, `mm_part[${q}]`)} mm_part[${q}] = 0.0;`);
  scopes.close(chunk, `for (var mm_k0 = 0u; mm_k0 < ${Kx}; mm_k0 = mm_k0 + ${MM_CHUNK}u)`);
  for (let i = 0; i < RM; i++)
    for (let j = 0; j < RN; j++) {
      const off = ixWgsl(math.offset(spec.store.shape, [...batchIdx, ixNode('+', ixVar('mm_row0'), ixLit(i)), ixNode('+', ixVar('mm_col0'), ixLit(j))]));
      body.push(`if (mm_row0 + ${i}u < ${Mx} && mm_col0 + ${j}u < ${Nx}) { ${spec.store.buffer}[${off}] = mm_acc[${i * RN + j}] + mm_cmp[${i * RN + j}]; }`);
    }
  return assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [],
    overrides: [`override ${WG_SIZE}: u32;`],
    workgroupSize: WG_SIZE,
    params: ['@builtin(workgroup_id) wid: vec3<u32>', '@builtin(local_invocation_id) lid3: vec3<u32>'],
    body,
  });
}
