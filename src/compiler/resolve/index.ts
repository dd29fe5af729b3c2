// The resolve stage: a loaded config tree → the criterion IR (per training stage) + diagnostics. Pure; never throws.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import type { LoadedConfig } from '../load/config-node.js';
import type { CriterionIR, StageIR } from '../ir.js';
import { R } from './codes.js';
import { findStages, resolveStage } from './stages.js';

export { R as ResolveCodes } from './codes.js';
export { wrapperBindings, type WrapperBindings } from './bindings.js';
export { checkFile } from './check-file.js';

export function resolveConfig(loaded: LoadedConfig): { ir: CriterionIR; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const ir: CriterionIR = { file: loaded.file, stages: [] };
  try {
    let legacyAt: Span | undefined;
    for (const entry of findStages(loaded.root, loaded.file, diagnostics)) {
      const stage: StageIR | undefined = resolveStage(entry, diagnostics, { onLegacy: (s) => (legacyAt ??= s) });
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
