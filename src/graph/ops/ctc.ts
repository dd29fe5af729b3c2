// Connectionist temporal classification as two primitives, following torch 1.13's CPU implementation
// (aten/src/ATen/native/LossCTC.cpp: ctc_loss_cpu_template and ctc_loss_backward_cpu_template).
//
// ctc_nll(log_probs [T, N, C], targets [N, S] int, input_lengths [N] int, target_lengths [N] int; blank) → [N]:
// sample b's negative log-likelihood of its target l (length L = target_lengths[b] ≤ S) in the first
// I = input_lengths[b] ≤ T steps. The target is extended to l' = (blank, l1, blank, l2, …, lL, blank) of 2L + 1
// states; α_t(s) is the log of the total probability of the path prefixes that end in state s at step t.
// α_0 holds log_probs[0, b, blank] in state 0 and log_probs[0, b, l1] in state 1 (when L > 0), every other
// state is log 0 = −inf. For 0 < t < I, α_t(s) is the log-sum-exp of α_{t−1} at s (stay), s − 1 (advance) and
// s − 2 (skip a blank — only into a label state whose label differs from the one two states back, so a doubled
// label keeps its separating blank) plus log_probs[t, b, l'_s]; the log-sum-exp is shifted by the largest term,
// and by 0 when every term is −inf (torch's convention, so −inf stays −inf without NaN). The likelihood sums
// the two final states: nll = −logsumexp(α_{I−1}(2L), α_{I−1}(2L − 1)) (only α_{I−1}(0) when L = 0); +inf
// when no alignment fits (too few steps, −inf log-probabilities on every path). Labels past a sample's
// target length are never read, so padded and (padded-by-the-spec) concatenated targets behave alike.
// I = 0: the empty alignment — 0 when L = 0, else +inf (torch reads α_{−1}, out of its table: no defined value).
// Lengths outside [0, T] / [0, S] and labels outside [0, C) are errors, as torch raises for the lengths.
//
// ctc_nll_grad — the VJP, torch's backward: the β recursion runs the same transitions backwards from
// β_{I−1}(2L) = log_probs[I−1, b, blank] and β_{I−1}(2L − 1) = log_probs[I−1, b, l_L] (β includes the emission
// at its own step, like α); for every step t < I and class c, lcab(t, c) is the log-sum-exp of
// α_t(s) + β_t(s) over the states s with l'_s = c, and the gradient is
//     g_b · (exp(log_probs[t, b, c]) − exp(lcab(t, c) + nll_b − log_probs[t, b, c])),
// 0 at steps t ≥ I. That is torch's formula — the derivative of the NLL through an implied log-softmax over
// the classes, not the plain derivative −posterior of the NLL with respect to log_probs (the two agree after a
// real log_softmax, whose VJP cancels the exp(log_probs) term because the posteriors of a step sum to 1).
// An infinite nll has gradient 0 (torch: 0 with zero_infinity, NaN without), and so does a class that no
// surviving path visits at a step where its log-probability is −inf (torch computes −inf − (−inf) there).
import { assumeDimEq, shapeToString } from '../dims.js';
import { hostTensor, type HostTensor } from '../host-tensor.js';
import { ShapeRuleError, type OpDef, type TypedShape } from './op-def.js';

function checkOperands(op: string, [lp, tg, il, tl]: TypedShape[], blank: number): void {
  const msg = (why: string) => `${op}: ${why} (log_probs ${shapeToString(lp!.shape)}, targets ${shapeToString(tg!.shape)}, input_lengths ${shapeToString(il!.shape)}, target_lengths ${shapeToString(tl!.shape)})`;
  if (lp!.shape.length !== 3 || lp!.dtype !== 'float') throw new ShapeRuleError(msg('log_probs must be a float [T, N, C]'));
  if (tg!.shape.length !== 2 || tg!.dtype !== 'int') throw new ShapeRuleError(msg('targets must be an int [N, S]'));
  if (il!.shape.length !== 1 || il!.dtype !== 'int' || tl!.shape.length !== 1 || tl!.dtype !== 'int') throw new ShapeRuleError(msg('input_lengths and target_lengths must be int [N]'));
  const n = lp!.shape[1]!;
  if ([tg!.shape[0]!, il!.shape[0]!, tl!.shape[0]!].some((d) => !assumeDimEq(d, n))) throw new ShapeRuleError(msg('the batch sizes differ'));
  const c = lp!.shape[2]!;
  if (!Number.isInteger(blank) || blank < 0 || (typeof c === 'number' && blank >= c)) throw new ShapeRuleError(msg(`blank ${blank} must be in label range [0, ${typeof c === 'number' ? c : 'C'})`));
}

/** One sample's operands, read and checked. */
interface Sample {
  /** log_probs[t, b, c] */
  lp(t: number, c: number): number;
  /** Extended label of state s (blank at even s). */
  ext(s: number): number;
  /** Input length I. */
  il: number;
  /** Number of states 2L + 1. */
  ns: number;
}

function sample(ins: HostTensor[], blank: number, b: number): Sample {
  const [lp, tg, il, tl] = ins as [HostTensor, HostTensor, HostTensor, HostTensor];
  const [T, N, C] = lp.shape as [number, number, number];
  const S = tg.shape[1]!;
  const I = il.data[b]!;
  const L = tl.data[b]!;
  if (!(I >= 0 && I <= T)) throw new Error(`CTC: input_lengths[${b}] = ${I}; expected a value in [0, ${T}] (torch: "Expected input_lengths to have value at most ${T}")`);
  if (!(L >= 0 && L <= S)) throw new Error(`CTC: target_lengths[${b}] = ${L}; expected a value in [0, ${S}] (torch: "Expected tensor to have size at least ${L} at dimension 1" of the targets)`);
  const labels = Array.from({ length: L }, (_, k) => tg.data[b * S + k]!);
  const bad = labels.findIndex((c) => !(c >= 0 && c < C));
  if (bad >= 0) throw new Error(`CTC: target ${labels[bad]} (sample ${b}, position ${bad}) is out of bounds for ${C} classes`);
  const d = lp.data;
  return { lp: (t, c) => d[(t * N + b) * C + c]!, ext: (s) => (s % 2 === 1 ? labels[(s - 1) / 2]! : blank), il: I, ns: 2 * L + 1 };
}

/** log(exp(x) + exp(y) + exp(z)), shifted by the largest term (by 0 when all are −inf). */
function lse3(x: number, y: number, z: number): number {
  let m = Math.max(x, y, z);
  if (m === -Infinity) m = 0;
  return Math.log(Math.exp(x - m) + Math.exp(y - m) + Math.exp(z - m)) + m;
}

/** α as a row-major [I, 2L + 1] table. */
function alphas(p: Sample): Float64Array {
  const { ns, il } = p;
  const a = new Float64Array(il * ns).fill(-Infinity);
  if (il === 0) return a;
  a[0] = p.lp(0, p.ext(0));
  if (ns > 1) a[1] = p.lp(0, p.ext(1));
  for (let t = 1; t < il; t++)
    for (let s = 0; s < ns; s++) {
      const prev = (t - 1) * ns;
      const a2 = s > 0 ? a[prev + s - 1]! : -Infinity;
      const a3 = s > 1 && p.ext(s - 2) !== p.ext(s) ? a[prev + s - 2]! : -Infinity;
      a[t * ns + s] = lse3(a[prev + s]!, a2, a3) + p.lp(t, p.ext(s));
    }
  return a;
}

function nllOf(p: Sample, a: Float64Array): number {
  const { ns, il } = p;
  if (il === 0) return ns === 1 ? 0 : Infinity;
  const last = (il - 1) * ns;
  const ll = ns === 1 ? a[last]! : lse3(a[last + ns - 1]!, a[last + ns - 2]!, -Infinity);
  return -ll;
}

export const ctc_nll: OpDef<'ctc_nll'> = {
  kind: 'serial',
  arity: 4,
  infer(ins, attrs) {
    checkOperands('ctc_nll', ins, attrs.blank);
    return { shape: [ins[0]!.shape[1]!], dtype: 'float', attrs: { blank: attrs.blank } };
  },
  diffInputs: (_node, dts) => [dts[0] === 'float', false, false, false],
  vjp(b, node, g) {
    return [b.op('ctc_nll_grad', [...node.inputs, node.id, g], { blank: node.attrs.blank }), null, null, null];
  },
  cpu(ins, attrs, ctx) {
    const N = ctx.outShape[0]!;
    const out = new Float64Array(N);
    for (let b = 0; b < N; b++) {
      const p = sample(ins, attrs.blank, b);
      out[b] = nllOf(p, alphas(p));
    }
    return hostTensor(ctx.outShape, 'float', out);
  },
};

export const ctc_nll_grad: OpDef<'ctc_nll_grad'> = {
  kind: 'serial',
  arity: 6,
  infer(ins, attrs) {
    checkOperands('ctc_nll_grad', ins, attrs.blank);
    const n = ins[0]!.shape[1]!;
    for (const x of [ins[4]!, ins[5]!])
      if (x.shape.length !== 1 || x.dtype !== 'float' || !assumeDimEq(x.shape[0]!, n))
        throw new ShapeRuleError(`ctc_nll_grad: nll and its gradient must be float [N] (got ${shapeToString(ins[4]!.shape)} and ${shapeToString(ins[5]!.shape)})`);
    return { shape: [...ins[0]!.shape], dtype: 'float', attrs: { blank: attrs.blank } };
  },
  diffInputs: () => [false, false, false, false, false, false],
  vjp() {
    throw new Error('ctc_nll_grad: second-order gradients of CTC are not supported');
  },
  cpu(ins, attrs, ctx) {
    const [T, N, C] = ctx.outShape as [number, number, number];
    const nll = ins[4]!.data;
    const gout = ins[5]!.data;
    const out = new Float64Array(T * N * C);
    for (let b = 0; b < N; b++) {
      const p = sample(ins, attrs.blank, b);
      const { ns, il } = p;
      if (!(nll[b]! < Infinity) || il === 0) continue; // zeros (see the header)
      const a = alphas(p);
      const beta = new Float64Array(il * ns).fill(-Infinity);
      const lcab = new Float64Array(il * C).fill(-Infinity);
      const acc = (t: number, s: number) => {
        const v = a[t * ns + s]! + beta[t * ns + s]!;
        const k = t * C + p.ext(s);
        const cur = lcab[k]!;
        if (cur === -Infinity) lcab[k] = v;
        else {
          const m = Math.max(cur, v);
          lcab[k] = Math.log(Math.exp(cur - m) + Math.exp(v - m)) + m;
        }
      };
      const last = il - 1;
      beta[last * ns + ns - 1] = p.lp(last, p.ext(ns - 1));
      if (ns > 1) beta[last * ns + ns - 2] = p.lp(last, p.ext(ns - 2));
      for (let s = ns - 1; s >= 0; s--) acc(last, s);
      for (let t = il - 2; t >= 0; t--)
        for (let s = ns - 1; s >= 0; s--) {
          const next = (t + 1) * ns;
          const b2 = s < ns - 1 ? beta[next + s + 1]! : -Infinity;
          const b3 = s < ns - 2 && p.ext(s + 2) !== p.ext(s) ? beta[next + s + 2]! : -Infinity;
          beta[t * ns + s] = lse3(beta[next + s]!, b2, b3) + p.lp(t, p.ext(s));
          acc(t, s);
        }
      for (let t = 0; t < il; t++)
        for (let c = 0; c < C; c++) {
          const lp = p.lp(t, c);
          const ab = lcab[t * C + c]!;
          const posterior = ab === -Infinity ? 0 : Math.exp(ab + nll[b]! - lp);
          out[(t * N + b) * C + c] = (Math.exp(lp) - posterior) * gout[b]!;
        }
    }
    return hostTensor(ctx.outShape, 'float', out);
  },
};
