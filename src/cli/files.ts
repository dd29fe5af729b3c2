// Expand CLI path arguments into config files: directories are searched recursively for *.yaml / *.yml.
// Symbolic links are followed, each real directory searched once: a link back to a directory already searched is
// skipped with a warning, a link that cannot be resolved (a loop of links, a dangling link) is an error naming it.
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';

/** A path that could not be searched or read (a loop of symbolic links, a dangling link, no permission). */
const UNREADABLE_PATH = 'TDC906';
/** A directory reached twice through symbolic links (searched once). */
const LINKED_TWICE = 'TDC907';

/** A path the search could not use, and why. */
export interface PathProblem {
  path: string;
  diagnostic: Diagnostic;
}

export function expandConfigPaths(paths: string[]): { files: string[]; missing: string[]; problems: PathProblem[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const problems: PathProblem[] = [];
  const searched = new Map<string, string>(); // real path → the path it was first searched as
  const problem = (p: string, e: unknown): void => {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP' ? 'a loop of symbolic links (ELOOP)'
      : code === 'ENOENT' ? 'a symbolic link to nothing (ENOENT)'
      : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})`
      : e instanceof Error ? e.message : String(e);
    problems.push({ path: p, diagnostic: diag('error', UNREADABLE_PATH, `cannot search '${p}': ${why}`) });
  };
  const walk = (dir: string): void => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      names = readdirSync(dir).sort();
    } catch (e) {
      problem(dir, e);
      return;
    }
    const first = searched.get(real);
    if (first !== undefined) {
      problems.push({ path: dir, diagnostic: diag('warning', LINKED_TWICE, `'${dir}' is a link to '${first}', which is searched already: skipped`) });
      return;
    }
    searched.set(real, dir);
    for (const name of names) {
      const p = join(dir, name);
      let st: Stats;
      try {
        st = statSync(p);
      } catch (e) {
        problem(p, e);
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (/\.ya?ml$/i.test(name)) files.push(p);
    }
  };
  for (const p of paths) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') missing.push(p);
      else problem(p, e);
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, missing, problems };
}
