// Atomic replacement of an output directory that tdc owns.
//
// Ownership: every output tree carries a marker, `.tdc-output.json` = {"format": "tdc-output/1", "files": [...]},
// listing every file tdc wrote, and, when the writer gives one, a `stamp`: what the output was compiled from
// (src/project/fingerprint.ts), so that a later build can tell it is up to date without compiling. restamp()
// replaces only the marker (same files, new stamp), atomically too. An existing directory is replaced only when its marker is tdc's and the tree
// holds exactly the files it lists (no other files, no symlinks, no empty directories): anything else is refused
// with a diagnostic naming what is there. Outputs of tdc before the marker (a tdc manifest.json, the kernel
// files it lists and one generated glue .ts) count as owned too. Whatever the marker says, `-o .`, `/`, the
// home directory and any ancestor of the cwd or of a protected path (the config file) are refused.
//
// Everything is written (sorted order, each file fsynced) into a sibling `.tdc-tmp-<out>.<pid>.<rand>.new`,
// then swapped in: out/ → `.tdc-tmp-<out>.<pid>.<rand>.old`, new → out/, old removed. A compile that fails
// or is killed before the swap leaves out/ untouched (at most a stray temp dir, removed by the next write);
// one killed between the two renames leaves the old tree in the `.old` dir, which the next write puts back
// before it starts. Stale temp dirs are those whose writer process is gone.
import { randomBytes } from 'node:crypto';
import { constants as fsc, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { fsErrorText } from '../diagnostics/fs-error-text.js';

export type OutFiles = ReadonlyMap<string, string | Uint8Array> | Record<string, string | Uint8Array>;
/** The marker's `stamp`: JSON data the writer's caller records with the output. */
export type OutStamp = Readonly<Record<string, unknown>>;

export interface WriteOptions {
  /** Replace an existing non-empty directory even without proof that tdc wrote it (never `.`, `/` or ancestors). */
  force?: boolean;
  /** Paths (e.g. the config file) that out/ must not be, nor contain. The cwd is always protected. */
  protect?: readonly string[];
  /** Working directory the protection refers to. Default process.cwd(). */
  cwd?: string;
  /** Recorded in the marker (e.g. what the output was compiled from); opaque to the writer. */
  stamp?: OutStamp;
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

  const bad = entries.map(([p]) => p).filter((p) => !isSafeRelative(p) || p === OUT_MARKER);
  if (bad.length) return [diag('error', 'TDC650', `refusing to write output paths outside '${outDir}': ${bad.map((p) => `'${p}'`).join(', ')}`)];
  const dup = firstFileDirConflict(entries.map(([p]) => p));
  if (dup) return [diag('error', 'TDC650', `output path '${dup}' is both a file and a directory`)];

  const guarded = guardOutDir(outDir, opts);
  if (guarded.length) return guarded;
  const blocked = await fileInTheWay(parent);
  if (blocked) return [diag('error', 'TDC651', `cannot write '${outDir}': '${blocked}' exists and is not a directory`)];
  try {
    await mkdir(parent, { recursive: true });
    await recoverAndClean(parent, base);
    const refused = await checkReplaceable(outDir, opts);
    if (refused.length) return refused;
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
    await writeSynced(join(tmp, OUT_MARKER), markerText(entries.map(([p]) => p), opts.stamp));
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

/** The marker file tdc writes into every output tree it owns. */
export const OUT_MARKER = '.tdc-output.json';
export const OUT_MARKER_FORMAT = 'tdc-output/1';

function markerText(files: readonly string[], stamp?: OutStamp): string {
  return JSON.stringify({ format: OUT_MARKER_FORMAT, files: [...files].sort(), ...(stamp ? { stamp } : {}) }, null, 2) + '\n';
}

/** tdc's marker in `outDir`: the files it lists and its stamp. Undefined when there is none, or it is not a
 *  tdc-output/1 marker (corrupt, foreign, unsafe paths). */
export async function readOutMarker(outDir: string): Promise<{ files: string[]; stamp?: OutStamp } | undefined> {
  const m = (await readJsonFile(join(resolve(outDir), OUT_MARKER))) as { format?: unknown; files?: unknown; stamp?: unknown } | undefined;
  if (!m || m.format !== OUT_MARKER_FORMAT || !Array.isArray(m.files) || !m.files.every((f) => typeof f === 'string' && isSafeRelative(f))) return undefined;
  const stamp = typeof m.stamp === 'object' && m.stamp !== null && !Array.isArray(m.stamp) ? (m.stamp as OutStamp) : undefined;
  return { files: m.files as string[], ...(stamp ? { stamp } : {}) };
}

/**
 * Writes the marker of an output directory that already holds exactly `files` (the caller compared them), with a
 * new stamp, leaving the files alone: the marker is written beside out/ and renamed into it. [] on success.
 */
export async function restamp(outDir: string, files: Iterable<string>, stamp: OutStamp): Promise<Diagnostic[]> {
  const out = resolve(outDir);
  // a temp file inside out/ would be a file tdc did not list, should the process die before the rename
  const tmp = join(dirname(out), `${TMP_PREFIX}${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.new`);
  try {
    await writeSynced(tmp, markerText([...files], stamp));
    await rename(tmp, join(out, OUT_MARKER));
    await syncDir(out);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    return [ioError(`restamping '${outDir}'`, e)];
  }
  return [];
}

/**
 * Refusals that need no file system state beyond resolving paths: out/ is `/`, the home directory, the cwd or
 * one of its ancestors, or a protected path or one of its ancestors. Symlinks in existing parts are resolved.
 */
export function guardOutDir(outDir: string, opts: Pick<WriteOptions, 'protect' | 'cwd'> = {}): Diagnostic[] {
  const cwd = realish(opts.cwd ?? process.cwd());
  const out = realish(resolve(cwd, outDir));
  const refuse = (why: string): Diagnostic[] => [
    diag('error', 'TDC654', `refusing to write output to '${outDir}': ${why}`, undefined, { hint: 'name a new or tdc-owned directory such as out/' }),
  ];
  if (out === parse(out).root) return refuse('it is the file system root');
  if (out === realish(homedir())) return refuse('it is the home directory');
  if (isSameOrAncestor(out, cwd)) return refuse(out === cwd ? 'it is the current directory' : 'it contains the current directory');
  for (const p of opts.protect ?? []) {
    const pr = realish(resolve(cwd, p));
    if (isSameOrAncestor(out, pr)) return refuse(out === pr ? `it is '${p}'` : `it contains '${p}'`);
  }
  return [];
}

function isSameOrAncestor(a: string, b: string): boolean {
  if (a === b) return true;
  const rel = relative(a, b);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** realpath of the longest existing prefix of `p`, with the rest appended (p need not exist). */
function realish(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return abs;
      tail.push(basename(head));
      head = up;
    }
  }
}

/**
 * [] when `outDir` is absent, an empty directory, or a tree tdc provably wrote (see the header); otherwise the
 * diagnostic that refuses it, naming what is there. With `force`, any directory is replaceable.
 */
export async function checkReplaceable(outDir: string, opts: Pick<WriteOptions, 'force'> = {}): Promise<Diagnostic[]> {
  const out = resolve(outDir);
  const existing = await lstat(out).catch(() => undefined);
  if (!existing) return [];
  if (!existing.isDirectory())
    return [diag('error', 'TDC651', `'${outDir}' exists and is not a directory${existing.isSymbolicLink() ? ' (a symbolic link)' : ''}; not replacing it`)];
  if (opts.force) return [];
  const found = await listOutTree(out);
  if (found.files.length === 0 && found.dirs.length === 0 && found.other.length === 0) return [];
  const owned = await ownedFiles(out, found.files);
  const foreign = [
    ...found.other,
    ...found.files.filter((f) => !owned?.has(f)),
    ...found.dirs.filter((d) => !owned || ![...owned].some((f) => f.startsWith(d + '/'))).map((d) => d + '/'),
  ].sort();
  if (owned && foreign.length === 0) return [];
  const shown = foreign.slice(0, 5).map((f) => `'${f}'`).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
  const why = owned ? `it holds files tdc did not write: ${shown}` : `it has no tdc output marker (${OUT_MARKER}) and holds ${shown}`;
  return [
    diag('error', 'TDC652', `'${outDir}' is not a directory tdc wrote; not replacing it: ${why}`, undefined, {
      hint: 'pick a new or empty directory (tdc replaces only its own output), or move those files away',
    }),
  ];
}

export interface Tree {
  /** Regular files, relative '/'-paths. */
  files: string[];
  /** Directories (not the root). */
  dirs: string[];
  /** Symlinks, sockets, devices... (with a note). */
  other: string[];
}

const TREE_LIMIT = 100_000;

/** Every entry under `root` (not following symlinks), in name order; at most TREE_LIMIT entries. */
export async function listOutTree(root: string): Promise<Tree> {
  const t: Tree = { files: [], dirs: [], other: [] };
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (t.files.length + t.dirs.length + t.other.length > TREE_LIMIT) return;
      const rel = prefix + e.name;
      if (e.isDirectory()) {
        t.dirs.push(rel);
        await walk(join(dir, e.name), rel + '/');
      } else if (e.isFile()) t.files.push(rel);
      else t.other.push(`${rel} (${e.isSymbolicLink() ? 'symbolic link' : 'not a regular file'})`);
    }
  };
  await walk(root, '');
  return t;
}

/** The set of files tdc's marker (or, for older outputs, its manifest) proves it wrote; undefined if none. */
async function ownedFiles(root: string, files: readonly string[]): Promise<Set<string> | undefined> {
  const readJson = async (name: string): Promise<unknown> => (files.includes(name) ? readJsonFile(join(root, name)) : undefined);
  const marker = files.includes(OUT_MARKER) ? await readOutMarker(root) : undefined;
  if (marker) return new Set([OUT_MARKER, ...marker.files]);
  // Output of a tdc without the marker: its manifest, the kernels it lists, and top-level glue tdc generated.
  type Kernels = { kernels?: { file?: unknown; subgroups?: { file?: unknown } }[] };
  const manifest = (await readJson('manifest.json')) as { format?: unknown; stages?: (Kernels & { variants?: Kernels[] })[] } | undefined;
  if (!manifest || manifest.format !== 'tdc-manifest/1' || !Array.isArray(manifest.stages)) return undefined;
  // (a marker tdc cannot read, e.g. cut short, is tdc's own file too: the manifest proves the rest)
  const owned = new Set<string>(['manifest.json', OUT_MARKER]);
  const plans = manifest.stages.flatMap((s) => [s, ...(Array.isArray(s?.variants) ? s.variants : [])]);
  for (const p of plans)
    for (const k of Array.isArray(p?.kernels) ? p.kernels : []) for (const f of [k?.file, k?.subgroups?.file]) if (typeof f === 'string') owned.add(f);
  for (const f of files) if (/^[^/]+\.ts$/.test(f) && GLUE_HEADER.test(await head(join(root, f), 512))) owned.add(f);
  return owned;
}

/** A JSON file's value; undefined when it cannot be read or parsed, or is over 64 MiB. */
async function readJsonFile(path: string): Promise<unknown> {
  try {
    const fh = await open(path, fsc.O_RDONLY);
    try {
      if ((await fh.stat()).size > 64 * 1024 * 1024) return undefined;
      return JSON.parse(await fh.readFile('utf8'));
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** The first line of the glue modules tdc generates: `// <name>.ts — generated by tdc <version> from ...`. */
const GLUE_HEADER = /^\/\/ [^\n]*\.ts — generated by tdc /;

async function head(path: string, n: number): Promise<string> {
  try {
    const fh = await open(path, fsc.O_RDONLY);
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
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
  return diag('error', 'TDC653', `${what} failed: ${fsErrorText(e)}`);
}

/** The nearest existing ancestor of `dir` when it is not a directory (`-o config.yaml/out`): out/ cannot be made
 *  under it. Undefined otherwise. */
async function fileInTheWay(dir: string): Promise<string | undefined> {
  for (let p = dir; ; p = dirname(p)) {
    const st = await stat(p).catch(() => undefined);
    if (st) return st.isDirectory() ? undefined : p;
    if (dirname(p) === p) return undefined;
  }
}
