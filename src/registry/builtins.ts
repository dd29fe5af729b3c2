// Finds and reads the built-in spec files. src/losses-spec/ is grouped by level, one folder per kind of entry:
//   prelude/   shared structs and helpers (no losses)       torch/     torch.nn's low-level losses
//   distill/   torchdistill's mid-level losses               wrappers/  the high-level loss and the loss wrappers
//   extract/   func2extract_model_output functions
// One <Key>.tdl per registered entry; the registry checks that each file's level matches its folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { LossLevel } from '../../grammar/ast.js';
import { diag, type Diagnostic } from '../diagnostics/index.js';

/** The spec folders in the order they are read, with the levels a file in each may declare. */
const SPEC_FOLDERS = [
  { folder: 'prelude', levels: [] },
  { folder: 'torch', levels: ['low'] },
  { folder: 'distill', levels: ['mid'] },
  { folder: 'wrappers', levels: ['high', 'wrapper'] },
  { folder: 'extract', levels: ['extract'] },
] as const satisfies readonly { folder: string; levels: readonly LossLevel[] }[];

export type SpecFolder = (typeof SPEC_FOLDERS)[number]['folder'];

export interface BuiltinSpecFile {
  file: string;
  /** File name without `.tdl`: the key of the loss it declares. */
  stem: string;
  /** The level folder it lives in. */
  folder: SpecFolder;
  text: string;
}

/** Compiled code lives in dist/src/registry/, sources in src/registry/: the spec folder is src/losses-spec in both cases. */
export function builtinSpecDir(): string | undefined {
  const candidates = [
    process.env['TDC_SPEC_DIR'],
    fileURLToPath(new URL('../../../src/losses-spec/', import.meta.url)),
    fileURLToPath(new URL('../losses-spec/', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(join(c, 'prelude'))) return c;
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

/** The levels a file in `folder` may declare (prelude: none). */
export function folderLevels(folder: SpecFolder): readonly LossLevel[] {
  return SPEC_FOLDERS.find((f) => f.folder === folder)!.levels;
}

export function loadBuiltinSpecs(): { files: BuiltinSpecFile[]; diagnostics: Diagnostic[] } {
  const dir = builtinSpecDir();
  if (!dir) return { files: [], diagnostics: [diag('error', 'TDC390', 'cannot find the built-in loss specs (src/losses-spec)')] };
  const files: BuiltinSpecFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const { folder } of SPEC_FOLDERS) {
    const sub = join(dir, folder);
    if (!existsSync(sub)) {
      diagnostics.push(diag('error', 'TDC390', `cannot find the built-in spec folder ${sub}`));
      continue;
    }
    for (const n of readdirSync(sub).filter((n) => n.endsWith('.tdl')).sort()) {
      const file = join(sub, n);
      files.push({ file, stem: n.slice(0, -4), folder, text: readFileSync(file, 'utf8') });
    }
  }
  const stray = readdirSync(dir).filter((n) => n.endsWith('.tdl'));
  for (const n of stray) diagnostics.push(diag('error', 'TDC391', `spec file ${join(dir, n)} is outside the level folders (${SPEC_FOLDERS.map((f) => f.folder).join(', ')})`));
  return { files, diagnostics };
}
