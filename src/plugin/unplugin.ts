// The bundler plugin, on unplugin: one implementation for Vite, Rollup, esbuild, webpack and Rspack.
//   - build start: compile the project's configs (tdc.config or inline options) into their output directories,
//     so the typed glue is on disk before the bundler resolves imports of it (and editors and tsc see its types);
//     errors fail the build with tdc's positioned diagnostics and code frames.
//   - the configs, spec files, sample io_dicts and tdc.config are registered as watched files; in watch mode
//     each rebuild recompiles only what changed (the session fingerprints every entry's inputs).
//   - Vite dev server: a change to one of those files recompiles at once; the regenerated glue then reaches the
//     page through Vite's own HMR; errors go to the terminal and the browser's error overlay.
import { resolve } from 'node:path';
import { createUnplugin, type UnpluginFactory } from 'unplugin';
import { ProjectSession } from '../project/session.js';
import { formatDiagnostics } from '../api/format-diagnostics.js';
import { TdcBuildError } from './build-error.js';
import type { TdcPluginOptions } from './options.js';

type ViteDevServer = {
  watcher: { add(files: string | readonly string[]): unknown; on(event: 'all', cb: (event: string, file: string) => void): unknown };
  ws: { send(payload: unknown): void };
  config: { logger: { info(msg: string, o?: unknown): void; error(msg: string, o?: unknown): void; warn(msg: string, o?: unknown): void } };
};

export const unpluginFactory: UnpluginFactory<TdcPluginOptions | undefined> = (options = {}) => {
  let root = options.root !== undefined ? resolve(options.root) : undefined;
  let serving = false;
  let session: ProjectSession | undefined;
  const getSession = (): ProjectSession => {
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

  return {
    name: 'tdc',
    enforce: 'pre',

    async buildStart() {
      const s = getSession();
      const u = await s.update();
      for (const f of s.watchFiles()) {
        try {
          this.addWatchFile(f);
        } catch {
          // esbuild registers watch files from its resolve hook instead (below)
        }
      }
      for (const w of u.warnings) console.warn(formatDiagnostics([w]));
      if (u.errors.length) {
        if (serving) console.error(new TdcBuildError(u.errors).message);
        else throw new TdcBuildError(u.errors);
      }
    },

    vite: {
      configResolved(config: { root: string; command: string }) {
        setRoot(config.root);
        serving = config.command === 'serve';
      },
      configureServer(server: ViteDevServer) {
        const s = getSession();
        server.watcher.add(s.watchFiles());
        server.watcher.on('all', (_event, file) => {
          if (!s.isInput(file)) return;
          void s.update().then((u) => {
            server.watcher.add(s.watchFiles());
            const log = server.config.logger;
            if (u.errors.length) {
              const e = new TdcBuildError(u.errors);
              log.error(e.message, { timestamp: true });
              server.ws.send({ type: 'error', err: { message: e.message, stack: '', plugin: 'tdc', id: e.id, loc: e.loc } });
              return;
            }
            for (const r of u.compiled) if (r.written) log.info(`tdc: regenerated ${r.entry.out}`, { timestamp: true });
          });
        });
      },
    },
    webpack(compiler: { context?: string }) {
      setRoot(compiler.context);
    },
    rspack(compiler: { context?: string }) {
      setRoot(compiler.context);
    },
    esbuild: {
      setup(build) {
        setRoot(build.initialOptions.absWorkingDir);
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
