// Which parts of a run's result are not finite (NaN, +Inf, -Inf). tdc follows torch: NaN and Inf propagate and
// are never hidden, but they are named — JSON cannot hold them (`"loss": null`), and a user reading "loss = NaN"
// wants to know whether a term or only a gradient went bad.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import type { NonFinite, RunResult } from './run-result.js';

export const NONFINITE_RESULT = 'TDC504';

function count(values: ArrayLike<number>): { nan: number; posInf: number; negInf: number } {
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
  }
  return { nan, posInf, negInf };
}

/** The non-finite parts of a result, in order: loss, terms, model term, gradients, state. [] when all are finite. */
export function nonFiniteParts(r: Omit<RunResult, 'nonfinite'>): NonFinite[] {
  const out: NonFinite[] = [];
  const add = (kind: NonFinite['kind'], name: string | undefined, values: ArrayLike<number>, scalar: boolean): void => {
    const c = count(values);
    if (c.nan + c.posInf + c.negInf === 0) return;
    out.push({ kind, ...(name !== undefined ? { name } : {}), ...c, size: values.length, ...(scalar ? { value: String(values[0]) } : {}) });
  };
  add('loss', undefined, [r.loss], true);
  for (const [name, t] of Object.entries(r.terms)) add('term', name, [t.value], true);
  if (r.modelTerm) add('model_term', undefined, [r.modelTerm.value], true);
  for (const [name, g] of r.grads) add('grad', name, g.data, false);
  for (const [name, s] of r.state ?? []) add('state', name, s.data, false);
  return out;
}

/** How a part reads in a message: "the loss (NaN)", "term 'kd' (Infinity)", "gradient 'x' (3 NaN of 259)". */
export function nonFiniteText(p: NonFinite): string {
  const what = p.kind === 'loss' ? 'the loss' : p.kind === 'model_term' ? 'the model term' : `${p.kind === 'grad' ? 'gradient' : p.kind} '${p.name}'`;
  if (p.value !== undefined) return `${what} (${p.value})`;
  const parts = [p.nan ? `${p.nan} NaN` : '', p.posInf ? `${p.posInf} +Inf` : '', p.negInf ? `${p.negInf} -Inf` : ''].filter(Boolean);
  return `${what} (${parts.join(', ')} of ${p.size})`;
}

/** The warning a run with non-finite parts carries (undefined when everything is finite). */
export function nonFiniteWarning(parts: readonly NonFinite[], span?: Span): Diagnostic | undefined {
  if (!parts.length) return undefined;
  return diag('warning', NONFINITE_RESULT, `non-finite result: ${parts.map(nonFiniteText).join(', ')}`, span, {
    hint: 'NaN and Inf propagate as in torch: look for NaN/Inf inputs, a zero or infinite temperature, log(0) or a division by zero',
  });
}
