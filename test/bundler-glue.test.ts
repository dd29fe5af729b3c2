// The bundler plugin on a clean tree (no generated folder yet), with an app that imports the generated glue, the
// way a user builds it: webpack, whose entry imports the glue's manifest.json, and Rollup with
// @rollup/plugin-typescript, whose entry imports the typed glue. Both used to race tdc's compile (webpack runs
// unplugin's buildStart in its parallel `make` hook; Rollup runs buildStart hooks in parallel and the TypeScript
// plugin builds its program in its own) and failed with "Can't resolve" / "Could not resolve" on the first build.
// In webpack's and Rspack's watch mode a changed config is recompiled before the rebuild that bundles it, and a typo is a
// compilation error that keeps the watch going. The app lives in a scratch folder inside the package, so
// 'tdc-compiler/config' in its tdc.config.ts resolves as in a user's project.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin as RollupPlugin } from 'rollup';
import { ROOT, hasStackTrace } from './helpers/cli.js';

const SCRATCH = join(ROOT, 'dist', 'tmp', `bundler-glue-${process.pid}`);
const APP = join(SCRATCH, 'app');
const CONFIG = join(SCRATCH, 'kd', 'config.yaml');
const GENERATED = join(APP, 'src', 'generated');

rmSync(SCRATCH, { recursive: true, force: true });
mkdirSync(join(APP, 'src'), { recursive: true });
cpSync(join(ROOT, 'examples', 'kd'), join(SCRATCH, 'kd'), { recursive: true, filter: (s) => !s.endsWith('/out') });
cpSync(join(ROOT, 'examples', 'vite-app', 'tdc.config.ts'), join(APP, 'tdc.config.ts'));
const GOOD = readFileSync(CONFIG, 'utf8');
// webpack: a plain-JS entry that uses all of manifest.json (so none of it is tree-shaken away)
writeFileSync(join(APP, 'entry-wp.js'), "import manifest from './src/generated/kd/manifest.json';\nconsole.log(JSON.stringify(manifest));\n");
// Rollup: the typed glue, through @rollup/plugin-typescript
writeFileSync(join(APP, 'src', 'main.ts'), "import { TrainCriterion } from './generated/kd/kd';\nexport const criterion: typeof TrainCriterion = TrainCriterion;\n");

/** tdc's positioned diagnostic for the typo (see vite-app.test.ts). */
const TYPO = /kd\/config\.yaml:\d+:\d+ - error TDC203: sub-term 'kd': unknown loss 'KDLos'[\s\S]*key: 'KDLos'\n[\s│]*~{7}/;
const clean = (): void => rmSync(GENERATED, { recursive: true, force: true });
const bundled = (dir: string): string =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');

interface WpStats {
  hasErrors(): boolean;
  toJson(o: object): { errors?: { message: string }[] };
}
// Rspack colors its messages when FORCE_COLOR is set, even to 0 (as scripts/test.mjs does)
const wpErrors = (s: WpStats): string => (s.toJson({ all: false, errors: true }).errors ?? []).map((e) => e.message.replace(/\x1b\[[0-9;]*m/g, '')).join('\n');

interface WpWatching {
  running: boolean;
  close(cb: () => void): void;
}
interface WpCompiler {
  hooks: { watchRun: { tap(o: { name: string; stage: number }, fn: () => void): void } };
  run(cb: (e: Error | null, s?: WpStats) => void): void;
  watch(o: object, cb: (e: Error | null, s?: WpStats) => void): WpWatching | undefined;
  close(cb: () => void): void;
}

/** A console that keeps what is logged to it (for the bundlers' loggers). */
const recorder = (logs: string[]): Console => new Proxy({}, { get: () => (...args: unknown[]) => void logs.push(args.map(String).join(' ')) }) as Console;

/** `logs`: record the infrastructure log at level info (tdc's plugin logs there whether it compiled). */
async function webpackCompiler(which: 'webpack' | 'rspack', out: string, logs?: string[]): Promise<WpCompiler> {
  const infrastructureLogging = logs ? { level: 'info' as const, console: recorder(logs) } : { level: 'error' as const };
  const options = { mode: 'development' as const, devtool: false as const, context: APP, entry: './entry-wp.js', output: { path: join(APP, out) }, infrastructureLogging };
  if (which === 'rspack') {
    const { rspack } = await import('@rspack/core');
    const { default: tdc } = await import('../src/plugin/rspack.js');
    return rspack({ ...options, plugins: [tdc()] }) as unknown as WpCompiler;
  }
  const { default: webpack } = await import('webpack');
  const { default: tdc } = await import('../src/plugin/webpack.js');
  return webpack({ ...options, plugins: [tdc()] }) as unknown as WpCompiler;
}

test('webpack, clean tree: the entry imports the glue it generates; the build succeeds and bundles it', async () => {
  clean();
  const compiler = await webpackCompiler('webpack', 'out-wp');
  const stats = await new Promise<WpStats>((res, rej) => compiler.run((e, s) => (e ? rej(e) : res(s!))));
  await new Promise<void>((res) => compiler.close(() => res()));
  assert.not.ok(stats.hasErrors(), wpErrors(stats));
  assert.match(bundled(join(APP, 'out-wp')), /tdc-manifest\/1/);
});

for (const which of ['webpack', 'rspack'] as const) {
  test(`${which} --watch: a changed config is recompiled before the rebuild; a typo is a build error and the watch goes on`, async () => {
    clean();
    const compiler = await webpackCompiler(which, `out-${which}-watch`);
    // each build's errors, the weight of the KD term in the bundle it emitted and the edits made before it started
    const builds: { errors: string; weight: string | undefined; edits: number }[] = [];
    let edits = 0;
    let startedAfter = 0;
    compiler.hooks.watchRun.tap({ name: 'test', stage: -100 }, () => void (startedAfter = edits)); // before tdc's
    const watching = compiler.watch({ aggregateTimeout: 50 }, (e, s) => {
      const bundle = bundled(join(APP, `out-${which}-watch`));
      builds.push({ errors: e ? String(e.message) : s!.hasErrors() ? wpErrors(s!) : '', weight: /weight\W{1,6}(\d+(?:\.\d+)?)/.exec(bundle)?.[1], edits: startedAfter });
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** The first build that started after `edit` (earlier ones may still finish after it, and a build of the
     *  bundler's own, for the glue that tdc rewrote, may follow it). */
    const buildAfter = async (label: string, edit: () => void): Promise<{ errors: string; weight: string | undefined }> => {
      edit();
      const n = ++edits;
      for (const t0 = Date.now(); !builds.some((b) => b.edits === n); await sleep(50)) {
        if (Date.now() - t0 > 60_000) throw new Error(`${which} --watch: no build after ${label}`);
      }
      const { errors, weight } = builds.find((b) => b.edits === n)!;
      return { errors, weight };
    };
    try {
      for (const t0 = Date.now(); builds.length === 0; await sleep(50)) {
        if (Date.now() - t0 > 60_000) throw new Error(`${which} --watch: no first build`);
      }
      assert.equal(builds[0], { errors: '', weight: '1', edits: 0 });
      const changed = await buildAfter('the config changed', () => writeFileSync(CONFIG, GOOD.replace('          weight: 1.0\n', '          weight: 0.5\n')));
      assert.equal(changed, { errors: '', weight: '0.5' }, 'the rebuild bundled the glue of the previous config');
      const typo = await buildAfter('the typo', () => writeFileSync(CONFIG, GOOD.replace("key: 'KDLoss'", "key: 'KDLos'")));
      assert.match(typo.errors, TYPO, JSON.stringify(typo));
      assert.not.ok(hasStackTrace(typo.errors), typo.errors);
      const fixed = await buildAfter('the typo was fixed', () => writeFileSync(CONFIG, GOOD));
      assert.equal(fixed, { errors: '', weight: '1' });
    } finally {
      writeFileSync(CONFIG, GOOD);
      await new Promise<void>((res) => (watching ? watching.close(() => res()) : res()));
    }
  });
}

// @rollup/plugin-typescript is loaded by a computed name, so that building tdc does not need its types.
const TS_PLUGIN = '@rollup/plugin-typescript';

async function rollupTs(order: 'tdc first' | 'tdc last', logs: string[] = []): Promise<string> {
  const { rollup } = await import('rollup');
  const { default: tdc } = await import('../src/plugin/rollup.js');
  const { default: typescript } = (await import(TS_PLUGIN)) as { default: (o: object) => RollupPlugin };
  const ts = typescript({
    tsconfig: false,
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022'], types: [], strict: true, noCheck: true, skipLibCheck: true, isolatedModules: true },
    include: [join(APP, 'src', '**', '*.ts')],
  });
  const b = await rollup({
    input: join(APP, 'src', 'main.ts'),
    external: (id) => id === 'tdc-runtime' || id.startsWith('tdc-runtime/'),
    plugins: order === 'tdc first' ? [tdc({ root: APP }), ts] : [ts, tdc({ root: APP })],
    onwarn: () => {}, // the glue's types from tdc-runtime are not resolved here: only the bundle matters
    onLog: (level, log) => void (level === 'info' && logs.push(log.message)),
  });
  const { output } = await b.generate({ format: 'esm' });
  await b.close();
  return output.map((c) => ('code' in c ? c.code : '')).join('\n');
}

test('rollup + @rollup/plugin-typescript, clean tree: the entry imports the typed glue; the build succeeds and bundles it', async () => {
  for (const order of ['tdc first', 'tdc last'] as const) {
    clean();
    let code = '';
    try {
      code = await rollupTs(order);
    } catch (e) {
      assert.unreachable(`${order}: ${(e as Error).message}`);
    }
    assert.match(code, /class TrainCriterion/, order);
    assert.match(code, /@compute @workgroup_size/, order);
  }
});

const SKIPPED = /tdc: \S*src\/generated\/kd is up to date \(stamped with the current inputs\); not recompiled/;
const COMPILED = /tdc: compiled \S*kd\/config\.yaml: wrote \S*src\/generated\/kd/;

test('webpack, Rspack and Rollup: the first build compiles; the next one (a new process would do the same) finds the output up to date', async () => {
  const run = async (which: 'webpack' | 'rspack'): Promise<string> => {
    const logs: string[] = [];
    const compiler = await webpackCompiler(which, `out-${which}-again`, logs);
    const stats = await new Promise<WpStats>((res, rej) => compiler.run((e, s) => (e ? rej(e) : res(s!))));
    await new Promise<void>((res) => compiler.close(() => res()));
    assert.not.ok(stats.hasErrors(), wpErrors(stats));
    return logs.join('\n');
  };
  for (const which of ['webpack', 'rspack'] as const) {
    clean();
    const first = await run(which);
    assert.match(first, COMPILED, `${which}: ${first}`);
    const again = await run(which);
    assert.match(again, SKIPPED, `${which}: ${again}`);
    assert.not.match(again, COMPILED, which);
  }
  clean();
  const logs: string[] = [];
  assert.match(await rollupTs('tdc first', logs), /class TrainCriterion/);
  assert.match(logs.join('\n'), COMPILED);
  logs.length = 0;
  assert.match(await rollupTs('tdc first', logs), /class TrainCriterion/);
  assert.match(logs.join('\n'), SKIPPED);
  assert.not.match(logs.join('\n'), COMPILED);

  // `tdc compile` stamps its output the same way: the plugin's next build does not compile it again
  clean();
  const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'tdc.js'), 'compile'], { cwd: APP, encoding: 'utf8' });
  assert.is(cli.status, 0, cli.stdout + cli.stderr);
  logs.length = 0;
  await rollupTs('tdc first', logs);
  assert.match(logs.join('\n'), SKIPPED);

  // another tdc (here: its built-in specs, one comment added) compiles again
  const specDir = join(SCRATCH, 'losses-spec');
  cpSync(join(ROOT, 'src', 'losses-spec'), specDir, { recursive: true });
  writeFileSync(join(specDir, 'distill', 'KDLoss.tdl'), readFileSync(join(specDir, 'distill', 'KDLoss.tdl'), 'utf8') + '\n# another tdc\n');
  process.env['TDC_SPEC_DIR'] = specDir;
  try {
    logs.length = 0;
    await rollupTs('tdc first', logs);
    assert.match(logs.join('\n'), /tdc: compiled \S*kd\/config\.yaml: unchanged/);
  } finally {
    delete process.env['TDC_SPEC_DIR'];
  }
});

test.after(() => rmSync(SCRATCH, { recursive: true, force: true }));

test.run();
