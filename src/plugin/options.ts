// Options of the bundler plugin (tdc-compiler/vite, /rollup, /esbuild, /webpack, /rspack), and their check: an
// unknown or mistyped option fails the build with a diagnostic naming it (a misspelt `confg` was ignored before,
// a `root: 5` a TypeError out of node:path).
import type { TdcConfig } from '../project/define-config.js';
import { diag, type Diagnostic } from '../diagnostics/index.js';
import { closest } from '../diagnostics/suggest.js';

export interface TdcPluginOptions extends Partial<TdcConfig> {
  /**
   * The tdc.config file to use, relative to `root`. Default: `tdc.config.{ts,mts,mjs,js,json}` in `root`.
   * Ignored when `configs` is given here (the options are then the configuration).
   */
  config?: string;
  /**
   * Where tdc.config is looked up and what relative paths are relative to. Default: the bundler's root (Vite's
   * `root`, webpack's and Rspack's `context`, esbuild's `absWorkingDir`), else the working directory.
   */
  root?: string;
}

const PLUGIN_KEYS = ['config', 'root'] as const;
/** The options of an inline tdc.config; their values are checked with the configuration (projectFromConfig). */
const INLINE_KEYS = ['configs', 'outDir', 'workgroupSize', 'specs'] as const;
const WHERE = '<tdc plugin options>';

/** What is wrong with the options given to the plugin (empty when nothing): TDC671 errors. */
export function pluginOptionProblems(options: unknown): Diagnostic[] {
  const problem = (message: string, hint?: string): Diagnostic => diag('error', 'TDC671', `${WHERE}: ${message}`, undefined, hint ? { hint } : undefined);
  if (options === undefined) return [];
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return [problem(`expected an object of options, got ${JSON.stringify(options) ?? typeof options}`, "tdc(), tdc({ config: 'tdc.config.ts' }) or tdc({ configs: ['kd.yaml'] })")];
  const o = options as Record<string, unknown>;
  const known: readonly string[] = [...PLUGIN_KEYS, ...INLINE_KEYS];
  const ds: Diagnostic[] = [];
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const s = closest(k, known);
    ds.push(problem(`unknown option '${k}'`, s ? `did you mean '${s}'?` : `options: ${known.join(', ')}`));
  }
  for (const k of PLUGIN_KEYS)
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) ds.push(problem(`${k}: expected a non-empty string, got ${JSON.stringify(o[k])}`));
  if (o['configs'] === undefined)
    for (const k of INLINE_KEYS)
      if (o[k] !== undefined)
        ds.push(problem(`'${k}' is an option of an inline configuration, which needs 'configs'`, `list the configs too (tdc({ configs: ['kd.yaml'], ${k}: … })), or set '${k}' in tdc.config`));
  return ds;
}
