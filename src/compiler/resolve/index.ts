// The resolve stage: a loaded config tree → the criterion IR (per training stage) + diagnostics. Pure; never throws.
// Listing what each term reads runs its spec, a later stage: the caller passes that in (ResolveDeps.termReads);
// src/compiler/driver/check.ts wires it to instantiate's termReads.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import type { LoadedConfig } from '../load/config-node.js';
import type { CriterionIR, StageIR } from '../ir.js';
import { R } from './codes.js';
import { findStages, resolveStage } from './stages.js';
import type { TermReader } from './reads.js';

export { R as ResolveCodes } from './codes.js';
export { wrapperBindings, type WrapperBindings } from './bindings.js';
export type { TermReader } from './reads.js';

export interface ResolveDeps {
  /** Lists the tensors a term reads (instantiate's termReads). */
  termReads: TermReader;
}

export function resolveConfig(loaded: LoadedConfig, deps: ResolveDeps): { ir: CriterionIR; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const ir: CriterionIR = { file: loaded.file, stages: [] };
  try {
    let legacyAt: Span | undefined;
    for (const entry of findStages(loaded.root, loaded.file, diagnostics)) {
      const stage: StageIR | undefined = resolveStage(entry, diagnostics, { termReads: deps.termReads, onLegacy: (s) => (legacyAt ??= s) });
      if (stage) ir.stages.push(stage);
    }
    if (legacyAt) {
      diagnostics.unshift(
        diag(
          'note',
          R.LEGACY,
          "legacy (pre-v1.0) criterion schema, which torchdistill ≥ v1.0 cannot load: mapped onto WeightedSumLoss (type→key, params→kwargs, factor→weight, a sub-term's params→SimpleLossWrapper, org_term→a sub-term on the root output '.' or model_term)",
          legacyAt,
        ),
      );
    }
  } catch (e) {
    diagnostics.push(diag('error', R.INTERNAL, `internal error in resolve: ${(e as Error).message}`));
  }
  return { ir, diagnostics };
}
