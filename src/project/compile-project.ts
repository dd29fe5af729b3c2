// Compiling the configs of a project (tdc.config, the bundler plugin, `tdc compile` with -o): each entry with the
// registry reset to the built-ins plus its own spec files, then its output written (atomically, only when the
// compile has no errors: the last good output stays), compared with disk (--check), or neither. Written output
// is stamped with what it was compiled from (fingerprint.ts), so that a build can skip it while it is up to date.
import { hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { resetToBuiltins } from '../registry/registry.js';
import { isAbsolute } from 'node:path';
import { compile, projectRelative, type CompiledConfig } from '../api/compile.js';
import { checkReplaceable, guardOutDir, readOutMarker, restamp } from '../codegen/out-writer.js';
import { check, writeOutput, type CheckResult } from '../api/output-dir.js';
import { displayPath, type Project, type ProjectEntry } from './load-project.js';
import { entryInputs, inputFingerprint, outputStamp, sameStamp } from './fingerprint.js';

export type ProjectMode = 'write' | 'check' | 'memory';

export interface EntryResult {
  entry: ProjectEntry;
  result: CompiledConfig;
  /** `check` mode: how the output directory compares. */
  check?: CheckResult;
  /** `write` mode: the output directory was replaced. */
  written: boolean;
  /** `write` mode: the directory already held exactly these files, so it was left alone. */
  unchanged: boolean;
  /** The compile's diagnostics plus writing's or checking's. */
  diagnostics: Diagnostic[];
}

/** Compiles one entry of a project and writes or checks its output. The loss registry is reset to the built-ins
 *  first and the entry's spec files registered (custom registrations made earlier in the process are dropped).
 *  `inputs`: the entry's inputFingerprint(), if the caller took it already (before anything read the inputs). */
export async function compileEntry(project: Project, entry: ProjectEntry, mode: ProjectMode, inputs?: string): Promise<EntryResult> {
  // The compile's inputs (and the tdc.config) must never be inside what an output replaces.
  const protect = [...entryInputs(entry), ...(isAbsolute(project.file) ? [project.file] : [])];
  if (mode === 'write') {
    const refused = guardOutDir(entry.out, { protect });
    if (!refused.length) refused.push(...(await checkReplaceable(entry.out)));
    if (refused.length) return { entry, result: notCompiled(project, entry), written: false, unchanged: false, diagnostics: refused };
    inputs ??= inputFingerprint(project, entry);
  }
  resetToBuiltins();
  const result = await compile(displayPath(entry.config), {
    root: project.root,
    name: entry.name,
    stage: entry.stage,
    shapes: entry.shapes,
    like: entry.like,
    specs: entry.specs.map(displayPath),
    workgroupSize: entry.workgroupSize,
    glue: entry.glue,
  });
  const diagnostics = [...result.diagnostics];
  const r: EntryResult = { entry, result, written: false, unchanged: false, diagnostics };
  if (!result.ok) return r;
  if (mode === 'write') {
    const stamp = outputStamp(inputs!, result.files, diagnostics);
    // Identical output is not rewritten: watchers downstream (a dev server, tsc -w) see no change. Its stamp is
    // brought up to date (after an edit that changes no output, or another tdc), so the next build can skip it.
    if ((await check(entry.out, result)).upToDate) {
      r.unchanged = true;
      if (!sameStamp((await readOutMarker(entry.out))?.stamp, stamp)) diagnostics.push(...(await restamp(entry.out, result.files.keys(), stamp)));
      return r;
    }
    const wd = await writeOutput(entry.out, result, { protect, stamp });
    diagnostics.push(...wd);
    r.written = !hasErrors(wd);
  } else if (mode === 'check') {
    r.check = await check(entry.out, result);
    diagnostics.push(...r.check.diagnostics);
  }
  return r;
}

function notCompiled(project: Project, entry: ProjectEntry): CompiledConfig {
  return { ok: false, config: projectRelative(project.root, entry.config), name: entry.name, files: new Map(), kernels: [], diagnostics: [], inputs: entryInputs(entry), stages: [] };
}

/** Every entry (or those given), in order. */
export async function compileProject(project: Project, mode: ProjectMode, entries: readonly ProjectEntry[] = project.entries): Promise<EntryResult[]> {
  const out: EntryResult[] = [];
  for (const e of entries) out.push(await compileEntry(project, e, mode));
  return out;
}

/** A result is a failure when it has errors (compiling, writing) or, in check mode, stale output. */
export const entryFailed = (r: EntryResult): boolean => hasErrors(r.diagnostics) || (r.check !== undefined && !r.check.upToDate);
