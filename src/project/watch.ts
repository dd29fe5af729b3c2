// Watch mode: compile every entry, then watch what each result was computed from (its config, spec files and
// sample io_dict, plus the tdc.config file) and recompile only the entries a change affects. Output is written
// only for compiles without errors, so the last good output stays while a config is broken.
//
// Directories are watched, not files: editors that save by rename replace the file's inode, which a file
// watch would lose. Events are debounced (bursts from one save become one recompile).
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { compileProject, type EntryResult } from './compile-project.js';
import type { Project, ProjectEntry } from './load-project.js';

export interface WatchCallbacks {
  /** A (re)compile starts; `changed` is empty for the first one. */
  onStart(changed: readonly string[]): void;
  /** It finished: per-entry results (only the recompiled entries), or load diagnostics when the project did not load. */
  onDone(results: readonly EntryResult[], loadDiagnostics: readonly Diagnostic[]): void | Promise<void>;
}

export interface WatchHandle {
  /** Every file being watched (absolute). */
  files(): string[];
  /** Resolves when the compile in progress (if any) and those queued have finished. */
  idle(): Promise<void>;
  close(): void;
}

export interface WatchOptions {
  /** Loads (or reloads) the project. */
  load(): Promise<{ project?: Project; diagnostics: Diagnostic[] }>;
  /** The tdc.config file (reloaded on change), if the project has one. */
  projectFile?: string;
  /** Quiet time after the last file event before recompiling (one save often fires several events). Default 80 ms. */
  debounceMs?: number;
}

export function watchProject(opts: WatchOptions, cb: WatchCallbacks): WatchHandle {
  let project: Project | undefined;
  const inputsOf = (e: ProjectEntry): string[] => [e.config, ...e.specs, ...(e.like !== undefined ? [e.like] : [])].map((f) => resolve(f));
  const watchers = new Map<string, FSWatcher>();
  let watched = new Set<string>();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const projectFile = opts.projectFile !== undefined ? resolve(opts.projectFile) : undefined;

  const sync = (): void => {
    const files = new Set<string>(projectFile ? [projectFile] : []);
    for (const e of project?.entries ?? []) for (const f of inputsOf(e)) files.add(f);
    watched = files;
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const [d, w] of watchers)
      if (!dirs.has(d)) {
        w.close();
        watchers.delete(d);
      }
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, (_event, name) => {
          const f = name ? resolve(d, name.toString()) : undefined;
          if (f && watched.has(f)) schedule(f);
        });
        w.on('error', () => {
          w.close();
          watchers.delete(d);
        });
        watchers.set(d, w);
      } catch {
        // a directory that does not exist (yet): its files are reported missing by the compile
      }
    }
  };

  const run = async (changed: string[]): Promise<void> => {
    cb.onStart(changed);
    let entries: readonly ProjectEntry[];
    if (!project || changed.length === 0 || (projectFile !== undefined && changed.includes(projectFile))) {
      const loaded = await opts.load();
      project = loaded.project;
      if (!project) {
        sync();
        await cb.onDone([], loaded.diagnostics);
        return;
      }
      entries = project.entries;
      sync(); // before compiling: an edit made while the first compile runs is not missed
    } else {
      const set = new Set(changed);
      entries = project.entries.filter((e) => inputsOf(e).some((f) => set.has(f)));
    }
    const results = await compileProject(project, 'write', entries);
    await cb.onDone(results, []);
  };

  // A bug in tdc must not end the watch: report it like a diagnostic and keep watching.
  const guarded = (changed: string[]): Promise<void> =>
    run(changed).catch(async (e: unknown) => {
      sync();
      await cb.onDone([], [diag('error', 'TDC999', `internal error: ${e instanceof Error ? e.message : String(e)} (this is a bug in tdc)`)]);
    });

  const schedule = (file: string): void => {
    if (closed) return;
    pending.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changed = [...pending];
      pending.clear();
      running = running.then(() => (closed ? undefined : guarded(changed)));
    }, opts.debounceMs ?? 80);
  };

  running = guarded([]);
  return {
    files: () => [...watched],
    idle: async () => {
      let last: Promise<void> | undefined;
      while (last !== running) {
        last = running;
        await running;
      }
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/** `[hh:mm:ss]` in local time, as tsc --watch prints it. */
export function clockStamp(d = new Date()): string {
  return `[${d.toTimeString().slice(0, 8)}]`;
}
