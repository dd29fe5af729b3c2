// The one place the registry calls the spec parser; never throws.
import type { SpecFile } from '../../grammar/ast.js';
import { parseSpec } from '../../grammar/parser.js';
import { diag, type Diagnostic } from '../diagnostics/index.js';

export function parseSpecText(text: string, file: string): { spec: SpecFile; diagnostics: Diagnostic[] } {
  try {
    const r = parseSpec(text, file) as unknown as { spec?: SpecFile; diagnostics?: Diagnostic[] } & Partial<SpecFile>;
    const spec: SpecFile = r.spec ?? (Array.isArray(r.decls) ? { file, decls: r.decls } : { file, decls: [] });
    return { spec, diagnostics: r.diagnostics ?? [] };
  } catch (e) {
    return { spec: { file, decls: [] }, diagnostics: [diag('error', 'TDC999', `internal error while parsing ${file}: ${(e as Error).message}`)] };
  }
}
