// The same app bundled by esbuild with tdc's esbuild plugin: `node build-esbuild.mjs [outdir]`.
import { build } from 'esbuild';
import tdc from 'tdc-compiler/esbuild';

const here = new URL('.', import.meta.url).pathname;
const outdir = process.argv[2] ?? 'dist-esbuild';
try {
  await build({
    absWorkingDir: here,
    entryPoints: ['src/main.ts'],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    outdir,
    loader: { '.safetensors': 'file' },
    logLevel: 'warning',
    plugins: [tdc()],
  });
  console.log(`built ${outdir}/main.js`);
} catch {
  process.exitCode = 1; // esbuild has printed the errors (tdc's diagnostics among them)
}
