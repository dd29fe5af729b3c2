// tdc-compiler/webpack: the tdc bundler plugin for Webpack (see docs/integration.md).
import { unpluginTdc } from './unplugin.js';

export type { TdcPluginOptions } from './options.js';
export default unpluginTdc.webpack;
