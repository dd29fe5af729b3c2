// A compile result and its output directory on disk: writeOutput() replaces the directory atomically with the
// result's files; check() lists what differs between them (for CI: generated output that is stale).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { writeOutDir, type WriteOptions } from '../codegen/out-writer.js';
import type { CompiledConfig } from './compile.js';

/** Files of an output directory: relative '/'-separated path → content. */
export type OutputFiles = ReadonlyMap<string, string | Uint8Array>;

/** Files tdc keeps in an output directory for itself (ownership markers, temp dirs): never compared. */
const isBookkeeping = (rel: string): boolean => rel.split('/').some((s) => s.startsWith('.tdc'));

/**
 * Writes a compile result as directory `outDir`, atomically: the whole directory is replaced, or (on any error)
 * left as it was. A result with errors is not written: the previous output stays. Returns diagnostics ([] = written).
 */
export async function writeOutput(outDir: string, result: CompiledConfig | OutputFiles, options: WriteOptions = {}): Promise<Diagnostic[]> {
  const files = filesOf(result);
  if (!files) return [diag('error', 'TDC673', `not writing '${outDir}': the compile has errors (the previous output is kept)`)];
  return writeOutDir(outDir, files, options);
}

export interface OutputDifference {
  /** Path inside the output directory, '/'-separated. */
  file: string;
  /** `changed`: different content; `missing`: not on disk; `extra`: on disk but not generated. */
  status: 'changed' | 'missing' | 'extra';
}

export interface CheckResult {
  /** The directory holds exactly the result's files. */
  upToDate: boolean;
  differences: OutputDifference[];
  diagnostics: Diagnostic[];
}

/** Compares a compile result with directory `outDir` without writing anything. */
export async function check(outDir: string, result: CompiledConfig | OutputFiles): Promise<CheckResult> {
  const files = filesOf(result);
  if (!files) return { upToDate: false, differences: [], diagnostics: [diag('error', 'TDC673', `cannot check '${outDir}': the compile has errors`)] };
  const onDisk = await listFiles(outDir);
  const differences: OutputDifference[] = [];
  for (const [rel, content] of files) {
    if (!onDisk.has(rel)) {
      differences.push({ file: rel, status: 'missing' });
      continue;
    }
    const disk = await readFile(join(outDir, ...rel.split('/')));
    const want = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    if (!disk.equals(want)) differences.push({ file: rel, status: 'changed' });
  }
  for (const rel of onDisk) if (!files.has(rel)) differences.push({ file: rel, status: 'extra' });
  differences.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { upToDate: differences.length === 0, differences, diagnostics: [] };
}

function filesOf(result: CompiledConfig | OutputFiles): OutputFiles | undefined {
  if (result instanceof Map) return result;
  const r = result as CompiledConfig;
  return r.ok ? r.files : undefined;
}

/** Every regular file under `dir` (relative, '/'-separated), tdc's bookkeeping files left out. Empty if no dir. */
async function listFiles(dir: string, prefix = ''): Promise<Set<string>> {
  const out = new Set<string>();
  const entries = await readdir(join(dir, ...(prefix ? prefix.split('/') : [])), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (isBookkeeping(rel)) continue;
    if (e.isDirectory()) for (const f of await listFiles(dir, rel)) out.add(f);
    else out.add(rel);
  }
  return out;
}
