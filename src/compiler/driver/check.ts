// Load + resolve (the `tdc check` unit): the front of every driver path. Resolve needs to know what each term
// reads, which means running its spec in reads-only mode (instantiate's termReads); this is where the two meet,
// so resolve never imports instantiate. Never throws.
import { diag, uniqueDiagnostics, type Diagnostic } from '../../diagnostics/index.js';
import { termReads } from '../instantiate/index.js';
import type { CriterionIR } from '../ir.js';
import type { LoadedConfig } from '../load/config-node.js';
import { loadConfigFile } from '../load/load.js';
import { resolveConfig, ResolveCodes } from '../resolve/index.js';

/** Resolves a loaded config tree into the criterion IR, listing each term's reads through its spec. */
export function checkConfig(loaded: LoadedConfig): { ir: CriterionIR; diagnostics: Diagnostic[] } {
  return resolveConfig(loaded, { termReads });
}

/** Loads and resolves one config file. */
export function checkFile(path: string): { ir?: CriterionIR; diagnostics: Diagnostic[]; text: string } {
  try {
    const loaded = loadConfigFile(path);
    const text = loaded.config.text;
    // one problem reached twice (an error inside an anchor that is aliased twice) is reported once
    if (loaded.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: uniqueDiagnostics(loaded.diagnostics), text };
    const r = checkConfig(loaded.config);
    return { ir: r.ir, diagnostics: uniqueDiagnostics([...loaded.diagnostics, ...r.diagnostics]), text };
  } catch (e) {
    return { diagnostics: [diag('error', ResolveCodes.INTERNAL, `internal error while checking ${path}: ${(e as Error).message}`)], text: '' };
  }
}
