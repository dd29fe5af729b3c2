// Diagnostics as text for hosts other than the CLI (bundler plugins, build scripts): tsc-style lines with code
// frames cut from the config files and spec files they point into.
import { readFileSync } from 'node:fs';
import { formatDiagnostic, type Diagnostic, type SourceLookup } from '../diagnostics/index.js';
import { specSource } from '../registry/registry.js';

/** Source texts for code frames: registered spec files from the registry, everything else read from disk. */
export function fileSourceLookup(): SourceLookup {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let text = specSource(file);
      if (text === undefined) {
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          text = undefined;
        }
      }
      cache.set(file, text);
    }
    return cache.get(file);
  };
}

/** `file:line:col - error TDC203: …` with a code frame per diagnostic, separated by blank lines. */
export function formatDiagnostics(ds: readonly Diagnostic[], opts: { color?: boolean } = {}): string {
  const lookup = fileSourceLookup();
  return ds.map((d) => formatDiagnostic(d, lookup, { color: opts.color ?? false })).join('\n\n');
}
