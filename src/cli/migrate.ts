// tdc migrate: legacy-schema (pre-v1.0) configs rewritten to the modern schema (compiler/migrate), printed as a
// unified diff, or written in place with --write. Files already modern are left alone (re-running is a no-op).
import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../diagnostics/index.js';
import { writeFileAtomic } from './write-file.js';
import { migrateLegacyText } from '../compiler/migrate/legacy-to-modern.js';
import { expandConfigPaths } from './files.js';
import { unifiedDiff } from './line-diff.js';

export interface MigrateOptions {
  write?: boolean;
}

export async function migrateCommand(paths: string[], opts: MigrateOptions): Promise<number> {
  const { files, missing, problems } = expandConfigPaths(paths);
  let status = 0;
  for (const { diagnostic } of problems) {
    process.stderr.write(formatDiagnostic(diagnostic, () => undefined) + '\n');
    if (diagnostic.severity === 'error') status = 1;
  }
  for (const m of missing) {
    process.stderr.write(`${m}: no such file or directory\n`);
    status = 1;
  }
  let changed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`${file}: cannot read: ${(e as Error).message}\n`);
      status = 1;
      continue;
    }
    const r = migrateLegacyText(text);
    if (r.errors.length) {
      process.stderr.write(`${file}: not migrated: ${r.errors[0]}\n`);
      status = 1;
      continue;
    }
    if (!r.changed) continue;
    changed++;
    for (const n of r.notes) process.stderr.write(`${file}: note: ${n}\n`);
    if (opts.write) {
      const w = writeFileAtomic(file, r.text, 'the migrated config');
      if (w) {
        process.stderr.write(formatDiagnostic(w, () => undefined) + '\n');
        status = 1;
        changed--;
      }
    } else process.stdout.write(unifiedDiff(text, r.text, file, file));
  }
  process.stderr.write(`${changed} of ${files.length} file${files.length === 1 ? '' : 's'} ${opts.write ? 'migrated' : 'would change'}\n`);
  return status;
}
