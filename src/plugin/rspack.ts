// tdc-compiler/rspack: the tdc bundler plugin for Rspack (see docs/integration.md).
import { unpluginTdc } from './unplugin.js';

export type { TdcPluginOptions } from './options.js';
export default unpluginTdc.rspack;
