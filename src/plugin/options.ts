// Options of the bundler plugin (tdc-compiler/vite, /rollup, /esbuild, /webpack, /rspack).
import type { TdcConfig } from '../project/define-config.js';

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
