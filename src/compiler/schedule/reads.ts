// What evaluating a node at an index reads: the index maps of the op table, one entry per op, followed from
// the node down to the values a kernel does not compute inline (scheduling units and graph inputs). The
// kernel templates read their operands at exactly these indices (src/codegen/wgsl/emitter.ts follows the same
// maps through IndexMath), so "is this read the current row?" is a structural question about them.
// Positions that depend on data (a gathered index) or on a loop inside the op (scatter, pooling windows) are
// opaque variables: never a domain coordinate.
import { addDims, isOneDim } from '../../graph/dims.js';
import type { Dim, Graph, Node, NodeOf, OpName } from '../../graph/types.js';
import { ixClampLast, ixDiv, ixLit, ixListKey, ixMod, ixSub, ixVar, type Ix } from './index-expr.js';
import type { IndexMath } from './index-math.js';

/** A read of a node at an index. */
export interface Read {
  node: number;
  idx: Ix[];
}

/** The reads of the inputs of `n` evaluated at `idx` (an input it does not read is absent). */
type IndexMap<K extends OpName> = (n: NodeOf<K>, idx: Ix[], m: IndexMath, g: Graph) => Read[];

const shapeOf = (g: Graph, id: number) => g.nodes[id]!.shape;
const same = (n: Node, idx: Ix[]): Read[] => n.inputs.map((node) => ({ node, idx }));
const broadcastAll = (n: Node, idx: Ix[], m: IndexMath, g: Graph): Read[] => n.inputs.map((node) => ({ node, idx: m.broadcast(shapeOf(g, node), n.shape, idx) }));
const none = (): Read[] => [];
/** Ops computed by a kernel structure of their own: only ever read as a unit. */
const unitOnly = (n: Node): Read[] => {
  throw new Error(`${n.op} node ${n.id} is neither a register nor a buffer of this kernel`);
};
const opaque = (what: string): Ix => ixVar(`@${what}`);

/** Adaptive pooling to 1×1: one bin, the whole plane, read by one loop over its cells (codegen's emitter). */
export const isGlobalPool = (n: NodeOf<'adaptive_pool2d'>): boolean => isOneDim(n.attrs.out[0]) && isOneDim(n.attrs.out[1]);

/** Cell k of an H × W plane in row-major order: (k / W, k % W) — what the offsets of its reads ravel back to k. */
export const planeCell = (k: Ix, W: Ix): [Ix, Ix] => [ixDiv(k, W), ixMod(k, W)];

/** Per op: where its inputs are read when it is read at an index. Exhaustive by type. */
export const INDEX_MAPS: { [K in OpName]: IndexMap<K> } = {
  const: none,
  iota: none,
  input: none,
  detach: same,
  cast: same,
  broadcast: (n, idx, m, g) => [{ node: n.inputs[0]!, idx: m.broadcast(shapeOf(g, n.inputs[0]!), n.shape, idx) }],
  reshape: (n, idx, m, g) => [{ node: n.inputs[0]!, idx: m.reshape(shapeOf(g, n.inputs[0]!), n.shape, idx) }],
  permute: (n, idx, m) => [{ node: n.inputs[0]!, idx: m.permute(n.attrs.perm, idx) }],
  slice: (n, idx, m) => [{ node: n.inputs[0]!, idx: m.slice(n.attrs.axis, n.attrs.start, n.attrs.step, idx) }],
  unary: same,
  binary: (n, idx, m, g) => {
    // x^0 is 1 without reading x
    const b = g.nodes[n.inputs[1]!]!;
    if (n.attrs.fn === 'pow' && n.dtype !== 'int' && b.op === 'const' && b.attrs.value === 0) return [];
    return broadcastAll(n, idx, m, g);
  },
  where: broadcastAll,
  gather: (n, idx) => {
    const [x, index] = n.inputs as [number, number];
    const xi = [...idx];
    xi[n.attrs.axis] = opaque('gather');
    return [
      { node: index, idx },
      { node: x, idx: xi },
    ];
  },
  scatter_add: (n, idx) => {
    const ji = [...idx];
    ji[n.attrs.axis] = opaque('scatter');
    return n.inputs.map((node) => ({ node, idx: ji }));
  },
  index_copy: (n, idx) => {
    const [x, index, src] = n.inputs as [number, number, number];
    const si = [...idx];
    si[n.attrs.axis] = opaque('index_copy');
    return [
      { node: x, idx },
      { node: index, idx: [opaque('index_copy_j')] },
      { node: src, idx: si },
    ];
  },
  slice_scatter: (n, idx, m, g) => {
    const { axis, start, step } = n.attrs;
    const src = n.inputs[0]!;
    const si = [...idx];
    si[axis] = ixClampLast(ixDiv(ixSub(idx[axis]!, m.dim(start)), ixLit(step)), m.dim(shapeOf(g, src)[axis]!));
    return [{ node: src, idx: si }];
  },
  concat: (n, idx, m, g) => {
    const axis = n.attrs.axis;
    let at: Dim = 0;
    return n.inputs.map((node) => {
      const len = shapeOf(g, node)[axis]!;
      const xi = [...idx];
      xi[axis] = ixClampLast(ixSub(idx[axis]!, m.dim(at)), m.dim(len));
      at = addDims(at, len);
      return { node, idx: xi };
    });
  },
  adaptive_pool2d: (n, idx, m, g) => {
    const r = idx.length;
    const xi = [...idx];
    if (isGlobalPool(n)) [xi[r - 2], xi[r - 1]] = planeCell(opaque('pool_k'), m.dim(shapeOf(g, n.inputs[0]!)[r - 1]!));
    else {
      xi[r - 2] = opaque('pool_h');
      xi[r - 1] = opaque('pool_w');
    }
    return [{ node: n.inputs[0]!, idx: xi }];
  },
  adaptive_pool2d_grad: (n, idx, m, g) => {
    const max = n.attrs.fn === 'max';
    const gNode = max ? n.inputs[1]! : n.inputs[0]!;
    const gs = shapeOf(g, gNode);
    const r = gs.length;
    const [oh, ow] = [gs[r - 2]!, gs[r - 1]!];
    const [H, W] = n.attrs.in;
    const gi = [...idx];
    const reads: Read[] = [];
    if (!max && [H, oh, W, ow].every((d) => typeof d === 'number') && (H as number) % (oh as number) === 0 && (W as number) % (ow as number) === 0) {
      gi[r - 2] = ixDiv(idx[r - 2]!, ixLit((H as number) / (oh as number)));
      gi[r - 1] = ixDiv(idx[r - 1]!, ixLit((W as number) / (ow as number)));
      return [{ node: gNode, idx: gi }];
    }
    gi[r - 2] = opaque('bin_i');
    gi[r - 1] = opaque('bin_j');
    reads.push({ node: gNode, idx: gi });
    if (max) {
      const xi = [...idx];
      xi[r - 2] = opaque('bin_p');
      xi[r - 1] = opaque('bin_q');
      reads.push({ node: n.inputs[0]!, idx: xi });
    }
    return reads;
  },
  // a sum over a broadcast constant (dimValue) reads nothing; any other reduction is a unit
  reduce: none,
  matmul: unitOnly,
  sort: unitOnly,
  cholesky: unitOnly,
  triangular_solve: unitOnly,
  ctc_nll: unitOnly,
  ctc_nll_grad: unitOnly,
};

/**
 * Everything that evaluating `node` at `idx` reads of the nodes `stop` accepts (units, graph inputs), with
 * the indices it reads them at. `self` is evaluated, never counted (a kernel's own value).
 */
export function readsAt(g: Graph, m: IndexMath, node: number, idx: Ix[], stop: (node: number) => boolean, self?: number, dimValue?: (node: number) => boolean): Read[] {
  const out: Read[] = [];
  const seen = new Set<string>();
  const visit = (id: number, at: Ix[]): void => {
    const key = `${id}@${ixListKey(at)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const n = g.nodes[id]!;
    if (id !== self && stop(id)) {
      out.push({ node: id, idx: at });
      return;
    }
    if (n.op === 'input') return;
    if (n.op === 'reduce' && !dimValue?.(id)) throw new Error(`reduction node ${id} is neither a register nor a buffer of this kernel`);
    for (const r of (INDEX_MAPS[n.op] as IndexMap<OpName>)(n as NodeOf<OpName>, at, m, g)) visit(r.node, r.idx);
  };
  visit(node, idx);
  return out;
}
