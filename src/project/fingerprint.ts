// What an output directory was compiled from, recorded in its marker (`.tdc-output.json`'s `stamp`), so that a
// build can skip a compile whose output is provably up to date (the bundler plugin does, on every build):
//   inputs    sha256 over the compiler (tdc's version, its built-in spec files, its own code), the project root,
//             the entry's options (config, name, out, stage, shapes, like, workgroup size, spec files, glue) and
//             the content of every file the compile reads (the config, each spec file) and the sample io_dict's
//             header (names, dtypes, shapes: all a compile reads of it)
//   output    sha256 over the files written (paths and contents): an edited, deleted or added file is noticed
//   warnings  the compile's warnings (span paths absolute), reported again when the compile is skipped
// The inputs are hashed before the compile reads them: an edit racing a compile leaves a stamp that no longer
// matches (the next build compiles again), never one that vouches for text the compile did not see.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, Span } from '../diagnostics/index.js';
import { builtinSpecDir, loadBuiltinSpecs } from '../registry/builtins.js';
import { listOutTree, OUT_MARKER, readOutMarker, type OutStamp } from '../codegen/out-writer.js';
import { VERSION } from '../version.js';
import { readSafetensorsHeader } from '../api/safetensors-header.js';
import { readAtMost } from '../compiler/load/read-at-most.js';
import { displayPath, type Project, type ProjectEntry } from './load-project.js';

/** Schema of the stamp; a marker with another (or none) is out of date. */
const STAMP_FORMAT = 'tdc-stamp/1';

/** sha256 of `extra` and each file's path and content (a missing file hashes as such). A pipe or other input that is
 *  not a regular file (`--like <(…)`) is not read — it can be read only once, by the compile — and hashes as a value
 *  never seen again, so that a stamp never vouches for it (such a compile is never skipped); so does a file that
 *  holds more than its size says (/proc/self/pagemap). */
export function hashFiles(files: readonly string[], extra: string): string {
  const h = createHash('sha256').update(extra);
  for (const f of files) {
    h.update('\0' + f + '\0');
    try {
      const st = statSync(f);
      // no more than the size says: a file the kernel makes (/proc/self/pagemap) says 0 and may hold gigabytes
      const content = st.isFile() ? readAtMost(f, st.size + 1) : undefined;
      if (!content || content.length !== st.size) {
        h.update(`(not a file: ${randomUUID()})`);
        continue;
      }
      h.update(content);
    } catch {
      h.update('(missing)');
    }
  }
  return h.digest('hex');
}

/** The files a compile of `entry` reads besides tdc's own: its config, spec files and sample io_dict (absolute). */
export const entryInputs = (e: ProjectEntry): string[] => [e.config, ...e.specs, ...(e.like !== undefined ? [e.like] : [])];

let compilerHash: { specDir: string | undefined; hash: string } | undefined;

/** tdc itself: its version, its built-in spec files and its code (computed once per process and spec folder). */
export function compilerFingerprint(): string {
  const specDir = builtinSpecDir();
  if (compilerHash && compilerHash.specDir === specDir) return compilerHash.hash;
  const h = createHash('sha256').update(`tdc ${VERSION}\0${specDir === undefined ? '(no built-in specs)' : ''}\0`);
  for (const f of loadBuiltinSpecs().files) h.update(`${f.folder}/${f.stem}\0${f.text}\0`);
  // this file is <code>/src/project/fingerprint.{js,ts}: the compiler is <code>/src and <code>/grammar
  const code = fileURLToPath(new URL('../../', import.meta.url));
  for (const f of codeFiles(code)) h.update(`${f}\0`).update(readFileSync(join(code, f))).update('\0');
  compilerHash = { specDir, hash: h.digest('hex') };
  return compilerHash.hash;
}

function codeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let names;
    try {
      names = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const r = `${rel}/${d.name}`;
      if (d.isDirectory() && d.name !== 'node_modules' && d.name !== 'dist') walk(r);
      else if (d.isFile() && /\.(js|mjs|ts)$/.test(d.name) && !d.name.endsWith('.d.ts')) out.push(r);
    }
  };
  walk('src');
  walk('grammar');
  return out.sort();
}

/** The `inputs` fingerprint of compiling `entry` now (read its inputs before the compile does). The options are
 *  spelled one way whoever made the entry (tdc.config, the plugin's options, the CLI): `tdc compile` then a build
 *  with the plugin agree. */
export function inputFingerprint(project: Project, entry: ProjectEntry): string {
  const { config, name, out, stage, shapes, like, workgroupSize, specs, glue } = entry;
  const options = { config, name, out, stage, shapes, like, workgroupSize, specs, glue: glue !== false };
  const sample = like !== undefined ? { sample: sampleFingerprint(like) } : {};
  return hashFiles([config, ...specs], JSON.stringify({ compiler: compilerFingerprint(), root: project.root, options, ...sample }));
}

/** What a compile reads of the sample io_dict (`like`): its header's names, dtypes and shapes, never its data (a
 *  385 MB sample was read whole to be hashed). A pipe, or a sample that cannot be read, is a value never seen again. */
function sampleFingerprint(like: string): string {
  try {
    if (!statSync(like).isFile()) return `(not a file: ${randomUUID()})`;
    return JSON.stringify([...readSafetensorsHeader(like)]);
  } catch {
    return `(unreadable: ${randomUUID()})`;
  }
}

/** sha256 over an output directory's files, in path order. */
function outputHash(files: Iterable<readonly [string, string | Uint8Array]>): string {
  const h = createHash('sha256');
  for (const [p, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) h.update(`${p}\0`).update(content).update('\0');
  return h.digest('hex');
}

/** The stamp recorded with a compile's output. */
export function outputStamp(inputs: string, files: ReadonlyMap<string, string | Uint8Array>, diagnostics: readonly Diagnostic[]): OutStamp {
  const warnings = diagnostics.filter((d) => d.severity === 'warning').map((d) => withSpanPaths(d, (f) => resolve(f)));
  return { format: STAMP_FORMAT, inputs, output: outputHash(files), warnings };
}

/** Two stamps record the same compile. */
export const sameStamp = (a: OutStamp | undefined, b: OutStamp): boolean => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/**
 * The output in `outDir` was compiled from exactly `inputs` (its stamp says so) and is still what that compile
 * wrote (the files its marker lists, no others, with the recorded contents): then the compile's warnings, to
 * report again (paths as the CLI shows them). Undefined otherwise: no marker, a corrupt or foreign one, another
 * stamp, or files changed since.
 */
export async function keptOutput(outDir: string, inputs: string): Promise<Diagnostic[] | undefined> {
  const marker = await readOutMarker(outDir);
  const stamp = marker?.stamp as { format?: unknown; inputs?: unknown; output?: unknown; warnings?: unknown } | undefined;
  if (!marker || !stamp || stamp.format !== STAMP_FORMAT || stamp.inputs !== inputs || typeof stamp.output !== 'string' || !Array.isArray(stamp.warnings)) return undefined;
  const tree = await listOutTree(outDir).catch(() => undefined);
  if (!tree || tree.other.length) return undefined;
  const listed = new Set(marker.files);
  const onDisk = tree.files.filter((f) => f !== OUT_MARKER);
  if (onDisk.length !== listed.size || !onDisk.every((f) => listed.has(f))) return undefined;
  const files: [string, Uint8Array][] = [];
  for (const f of onDisk) files.push([f, await readFile(join(outDir, ...f.split('/')))]);
  if (outputHash(files) !== stamp.output) return undefined;
  return (stamp.warnings as Diagnostic[]).map((d) => withSpanPaths(d, displayPath));
}

function withSpanPaths(d: Diagnostic, path: (file: string) => string): Diagnostic {
  const span = (s: Span | undefined): Span | undefined => (s ? { ...s, file: path(s.file) } : undefined);
  return {
    ...d,
    ...(d.span ? { span: span(d.span) } : {}),
    ...(d.related ? { related: d.related.map((r) => (r.span ? { ...r, span: span(r.span) } : r)) } : {}),
  };
}
