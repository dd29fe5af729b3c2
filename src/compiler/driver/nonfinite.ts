// A run's non-finite parts (NaN, ±Inf: the list itself is tdc-runtime's nonFiniteParts, shared with the executor and
// the generated glue) and how the CLI reports them: a TDC504 warning naming each part.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import { nonFiniteParts as partsOf, type NonFinite } from 'tdc-runtime';
import type { RunResult } from './run-result.js';

const NONFINITE_RESULT = 'TDC504';

/** The non-finite parts of a result, in order: loss, terms, model term, gradients, state. [] when all are finite. */
export function nonFiniteParts(r: Omit<RunResult, 'nonfinite'>): NonFinite[] {
  const terms: Record<string, number> = Object.create(null) as Record<string, number>; // user names: '__proto__' is a key
  for (const [name, t] of Object.entries(r.terms)) terms[name] = t.value;
  const data = (m: RunResult['grads'] | undefined) => (m ? new Map([...m].map(([k, v]) => [k, v.data])) : undefined);
  const state = data(r.state);
  return partsOf({ loss: r.loss, terms, ...(r.modelTerm ? { modelTerm: r.modelTerm.value } : {}), grads: data(r.grads)!, ...(state ? { state } : {}) });
}

/** How a part reads in a message: "the loss (NaN)", "term 'kd' (Infinity)", "gradient 'x' (3 NaN of 259)". */
function nonFiniteText(p: NonFinite): string {
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
