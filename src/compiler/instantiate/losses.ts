// Loss values: a configured loss (registry entry + kwargs) as a callable interpreter value. A low-level loss is
// called with tensors (input, target); a mid-level loss with nothing (it reads student/teacher/targets itself);
// a wrapper runs its body with the wrapped low-level loss as its call parameter. (lossValue and `low_loss` live in
// the interpreter, which both builds and calls loss values.)
import type { Span } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import { getLossWrapper, getLowLevelLoss, getMidLevelLoss, registryKeys, scopeOf } from '../../registry/registry.js';
import type { KwValue, LossInstance, WrapperInstance } from '../ir.js';
import { C } from './codes.js';
import { fail, type EvalContext } from './context.js';
import { Interpreter, lossValue, type LossValue } from './interpreter.js';
import { fromKw, type Value } from './values.js';

export type { LossValue } from './interpreter.js';

function kwargMap(kwargs: Record<string, KwValue>): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const [k, v] of Object.entries(kwargs)) m.set(k, fromKw(v));
  return m;
}

/** A config term's criterion (with its wrapper, if any) as a loss value called with no arguments. */
export function termLoss(ctx: EvalContext, term: { criterion: LossInstance; wrapper?: WrapperInstance }): LossValue {
  const crit = term.criterion;
  const reg = crit.level === 'low' ? getLowLevelLoss(crit.key) : getMidLevelLoss(crit.key);
  if (!reg) {
    const hint = didYouMean(crit.key, [...registryKeys('mid'), ...registryKeys('low')]);
    fail(ctx, C.loss, `unknown loss '${crit.key}'`, crit.span, hint ? { hint } : undefined);
  }
  const base = lossValue(ctx, reg, kwargMap(crit.kwargs));
  if (!term.wrapper) {
    if (reg.decl.callParams.length > 0)
      fail(
        ctx,
        C.loss,
        `${reg.level}-level loss '${crit.key}' takes tensors (${reg.decl.callParams.map((c) => c.name).join(', ')}); WeightedSumLoss calls a sub-term with (student_io, teacher_io, targets), so it needs a criterion_wrapper`,
        crit.span,
        { hint: 'add criterion_wrapper: {key: SimpleLossWrapper, kwargs: {input: {...}, target: {...}}}' },
      );
    return { ...base, call: (args, span) => base.call(args, span) };
  }
  const w = term.wrapper;
  const wreg = getLossWrapper(w.key);
  if (!wreg) {
    const hint = didYouMean(w.key, registryKeys('wrapper'));
    fail(ctx, C.loss, `unknown loss wrapper '${w.key}'`, w.span, hint ? { hint } : undefined);
  }
  const wkw = kwargMap(w.kwargs);
  return {
    t: 'loss',
    name: `${w.key}(${crit.key})`,
    arity: 0,
    call: (args: Value[], span?: Span) => new Interpreter(ctx, scopeOf(wreg)).runLoss(wreg.decl, wkw, [base, ...args], span),
  };
}
