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
import { compensatedAdd, compensatedDecl, compensatedValue } from './compensated.js';
import { ixDiv, ixLit, ixNode, ixSub, ixVar as v, type Ix } from '../../compiler/schedule/index-expr.js';
import { LID, upTo, WG } from './kernel-emitter.js';
import { all, assign, at, bare, barrier, bin, call, f32, forS, i32, ifS, ixE, letS, ref, u32, varS, type Expr, type Stmt } from '../kernel-ir/ir.js';
import type { Scope } from './scope.js';
import type { SerialCtx as Ctx } from './serial-context.js';

const NEG = f32(-1e30);
const NEG_HALF = f32(-5e29);
const ONE = u32(1);
const exp = (x: Expr) => call('exp', x);
const log = (x: Expr) => call('log', x);
const max = (a: Expr, b: Expr) => call('max', a, b);
const [mtx, cNs, cIl, cTl, cW] = [ref('mtx'), ref('c_ns'), ref('c_il'), ref('c_tl'), ref('c_w')];

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
  const dim = (d: Dim) => ixE(math.dim(d));
  root.lines.push(
    letS('c_il', call('u32', call('clamp', ilv, i32(0), call('i32', dim(T!))))),
    letS('c_tl', call('u32', call('clamp', tlv, i32(0), call('i32', dim(S))))),
    letS('c_ns', bare('+', bare('*', u32(2), cTl), ONE)),
  );
  for (const x of ['c_il', 'c_tl', 'c_ns']) scopes.define(x, root);
  const lastLabel: Ix = typeof S === 'number' ? ixLit(Math.max(S - 1, 0)) : ixSub(ixNode('max', math.dim(S), ixLit(1)), ixLit(1));
  return {
    T: dim(T!),
    C: dim(C!),
    /** states per α row (2S + 1) */
    LM: dim(addDims(mulDims(2, S), 1)),
    /** `let name: u32 = <extended label of state s>;` in `scope` */
    ext(scope: Scope, s: Ix, name: string): Expr {
      if (S === 0) scope.lines.push(letS(name, u32(blank)));
      else {
        const raw = emitter.value(tg, [v('mtx'), ixNode('min', ixDiv(s, ixLit(2)), lastLabel)]);
        scope.lines.push(letS(name, call('select', u32(blank), call('u32', call('clamp', raw, i32(0), bare('-', call('i32', dim(C!)), i32(1)))), bare('==', bin('&', ixE(s), ONE), ONE))));
      }
      scopes.define(name, scope);
      return ref(name);
    },
    /** log_probs[t, mtx, c] as f32, `c` a u32 variable */
    lp(t: Ix, cls: Expr): Expr {
      if (cls.k !== 'var') throw new Error('ctc: a class index is a variable');
      return emitter.value(lp, [t, v('mtx'), v(cls.name)]);
    },
  };
}

type Sample = ReturnType<typeof sampleOf>;

function loop(c: Ctx, parent: Scope, name: string): Scope {
  const s = c.scopes.open(parent);
  c.scopes.define(name, s);
  return s;
}

function inner(c: Ctx, parent: Scope): Scope {
  return c.scopes.open(parent);
}

/** Declares `name`: the max of the workspace row at offset `row` over the sample's states, or 0 when all are log 0. */
function rowMax(ws: string, row: Expr, name: string): Stmt[] {
  const x = ref(name);
  return [
    varS(name, 'f32', NEG),
    forS('s2', u32(0), bare('<', ref('s2'), cNs), ONE, [assign(x, max(x, at(ws, bare('+', row, ref('s2')))))]),
    ifS(bare('<=', x, NEG_HALF), [assign(x, f32(0))]),
  ];
}

/** log(e^(a − m) + e^(b − m) + e^(c − m)) */
const lse3 = (a: Expr, b: Expr, cc: Expr, m: Expr) => log(bare('+', bare('+', exp(bare('-', a, m)), exp(bare('-', b, m))), exp(bare('-', cc, m))));

/**
 * The α recursion of sample mtx into rows of the workspace (`row(t)`: the offset of step t's row), each
 * row relative to the previous row's max; with `offsets`, their sum accumulates in c_off (compensated).
 * Step 0, then steps 1…T−1 (work only while t < I; the barrier of every step is reached by all threads).
 */
function alphaSteps(c: Ctx, k: Sample, row: (t: Expr) => Expr, offsets: boolean): void {
  const { scopes } = c;
  const ws = c.workspace!;
  const root = scopes.root;
  if (offsets) root.lines.push(...compensatedDecl('c_off'));
  const s0 = loop(c, root, 's0');
  const e0 = k.ext(s0, v('s0'), 'c_e');
  s0.lines.push(assign(at(ws, bare('+', row(u32(0)), ref('s0'))), call('select', NEG, max(k.lp(ixLit(0), e0), NEG), all(bare('<', ref('s0'), u32(2)), bare('>', cIl, u32(0))))));
  scopes.close(s0, upTo('s0', LID, cNs, WG));
  root.lines.push(barrier('storage'));
  const steps = loop(c, root, 't');
  const [t, s, prv, cur] = [ref('t'), ref('s'), ref('c_prv'), ref('c_cur')];
  steps.lines.push(letS('c_prv', row(bin('-', t, ONE))), letS('c_cur', row(t)));
  for (const x of ['c_prv', 'c_cur']) scopes.define(x, steps);
  const live = inner(c, steps);
  live.lines.push(...rowMax(ws, prv, 'c_mp'));
  if (offsets) live.lines.push(compensatedAdd('c_off', ref('c_mp')));
  const st = loop(c, live, 's');
  const e = k.ext(st, v('s'), 'c_e');
  const e2 = k.ext(st, ixSub(ixNode('max', v('s'), ixLit(2)), ixLit(2)), 'c_e2');
  const lpv = k.lp(v('t'), e);
  const [a1, a2, a3, m, cv] = [ref('c_a1'), ref('c_a2'), ref('c_a3'), ref('c_m'), ref('c_v')];
  st.lines.push(
    letS('c_a1', at(ws, bare('+', prv, s))),
    letS('c_a2', call('select', NEG, at(ws, bare('-', bare('+', prv, max(s, ONE)), ONE)), bare('>=', s, ONE))),
    letS('c_a3', call('select', NEG, at(ws, bare('-', bare('+', prv, max(s, u32(2))), u32(2))), all(bare('>=', s, u32(2)), bare('!=', e2, e)))),
    letS('c_m', max(a1, max(a2, a3))),
    varS('c_v', 'f32', NEG),
    ifS(bare('>', m, NEG_HALF), [assign(cv, max(bare('+', bare('+', bin('-', m, ref('c_mp')), lse3(a1, a2, a3, m)), lpv), NEG))]),
    assign(at(ws, bare('+', cur, s)), cv),
  );
  scopes.close(st, upTo('s', LID, cNs, WG));
  scopes.close(live, (b) => ifS(bare('<', t, cIl), b));
  steps.lines.push(barrier('storage'));
  scopes.close(steps, upTo('t', ONE, k.T, ONE));
}

/** ctc_nll: α over two alternating rows, then thread 0 writes −(offsets + log(α_{I−1}(2L) + α_{I−1}(2L − 1))). */
export function ctcNll(c: Ctx, n: NodeOf<'ctc_nll'>): void {
  const { scopes, emitter, math } = c;
  const ws = c.workspace!;
  const k = sampleOf(c, n.inputs, n.attrs.blank);
  const root = scopes.root;
  root.lines.push(letS('c_w', bare('*', bare('*', mtx, u32(2)), k.LM)));
  scopes.define('c_w', root);
  alphaSteps(c, k, (t) => bare('+', cW, bare('*', bin('&', t, ONE), k.LM)), true);
  const inf = emitter.f32Const(Infinity);
  const fin = inner(c, root);
  const [nll, row, l1, l2, m] = [ref('c_nll'), ref('c_row'), ref('c_l1'), ref('c_l2'), ref('c_m')];
  fin.lines.push(
    varS('c_nll', 'f32', inf),
    ifS(
      bare('==', cIl, u32(0)),
      [assign(nll, call('select', inf, f32(0), bare('==', cTl, u32(0))))],
      [
        letS('c_row', bare('+', cW, bare('*', bin('&', bin('-', cIl, ONE), ONE), k.LM))),
        letS('c_l1', at(ws, bare('-', bare('+', row, cNs), ONE))),
        letS('c_l2', call('select', NEG, at(ws, bare('-', bare('+', row, max(cNs, u32(2))), u32(2))), bare('>', cNs, ONE))),
        letS('c_m', max(l1, l2)),
        ifS(bare('>', m, NEG_HALF), [assign(nll, { k: 'neg', bare: true, a: bin('+', bare('+', compensatedValue('c_off'), m), log(bare('+', exp(bare('-', l1, m)), exp(bare('-', l2, m))))) })]),
      ],
    ),
    assign(at(c.out, ixE(math.offset(n.shape, [v('mtx')]))), nll),
  );
  scopes.close(fin, (b) => ifS(bare('==', LID, u32(0)), b));
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
  root.lines.push(letS('c_w', bare('*', bare('*', mtx, bin('+', k.T, u32(2))), k.LM)), letS('c_ok', all(bare('>', cIl, u32(0)), bare('<', nll, emitter.f32Const(Infinity)))));
  for (const x of ['c_w', 'c_ok']) scopes.define(x, root);
  const alphaRow = (t: Expr) => bare('+', cW, bare('*', t, k.LM));
  alphaSteps(c, k, alphaRow, false);

  const steps = loop(c, root, 'q');
  const [tb, nxt, cur, sb] = [ref('tb'), ref('c_nxt'), ref('c_cur'), ref('sb')];
  steps.lines.push(
    letS('tb', bare('-', bare('-', k.T, ONE), ref('q'))),
    letS('c_nxt', bare('+', cW, bare('*', bin('+', k.T, bin('&', bin('+', tb, ONE), ONE)), k.LM))),
    letS('c_cur', bare('+', cW, bare('*', bin('+', k.T, bin('&', tb, ONE)), k.LM))),
  );
  for (const x of ['tb', 'c_nxt', 'c_cur']) scopes.define(x, steps);
  // β of step tb
  const live = inner(c, steps);
  live.lines.push(...rowMax(ws, nxt, 'c_mn'));
  const st = loop(c, live, 'sb');
  const e = k.ext(st, v('sb'), 'c_e');
  const e2 = k.ext(st, ixNode('min', ixNode('+', v('sb'), ixLit(2)), ixSub(v('c_ns'), ixLit(1))), 'c_e2');
  const lpv = k.lp(v('tb'), e);
  const [b1, b2, b3, m, cv] = [ref('c_b1'), ref('c_b2'), ref('c_b3'), ref('c_m'), ref('c_v')];
  const next = (d: number) => at(ws, bare('+', nxt, call('min', bare('+', sb, u32(d)), bare('-', cNs, ONE))));
  st.lines.push(
    letS('c_b1', at(ws, bare('+', nxt, sb))),
    letS('c_b2', call('select', NEG, next(1), bare('<', bare('+', sb, ONE), cNs))),
    letS('c_b3', call('select', NEG, next(2), all(bare('<', bare('+', sb, u32(2)), cNs), bare('!=', e2, e)))),
    letS('c_m', max(b1, max(b2, b3))),
    varS('c_v', 'f32', NEG),
    ifS(
      bare('==', bare('+', tb, ONE), cIl),
      [ifS(bare('>=', bare('+', sb, u32(2)), cNs), [assign(cv, max(lpv, NEG))])],
      [ifS(bare('>', m, NEG_HALF), [assign(cv, max(bare('+', bare('+', bin('-', m, ref('c_mn')), lse3(b1, b2, b3, m)), lpv), NEG))])],
    ),
    assign(at(ws, bare('+', cur, sb)), cv),
  );
  scopes.close(st, upTo('sb', LID, cNs, WG));
  scopes.close(live, (b) => ifS(bare('<', tb, cIl), b));
  steps.lines.push(barrier('storage'));
  // the gradient of step tb, one class per thread
  const cls = loop(c, steps, 'cc');
  const cc = ref('cc');
  const lpc = k.lp(v('tb'), cc);
  cls.lines.push(varS('c_o', 'f32', f32(0)));
  const on = inner(c, cls);
  on.lines.push(varS('c_zm', 'f32', NEG), varS('c_z', 'f32', f32(0)), varS('c_pm', 'f32', NEG), varS('c_p', 'f32', f32(0)));
  const sp = loop(c, on, 'sp');
  const ep = k.ext(sp, v('sp'), 'c_ep');
  const lps = k.lp(v('tb'), ep);
  const [ab, zm, z, pm, p] = [ref('c_ab'), ref('c_zm'), ref('c_z'), ref('c_pm'), ref('c_p')];
  const alphaAt = at(ws, bare('+', alphaRow(tb), ref('sp')));
  const betaAt = at(ws, bare('+', cur, ref('sp')));
  /** online log-sum-exp: (sum, max) += exp(ab) */
  const online = (sum: Expr, mx: Expr) =>
    ifS(bare('>', ab, mx), [assign(sum, bare('+', bare('*', sum, exp(bare('-', mx, ab))), f32(1))), assign(mx, ab)], [assign(sum, bare('+', sum, exp(bare('-', ab, mx))))]);
  sp.lines.push(
    letS('c_ab', bare('-', bare('+', alphaAt, betaAt), lps)),
    ifS(all(bare('>', alphaAt, NEG_HALF), bare('>', betaAt, NEG_HALF)), [online(z, zm), ifS(bare('==', ep, cc), [online(p, pm)])]),
  );
  scopes.close(sp, upTo('sp', u32(0), cNs, ONE));
  on.lines.push(
    letS('c_post', call('select', f32(0), exp(bare('+', bare('-', pm, zm), log(bare('/', p, z)))), bare('>', p, f32(0)))),
    assign(ref('c_o'), bare('*', bin('-', exp(lpc), ref('c_post')), gv)),
  );
  scopes.close(on, (b) => ifS(all(bare('<', tb, cIl), ref('c_ok')), b));
  cls.lines.push(assign(at(c.out, ixE(math.offset(n.shape, [v('tb'), v('mtx'), v('cc')]))), ref('c_o')));
  scopes.close(cls, upTo('cc', LID, k.C, WG));
  scopes.close(steps, upTo('q', u32(0), k.T, ONE));
}
