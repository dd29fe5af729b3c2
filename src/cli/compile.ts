// tdc compile: configs → output directories (kernels/*.wgsl, <name>.ts glue, manifest.json), written atomically.
//   tdc compile kd.yaml -o out/     one config
//   tdc compile                     every config of ./tdc.config.{ts,mts,mjs,js,json} (or -p file)
//   tdc compile kd.yaml             that config's entry of tdc.config
// --check compares instead of writing (exit 1 and the list of stale files); --watch recompiles on change;
// --json prints the results as JSON. Input shapes: symbolic by default (batch N, class/channel C: rank-2 io
// tensors [N, C], targets [N], model losses []); `--like io.safetensors` takes ranks and sizes from a sample
// (batch dim made symbolic); `--shape name=NxCx7x7` pins one input (letters are symbols, numbers are sizes).
import { resolve } from 'node:path';
import { diag, hasErrors, isInternalError, type Diagnostic } from '../diagnostics/index.js';
import { parseShapeArg, UNREAD_SHAPE } from '../api/shapes.js';
import { UNKNOWN_STAGE } from '../compiler/driver/pick-stage.js';
import { SHAPES_NOTE } from '../compiler/compile.js';
import { ExitCode, exitCodeFor } from './exit-code.js';
import { explainCompiled } from './explain-plan.js';
import { diagnosticJson, forgetPrintedDiagnostics, printDiagnostics, usageError, useColor, type GlobalOptions } from './output.js';
import { parseWorkgroupSize } from './workgroup-size.js';

export interface CompileOptions extends GlobalOptions {
  out?: string;
  project?: string;
  stage?: string;
  name?: string;
  workgroupSize?: string;
  shape?: string[];
  like?: string;
  glue?: boolean;
  explain?: boolean;
  watch?: boolean;
  check?: boolean;
}

type Loaded = { project?: import('../project/load-project.js').Project; diagnostics: Diagnostic[]; usage?: boolean };

/** Exit codes (exit-code.ts): 0 ok, 1 errors or (--check) stale output, 2 usage, 70 internal error. */
export async function compileCommand(config: string | undefined, opts: CompileOptions): Promise<number> {
  const usage = (msg: string): Promise<number> => usageError('compile', [diag('error', 'TDC902', msg)], opts);
  if (opts.watch && opts.check) return usage('--watch and --check cannot be combined');
  if (opts.watch && opts.json) return usage('--watch prints diagnostics as text; --json goes with a single compile or --check');

  const load = (): Promise<Loaded> => loadFor(config, opts);
  if (opts.watch) {
    const first = await load();
    if (first.usage) return usageError('compile', first.diagnostics, opts);
    return watchCommand(load, first, opts);
  }
  const loaded = await load();
  if (loaded.usage) return usageError('compile', loaded.diagnostics, opts);
  if (!loaded.project) {
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, configs: [], diagnostics: loaded.diagnostics.map(diagnosticJson) }, null, 2) + '\n');
    await printDiagnostics(opts.json ? loaded.diagnostics.filter(isInternalError) : loaded.diagnostics, opts);
    return exitCodeFor(loaded.diagnostics.length ? loaded.diagnostics : [diag('error', 'TDC902', 'nothing to compile')]);
  }
  const { compileProject, entryFailed } = await import('../project/compile-project.js');
  const results = await compileProject(loaded.project, opts.check ? 'check' : 'write');
  const all = [...loaded.diagnostics, ...results.flatMap((r) => r.diagnostics)];
  // --stage names a stage the config lacks, --shape a tensor it does not read: usage errors, as with `tdc run --stage`
  const badStage = (opts.stage !== undefined && all.some((d) => d.code === UNKNOWN_STAGE)) || (opts.shape !== undefined && all.some((d) => d.code === UNREAD_SHAPE));
  const code = exitCodeFor(all, badStage);
  const failed = code !== ExitCode.ok || results.some(entryFailed);
  if (opts.json) {
    process.stdout.write(JSON.stringify(await resultsJson(results, opts.check ? 'check' : 'write', loaded.diagnostics), null, 2) + '\n');
    await printDiagnostics(all.filter(isInternalError), opts);
  } else {
    await printDiagnostics(loaded.diagnostics, opts);
    for (const r of results) await reportEntry(r, opts);
    if (opts.check && results.length > 1) {
      const stale = results.filter((r) => r.check && !r.check.upToDate).length;
      process.stdout.write(stale ? `${stale} of ${results.length} outputs are stale: run tdc compile\n` : `all ${results.length} outputs are up to date\n`);
    }
    if (badStage) process.stderr.write('(run `tdc compile --help` for usage)\n');
  }
  return code !== ExitCode.ok ? code : failed ? ExitCode.failed : ExitCode.ok;
}

/** Which configs to compile: the one on the command line (with -o), or tdc.config's (all, or the one named). */
async function loadFor(config: string | undefined, opts: CompileOptions): Promise<Loaded> {
  const { findProjectConfig, loadProject, displayPath } = await import('../project/load-project.js');
  const wg = parseWorkgroupSize(opts.workgroupSize, 'compile');
  if (typeof wg === 'object') return { usage: true, diagnostics: [wg] };
  const badShapes = (opts.shape ?? []).map(parseShapeArg).filter((r): r is Diagnostic => 'code' in r);
  if (badShapes.length) return { usage: true, diagnostics: badShapes };
  const perConfig = (['stage', 'name', 'shape', 'like'] as const).filter((k) => opts[k] !== undefined);
  const { isModuleStem, moduleNameOf } = await import('../api/compile.js');
  if (opts.name !== undefined && !isModuleStem(opts.name))
    return { usage: true, diagnostics: [diag('error', 'TDC612', `--name '${opts.name}': expected a file stem of letters, digits, '_', '.' and '-' (starting with a letter or '_')`)] };

  if (config !== undefined && opts.out !== undefined) {
    if (opts.project !== undefined) return { usage: true, diagnostics: [diag('error', 'TDC902', '-p/--project and -o/--out cannot be combined: -o compiles the config given, -p the configs of a tdc.config')] };
    const entry = {
      config: resolve(config),
      name: opts.name ?? moduleNameOf(config),
      out: resolve(opts.out),
      ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
      ...(opts.shape !== undefined ? { shapes: opts.shape } : {}),
      ...(opts.like !== undefined ? { like: resolve(opts.like) } : {}),
      ...(wg !== undefined ? { workgroupSize: wg } : {}),
      specs: (opts.spec ?? []).map((s) => resolve(s)),
      glue: opts.glue,
    };
    return { project: { file: '<command line>', root: process.cwd(), entries: [entry] }, diagnostics: [] };
  }
  if (opts.out !== undefined) return { usage: true, diagnostics: [diag('error', 'TDC902', '-o/--out needs a config: tdc compile <config> -o <dir>')] };

  const file = opts.project !== undefined ? resolve(opts.project) : findProjectConfig(process.cwd());
  if (file === undefined) {
    const what = config === undefined ? 'no config given' : `no -o/--out for ${config}`;
    return { usage: true, diagnostics: [diag('error', 'TDC902', `${what}, and no tdc.config.{ts,mts,mjs,js,json} in ${process.cwd()}`)] };
  }
  const loaded = await loadProject(file);
  if (!loaded.project) return loaded;
  let entries = loaded.project.entries;
  if (config !== undefined) {
    entries = entries.filter((e) => e.config === resolve(config));
    if (!entries.length)
      return { usage: true, diagnostics: [diag('error', 'TDC902', `${config} is not one of the configs of ${displayPath(file)}; give -o <dir> to compile it on its own`)] };
    if (opts.name !== undefined) return { usage: true, diagnostics: [diag('error', 'TDC902', `--name: ${config} is compiled as configured in ${displayPath(file)}; set its 'name' there`)] };
    if (opts.stage !== undefined || opts.shape !== undefined || opts.like !== undefined)
      entries = entries.map((e) => ({
        ...e,
        ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
        ...(opts.shape !== undefined ? { shapes: opts.shape } : {}),
        ...(opts.like !== undefined ? { like: resolve(opts.like) } : {}),
      }));
  } else if (perConfig.length) {
    return { usage: true, diagnostics: [diag('error', 'TDC902', `--${perConfig[0]} applies to one config: name it (tdc compile <config> --${perConfig[0]} ...) or set it in ${displayPath(file)}`)] };
  }
  entries = entries.map((e) => ({
    ...e,
    ...(wg !== undefined ? { workgroupSize: wg } : {}),
    specs: [...e.specs, ...(opts.spec ?? []).map((s) => resolve(s))],
    glue: opts.glue,
  }));
  return { project: { ...loaded.project, entries }, diagnostics: loaded.diagnostics };
}

type EntryResult = import('../project/compile-project.js').EntryResult;

/** What a compile prints: errors and warnings, and of the notes only the input shapes a stage that failed was compiled
 *  for, with the hint to pin them (a default [N, C] under a feature-map loss fails deep in its spec); the others
 *  (legacy-schema mapping) are for --json and `tdc check --verbose`. */
const shown = (ds: readonly Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity !== 'note' || d.code === SHAPES_NOTE);

async function reportEntry(r: EntryResult, opts: CompileOptions): Promise<void> {
  const { displayPath } = await import('../project/load-project.js');
  await printDiagnostics(shown(r.diagnostics), opts);
  const out = displayPath(r.entry.out);
  if (!r.result.ok) return;
  if (r.check) {
    if (r.check.upToDate) process.stdout.write(`up to date: ${out}\n`);
    else {
      process.stdout.write(`stale: ${out} (${r.check.differences.length} file${r.check.differences.length === 1 ? '' : 's'} differ; run tdc compile)\n`);
      for (const d of r.check.differences) process.stdout.write(`  ${d.status.padEnd(7)} ${out}/${d.file}\n`);
    }
    return;
  }
  if (hasErrors(r.diagnostics)) return;
  if (opts.explain) process.stdout.write(explainCompiled(r.result.stages, useColor(opts)));
  const plans = r.result.stages;
  const nk = plans.reduce((a, p) => a + p.plan.kernels.length, 0);
  const what = `${nk} kernel${nk === 1 ? '' : 's'} in ${plans.length} stage${plans.length === 1 ? '' : 's'}, manifest.json${r.result.files.has(`${r.result.name}.ts`) ? `, ${r.result.name}.ts` : ''}`;
  process.stdout.write(r.unchanged ? `unchanged ${out}: ${what}\n` : `wrote ${out}: ${what}\n`);
  const glue = r.result.files.has(`${r.result.name}.ts`);
  for (const { stage, plan } of plans) {
    const state = (plan.outputs.state ?? []).map((s) => s.name.replace(/^state_out\//, ''));
    if (state.length)
      process.stdout.write(
        `  stage '${stage}' keeps state across steps (${state.join(', ')}): ${glue ? 'set it once with setState(); each forward updates it on the device' : "manifest.json's outputs.state"}\n`,
      );
  }
}

/** The --json document: per config its files, kernels, diagnostics and (--check) the differences. */
async function resultsJson(results: readonly EntryResult[], mode: 'write' | 'check', loadDiagnostics: readonly Diagnostic[] = []): Promise<unknown> {
  const { displayPath } = await import('../project/load-project.js');
  return {
    ok: !results.some((r) => hasErrors(r.diagnostics) || (r.check !== undefined && !r.check.upToDate)) && !hasErrors(loadDiagnostics),
    mode,
    configs: results.map((r) => ({
      config: r.result.config,
      name: r.result.name,
      out: displayPath(r.entry.out),
      ok: r.result.ok && !hasErrors(r.diagnostics),
      ...(mode === 'write' ? { written: r.written, unchanged: r.unchanged } : {}),
      ...(r.check ? { upToDate: r.check.upToDate, differences: r.check.differences } : {}),
      files: [...r.result.files.keys()],
      kernels: r.result.kernels,
      diagnostics: r.diagnostics.map(diagnosticJson),
    })),
    ...(loadDiagnostics.length ? { diagnostics: loadDiagnostics.map(diagnosticJson) } : {}),
  };
}

async function watchCommand(load: () => Promise<Loaded>, first: Loaded, opts: CompileOptions): Promise<number> {
  const { watchProject, clockStamp } = await import('../project/watch.js');
  let firstLoad: Loaded | undefined = first;
  const handle = watchProject(
    {
      load: async () => {
        const l = firstLoad ?? (await load());
        firstLoad = undefined;
        return l;
      },
      projectFile: await projectFileOf(opts),
    },
    {
      onStart: (changed) => {
        forgetPrintedDiagnostics();
        process.stdout.write(
          changed.length === 0 ? `${clockStamp()} Starting compilation in watch mode...\n\n` : `${clockStamp()} File change detected. Starting incremental compilation...\n\n`,
        );
      },
      onDone: async (results, loadDiagnostics) => {
        {
          await printDiagnostics(loadDiagnostics, opts);
          const ds = [...loadDiagnostics];
          for (const r of results) {
            await printDiagnostics(shown(r.diagnostics), opts);
            ds.push(...r.diagnostics);
            if (r.result.ok && !hasErrors(r.diagnostics)) {
              const { displayPath } = await import('../project/load-project.js');
              process.stdout.write(`${r.unchanged ? 'unchanged' : 'wrote'} ${displayPath(r.entry.out)}\n`);
            } else if (!r.result.ok) {
              const { displayPath } = await import('../project/load-project.js');
              process.stdout.write(`kept the last good output in ${displayPath(r.entry.out)}\n`);
            }
          }
          const n = ds.filter((d) => d.severity === 'error').length;
          process.stdout.write(`\n${clockStamp()} Found ${n} error${n === 1 ? '' : 's'}. Watching for file changes.\n\n`);
        }
      },
    },
  );
  await new Promise<void>((done) => {
    const stop = (): void => {
      handle.close();
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function projectFileOf(opts: CompileOptions): Promise<string | undefined> {
  if (opts.out !== undefined) return undefined;
  if (opts.project !== undefined) return resolve(opts.project);
  const { findProjectConfig } = await import('../project/load-project.js');
  return findProjectConfig(process.cwd());
}
