// A fingerprint of everything tdc compiles, to check that a refactor of the back half changes no output: every real
// config of ../shared/torchdistill/configs (symbolic shapes) and every golden case of ../shared/golden (`--like`
// its tensors), compiled in-process after `npm run build`; per job, the sha256 of each output file (or the first
// error's code), as JSON on stdout.
//   node scripts/output-fingerprint.mjs [--glue] > before.json   (… the change, npm run build …)
//   node scripts/output-fingerprint.mjs [--glue] > after.json && cmp before.json after.json
// Without --glue the kernels' WGSL (kernels/*.wgsl, variants included); with it the generated TypeScript glue too.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compile } from '../dist/src/api/compile.js';

const shared = process.env.TDC_SHARED ?? join(import.meta.dirname, '..', '..', 'shared');
const glue = process.argv.includes('--glue');
const yamlFiles = (dir) =>
  readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
    });
const jobs = yamlFiles(join(shared, 'torchdistill', 'configs')).map((config) => ({ config }));
for (const g of readdirSync(join(shared, 'golden')).sort()) {
  const dir = join(shared, 'golden', g);
  if (existsSync(join(dir, 'config.yaml')) && existsSync(join(dir, 'tensors.safetensors'))) jobs.push({ config: join(dir, 'config.yaml'), like: join(dir, 'tensors.safetensors') });
}
const out = {};
for (const { config, like } of jobs) {
  const r = await compile(config, { ...(like ? { like } : {}), glue, root: shared });
  const key = relative(shared, config) + (like ? ' (like its tensors)' : '');
  if (!r.ok) {
    out[key] = `not compiled: ${r.diagnostics.find((d) => d.severity === 'error')?.code ?? '?'}`;
    continue;
  }
  const files = [...r.files].filter(([path]) => glue || path.endsWith('.wgsl')).sort(([a], [b]) => (a < b ? -1 : 1));
  out[key] = Object.fromEntries(files.map(([path, text]) => [path, createHash('sha256').update(text).digest('hex')]));
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
