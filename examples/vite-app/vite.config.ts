import { defineConfig } from 'vite';
import tdc from 'tdc-compiler/vite';

export default defineConfig({
  plugins: [tdc()], // reads tdc.config.ts; writes src/generated/ before the app's imports are resolved
  assetsInclude: ['**/*.safetensors'], // the sample io_dict is fetched at run time
  build: { target: 'es2022' },
});
