// tdc-compiler/vite: the tdc bundler plugin for Vite (see docs/integration.md).
import { unpluginTdc } from './unplugin.js';

export type { TdcPluginOptions } from './options.js';
export default unpluginTdc.vite;
