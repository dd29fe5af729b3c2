// tdc migrate: legacy-schema (pre-v1.0) configs rewritten to the modern schema (compiler/migrate), printed as a
// unified diff, or written in place with --write. Files already modern are left alone (re-running is a no-op).
// Each file is read as `check` reads it (the config loader: missing, unreadable, binary, over 1 MiB, YAML syntax
// errors are its TDC1xx diagnostics, positioned), and the path arguments are expanded as `check` expands them
// (TDC901 no such file, TDC906/907 links, TDC908 no YAML in a directory).
import { readFileSync } from 'node:fs';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { writeFileAtomic } from './write-file.js';
import { migrateLegacyText } from '../compiler/migrate/legacy-to-modern.js';
import { loadConfigFile } from '../compiler/load/load.js';
import { expandConfigPaths } from './files.js';
import { unifiedDiff } from './line-diff.js';
import { ExitCode } from './exit-code.js';
import { printDiagnostics, type GlobalOptions } from './output.js';

const DUPLICATE_KEY = 'TDC111';

export interface MigrateOptions extends GlobalOptions {
  write?: boolean;
}

export async function migrateCommand(paths: string[], opts: MigrateOptions): Promise<number> {
  const { files, missing, problems } = expandConfigPaths(paths);
  const ds: Diagnostic[] = [...problems.map((p) => p.diagnostic), ...missing.map((m) => diag('error', 'TDC901', `no such file or directory: ${m}`))];
  if (files.length + missing.length + problems.length === 0)
    ds.push(diag('error', 'TDC908', `no config files (*.yaml, *.yml) in ${paths.map((p) => `'${p}'`).join(', ')}`));
  await printDiagnostics(ds, opts);
  let failed = hasErrors(ds);
  let changed = 0;
  for (const file of files) {
    const loaded = loadConfigFile(file);
    // a duplicate key (a warning for check: PyYAML keeps the last value) stops the rewrite, which would have to pick one
    const errors = loaded.diagnostics
      .filter((d) => d.severity === 'error' || d.code === DUPLICATE_KEY)
      .map((d): Diagnostic => (d.code === DUPLICATE_KEY ? { ...d, severity: 'error', message: `not migrated: ${d.message}`, hint: 'remove the duplicate, then migrate' } : d));
    if (errors.length) {
      await printDiagnostics(errors, opts);
      failed = true;
      continue;
    }
    const text = readFileSync(file, 'utf8'); // as it is, byte-order mark included (the loader drops it)
    const r = migrateLegacyText(text);
    if (r.errors.length) {
      // the loader accepted the file, so this is the migrator's own reading of it
      await printDiagnostics([diag('error', 'TDC103', `${file}: not migrated: ${r.errors[0]}`)], opts);
      failed = true;
      continue;
    }
    if (!r.changed) continue;
    changed++;
    for (const n of r.notes) process.stderr.write(`${file}: note: ${n}\n`);
    if (opts.write) {
      const w = writeFileAtomic(file, r.text, 'the migrated config');
      if (w) {
        await printDiagnostics([w], opts);
        failed = true;
        changed--;
      }
    } else process.stdout.write(unifiedDiff(text, r.text, file, file));
  }
  process.stderr.write(`${changed} of ${files.length} file${files.length === 1 ? '' : 's'} ${opts.write ? 'migrated' : 'would change'}\n`);
  return failed ? ExitCode.failed : ExitCode.ok;
}
