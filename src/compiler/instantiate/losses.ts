// Loss values: a configured loss (registry entry + kwargs) as a callable interpreter value. A low-level loss is
// called with tensors (input, target); a mid-level loss with nothing (it reads student/teacher/targets itself);
// a wrapper runs its body with the wrapped low-level loss as its call parameter.
import type { Span } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import { getLossWrapper, getLowLevelLoss, getMidLevelLoss, registryKeys, scopeOf, type RegisteredLoss } from '../../registry/registry.js';
import type { KwValue, LossInstance, WrapperInstance } from '../ir.js';
import { C } from './codes.js';
import { fail, type EvalContext } from './context.js';
import { Interpreter } from './interpreter.js';
import { fromKw, type Value } from './values.js';

export type LossValue = Extract<Value, { t: 'loss' }>;

export function kwargMap(kwargs: Record<string, KwValue>): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const [k, v] of Object.entries(kwargs)) m.set(k, fromKw(v));
  return m;
}

/** A registered loss with fixed kwargs, as a callable value. */
export function lossValue(ctx: EvalContext, reg: RegisteredLoss, kwargs: Map<string, Value>, name = reg.key): LossValue {
  return {
    t: 'loss',
    name,
    arity: reg.decl.callParams.length,
    call: (args: Value[], span?: Span) => new Interpreter(ctx, scopeOf(reg)).runLoss(reg.decl, kwargs, args, span),
  };
}

/** `low_loss(key, kwargs, ...)`: torch's built-in (or a custom) low-level loss. */
export function makeLowLoss(ctx: EvalContext, key: string, kwargs: Map<string, Value>, span: Span): LossValue {
  const reg = getLowLevelLoss(key);
  if (!reg) {
    const hint = didYouMean(key, registryKeys('low'));
    fail(ctx, C.loss, `unknown low-level loss '${key}'`, span, hint ? { hint } : undefined);
  }
  return lossValue(ctx, reg, kwargs);
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
