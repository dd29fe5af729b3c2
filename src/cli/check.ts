// tdc check: load + resolve every config; tsc-style diagnostics; exit 1 when any error.
import type { Diagnostic } from '../diagnostics/index.js';
import { diag, hasErrors, isInternalError } from '../diagnostics/index.js';
import { exitCodeFor } from './exit-code.js';
import { expandConfigPaths } from './files.js';
import { diagnosticJson, loadUserSpecs, printDiagnostics, withoutSpecFollowOns, type GlobalOptions } from './output.js';
import { tensorName, type CriterionIR } from '../compiler/ir.js';

export interface CheckOptions extends GlobalOptions {
  verbose?: boolean;
}

function irSummaryJson(ir: CriterionIR | undefined): unknown[] {
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
  const { files, missing, problems } = expandConfigPaths(paths);
  const { checkFile } = await import('../compiler/driver/check.js');
  const results: { file: string; ir?: CriterionIR; diagnostics: Diagnostic[] }[] = [];
  for (const m of missing) results.push({ file: m, diagnostics: [diag('error', 'TDC901', `no such file or directory: ${m}`)] });
  for (const p of problems) results.push({ file: p.path, diagnostics: [p.diagnostic] });
  if (files.length + missing.length + problems.length === 0)
    results.push({ file: paths.join(' '), diagnostics: [diag('error', 'TDC908', `no config files (*.yaml, *.yml) in ${paths.map((p) => `'${p}'`).join(', ')}`)] });
  for (const file of files) {
    const r = checkFile(file);
    results.push({ file, ir: r.ir, diagnostics: withoutSpecFollowOns(specDiags, r.diagnostics) });
  }
  const all = [...specDiags, ...results.flatMap((r) => r.diagnostics)];
  if (opts.json) {
    const out = results.map((r) => ({ file: r.file, stages: irSummaryJson(r.ir), diagnostics: r.diagnostics.map(diagnosticJson) }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    await printDiagnostics([...specDiags, ...all.filter(isInternalError)], opts); // the rest is in the JSON
  } else {
    const shown = all.filter((d) => opts.verbose || d.severity !== 'note');
    await printDiagnostics(shown, opts); // diagnostics on stderr, the summary line on stdout
    const errs = all.filter((d) => d.severity === 'error').length;
    const warns = all.filter((d) => d.severity === 'warning').length;
    const notes = all.filter((d) => d.severity === 'note').length;
    // files read with errors, and paths that could not be read at all (missing, a link loop, no YAML): not "files checked"
    const read = new Set(files);
    const bad = results.filter((r) => read.has(r.file) && hasErrors(r.diagnostics)).length;
    const unread = results.filter((r) => !read.has(r.file) && hasErrors(r.diagnostics)).length;
    const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
    const where = [...(bad ? [plural(bad, 'file')] : []), ...(unread ? [`${plural(unread, 'path')} not read`] : [])].join(' and ');
    const tail = notes && !opts.verbose ? ` (${notes} note${notes === 1 ? '' : 's'} hidden; --verbose shows them)` : '';
    process.stdout.write(`Checked ${plural(files.length, 'file')}: ${plural(errs, 'error')}${where ? ` in ${where}` : ''}, ${plural(warns, 'warning')}${tail}.\n`);
  }
  return exitCodeFor(all);
}
