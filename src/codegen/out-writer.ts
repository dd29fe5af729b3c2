// Atomic replacement of an output directory.
//
// Everything is written (sorted order, each file fsynced) into a sibling `.tdc-tmp-<out>.<pid>.<rand>.new`,
// then swapped in: out/ → `.tdc-tmp-<out>.<pid>.<rand>.old`, new → out/, old removed. A compile that fails
// or is killed before the swap leaves out/ untouched (at most a stray temp dir, removed by the next write);
// one killed between the two renames leaves the old tree in the `.old` dir, which the next write puts back
// before it starts. Stale temp dirs are those whose writer process is gone.
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';

export type OutFiles = ReadonlyMap<string, string | Uint8Array> | Record<string, string | Uint8Array>;

export interface WriteOptions {
  /** A file whose presence marks an existing directory as tdc output that may be replaced. Default 'manifest.json'. */
  marker?: string;
  /** Replace an existing non-empty directory even without the marker. */
  force?: boolean;
  /** Test hook: called after each file is written and synced (index in sorted order). */
  afterFile?: (path: string, index: number) => void | Promise<void>;
}

const TMP_PREFIX = '.tdc-tmp-';
const STALE_MS = 24 * 3600 * 1000;

/** Writes `files` (relative POSIX paths → contents) as directory `outDir`, atomically. [] on success. */
export async function writeOutDir(outDir: string, files: OutFiles, opts: WriteOptions = {}): Promise<Diagnostic[]> {
  const out = resolve(outDir);
  const parent = dirname(out);
  const base = basename(out);
  const entries = (files instanceof Map ? [...files.entries()] : Object.entries(files)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const bad = entries.map(([p]) => p).filter((p) => !isSafeRelative(p));
  if (bad.length) return [diag('error', 'TDC650', `refusing to write output paths outside '${outDir}': ${bad.map((p) => `'${p}'`).join(', ')}`)];
  const dup = firstFileDirConflict(entries.map(([p]) => p));
  if (dup) return [diag('error', 'TDC650', `output path '${dup}' is both a file and a directory`)];

  try {
    await mkdir(parent, { recursive: true });
    await recoverAndClean(parent, base);
    const existing = await lstat(out).catch(() => undefined);
    if (existing && !existing.isDirectory()) return [diag('error', 'TDC651', `'${outDir}' exists and is not a directory; not replacing it`)];
    if (existing && !opts.force) {
      const names = await readdir(out);
      const marker = opts.marker ?? 'manifest.json';
      if (names.length && !names.includes(marker))
        return [
          diag('error', 'TDC652', `'${outDir}' is a non-empty directory that tdc did not write (no ${marker}); not replacing it`, undefined, {
            hint: 'pick an empty or new directory, or delete it first',
          }),
        ];
    }
  } catch (e) {
    return [ioError(`preparing '${outDir}'`, e)];
  }

  const tag = `${TMP_PREFIX}${base}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `${tag}.new`);
  const aside = join(parent, `${tag}.old`);
  try {
    await mkdir(tmp);
    const made = new Set<string>([tmp]);
    let i = 0;
    for (const [rel, content] of entries) {
      const target = join(tmp, ...rel.split('/'));
      await mkdirs(dirname(target), made);
      await writeSynced(target, content);
      await opts.afterFile?.(rel, i++);
    }
    for (const d of [...made].sort().reverse()) await syncDir(d);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    return [ioError(`writing '${outDir}'`, e)];
  }

  try {
    const hadOld = await lstat(out).then(
      () => true,
      () => false,
    );
    if (hadOld) await rename(out, aside);
    try {
      await rename(tmp, out);
    } catch (e) {
      if (hadOld) await rename(aside, out);
      throw e;
    }
    await syncDir(parent);
    if (hadOld) await rm(aside, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    return [ioError(`replacing '${outDir}'`, e)];
  }
  return [];
}

/** Puts back an out/ lost between the two renames by a killed writer; removes temp dirs of dead writers. */
async function recoverAndClean(parent: string, base: string): Promise<void> {
  const names = await readdir(parent);
  const out = join(parent, base);
  for (const name of names.sort()) {
    const m = /^\.tdc-tmp-(.*)\.(\d+)\.([0-9a-f]+)\.(new|old)$/.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    const path = join(parent, name);
    const age = Date.now() - ((await lstat(path).catch(() => undefined))?.mtimeMs ?? 0);
    // A live writer (another compile, or a concurrent call in this process) owns it — unless it is a day
    // old, which only a recycled pid explains.
    if ((pid === process.pid || isAlive(pid)) && age < STALE_MS) continue;
    if (m[4] === 'old' && m[1] === base && !(await exists(out))) {
      await rename(path, out);
      continue;
    }
    await rm(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

/** Relative, '/'-separated, no '.', '..' or empty segments, no backslashes or NULs. */
function isSafeRelative(p: string): boolean {
  if (!p || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function firstFileDirConflict(paths: string[]): string | undefined {
  const files = new Set(paths);
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (files.has(prefix)) return prefix;
    }
  }
  return undefined;
}

async function mkdirs(dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return;
  await mkdirs(dirname(dir), made);
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  made.add(dir);
}

async function writeSynced(path: string, content: string | Uint8Array): Promise<void> {
  const fh = await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsc.O_RDONLY).catch(() => undefined);
  if (!fh) return; // platforms that cannot open directories (Windows)
  try {
    await fh.sync().catch(() => {});
  } finally {
    await fh.close();
  }
}

function ioError(what: string, e: unknown): Diagnostic {
  return diag('error', 'TDC653', `${what} failed: ${e instanceof Error ? e.message : String(e)}`);
}
