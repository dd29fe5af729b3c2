// Bundles the browser page into examples/mnist-kd/dist/page/ (page.html, page.js, the digits, the teacher
// checkpoint when there is one). Needs the compiled glue (examples/mnist-kd/out, written by run.mjs / tdc compile).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'page');
mkdirSync(join(out, 'digits'), { recursive: true });
execFileSync(process.execPath, [join(here, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, 'tsconfig.page.json')], { stdio: 'inherit' });
await build({ entryPoints: [join(here, 'page.ts')], bundle: true, platform: 'browser', format: 'esm', outfile: join(out, 'page.js'), logLevel: 'warning' });
cpSync(join(here, 'page.html'), join(out, 'index.html'));
const require = createRequire(import.meta.url);
for (let d = 0; d < 10; d++) cpSync(require.resolve(`mnist/src/digits/${d}.json`), join(out, 'digits', `${d}.json`));
if (existsSync(join(here, 'checkpoints', 'teacher.json'))) cpSync(join(here, 'checkpoints'), join(out, 'checkpoints'), { recursive: true });
console.log(`built ${out}`);
