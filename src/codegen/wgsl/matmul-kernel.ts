// Tiled matmul [..., M, K] @ [..., K, N]: an 8×8 workgroup computes an 8×8 output tile, staging 8×8 tiles
// of both operands in workgroup memory. Operands are expressions (elementwise prologues fuse in); the
// result is materialised for its consumers.
import { isOne, type Ix } from './index-expr.js';
import type { MatmulKernelSpec } from './kernel-spec.js';
import { assembleModule } from './prelude.js';
import { kernelEmitter } from './kernel-emitter.js';

export const MATMUL_TILE = 8;

export function matmulKernelWgsl(spec: MatmulKernelSpec): string {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  if (n.op !== 'matmul') throw new Error(`node ${spec.node} is not a matmul`);
  const T = MATMUL_TILE;
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
  body.push(`let col = wid.x * ${T}u + lid3.x;`, `let row = wid.y * ${T}u + lid3.y;`);
  for (const v of ['col', 'row', 'lid3']) scopes.define(v, root);
  const bc = math.unravel('wid.z', batch);
  const batchIdx: Ix[] = bc.map((e, k) => {
    if (isOne(batch[k]!)) return e;
    body.push(`let bz${k} = ${e};`);
    return `bz${k}`;
  });
  body.push('var acc = 0.0;');
  const loop = scopes.open(root);
  scopes.define('kt', loop);
  loop.lines.push(`let ka = kt * ${T}u + lid3.x;`, `let kb = kt * ${T}u + lid3.y;`);
  scopes.define('ka', loop);
  scopes.define('kb', loop);
  const ia = [...math.broadcast(sa.slice(0, -2), batch, batchIdx), 'row', 'ka'];
  const ib = [...math.broadcast(sb.slice(0, -2), batch, batchIdx), 'kb', 'col'];
  const va = emitter.as(emitter.value(a, ia), 'f32', 'f32');
  const vb = emitter.as(emitter.value(b, ib), 'f32', 'f32');
  const Mx = math.dim(M);
  const Nx = math.dim(N);
  const Kx = math.dim(K);
  loop.lines.push(
    `tile_a[lid3.y * ${T}u + lid3.x] = select(0.0, ${va}, row < ${Mx} && ka < ${Kx});`,
    `tile_b[lid3.y * ${T}u + lid3.x] = select(0.0, ${vb}, kb < ${Kx} && col < ${Nx});`,
    'workgroupBarrier();',
    `for (var k = 0u; k < ${T}u; k = k + 1u) { acc = acc + tile_a[lid3.y * ${T}u + k] * tile_b[k * ${T}u + lid3.x]; }`,
    'workgroupBarrier();',
  );
  scopes.close(loop, `for (var kt = 0u; kt < ${math.dim({ op: 'ceildiv', a: K, b: T })}; kt = kt + 1u)`);
  const outIdx = [...batchIdx, 'row', 'col'];
  const off = math.offset(spec.store.shape, outIdx);
  body.push(`if (row < ${Mx} && col < ${Nx}) { ${spec.store.buffer}[${off}] = acc; }`);
  return assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [`var<workgroup> tile_a: array<f32, ${T * T}>;`, `var<workgroup> tile_b: array<f32, ${T * T}>;`],
    workgroupSize: `${T}, ${T}`,
    params: ['@builtin(workgroup_id) wid: vec3<u32>', '@builtin(local_invocation_id) lid3: vec3<u32>'],
    body,
  });
}
