// termReads: every tensor a config term reads (io_dict entries, targets, model losses), in first-read order,
// found by running its specs in reads-only mode: conditions on kwargs fold, loops unroll, and conditions on
// shapes take both branches. No graph is built.
import { DiagnosticError, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { LossInstance, TensorRef, WrapperInstance } from '../ir.js';
import { newContext } from './context.js';
import { termLoss } from './losses.js';
import { internalError } from './stage.js';

export function termReads(term: { criterion: LossInstance; wrapper?: WrapperInstance; name?: string; span?: LossInstance['span'] }): {
  reads: TensorRef[];
  diagnostics: Diagnostic[];
} {
  const ctx = newContext('reads', {});
  ctx.configSpan = term.span ?? term.criterion.span;
  if (term.name !== undefined) ctx.termName = term.name;
  const diagnostics: Diagnostic[] = [];
  try {
    termLoss(ctx, term).call([], term.criterion.span);
  } catch (e) {
    if (e instanceof DiagnosticError) diagnostics.push(e.diagnostic);
    else diagnostics.push(internalError(e, term.criterion.span));
  }
  return { reads: ctx.reads, diagnostics: [...ctx.diagnostics, ...diagnostics] };
}
