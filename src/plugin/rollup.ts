// tdc-compiler/rollup: the tdc bundler plugin for Rollup (see docs/integration.md).
import { unpluginTdc } from './unplugin.js';

export type { TdcPluginOptions } from './options.js';
export default unpluginTdc.rollup;
