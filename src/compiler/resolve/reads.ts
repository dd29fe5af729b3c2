// The tensors a term reads, from its loss spec's body (evaluated by the instantiate stage's termReads).
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import { termReads } from '../instantiate/index.js';
import type { TensorRef, TermIR } from '../ir.js';
import { R } from './codes.js';

export function computeReads(term: TermIR, diags: Diagnostic[]): TensorRef[] {
  try {
    const r = termReads(term);
    diags.push(...r.diagnostics);
    return r.reads;
  } catch (e) {
    diags.push(diag('error', R.INTERNAL, `internal error while listing the tensors sub-term '${term.name}' reads: ${(e as Error).message}`, term.span));
    return [];
  }
}
