// Load + resolve one config file (the `tdc check` unit). Never throws.
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import type { CriterionIR } from '../ir.js';
import { loadConfigFile } from '../load/load.js';
import { R } from './codes.js';
import { resolveConfig } from './index.js';

export function checkFile(path: string): { ir?: CriterionIR; diagnostics: Diagnostic[]; text: string } {
  try {
    const loaded = loadConfigFile(path);
    const text = loaded.config.text;
    if (loaded.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: loaded.diagnostics, text };
    const r = resolveConfig(loaded.config);
    return { ir: r.ir, diagnostics: [...loaded.diagnostics, ...r.diagnostics], text };
  } catch (e) {
    return { diagnostics: [diag('error', R.INTERNAL, `internal error while checking ${path}: ${(e as Error).message}`)], text: '' };
  }
}
