// tdc-runtime as an app's production bundle has it: minified (Vite's default build, esbuild --minify), which renames
// classes. Its errors must still say what they are: `e.name` and the console's / stack's first line name the
// class (NoWebGpuError, GpuDeviceLostError, …), not the one letter the minifier gave it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from './helpers/cli.js';

const RUNTIME = join(ROOT, 'src', 'runtime', 'dist');

test("every error class of tdc-runtime (and tdc-runtime/tfjs) keeps its name when the bundle is minified", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-minified-'));
  try {
    const out = join(dir, 'bundle.mjs');
    await build({
      stdin: { contents: `export * from ${JSON.stringify(join(RUNTIME, 'index.js'))}; export * from ${JSON.stringify(join(RUNTIME, 'tfjs', 'index.js'))};`, resolveDir: dir, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      outfile: out,
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const plain = (await import(pathToFileURL(join(RUNTIME, 'index.js')).href)) as Record<string, unknown>;
    const tfjs = (await import(pathToFileURL(join(RUNTIME, 'tfjs', 'index.js')).href)) as Record<string, unknown>;
    const minified = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
    const base = plain['TdcRuntimeError'] as new (...a: unknown[]) => Error;
    const names = Object.keys({ ...plain, ...tfjs }).filter((k) => {
      const v = plain[k] ?? tfjs[k];
      return typeof v === 'function' && (v === base || v.prototype instanceof base);
    });
    assert.ok(names.includes('NoWebGpuError') && names.includes('GpuDeviceLostError') && names.includes('TfjsBackendError'), names.join());
    for (const name of names) {
      const Cls = minified[name] as new (...a: unknown[]) => Error;
      // TdcRuntimeError and GpuError take (code, message); the others (message, …)
      const e = Cls === minified['TdcRuntimeError'] || Cls === minified['GpuError'] ? new Cls('TDC529', 'what went wrong') : new Cls('what went wrong');
      assert.is(e.name, name, `minified ${name} is named '${e.name}'`);
      assert.is(String(e).split(':')[0], name);
      assert.is(e.stack?.split('\n')[0], `${name}: ${e.message}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
