// Row kernels: one workgroup per row of an iteration domain. Each sweep walks the row with a stride of the
// workgroup size, accumulating every reduction of that sweep in registers, then combines the per-thread
// partials in workgroup memory (no atomics: the result is the same on every run). Later sweeps read earlier
// results as registers; the last sweep writes element outputs (e.g. the gradient row), thread 0 writes the
// per-row outputs.
import { ceilDivDims, dimEq, mulDims } from '../../graph/dims.js';
import type { Dim, Node } from '../../graph/types.js';
import { Emitter, wgslType, type WgslType } from './emitter.js';
import { ixAdd, ixDiv, ixLit, ixMod, ixMul, ixNode, ixVar, isVar, type Ix } from '../../compiler/schedule/index-expr.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import { alignedIndex, coord, coordName, isRowIndex, reductionInputIndex } from '../../compiler/schedule/coords.js';
import { ixWgsl } from './print-ix.js';
import type { DomainAxis, RowKernelSpec, StoreSpec, MapKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { F32_MAX, f32Literal, i32Literal } from './literals.js';
import { assembleModule } from './prelude.js';
import { kernelEmitter } from './kernel-emitter.js';
import { ScopeTree, type Scope } from './scope.js';
import { compensatedAdd, compensatedDecl, compensatedScale, compensatedValue } from './compensated.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';

interface ReductionState {
  node: number;
  fn: 'sum' | 'max' | 'min' | 'argmax' | 'argmin';
  type: WgslType;
  acc: string;
  accIdx?: string;
  result: string;
}

/** f32 sums accumulate compensated (compensated.ts); integer sums and max/min are exact. */
const compensated = (st: ReductionState): boolean => st.fn === 'sum' && st.type === 'f32';

const LOOP_FLOAT_IDENTITY = { max: -F32_MAX, min: F32_MAX };

function identity(fn: ReductionState['fn'], t: WgslType): string {
  if (fn === 'sum') return t === 'f32' ? '0.0' : '0i';
  const big = fn === 'max' || fn === 'argmax' ? LOOP_FLOAT_IDENTITY.max : LOOP_FLOAT_IDENTITY.min;
  if (t === 'f32') return f32Literal(big).startsWith('-') ? `(${f32Literal(big)})` : f32Literal(big);
  return fn === 'max' || fn === 'argmax' ? i32Literal(-2147483648) : i32Literal(2147483647);
}

function combine(fn: ReductionState['fn'], a: string, b: string): string {
  switch (fn) {
    case 'sum':
      return `${a} + ${b}`;
    case 'max':
      return `max(${a}, ${b})`;
    case 'min':
      return `min(${a}, ${b})`;
    default:
      throw new Error('arg reductions combine by pairs');
  }
}

/** Workgroup coordinates shared by row and map kernels. */
export const ENTRY_PARAMS = [
  '@builtin(workgroup_id) wid: vec3<u32>',
  '@builtin(num_workgroups) nwg: vec3<u32>',
  '@builtin(local_invocation_index) lid: u32',
];

export function rowKernelWgsl(spec: RowKernelSpec): string {
  return rowKernel(spec).wgsl;
}

/** The module, and the buffers it reads or writes as vec4 (declared array<vec4<f32>>; their lengths must be multiples of 4). */
export function rowKernel(spec: RowKernelSpec): { wgsl: string; vec4: Set<string> } {
  const first = rowKernelPass(spec, new Set());
  if (!first.vec4.size) return first;
  return rowKernelPass(spec, first.vec4);
}

function rowKernelPass(spec: RowKernelSpec, vec4: Set<string>): { wgsl: string; vec4: Set<string> } {
  const g = spec.graph;
  const WG = WG_SIZE;
  const kept = spec.axes.map((a, k) => ({ a, k })).filter((x) => !x.a.reduced);
  const red = spec.axes.map((a, k) => ({ a, k })).filter((x) => x.a.reduced);
  const R = mulDims(...kept.map((x) => x.a.dim));
  const L = mulDims(...red.map((x) => x.a.dim));

  const states = new Map<number, ReductionState>();
  const done = new Set<number>();
  const { math, scopes, emitter, buffers } = kernelEmitter(spec, (node, idx) => {
    if (!states.has(node)) return undefined;
    if (!done.has(node)) throw new Error(`kernel ${spec.name}: reduction ${node} is read before its sweep finished`);
    if (!isRowIndex(g, node, idx)) throw new Error(`kernel ${spec.name}: reduction ${node} is read outside its row`);
    return states.get(node)!.result;
  });
  const root = scopes.root;
  emitter.vec4 = vec4;

  // Sweeps walk the reduced coordinates. When the only reduced axis is the last one, threads take 4
  // consecutive elements per step (rows of buffers laid out along it are read and written as vec4) whenever
  // its size is a multiple of 4 — decided at compile time when the size is known, else by a uniform branch.
  // Work that needs all 4 lanes (an online max's update, a vec4 store) goes to `tail`, after the lanes.
  const quadAxis = red.length === 1 && red[0]!.k === spec.axes.length - 1 ? red[0]! : undefined;
  let lane: { lane: number; loop: Scope; tail: string[]; dim: Dim } | undefined;
  const quadStores = new Set<string>();
  const sweep = (emitBody: (s: Scope) => void): void => {
    const scalarLoop = (parent: Scope) => {
      const loop = openSweep(scopes, math, red, parent);
      emitBody(loop);
      scopes.close(loop, `for (var j = lid; j < ${ixWgsl(math.dim(L))}; j = j + ${WG})`);
    };
    const quadLoop = (parent: Scope, q: { a: DomainAxis; k: number }) => {
      const loop = scopes.open(parent);
      scopes.define('t', loop);
      const tail: string[] = [];
      for (let ln = 0; ln < 4; ln++) {
        const c = scopes.open(loop);
        c.lines.push(`let j = t * 4u + ${ln}u;`, `let ${coordName(q.k)} = j;`);
        math.bindCoord(coordName(q.k), undefined);
        scopes.define('j', c);
        scopes.define(coordName(q.k), c);
        emitter.quad = { coord: coordName(q.k), lane: ln, dim: q.a.dim, loop, t: 't' };
        lane = { lane: ln, loop, tail, dim: q.a.dim };
        emitBody(c);
        lane = undefined;
        emitter.quad = undefined;
        scopes.close(c, '');
      }
      loop.lines.push(...tail);
      scopes.close(loop, `for (var t = lid; t < ${ixWgsl(math.dim(q.a.dim))} / 4u; t = t + ${WG})`);
    };
    const d = quadAxis?.a.dim;
    if (!quadAxis || d === undefined || (typeof d === 'number' && d % 4 !== 0)) return scalarLoop(root);
    if (typeof d === 'number') return quadLoop(root, quadAxis);
    // both branches are built before either is written: values they hoist must precede the `if`
    const yes = scopes.open(root);
    quadLoop(yes, quadAxis);
    const no = scopes.open(root);
    scalarLoop(no);
    scopes.close(yes, `if (${ixWgsl(math.dim(d))} % 4u == 0u)`);
    scopes.close(no, 'else');
  };

  const body = root.lines;
  body.push('let row = wid.x + wid.y * nwg.x;');
  if (R !== 1) body.push(`if (row >= ${ixWgsl(math.dim(R))}) { return; }`);
  const keptCoords = math.unravel(ixVar('row'), kept.map((x) => x.a.dim));
  kept.forEach((x, n) => {
    body.push(`let ${coordName(x.k)} = ${ixWgsl(keptCoords[n]!)};`);
    scopes.define(coordName(x.k), root);
    math.bindCoord(coordName(x.k), keptCoords[n]);
  });

  // ---- sweeps ----
  const elemStores = spec.stores.filter((s) => s.at === 'elem');
  const rowStores = spec.stores.filter((s) => s.at === 'row');
  const redPhases = spec.reductions.map((r) => r.phase);
  const elemPhase = elemStores.length ? spec.elemPhase ?? Math.max(-1, ...redPhases) + 1 : undefined;
  const phases = [...new Set([...redPhases, ...(elemPhase === undefined ? [] : [elemPhase])])].sort((a, b) => a - b);
  const shared = new Map<string, string>();
  const slot = (t: WgslType | 'u32', k: number) => {
    const name = `sh_${t}${k}`;
    shared.set(name, `var<workgroup> ${name}: array<${t}, ${WG}>;`);
    return name;
  };
  const coordsAll = spec.axes.map((_, k) => coord(k));
  // an f32 element output whose rows lie along the quad axis, the only store to its buffer
  const quadStorable = (s: StoreSpec, idx: Ix[], l: { loop: Scope; dim: Dim }): boolean => {
    const r = s.shape.length;
    return (
      r > 0 &&
      s.base === 0 &&
      buffers.get(s.buffer)!.dtype === 'f32' &&
      spec.stores.filter((x) => x.buffer === s.buffer).length === 1 &&
      emitter.quad !== undefined &&
      isVar(idx[r - 1], emitter.quad.coord) &&
      dimEq(s.shape[r - 1]!, l.dim) === true &&
      scopes.scopeOf(idx.slice(0, -1)).depth < l.loop.depth
    );
  };
  phases.forEach((phase, pi) => {
    const rs = spec.reductions.filter((r) => r.phase === phase).sort((a, b) => a.node - b.node);
    const partners = new Map<number, number[]>(); // max node → online sums
    for (const r of rs) if (r.online !== undefined) partners.set(r.online, [...(partners.get(r.online) ?? []), r.node]);
    const list: ReductionState[] = [];
    for (const r of rs) {
      const n = g.nodes[r.node]!;
      const st = reductionState(n, scopes);
      states.set(r.node, st);
      list.push(st);
      if (compensated(st)) root.lines.push(...compensatedDecl(st.acc));
      else root.lines.push(`var ${st.acc}: ${st.type} = ${identity(st.fn, st.type)};`);
      if (st.accIdx) root.lines.push(`var ${st.accIdx}: u32 = 0xffffffffu;`);
    }
    sweep((loop) => {
      for (const r of rs) {
        if (r.online !== undefined) continue; // accumulated with its max
        const n = g.nodes[r.node]!;
        const st = states.get(r.node)!;
        const v = emitter.value(n.inputs[0]!, reductionInputIndex(g, r.node));
        const vt = emitter.as(v, wgslType(g.nodes[n.inputs[0]!]!.dtype), st.type);
        const zs = (partners.get(r.node) ?? []).map((z) => states.get(z)!.acc); // online sums: f32, compensated
        if (zs.length && lane && st.type === 'f32') {
          // online softmax over a quad: lanes collect the 4 values; one max update and 4 exps after them
          const o = `${st.acc}_q`;
          if (lane.lane === 0) lane.loop.lines.push(`var ${o}: vec4<f32>;`);
          loop.lines.push(`${o}.${'xyzw'[lane.lane]} = ${vt};`);
          if (lane.lane === 3) {
            const rescale = zs.map((z) => compensatedScale(z, `exp(max(${st.acc} - qm, -88.0))`)).join(' ');
            lane.tail.push(`{ let qm = max(max(${o}.x, ${o}.y), max(${o}.z, ${o}.w)); if (qm > ${st.acc}) { ${rescale} ${st.acc} = qm; } }`);
            lane.tail.push(`{ let qe = exp(${o} - vec4<f32>(${st.acc})); ${zs.map((z) => compensatedAdd(z, '((qe.x + qe.y) + (qe.z + qe.w))')).join(' ')} }`);
          }
        } else if (zs.length) {
          // online softmax: rescale the partial sums when the running max grows
          const rescale = zs.map((z) => compensatedScale(z, `exp(max(${st.acc} - ${vt}, -88.0))`)).join(' ');
          loop.lines.push(`if (${vt} > ${st.acc}) { ${rescale} ${st.acc} = ${vt}; }`);
          for (const z of zs) loop.lines.push(compensatedAdd(z, `exp(${vt} - ${st.acc})`));
        } else if (st.accIdx) {
          const better = st.fn === 'argmax' ? '>' : '<';
          loop.lines.push(`if (${vt} ${better} ${st.acc}) { ${st.acc} = ${vt}; ${st.accIdx} = j; }`);
        } else if (compensated(st)) loop.lines.push(compensatedAdd(st.acc, vt));
        else loop.lines.push(`${st.acc} = ${combine(st.fn, st.acc, vt)};`);
      }
      if (phase === elemPhase)
        for (const s of elemStores) {
          const idx = alignedIndex(s.shape, coordsAll);
          if (lane && quadStorable(s, idx, lane)) {
            // a vec4 store of the 4 lanes' values, after the lanes
            const w = `${s.buffer}_q`;
            if (lane.lane === 0) lane.loop.lines.push(`var ${w}: vec4<f32>;`);
            const n = g.nodes[s.node]!;
            loop.lines.push(`${w}.${'xyzw'[lane.lane]} = ${emitter.as(emitter.value(s.node, idx), wgslType(n.dtype), 'f32')};`);
            if (lane.lane === 3) {
              const row = math.offset(s.shape.slice(0, -1), idx.slice(0, -1));
              lane.tail.push(`${s.buffer}[${ixWgsl(ixAdd(ixMul(row, ixNode('/', math.dim(lane.dim), ixLit(4))), ixVar('t')))}] = ${w};`);
            }
            quadStores.add(s.buffer);
          } else loop.lines.push(storeLine(s, idx, emitter, math, buffers, vec4));
        }
    });
    if (!list.length) return;
    // combine the per-thread partials, in chunks that fit the workgroup memory (an online sum with its max)
    const onlineOf = new Map(rs.filter((r) => r.online !== undefined).map((r) => [r.node, r.online!]));
    const chunks = packChunks(list, onlineOf, spec.maxWorkgroupSize);
    chunks.forEach((chunk, ci) => {
      if (ci > 0) body.push('workgroupBarrier();'); // the previous chunk's slots are still being read
      const slots = chunk.map((st, k) => ({ st, v: slot(st.type, k), i: st.accIdx ? slot('u32', k) : undefined }));
      const slotOf = new Map(slots.map((x) => [x.st.node, x]));
      for (const x of slots) {
        body.push(`${x.v}[lid] = ${compensated(x.st) ? compensatedValue(x.st.acc) : x.st.acc};`);
        if (x.i) body.push(`${x.i}[lid] = ${x.st.accIdx};`);
      }
      body.push('workgroupBarrier();');
      // results are declared here and assigned by whichever combine the workgroup size selects
      for (const x of slots) body.push(`var ${x.st.result}: ${x.i ? 'i32' : x.st.type};`);
      // small workgroups: every thread folds the partials in the same order (identical results, one barrier);
      // larger ones: a tree (log2 steps). The branch is on an override constant: specialised at pipeline creation.
      const folds: string[] = [];
      for (const x of slots) {
        const res = x.st.result;
        const m = onlineOf.get(x.st.node);
        if (m !== undefined) {
          const ms = slotOf.get(m)!;
          folds.push(`{`, ...compensatedDecl(`${res}_f`).map((l) => `  ${l}`));
          folds.push(`  for (var q = 0u; q < ${WG}; q = q + 1u) ${compensatedAdd(`${res}_f`, `${x.v}[q] * exp(max(${ms.v}[q] - ${ms.st.result}, -88.0))`)}`);
          folds.push(`  ${res} = ${compensatedValue(`${res}_f`)};`, '}');
        } else if (x.i) {
          const better = x.st.fn === 'argmax' ? '>' : '<';
          folds.push(
            '{',
            `  var ${res}_v = ${x.v}[0];`,
            `  var ${res}_i = ${x.i}[0];`,
            `  for (var q = 1u; q < ${WG}; q = q + 1u) {`,
            `    let qv = ${x.v}[q];`,
            `    let qi = ${x.i}[q];`,
            `    if (qv ${better} ${res}_v || (qv == ${res}_v && qi < ${res}_i)) { ${res}_v = qv; ${res}_i = qi; }`,
            '  }',
            `  ${res} = i32(${res}_i);`,
            '}',
          );
        } else if (compensated(x.st)) {
          folds.push('{', ...compensatedDecl(`${res}_f`, `${x.v}[0]`).map((l) => `  ${l}`));
          folds.push(`  for (var q = 1u; q < ${WG}; q = q + 1u) ${compensatedAdd(`${res}_f`, `${x.v}[q]`)}`);
          folds.push(`  ${res} = ${compensatedValue(`${res}_f`)};`, '}');
        } else {
          folds.push('{', `  var ${res}_f = ${x.v}[0];`);
          folds.push(`  for (var q = 1u; q < ${WG}; q = q + 1u) { ${res}_f = ${combine(x.st.fn, `${res}_f`, `${x.v}[q]`)}; }`);
          folds.push(`  ${res} = ${res}_f;`, '}');
        }
      }
      const stmts: string[] = [];
      // online sums first: they need both maxima before the max slot is overwritten
      for (const x of slots) {
        const m = onlineOf.get(x.st.node);
        if (m === undefined) continue;
        const ms = slotOf.get(m)!.v;
        stmts.push(
          `{ let m1 = ${ms}[lid]; let m2 = ${ms}[lid + wg_s]; let mm = max(m1, m2); ` +
            `${x.v}[lid] = ${x.v}[lid] * exp(max(m1 - mm, -88.0)) + ${x.v}[lid + wg_s] * exp(max(m2 - mm, -88.0)); }`,
        );
      }
      for (const x of slots) {
        if (onlineOf.has(x.st.node)) continue;
        if (x.i) {
          const better = x.st.fn === 'argmax' ? '>' : '<';
          stmts.push(
            `{ let av = ${x.v}[lid + wg_s]; let ai = ${x.i}[lid + wg_s];`,
            `  if (av ${better} ${x.v}[lid] || (av == ${x.v}[lid] && ai < ${x.i}[lid])) { ${x.v}[lid] = av; ${x.i}[lid] = ai; } }`,
          );
        } else stmts.push(`${x.v}[lid] = ${combine(x.st.fn, `${x.v}[lid]`, `${x.v}[lid + wg_s]`)};`);
      }
      const tree = [
        // half the smallest power of two ≥ the workgroup size, halved each step
        'var wg_s = 1u;',
        `loop { if (wg_s >= ${WG}) { break; } wg_s = wg_s * 2u; }`,
        'wg_s = wg_s / 2u;',
        'loop {',
        '  if (wg_s == 0u) { break; }',
        `  if (lid < wg_s && lid + wg_s < ${WG}) {`,
        ...stmts.map((l) => `    ${l}`),
        '  }',
        '  workgroupBarrier();',
        '  wg_s = wg_s / 2u;',
        '}',
        ...slots.map((x) => (x.i ? `${x.st.result} = i32(${x.i}[0]);` : `${x.st.result} = ${x.v}[0];`)),
      ];
      body.push(`if (${WG} <= ${SERIAL_COMBINE_MAX}u) {`, ...folds.map((l) => `  ${l}`), '} else {', ...tree.map((l) => `  ${l}`), '}');
      for (const x of slots) {
        scopes.define(x.st.result, root);
        done.add(x.st.node);
      }
    });
    if (pi < phases.length - 1) body.push('workgroupBarrier();'); // the next sweep reuses the slots
  });

  // ---- per-row outputs ----
  if (rowStores.length) {
    const rowCoords = kept.map((x) => coord(x.k));
    const writes = rowStores.map((s) => storeLine(s, alignedIndex(s.shape, rowCoords), emitter, math, buffers, vec4));
    body.push('if (lid == 0u) {', ...writes.map((l) => `  ${l}`), '}');
  }

  const wgsl = assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [...shared.values()],
    overrides: [`override ${WG_SIZE}: u32;`],
    workgroupSize: WG,
    params: ENTRY_PARAMS,
    body,
    vec4,
  });
  return { wgsl, vec4: new Set([...emitter.quadLoads, ...quadStores]) };
}

/** Workgroup sizes up to this combine partials by a serial fold in every thread (one barrier), larger ones by a tree. */
const SERIAL_COMBINE_MAX = 16;

/** WebGPU's default maxComputeWorkgroupStorageSize. */
const WORKGROUP_BYTES = 16384;

/** Reductions grouped so each group's partials fit in workgroup memory; an online sum stays with its max. */
function packChunks(list: ReductionState[], onlineOf: Map<number, number>, wg: number): ReductionState[][] {
  const blocks: ReductionState[][] = [];
  for (const st of list) {
    if (onlineOf.has(st.node)) continue;
    blocks.push([st, ...list.filter((z) => onlineOf.get(z.node) === st.node)]);
  }
  const bytes = (b: ReductionState[]) => b.reduce((n, st) => n + 4 * wg * (st.accIdx ? 2 : 1), 0);
  const chunks: ReductionState[][] = [];
  for (const b of blocks) {
    const last = chunks[chunks.length - 1];
    if (last && bytes(last) + bytes(b) <= WORKGROUP_BYTES) last.push(...b);
    else chunks.push([...b]);
  }
  return chunks;
}

function reductionState(n: Node, scopes: ScopeTree): ReductionState {
  const x = n.op === 'reduce' || n.op === 'arg_reduce' ? n : undefined;
  if (!x) throw new Error(`node ${n.id} (${n.op}) is not a reduction`);
  const acc = scopes.fresh('a');
  const result = `r${n.id}`;
  if (x.op === 'arg_reduce') {
    return { node: n.id, fn: x.attrs.fn === 'max' ? 'argmax' : 'argmin', type: 'f32', acc, accIdx: `${acc}_i`, result };
  }
  return { node: n.id, fn: x.attrs.fn, type: wgslType(n.dtype), acc, result };
}

/** A sweep over the reduced coordinates: `for (j = lid; j < L; j += WG)` with the coordinates bound. */
function openSweep(scopes: ScopeTree, math: IndexMath, red: { a: DomainAxis; k: number }[], parent: Scope = scopes.root): Scope {
  const loop = scopes.open(parent);
  scopes.define('j', loop);
  const cs = math.unravel(ixVar('j'), red.map((x) => x.a.dim));
  red.forEach((x, n) => {
    loop.lines.push(`let ${coordName(x.k)} = ${ixWgsl(cs[n]!)};`);
    scopes.define(coordName(x.k), loop);
    math.bindCoord(coordName(x.k), cs[n]);
  });
  return loop;
}

function storeLine(
  s: StoreSpec,
  idx: Ix[],
  emitter: Emitter,
  math: IndexMath,
  buffers: Map<string, { dtype: WgslType }>,
  vec4?: ReadonlySet<string>,
): string {
  const n = emitter.env.graph.nodes[s.node]!;
  const v = emitter.as(emitter.value(s.node, idx), wgslType(n.dtype), buffers.get(s.buffer)!.dtype);
  const off = ixWgsl(math.offset(s.shape, idx));
  const at = s.base ? `${s.base}u + ${off}` : off;
  return vec4?.has(s.buffer) ? `${s.buffer}[(${at}) / 4u][(${at}) % 4u] = ${v};` : `${s.buffer}[${at}] = ${v};`;
}

/** Map kernels: each invocation writes up to spec.elemsPerInvocation consecutive elements of one line of the innermost axis. */
export function mapKernelWgsl(spec: MapKernelSpec): string {
  const WG = WG_SIZE;
  const E = spec.elemsPerInvocation;
  const { math, scopes, emitter, buffers } = kernelEmitter(spec);
  const body = scopes.root.lines;
  const axes = spec.axes.map((a) => a.dim);
  const last = axes.length ? axes[axes.length - 1]! : 1;
  const outer = axes.slice(0, -1);
  const chunks = ceilDivDims(last, E);
  body.push(`let t = (wid.x + wid.y * nwg.x) * ${WG} + lid;`);
  body.push(`if (t >= ${ixWgsl(math.dim(mulDims(...outer, chunks)))}) { return; }`);
  const t = ixVar('t');
  body.push(`let line = ${ixWgsl(ixDiv(t, math.dim(chunks)))};`, `let first = ${ixWgsl(ixMul(ixMod(t, math.dim(chunks)), ixLit(E)))};`);
  scopes.define('line', scopes.root);
  scopes.define('first', scopes.root);
  const cs = math.unravel(ixVar('line'), outer);
  outer.forEach((_, k) => {
    body.push(`let ${coordName(k)} = ${ixWgsl(cs[k]!)};`);
    scopes.define(coordName(k), scopes.root);
    math.bindCoord(coordName(k), cs[k]);
  });
  const loop = scopes.open(scopes.root);
  const inner = coordName(Math.max(0, axes.length - 1));
  const coords = axes.map((_, k) => coord(k));
  if (axes.length) {
    loop.lines.push(`let ${inner} = first + e;`, `if (${inner} >= ${ixWgsl(math.dim(last))}) { break; }`);
    scopes.define(inner, loop);
    scopes.define('e', loop);
  }
  for (const s of spec.stores) loop.lines.push(storeLine(s, alignedIndex(s.shape, coords), emitter, math, buffers));
  scopes.close(loop, axes.length ? `for (var e = 0u; e < ${E}u; e = e + 1u)` : '');

  return assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [],
    overrides: [`override ${WG_SIZE}: u32;`],
    workgroupSize: WG,
    params: ENTRY_PARAMS,
    body,
  });
}
