// A long-lived build session over a project (the bundler plugin's state): each update() reloads tdc.config when
// it changed and recompiles only the entries whose inputs (config, spec files, sample io_dict, options, tdc
// itself) changed since they were last compiled, writing their output. Nor is an entry compiled whose output
// directory's stamp shows it was compiled from exactly these inputs and is unchanged since (fingerprint.ts), as
// on a fresh build with nothing changed. Errors stay reported until their entry compiles (or is up to date) again.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { compileEntry, type EntryResult } from './compile-project.js';
import { displayPath, findProjectConfig, loadProject, projectFromConfig, type Project, type ProjectEntry } from './load-project.js';
import { entryInputs, hashFiles, inputFingerprint, keptOutput } from './fingerprint.js';
import { PROJECT_CONFIG_NAMES, type TdcConfig } from './define-config.js';

export interface SessionOptions {
  /** Directory where tdc.config is looked up and that relative paths of inline options are relative to. */
  root: string;
  /** An explicit tdc.config file (relative to `root`). */
  configFile?: string;
  /** Inline configuration instead of a tdc.config file. */
  inline?: TdcConfig;
}

export interface SessionUpdate {
  /** Entries compiled by this update (the others were unchanged). */
  compiled: EntryResult[];
  /** Entries this update did not compile because their output on disk is up to date (stamped with these inputs). */
  upToDate: ProjectEntry[];
  /** Every error now: loading tdc.config, and each entry's last compile. */
  errors: Diagnostic[];
  /** Warnings of the entries compiled by this update (and those recorded with the output of `upToDate`). */
  warnings: Diagnostic[];
}

export class ProjectSession {
  private project: Project | undefined;
  private projectHash: string | undefined;
  private loadErrors: Diagnostic[] = [];
  /** Per output directory: the fingerprint of the last compile and its errors. */
  private last = new Map<string, { hash: string; errors: Diagnostic[] }>();
  /** The tdc.config file; looked up in the root again by each update until there is one (created after the start). */
  private configFile: string | undefined;
  /** The tdc.config this session loaded and then saw deleted (named in the error until another is found). */
  private deletedConfig: string | undefined;
  /** missingConfigs() when the project was last loaded. */
  private missing = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SessionOptions) {
    this.configFile = opts.inline ? undefined : opts.configFile !== undefined ? resolve(opts.root, opts.configFile) : findProjectConfig(opts.root);
  }

  /** The files whose change calls for an update(): tdc.config (while there is none, each name it may have) and every
   *  entry's inputs (absolute). */
  watchFiles(): string[] {
    const looking = !this.opts.inline && this.configFile === undefined;
    const files = new Set<string>(this.configFile ? [this.configFile] : looking ? PROJECT_CONFIG_NAMES.map((n) => resolve(this.opts.root, n)) : []);
    for (const e of this.project?.entries ?? []) for (const f of entryInputs(e)) files.add(f);
    return [...files];
  }

  isInput(file: string): boolean {
    return this.watchFiles().includes(resolve(file));
  }

  /** Output directories of the project (for hosts that should not treat their changes as source edits). */
  outputs(): string[] {
    return (this.project?.entries ?? []).map((e) => e.out);
  }

  /** Loads or reloads the project if needed and compiles what changed. Calls are serialized. */
  update(): Promise<SessionUpdate> {
    const run = this.queue.then(() => this.doUpdate());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doUpdate(): Promise<SessionUpdate> {
    await this.reload();
    const compiled: EntryResult[] = [];
    const upToDate: ProjectEntry[] = [];
    const kept: Diagnostic[] = [];
    const entries = this.project?.entries ?? [];
    for (const e of entries) {
      if (!existsSync(e.config)) continue; // deleted: reported where tdc.config lists it (reload)
      const hash = inputFingerprint(this.project!, e);
      if (this.last.get(e.out)?.hash === hash) continue;
      const warnings = await keptOutput(e.out, hash);
      if (warnings) {
        upToDate.push(e);
        kept.push(...warnings);
        this.last.set(e.out, { hash, errors: [] });
        continue;
      }
      const r = await compileEntry(this.project!, e, 'write', hash);
      compiled.push(r);
      this.last.set(e.out, { hash, errors: r.diagnostics.filter((d) => d.severity === 'error') });
    }
    const live = new Set(entries.map((e) => e.out));
    for (const k of this.last.keys()) if (!live.has(k)) this.last.delete(k);
    return {
      compiled,
      upToDate,
      errors: [...this.loadErrors, ...[...this.last.values()].flatMap((l) => l.errors)],
      warnings: [...kept, ...compiled.flatMap((r) => r.diagnostics.filter((d) => d.severity === 'warning'))],
    };
  }

  /** The configs of the project that are not on disk, as one string (compared between updates). */
  private missingConfigs(): string {
    return (this.project?.entries ?? []).filter((e) => !existsSync(e.config)).map((e) => e.config).join('\n');
  }

  private async reload(): Promise<void> {
    if (this.opts.inline) {
      if (this.project || hasErrors(this.loadErrors)) return;
      const r = await projectFromConfig(this.opts.inline, this.opts.root, '<tdc plugin options>');
      this.project = r.project;
      this.loadErrors = r.diagnostics.filter((d) => d.severity === 'error');
      return;
    }
    // a tdc.config found by looking (not named in the options) that was deleted: look again, so that one created
    // under another name (tdc.config.json → tdc.config.ts) is taken without a restart
    if (this.configFile !== undefined && this.opts.configFile === undefined && !existsSync(this.configFile)) {
      this.deletedConfig = this.configFile;
      this.configFile = undefined;
      this.projectHash = undefined;
    }
    this.configFile ??= findProjectConfig(this.opts.root);
    if (this.configFile === undefined) {
      const deleted = this.deletedConfig ? `${displayPath(this.deletedConfig)} was deleted, and there is ` : '';
      this.loadErrors = [
        diag('error', 'TDC670', `${deleted}no${deleted ? ' other' : ''} tdc.config.{ts,mts,mjs,js,json} in ${this.opts.root}`, undefined, {
          hint: "create one (export default defineConfig({ configs: ['kd.yaml'] })), or pass the configs to the plugin: tdc({ configs: ['kd.yaml'] })",
        }),
      ];
      return;
    }
    // reloaded also when a config it lists was deleted or came back: loading names a missing one at its entry
    // in tdc.config (TDC672), where compiling it would only say that it cannot be read
    const hash = hashFiles([this.configFile], '');
    const missing = this.missingConfigs();
    if (hash === this.projectHash && missing === this.missing) return;
    this.projectHash = hash;
    this.missing = missing;
    const r = await loadProject(this.configFile);
    this.loadErrors = r.diagnostics.filter((d) => d.severity === 'error');
    if (r.project) this.project = r.project; // entries whose options changed get a new fingerprint
  }
}
