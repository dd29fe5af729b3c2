// tdc-compiler/esbuild: the tdc bundler plugin for Esbuild (see docs/integration.md).
import { unpluginTdc } from './unplugin.js';

export type { TdcPluginOptions } from './options.js';
export default unpluginTdc.esbuild;
