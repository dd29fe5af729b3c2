// The tensors a term reads, from its loss spec's body. Listing them means running the spec (the instantiate
// stage's reads-only evaluation), which comes later in the pipeline: the caller passes it in as a TermReader,
// so resolve never imports instantiate (src/compiler/driver wires the two).
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import type { TensorRef, TermIR } from '../ir.js';
import { R } from './codes.js';

/** Lists what a term reads (instantiate's termReads). */
export type TermReader = (term: TermIR) => { reads: TensorRef[]; diagnostics: Diagnostic[] };

export function computeReads(term: TermIR, diags: Diagnostic[], termReads: TermReader): TensorRef[] {
  try {
    const r = termReads(term);
    diags.push(...r.diagnostics);
    return r.reads;
  } catch (e) {
    diags.push(diag('error', R.INTERNAL, `internal error while listing the tensors sub-term '${term.name}' reads: ${(e as Error).message}`, term.span));
    return [];
  }
}
