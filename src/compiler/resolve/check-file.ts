// Load + resolve one config file (the `tdc check` unit).
import type { Diagnostic } from '../../diagnostics/index.js';
import { diag } from '../../diagnostics/index.js';
import type { CriterionIR } from '../ir.js';
import { loadConfigFile } from '../load/load.js';
import { R } from './codes.js';
import { resolveConfig } from './index.js';

export function checkFile(path: string): { ir?: CriterionIR; diagnostics: Diagnostic[]; text: string } {
  try {
    const loaded = loadConfigFile(path) as unknown as { config?: import('../load/config-node.js').LoadedConfig; diagnostics: Diagnostic[]; text?: string };
    const text = loaded.config?.text ?? loaded.text ?? '';
    if (!loaded.config || loaded.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: loaded.diagnostics, text };
    const r = resolveConfig(loaded.config);
    return { ir: r.ir, diagnostics: [...loaded.diagnostics, ...r.diagnostics], text };
  } catch (e) {
    return { diagnostics: [diag('error', R.INTERNAL, `internal error while checking ${path}: ${(e as Error).message}`)], text: '' };
  }
}
