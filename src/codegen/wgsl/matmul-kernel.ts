// Register-tiled matmul [..., M, K] @ [..., K, N]: each invocation accumulates a reg × reg block (spec.reg)
// of the output in registers, reading its operands straight from memory (no workgroup memory, no barriers:
// barriers cost a coroutine switch per invocation on software rasterisers, and on hardware GPUs the operand
// rows stay in L1); a wg_size × wg_size workgroup (an override constant, 8 by default) covers a
// (reg·wg_size)² output tile. Operands are expressions
// (elementwise prologues fuse in), evaluated once per (row, k) and (k, column) and reused across the block.
// Out-of-range rows/columns read a clamped (valid) index and are not stored. The result is materialised.
// Each register accumulator is compensated across the K steps (Neumaier, compensated.ts): mm_acc[i] carries the
// running sum, mm_cmp[i] the rounding errors of its additions, folded in at the store. A Gram/FSP matmul sums
// tens of thousands of products per output; without compensation its error grows with K.
import { ixLit, ixNode, ixVar, type Ix } from '../../compiler/schedule/index-expr.js';
import { isOne } from '../../compiler/schedule/index-math.js';
import { ixWgsl } from './print-ix.js';
import type { MatmulKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { assembleModule } from './prelude.js';
import { kernelEmitter } from './kernel-emitter.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import { compensatedAddInto } from './compensated.js';


export function matmulKernelWgsl(spec: MatmulKernelSpec): string {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  if (n.op !== 'matmul') throw new Error(`node ${spec.node} is not a matmul`);
  const R = spec.reg;
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
  body.push(`let mm_col0 = (wid.x * ${WG_SIZE} + lid3.x) * ${R}u;`, `let mm_row0 = (wid.y * ${WG_SIZE} + lid3.y) * ${R}u;`);
  // No barriers in this kernel: invocations past the output leave at once.
  body.push(`if (mm_row0 >= ${Mx} || mm_col0 >= ${Nx}) { return; }`);
  for (const v of ['mm_col0', 'mm_row0', 'lid3']) scopes.define(v, root);
  const rows: Ix[] = [];
  const cols: Ix[] = [];
  for (let i = 0; i < R; i++) {
    body.push(`let mm_r${i} = min(mm_row0 + ${i}u, ${Mx} - 1u);`, `let mm_c${i} = min(mm_col0 + ${i}u, ${Nx} - 1u);`);
    scopes.define(`mm_r${i}`, root);
    scopes.define(`mm_c${i}`, root);
    rows.push(ixVar(`mm_r${i}`));
    cols.push(ixVar(`mm_c${i}`));
  }
  const bc = math.unravel(ixVar('wid.z'), batch);
  const batchIdx: Ix[] = bc.map((e, k) => {
    if (isOne(batch[k]!)) return e;
    body.push(`let bz${k} = ${ixWgsl(e)};`);
    scopes.define(`bz${k}`, root);
    return ixVar(`bz${k}`);
  });
  body.push(`var mm_acc: array<f32, ${R * R}>;`, `var mm_cmp: array<f32, ${R * R}>;`);
  const loop = scopes.open(root);
  scopes.define('mm_k', loop);
  const pa = math.broadcast(sa.slice(0, -2), batch, batchIdx);
  const pb = math.broadcast(sb.slice(0, -2), batch, batchIdx);
  const va = rows.map((row) => emitter.as(emitter.value(a, [...pa, row, ixVar('mm_k')]), 'f32', 'f32'));
  const vb = cols.map((col) => emitter.as(emitter.value(b, [...pb, ixVar('mm_k'), col]), 'f32', 'f32'));
  for (let i = 0; i < R; i++) loop.lines.push(`let mm_a${i} = ${va[i]};`);
  for (let j = 0; j < R; j++) loop.lines.push(`let mm_b${j} = ${vb[j]};`);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++) loop.lines.push(compensatedAddInto(`mm_acc[${i * R + j}]`, `mm_cmp[${i * R + j}]`, `mm_a${i} * mm_b${j}`));
  scopes.close(loop, `for (var mm_k = 0u; mm_k < ${Kx}; mm_k = mm_k + 1u)`);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++) {
      const off = ixWgsl(math.offset(spec.store.shape, [...batchIdx, ixNode('+', ixVar('mm_row0'), ixLit(i)), ixNode('+', ixVar('mm_col0'), ixLit(j))]));
      body.push(`if (mm_row0 + ${i}u < ${Mx} && mm_col0 + ${j}u < ${Nx}) { ${spec.store.buffer}[${off}] = mm_acc[${i * R + j}] + mm_cmp[${i * R + j}]; }`);
    }
  return assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [],
    overrides: [`override ${WG_SIZE}: u32;`],
    workgroupSize: `${WG_SIZE}, ${WG_SIZE}`,
    params: ['@builtin(workgroup_id) wid: vec3<u32>', '@builtin(local_invocation_id) lid3: vec3<u32>'],
    body,
  });
}
