// Finds and reads the built-in spec files: src/losses-spec/prelude.tdl and one <Key>.tdl per registered loss.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';

export interface BuiltinSpecFile {
  file: string;
  /** File name without `.tdl`: the key of the loss it declares. */
  stem: string;
  text: string;
}

/** Compiled code lives in dist/src/registry/, sources in src/registry/: the spec folder is src/losses-spec in both cases. */
export function builtinSpecDir(): string | undefined {
  const candidates = [
    process.env['TDC_SPEC_DIR'],
    fileURLToPath(new URL('../../../src/losses-spec/', import.meta.url)),
    fileURLToPath(new URL('../losses-spec/', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(join(c, 'prelude.tdl'))) return c;
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

export function loadBuiltinSpecs(): { prelude?: BuiltinSpecFile; files: BuiltinSpecFile[]; diagnostics: Diagnostic[] } {
  const dir = builtinSpecDir();
  if (!dir) return { files: [], diagnostics: [diag('error', 'TDC390', 'cannot find the built-in loss specs (src/losses-spec)')] };
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.tdl'))
    .sort();
  let prelude: BuiltinSpecFile | undefined;
  const files: BuiltinSpecFile[] = [];
  for (const n of names) {
    const file = join(dir, n);
    const f: BuiltinSpecFile = { file, stem: n.slice(0, -4), text: readFileSync(file, 'utf8') };
    if (f.stem === 'prelude') prelude = f;
    else files.push(f);
  }
  return { prelude, files, diagnostics: [] };
}
