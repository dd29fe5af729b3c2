// One output file written atomically (`tdc run --grads-out/--state-out`, `tdc schema -o`, `tdc migrate --write`):
// a temp file beside it, then a rename, so the file is either the old one or the new one. A symbolic link is
// written through: the temp file goes beside the file the link points to and replaces that file, so the link
// stays a link and its target gets the new content; an existing file keeps its permission bits (a 0600 config
// stays 0600). Every way this can fail on the user's side
// (missing directory, a directory in the way, no permission, read-only or full file system) is a diagnostic
// naming the path, and the temp file is removed. An existing output that is no regular file (a FIFO, /dev/stdout)
// is written into, not replaced. `fs` is the seam the tests use to inject ENOSPC and EACCES.
// An output file that is one of the command's own inputs (the config, --inputs, a --spec file), by any path
// that resolves to it, is refused before anything runs (overwritesInput): the input would be lost.
import * as nodeFs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { fsErrorText } from '../diagnostics/fs-error-text.js';

/** An output file names one of the command's inputs (or another output of it). */
const OUTPUT_IS_INPUT = 'TDC909';

/** A file a command reads or writes, and how the user named it (for the message). */
export interface NamedFile {
  path: string;
  what: string;
}

/** The file `p` stands for: its real path when it exists (symbolic links followed), else its directory's real
 *  path joined with its name; the plain absolute path when neither resolves. */
export function realFile(p: string): string {
  try {
    return nodeFs.realpathSync(p);
  } catch {
    try {
      return join(nodeFs.realpathSync(dirname(resolve(p))), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

/** A TDC909 error for each output that resolves to one of `inputs` or to an earlier output; none when all differ. */
export function overwritesInput(outputs: readonly NamedFile[], inputs: readonly NamedFile[]): Diagnostic[] {
  const seen = inputs.map((f) => ({ ...f, real: realFile(f.path) }));
  const out: Diagnostic[] = [];
  for (const o of outputs) {
    const real = realFile(o.path);
    const hit = seen.find((f) => f.real === real);
    if (hit) {
      const same = resolve(hit.path) === resolve(o.path) ? '' : ` ('${hit.path}')`;
      out.push(diag('error', OUTPUT_IS_INPUT, `refusing to write ${o.what} to '${o.path}': it is ${hit.what}${same}, which would be overwritten`, undefined, { hint: 'name another output file' }));
    }
    seen.push({ ...o, what: `the output file for ${o.what} too`, real });
  }
  return out;
}

/** The file-system calls used (node:fs by default). */
export type WriteFs = Pick<typeof nodeFs, 'writeFileSync' | 'renameSync' | 'rmSync' | 'statSync' | 'lstatSync' | 'readlinkSync' | 'chmodSync'>;

const WRITE_FAILED = 'TDC503';

/** Writes `data` to `file` atomically; a diagnostic instead of a throw when it cannot. */
export function writeFileAtomic(file: string, data: string | Uint8Array, what: string, fs: WriteFs = nodeFs): Diagnostic | undefined {
  const fail = (why: string): Diagnostic => diag('error', WRITE_FAILED, `cannot write ${what} '${file}': ${why}`);
  const dest = linkTarget(fs, file);
  if (typeof dest !== 'string') return fail(dest.problem);
  const dir = dirname(dest);
  const target = statOf(fs, dest);
  if (target?.isDirectory()) return fail('it is a directory');
  // a FIFO, a device (/dev/stdout) or a socket is written into as it is: a rename would replace it with a file
  if (target && !target.isFile()) {
    try {
      fs.writeFileSync(dest, data);
      return undefined;
    } catch (e) {
      return fail(fsErrorText(e));
    }
  }
  const parent = statOf(fs, dir);
  if (parent === undefined) return fail(`the directory '${dir}' does not exist`);
  if (!parent.isDirectory()) return fail(`'${dir}' is not a directory`);
  const tmp = join(dir, `.${basename(dest)}.tdc-tmp-${process.pid}`);
  try {
    fs.writeFileSync(tmp, data);
    if (target) fs.chmodSync(tmp, target.mode & 0o7777);
    fs.renameSync(tmp, dest);
    return undefined;
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing more to do: the write already failed and is reported
    }
    return fail(fsErrorText(e));
  }
}

/** The file a write to `p` must replace: `p` itself, or the end of its chain of symbolic links (which need not
 *  exist yet: a link to a new file creates that file). */
function linkTarget(fs: WriteFs, p: string): string | { problem: string } {
  let cur = p;
  for (let hops = 0; hops < 40; hops++) {
    let st: nodeFs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      return cur; // nothing there (yet): the write creates it; a missing directory is reported by the caller
    }
    if (!st.isSymbolicLink()) return cur;
    cur = resolve(dirname(cur), fs.readlinkSync(cur, 'utf8'));
  }
  return { problem: 'a loop of symbolic links (ELOOP)' };
}

function statOf(fs: WriteFs, p: string): nodeFs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}
