// tdc check: load + resolve every config; tsc-style diagnostics; exit 1 when any error.
import type { Diagnostic } from '../diagnostics/index.js';
import { diag, hasErrors } from '../diagnostics/index.js';
import { expandConfigPaths } from './files.js';
import { diagnosticJson, loadUserSpecs, printDiagnostics, type GlobalOptions } from './output.js';
import { tensorName, type CriterionIR } from '../compiler/ir.js';

export interface CheckOptions extends GlobalOptions {
  verbose?: boolean;
}

export function irSummaryJson(ir: CriterionIR | undefined): unknown[] {
  return (ir?.stages ?? []).map((s) => ({
    name: s.name,
    terms: s.terms.map((t) => ({
      name: t.name,
      key: t.criterion.key,
      ...(t.wrapper ? { wrapper: t.wrapper.key } : {}),
      weight: t.weight,
      reads: t.reads.map(tensorName),
    })),
    ...(s.modelTerm ? { model_term: { weight: s.modelTerm.weight, func2extract_model_loss: s.modelTerm.func2extract } } : {}),
  }));
}

export async function checkCommand(paths: string[], opts: CheckOptions): Promise<number> {
  const specDiags = await loadUserSpecs(opts);
  const { files, missing } = expandConfigPaths(paths);
  const { checkFile } = await import('../compiler/driver/check.js');
  const results: { file: string; ir?: CriterionIR; diagnostics: Diagnostic[] }[] = [];
  for (const m of missing) results.push({ file: m, diagnostics: [diag('error', 'TDC901', `no such file or directory: ${m}`)] });
  for (const file of files) {
    const r = checkFile(file);
    results.push({ file, ir: r.ir, diagnostics: r.diagnostics });
  }
  const all = [...specDiags, ...results.flatMap((r) => r.diagnostics)];
  if (opts.json) {
    const out = results.map((r) => ({ file: r.file, stages: irSummaryJson(r.ir), diagnostics: r.diagnostics.map(diagnosticJson) }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    if (specDiags.length) await printDiagnostics(specDiags, opts);
  } else {
    const shown = all.filter((d) => opts.verbose || d.severity !== 'note');
    await printDiagnostics(shown, opts, process.stdout);
    const errs = all.filter((d) => d.severity === 'error').length;
    const warns = all.filter((d) => d.severity === 'warning').length;
    const notes = all.filter((d) => d.severity === 'note').length;
    const bad = results.filter((r) => hasErrors(r.diagnostics)).length;
    const tail = notes && !opts.verbose ? ` (${notes} note${notes === 1 ? '' : 's'} hidden; --verbose shows them)` : '';
    process.stdout.write(
      `Checked ${files.length} file${files.length === 1 ? '' : 's'}: ${errs} error${errs === 1 ? '' : 's'}${bad ? ` in ${bad} file${bad === 1 ? '' : 's'}` : ''}, ${warns} warning${warns === 1 ? '' : 's'}${tail}.\n`,
    );
  }
  return hasErrors(all) || files.length + missing.length === 0 ? 1 : 0;
}
