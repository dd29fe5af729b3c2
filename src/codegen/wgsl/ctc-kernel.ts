// CTC's serial kernels (ops ctc_nll and ctc_nll_grad, src/graph/ops/ctc.ts): one workgroup per sample, its
// threads sharing the 2S + 1 states of a step, a storage barrier between steps. The α (and β) rows live in the
// kernel's workspace buffer (geometry.ts serialWorkspace): ctc_nll keeps the last two α rows, ctc_nll_grad all
// T α rows and two β rows per sample. The recursions are the float64 CPU kernels', rescaled for float32: a
// log-α of a few hundred (T = 200) has an f32 spacing of 3e-5, and a posterior computed as
// exp(α + β + nll − lp) from such values would be off by that much relatively at every step. So each row is
// stored relative to the largest entry of the row before it (every thread takes that max over the whole
// previous row, in the same order, so all agree), entries stay O(|log_probs|), ctc_nll adds the offsets up
// in a compensated sum, and the gradient normalises each step by its own Σ_s α_t(s)β_t(s)/y_t(l'_s) — equal
// to the likelihood at every t < I (the identity behind torch's formula), so the offsets cancel (nll only
// decides whether a sample has a gradient: 0 when it is infinite). log 0 is NEG = −1e30 (at most NEG_HALF counts as log 0; sums are clamped to NEG, so −inf
// log-probabilities never meet −inf − (−inf)); lengths and labels are clamped into range (the CPU path
// rejects them).
import { addDims, mulDims } from '../../graph/dims.js';
import type { Dim, NodeOf } from '../../graph/types.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import { compensatedAdd, compensatedDecl, compensatedValue } from './compensated.js';
import { ixDiv, ixLit, ixNode, ixSub, ixVar as v, type Ix } from '../../compiler/schedule/index-expr.js';
import { ixWgsl } from './print-ix.js';
import type { Scope } from './scope.js';
import type { SerialCtx as Ctx } from './serial-context.js';

const NEG = '-1e30';
const NEG_HALF = '-5e29';

/** Sample `mtx`'s lengths and extended labels, bound in the root scope. */
function sampleOf(c: Ctx, inputs: number[], blank: number) {
  const { math, scopes, emitter } = c;
  const g = c.spec.graph;
  const [lp, tg, il, tl] = inputs as [number, number, number, number];
  const [T, , C] = g.nodes[lp]!.shape;
  const S = g.nodes[tg]!.shape[1]!;
  const root = scopes.root;
  const ilv = emitter.value(il, [v('mtx')]);
  const tlv = emitter.value(tl, [v('mtx')]);
  const dim = (d: Dim) => ixWgsl(math.dim(d));
  root.lines.push(
    `let c_il = u32(clamp(${ilv}, 0i, i32(${dim(T!)})));`,
    `let c_tl = u32(clamp(${tlv}, 0i, i32(${dim(S)})));`,
    'let c_ns = 2u * c_tl + 1u;',
  );
  for (const x of ['c_il', 'c_tl', 'c_ns']) scopes.define(x, root);
  const lastLabel: Ix = typeof S === 'number' ? ixLit(Math.max(S - 1, 0)) : ixSub(ixNode('max', math.dim(S), ixLit(1)), ixLit(1));
  return {
    T: dim(T!),
    C: dim(C!),
    /** states per α row (2S + 1) */
    LM: dim(addDims(mulDims(2, S), 1)),
    /** `let name: u32 = <extended label of state s>;` in `scope` */
    ext(scope: Scope, s: Ix, name: string): string {
      if (S === 0) scope.lines.push(`let ${name} = ${blank}u;`);
      else {
        const raw = emitter.value(tg, [v('mtx'), ixNode('min', ixDiv(s, ixLit(2)), lastLabel)]);
        scope.lines.push(`let ${name} = select(${blank}u, u32(clamp(${raw}, 0i, i32(${dim(C!)}) - 1i)), (${ixWgsl(s)} & 1u) == 1u);`);
      }
      scopes.define(name, scope);
      return name;
    },
    /** log_probs[t, mtx, c] as f32, `c` a u32 variable */
    lp(t: Ix, c: string): string {
      return emitter.value(lp, [t, v('mtx'), v(c)]);
    },
  };
}

type Sample = ReturnType<typeof sampleOf>;

function loop(c: Ctx, parent: Scope, v: string): Scope {
  const s = c.scopes.open(parent);
  c.scopes.define(v, s);
  return s;
}

/** A `{ … }` child scope (an if block once closed). */
function block(c: Ctx, parent: Scope): Scope {
  return c.scopes.open(parent);
}

/** Declares `name`: the max of the workspace row at offset `row` over the sample's states, or 0 when all are log 0. */
function rowMax(ws: string, row: string, name: string): string[] {
  return [
    `var ${name}: f32 = ${NEG};`,
    `for (var s2 = 0u; s2 < c_ns; s2 = s2 + 1u) { ${name} = max(${name}, ${ws}[${row} + s2]); }`,
    `if (${name} <= ${NEG_HALF}) { ${name} = 0.0; }`,
  ];
}

/**
 * The α recursion of sample mtx into rows of the workspace (`row(t)`: the WGSL offset of step t's row), each
 * row relative to the previous row's max; with `offsets`, their sum accumulates in c_off (compensated).
 * Step 0, then steps 1…T−1 (work only while t < I; the barrier of every step is reached by all threads).
 */
function alphaSteps(c: Ctx, k: Sample, row: (t: string) => string, offsets: boolean): void {
  const { scopes } = c;
  const ws = c.workspace!;
  const root = scopes.root;
  if (offsets) root.lines.push(...compensatedDecl('c_off'));
  const s0 = loop(c, root, 's0');
  const e0 = k.ext(s0, v('s0'), 'c_e');
  s0.lines.push(`${ws}[${row('0u')} + s0] = select(${NEG}, max(${k.lp(ixLit(0), e0)}, ${NEG}), s0 < 2u && c_il > 0u);`);
  scopes.close(s0, `for (var s0 = lid; s0 < c_ns; s0 = s0 + ${WG_SIZE})`);
  root.lines.push('storageBarrier();');
  const steps = loop(c, root, 't');
  steps.lines.push(`let c_prv = ${row('(t - 1u)')};`, `let c_cur = ${row('t')};`);
  for (const v of ['c_prv', 'c_cur']) scopes.define(v, steps);
  const live = block(c, steps);
  live.lines.push(...rowMax(ws, 'c_prv', 'c_mp'));
  if (offsets) live.lines.push(compensatedAdd('c_off', 'c_mp'));
  const st = loop(c, live, 's');
  const e = k.ext(st, v('s'), 'c_e');
  const e2 = k.ext(st, ixSub(ixNode('max', v('s'), ixLit(2)), ixLit(2)), 'c_e2');
  const lpv = k.lp(v('t'), e);
  st.lines.push(
    `let c_a1 = ${ws}[c_prv + s];`,
    `let c_a2 = select(${NEG}, ${ws}[c_prv + max(s, 1u) - 1u], s >= 1u);`,
    `let c_a3 = select(${NEG}, ${ws}[c_prv + max(s, 2u) - 2u], s >= 2u && ${e2} != ${e});`,
    'let c_m = max(c_a1, max(c_a2, c_a3));',
    `var c_v: f32 = ${NEG};`,
    `if (c_m > ${NEG_HALF}) { c_v = max((c_m - c_mp) + log(exp(c_a1 - c_m) + exp(c_a2 - c_m) + exp(c_a3 - c_m)) + ${lpv}, ${NEG}); }`,
    `${ws}[c_cur + s] = c_v;`,
  );
  scopes.close(st, `for (var s = lid; s < c_ns; s = s + ${WG_SIZE})`);
  scopes.close(live, 'if (t < c_il)');
  steps.lines.push('storageBarrier();');
  scopes.close(steps, `for (var t = 1u; t < ${k.T}; t = t + 1u)`);
}

/** ctc_nll: α over two alternating rows, then thread 0 writes −(offsets + log(α_{I−1}(2L) + α_{I−1}(2L − 1))). */
export function ctcNll(c: Ctx, n: NodeOf<'ctc_nll'>): void {
  const { scopes, emitter, math } = c;
  const ws = c.workspace!;
  const k = sampleOf(c, n.inputs, n.attrs.blank);
  const root = scopes.root;
  root.lines.push(`let c_w = mtx * 2u * ${k.LM};`);
  scopes.define('c_w', root);
  alphaSteps(c, k, (t) => `c_w + (${t} & 1u) * ${k.LM}`, true);
  const inf = emitter.f32Const(Infinity);
  const fin = block(c, root);
  fin.lines.push(
    `var c_nll: f32 = ${inf};`,
    `if (c_il == 0u) { c_nll = select(${inf}, 0.0, c_tl == 0u); } else {`,
    `  let c_row = c_w + ((c_il - 1u) & 1u) * ${k.LM};`,
    `  let c_l1 = ${ws}[c_row + c_ns - 1u];`,
    `  let c_l2 = select(${NEG}, ${ws}[c_row + max(c_ns, 2u) - 2u], c_ns > 1u);`,
    '  let c_m = max(c_l1, c_l2);',
    `  if (c_m > ${NEG_HALF}) { c_nll = -(${compensatedValue('c_off')} + c_m + log(exp(c_l1 - c_m) + exp(c_l2 - c_m))); }`,
    '}',
    `${c.out}[${ixWgsl(math.offset(n.shape, [v('mtx')]))}] = c_nll;`,
  );
  scopes.close(fin, 'if (lid == 0u)');
}

/**
 * ctc_nll_grad: all α rows, then backwards over t: the β row of step t (threads over states, relative to the
 * max of the row after it), a barrier, and the gradient of step t (threads over classes): with
 * ab_s = α_t(s) + β_t(s) − lp_t(l'_s), the posterior of class c is exp(LSE_{s: l'_s = c} ab_s − LSE_s ab_s)
 * (online log-sum-exps), and the gradient g · (exp(lp) − posterior) — 0 at t ≥ I, for an infinite nll and I = 0.
 */
export function ctcNllGrad(c: Ctx, n: NodeOf<'ctc_nll_grad'>): void {
  const { scopes, emitter, math } = c;
  const ws = c.workspace!;
  const [, , , , nllNode, gNode] = n.inputs as [number, number, number, number, number, number];
  const k = sampleOf(c, n.inputs, n.attrs.blank);
  const root = scopes.root;
  const nll = emitter.value(nllNode, [v('mtx')]);
  const gv = emitter.value(gNode, [v('mtx')]);
  root.lines.push(`let c_w = mtx * (${k.T} + 2u) * ${k.LM};`, `let c_ok = c_il > 0u && ${nll} < ${emitter.f32Const(Infinity)};`);
  for (const v of ['c_w', 'c_ok']) scopes.define(v, root);
  const alphaRow = (t: string) => `c_w + ${t} * ${k.LM}`;
  alphaSteps(c, k, alphaRow, false);

  const steps = loop(c, root, 'q');
  steps.lines.push(`let tb = ${k.T} - 1u - q;`, `let c_nxt = c_w + (${k.T} + ((tb + 1u) & 1u)) * ${k.LM};`, `let c_cur = c_w + (${k.T} + (tb & 1u)) * ${k.LM};`);
  for (const v of ['tb', 'c_nxt', 'c_cur']) scopes.define(v, steps);
  // β of step tb
  const live = block(c, steps);
  live.lines.push(...rowMax(ws, 'c_nxt', 'c_mn'));
  const st = loop(c, live, 'sb');
  const e = k.ext(st, v('sb'), 'c_e');
  const e2 = k.ext(st, ixNode('min', ixNode('+', v('sb'), ixLit(2)), ixSub(v('c_ns'), ixLit(1))), 'c_e2');
  const lpv = k.lp(v('tb'), e);
  st.lines.push(
    `let c_b1 = ${ws}[c_nxt + sb];`,
    `let c_b2 = select(${NEG}, ${ws}[c_nxt + min(sb + 1u, c_ns - 1u)], sb + 1u < c_ns);`,
    `let c_b3 = select(${NEG}, ${ws}[c_nxt + min(sb + 2u, c_ns - 1u)], sb + 2u < c_ns && ${e2} != ${e});`,
    'let c_m = max(c_b1, max(c_b2, c_b3));',
    `var c_v: f32 = ${NEG};`,
    `if (tb + 1u == c_il) { if (sb + 2u >= c_ns) { c_v = max(${lpv}, ${NEG}); } }`,
    `else if (c_m > ${NEG_HALF}) { c_v = max((c_m - c_mn) + log(exp(c_b1 - c_m) + exp(c_b2 - c_m) + exp(c_b3 - c_m)) + ${lpv}, ${NEG}); }`,
    `${ws}[c_cur + sb] = c_v;`,
  );
  scopes.close(st, `for (var sb = lid; sb < c_ns; sb = sb + ${WG_SIZE})`);
  scopes.close(live, 'if (tb < c_il)');
  steps.lines.push('storageBarrier();');
  // the gradient of step tb, one class per thread
  const cls = loop(c, steps, 'cc');
  const lpc = k.lp(v('tb'), 'cc');
  cls.lines.push('var c_o: f32 = 0.0;');
  const on = block(c, cls);
  on.lines.push(`var c_zm: f32 = ${NEG};`, 'var c_z: f32 = 0.0;', `var c_pm: f32 = ${NEG};`, 'var c_p: f32 = 0.0;');
  const sp = loop(c, on, 'sp');
  const ep = k.ext(sp, v('sp'), 'c_ep');
  const lps = k.lp(v('tb'), ep);
  sp.lines.push(
    `let c_ab = ${ws}[${alphaRow('tb')} + sp] + ${ws}[c_cur + sp] - ${lps};`,
    `if (${ws}[${alphaRow('tb')} + sp] > ${NEG_HALF} && ${ws}[c_cur + sp] > ${NEG_HALF}) {`,
    '  if (c_ab > c_zm) { c_z = c_z * exp(c_zm - c_ab) + 1.0; c_zm = c_ab; } else { c_z = c_z + exp(c_ab - c_zm); }',
    `  if (${ep} == cc) { if (c_ab > c_pm) { c_p = c_p * exp(c_pm - c_ab) + 1.0; c_pm = c_ab; } else { c_p = c_p + exp(c_ab - c_pm); } }`,
    '}',
  );
  scopes.close(sp, 'for (var sp = 0u; sp < c_ns; sp = sp + 1u)');
  on.lines.push(`let c_post = select(0.0, exp(c_pm - c_zm + log(c_p / c_z)), c_p > 0.0);`, `c_o = (exp(${lpc}) - c_post) * ${gv};`);
  scopes.close(on, 'if (tb < c_il && c_ok)');
  cls.lines.push(`${c.out}[${ixWgsl(math.offset(n.shape, [v('tb'), v('mtx'), v('cc')]))}] = c_o;`);
  scopes.close(cls, `for (var cc = lid; cc < ${k.C}; cc = cc + ${WG_SIZE})`);
  scopes.close(steps, `for (var q = 0u; q < ${k.T}; q = q + 1u)`);
}
