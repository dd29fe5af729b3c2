// The bundler plugin, on unplugin: one implementation for Vite, Rollup, esbuild, webpack and Rspack.
//   - build start: compile the project's configs (tdc.config or inline options) into their output directories,
//     so the typed glue is on disk before the bundler resolves imports of it (and editors and tsc see its types);
//     errors fail the build with tdc's positioned diagnostics and code frames.
//     Rollup and Vite run every plugin's buildStart in parallel: tdc's is `sequential` and ordered `pre`, so a
//     TypeScript plugin that builds its program at build start (@rollup/plugin-typescript) waits for the glue.
//     unplugin runs buildStart for webpack and Rspack in their `make` hook, in parallel with the entries'
//     resolution: there tdc compiles in `beforeRun` / `watchRun` instead, which finish before a compilation
//     exists, and reports errors as the compilation's errors (so `--watch` keeps watching the configs).
//   - a config whose output directory is stamped with exactly its current inputs (config, spec files, sample,
//     options, tdc itself) and unchanged since is not compiled at all: a build with nothing changed compiles
//     nothing (src/project/fingerprint.ts). Each build logs per config, at the bundler's info level, whether it
//     was compiled or up to date.
//   - the configs, spec files, sample io_dicts and tdc.config are registered as watched files; in watch mode
//     each rebuild recompiles only what changed (the session fingerprints every entry's inputs).
//   - Vite dev server: a change to one of those files recompiles at once; the regenerated glue then reaches the
//     page through Vite's own HMR; errors go to the terminal and the browser's error overlay (each page that
//     connects while they stand gets it; fixing them clears it).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createUnplugin, type UnpluginFactory } from 'unplugin';
import { ProjectSession, type SessionUpdate } from '../project/session.js';
import { displayPath } from '../project/load-project.js';
import { formatDiagnostics } from '../api/format-diagnostics.js';
import { hasErrors } from '../diagnostics/index.js';
import { TdcBuildError } from './build-error.js';
import { pluginOptionProblems, type TdcPluginOptions } from './options.js';

type ViteDevServer = {
  watcher: { add(files: string | readonly string[]): unknown; on(event: 'all', cb: (event: string, file: string) => void): unknown };
  ws: { send(payload: unknown): void; on(event: 'vite:client:connect', cb: (data: unknown, client: { send(payload: unknown): void }) => void): unknown };
  config: { logger: { info(msg: string, o?: unknown): void; error(msg: string, o?: unknown): void; warn(msg: string, o?: unknown): void } };
};

/** The part of a webpack or Rspack compiler the plugin uses (both have these hooks and compilation fields). */
interface WebpackLikeCompiler {
  context?: string;
  getInfrastructureLogger?(name: string): { info(msg: string): void };
  /** In a watch run: the files the watcher saw change, and the file times it took (both before watchRun). */
  modifiedFiles?: unknown;
  fileTimestamps?: unknown;
  /** webpack's file system caches stats and contents; the watcher purges what it saw change. */
  inputFileSystem?: { purge?(what: string[]): void } | null;
  hooks: {
    beforeRun: { tapPromise(name: string, fn: (compiler: unknown) => Promise<void>): void };
    watchRun: { tapPromise(name: string, fn: (compiler: unknown) => Promise<void>): void };
    thisCompilation: { tap(name: string, fn: (compilation: WebpackLikeCompilation) => void): void };
  };
}
interface WebpackLikeCompilation {
  fileDependencies: { add(file: string): unknown };
  /** Files whose creation calls for a rebuild (a tdc.config not there yet). */
  missingDependencies?: { add(file: string): unknown };
  errors: unknown[];
}

export const unpluginFactory: UnpluginFactory<TdcPluginOptions | undefined> = (given) => {
  // Options that are not valid fail each build (and show in Vite's overlay) with their diagnostics; nothing compiles.
  const optionErrors = pluginOptionProblems(given);
  const options: TdcPluginOptions = optionErrors.length ? {} : (given ?? {});
  let root = options.root !== undefined ? resolve(options.root) : undefined;
  let serving = false;
  let session: Pick<ProjectSession, 'update' | 'watchFiles' | 'isInput'> | undefined;
  const getSession = (): NonNullable<typeof session> => {
    if (!session && optionErrors.length) {
      const errors = { compiled: [], upToDate: [], errors: optionErrors, warnings: [] };
      session = { update: async () => errors, watchFiles: () => [], isInput: () => false };
    }
    if (!session) {
      const { config, root: _r, ...inline } = options;
      session = new ProjectSession({
        root: root ?? process.cwd(),
        ...(inline.configs !== undefined ? { inline: { ...inline, configs: inline.configs } } : {}),
        ...(config !== undefined ? { configFile: config } : {}),
      });
    }
    return session;
  };
  const setRoot = (r: string | undefined): void => {
    if (options.root === undefined && r !== undefined && !session) root = resolve(r);
  };

  /** Set by the webpack and Rspack adapters, which compile before the compilation instead of in buildStart. */
  let compilesBeforeMake = false;
  /** The bundler's info-level log (Vite's logger, webpack's infrastructure logger, Rollup's this.info, esbuild's
   *  stderr at logLevel info); undefined where there is none. */
  let info: ((msg: string) => void) | undefined;
  const report = (u: SessionUpdate, log = info): void => {
    for (const w of u.warnings) console.warn(formatDiagnostics([w]));
    for (const e of u.upToDate) log?.(`tdc: ${displayPath(e.out)} is up to date (stamped with the current inputs); not recompiled`);
    for (const r of u.compiled)
      if (r.result.ok && !hasErrors(r.diagnostics)) log?.(`tdc: compiled ${displayPath(r.entry.config)}: ${r.written ? 'wrote' : 'unchanged'} ${displayPath(r.entry.out)}`);
  };

  async function buildStart(this: { addWatchFile(file: string): void; info?: (msg: string) => void }): Promise<void> {
    if (compilesBeforeMake) return;
    const s = getSession();
    const u = await s.update();
    for (const f of s.watchFiles()) {
      try {
        this.addWatchFile(f);
      } catch {
        // esbuild registers watch files from its resolve hook instead (below)
      }
    }
    report(u, info ?? (typeof this.info === 'function' ? (m) => this.info!(m) : undefined));
    if (u.errors.length) {
      if (devServer) showInDevServer(devServer, u);
      else if (serving) console.error(new TdcBuildError(u.errors).message);
      else throw new TdcBuildError(u.errors);
    }
  }

  // Vite dev server: errors go to the terminal and the page's error overlay. The overlay's payload stands while the
  // errors do: each page that connects (a reload) gets it. Once they are fixed the overlay is cleared even when the
  // fix rewrote no glue (back to the last good config): Vite's client clears its overlay on any 'update'.
  let devServer: ViteDevServer | undefined;
  let standingError: { type: 'error'; err: Record<string, unknown> } | undefined;
  const showInDevServer = (server: ViteDevServer, u: SessionUpdate): void => {
    const log = server.config.logger;
    if (u.errors.length) {
      const e = new TdcBuildError(u.errors);
      log.error(e.message, { timestamp: true });
      standingError = { type: 'error', err: { message: e.message, stack: '', plugin: 'tdc', id: e.id, loc: e.loc } };
      server.ws.send(standingError);
      return;
    }
    for (const r of u.compiled) if (r.written) log.info(`tdc: regenerated ${r.entry.out}`, { timestamp: true });
    if (!standingError) return;
    standingError = undefined;
    log.info('tdc: the errors are fixed', { timestamp: true });
    server.ws.send({ type: 'update', updates: [] });
  };

  // webpack and Rspack: compile in beforeRun (a build) or watchRun (each build of --watch), which complete before
  // the compilation starts resolving modules; the compilation then watches the inputs and carries the errors.
  const webpackLike = (compiler: WebpackLikeCompiler): void => {
    setRoot(compiler.context);
    compilesBeforeMake = true;
    const logger = compiler.getInfrastructureLogger?.('tdc');
    if (logger) info = (m) => logger.info(m);
    let last: SessionUpdate | undefined;
    const compileNow = async (): Promise<void> => {
      last = await getSession().update();
      report(last);
      // A watch run took the changed files and their times from the watcher, and purged its file system's cache of
      // them, before this hook: do the same for the glue written just now, or the rebuild would bundle the previous
      // glue (webpack trusts those times and its cache; Rspack rebuilds only the modified files).
      const outs = last.compiled.filter((r) => r.written);
      const written = outs.flatMap((r) => [...r.result.files.keys()].map((f) => join(r.entry.out, f)));
      if (!written.length) return;
      compiler.inputFileSystem?.purge?.([...outs.map((r) => r.entry.out), ...written]);
      for (const f of written) {
        if (compiler.modifiedFiles instanceof Set) compiler.modifiedFiles.add(f);
        if (compiler.fileTimestamps instanceof Map) compiler.fileTimestamps.delete(f);
      }
    };
    compiler.hooks.beforeRun.tapPromise('tdc', compileNow);
    compiler.hooks.watchRun.tapPromise('tdc', compileNow);
    compiler.hooks.thisCompilation.tap('tdc', (compilation) => {
      for (const f of getSession().watchFiles()) (existsSync(f) ? compilation.fileDependencies : (compilation.missingDependencies ?? compilation.fileDependencies)).add(f);
      if (last?.errors.length) compilation.errors.push(new TdcBuildError(last.errors));
    });
  };

  return {
    name: 'tdc',
    enforce: 'pre',

    buildStart,
    rollup: { buildStart: { order: 'pre', sequential: true, handler: buildStart } },

    vite: {
      buildStart: { order: 'pre', sequential: true, handler: buildStart },
      configResolved(config: { root: string; command: string; logger: ViteDevServer['config']['logger'] }) {
        setRoot(config.root);
        serving = config.command === 'serve';
        info = (m) => config.logger.info(m);
      },
      configureServer(server: ViteDevServer) {
        devServer = server;
        const s = getSession();
        server.watcher.add(s.watchFiles());
        server.ws.on('vite:client:connect', (_data, client) => {
          if (standingError) client.send(standingError);
        });
        server.watcher.on('all', (_event, file) => {
          if (!s.isInput(file)) return;
          void s.update().then((u) => {
            server.watcher.add(s.watchFiles());
            showInDevServer(server, u);
          });
        });
      },
    },
    webpack: (compiler) => webpackLike(compiler as unknown as WebpackLikeCompiler),
    rspack: (compiler) => webpackLike(compiler as unknown as WebpackLikeCompiler),
    esbuild: {
      setup(build) {
        setRoot(build.initialOptions.absWorkingDir);
        if (['info', 'debug', 'verbose'].includes(build.initialOptions.logLevel ?? '')) info = (m) => console.error(m);
        // esbuild takes watch files only from resolve/load results: resolve each entry point as esbuild would
        // (pluginData marks the nested call) and attach the configs, specs and samples to that result.
        build.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind !== 'entry-point' || (args.pluginData as { tdc?: boolean } | undefined)?.tdc || !session) return undefined;
          const r = await build.resolve(args.path, { kind: 'entry-point', resolveDir: args.resolveDir, pluginData: { tdc: true } });
          if (r.errors.length || !r.path) return undefined;
          return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects, suffix: r.suffix, pluginData: r.pluginData, watchFiles: session.watchFiles() };
        });
      },
    },
  };
};

export const unpluginTdc = /* #__PURE__ */ createUnplugin(unpluginFactory);
export default unpluginTdc;
