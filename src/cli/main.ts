// tdc command line. Each command loads its stages lazily so `tdc check` and `tdc compile` start fast.
// Exit codes (exit-code.ts): 0 ok, 1 diagnostics, 2 usage, 70 internal error; diagnostics on stderr, results on stdout.
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { ExitCode } from './exit-code.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command();
  program
    .name('tdc')
    .description('Compile torchdistill configs into fused WebGPU (WGSL) kernels with typed TypeScript glue.')
    .version(VERSION, '-v, --version')
    .option('--spec <file.tdl>', 'register custom losses from a spec file first (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-color', 'plain output')
    .showHelpAfterError('(run `tdc --help` for usage)')
    .allowExcessArguments(false)
    .exitOverride();

  program
    .command('check')
    .description('load and resolve configs; print diagnostics; exit 1 if any error')
    .argument('<paths...>', 'config files or directories (searched recursively for *.yaml / *.yml)')
    .option('--json', 'print a JSON array, one object per file')
    .option('--verbose', 'also print notes (e.g. legacy-schema mapping)')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const { checkCommand } = await import('./check.js');
      exitCode = await checkCommand(paths, { ...program.opts(), ...opts });
    });

  program
    .command('inspect')
    .description('print the criterion IR of a config: stages, terms, weights, kwargs, tensor reads')
    .argument('<config>', 'config file')
    .option('--json', 'print JSON')
    .action(async (config: string, opts: { json?: boolean }) => {
      const { inspectCommand } = await import('./inspect.js');
      exitCode = await inspectCommand(config, { ...program.opts(), ...opts });
    });

  program
    .command('list')
    .description('print the loss registry with signatures')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listCommand } = await import('./list.js');
      exitCode = await listCommand({ ...program.opts(), ...opts });
    });

  program
    .command('run')
    .description("run a stage's criterion on tensors from a safetensors file; print the loss and terms")
    .argument('<config>', 'config file')
    // required, but checked in the action (requireOptions below): commander checks required options before unknown
    // ones, so `--input io.safetensors` said "required option '--inputs' not specified" and no did-you-mean
    .option('--inputs <file>', 'safetensors with student/<path>/<io>, teacher/..., targets, model_loss/<key> (required)')
    .option('--stage <name>', 'stage to run (train, stage1, …); required for multi-stage configs')
    .addOption(new Option('--device <device>', 'where to run').choices(['auto', 'cpu', 'gpu']).default('auto'))
    .option('--json', 'print {"loss", "terms", "grads"} (and "state" for stateful losses) as JSON')
    .option('--grads-out <file>', 'write gradients as grad/<input name> to a safetensors file')
    .option('--state-out <file>', "write stateful losses' updated buffers as state_out/<term>/<buffer> (CRD memory banks); read state_in/... from --inputs")
    .option('--workgroup-size <n>', 'GPU: threads per workgroup of row kernels, chosen at pipeline creation (default: from the adapter: 8 on software rasterisers, 128 on hardware GPUs)')
    .addOption(
      new Option('--plan-variant <choice>', "GPU: which plan runs, as the compiled glue's planVariant option: auto = the variant with the most storage buffers per kernel the device allows, default = the plan for WebGPU's default limits")
        .choices(['auto', 'default'])
        .default('auto'),
    )
    .option('--explain', 'print the plan that ran (which variant and why, its kernels) and the time of each step')
    .action(async (config: string, opts: Record<string, unknown>, cmd: Command) => {
      requireOptions(cmd, ['inputs']);
      const { runCommand } = await import('./run.js');
      exitCode = await runCommand(config, Object.assign({}, program.opts(), opts) as never);
    });

  program
    .command('migrate')
    .description('rewrite legacy-schema (pre-v1.0) configs to the modern schema, keeping comments, anchors and key order; prints a diff unless --write')
    .argument('<configs...>', 'config files or directories')
    .option('--write', 'rewrite the files in place')
    .action(async (configs: string[], opts: Record<string, unknown>) => {
      const { migrateCommand } = await import('./migrate.js');
      exitCode = await migrateCommand(configs, Object.assign({}, program.opts(), opts) as never);
    });

  program
    .command('compile')
    .description('compile configs into output directories: kernels/*.wgsl, <name>.ts glue, manifest.json (no config: every config of tdc.config)')
    .argument('[config]', 'config file; without one, every config of ./tdc.config.{ts,mts,mjs,js,json}')
    .option('-o, --out <dir>', 'output directory of the config given (written atomically)')
    .option('-p, --project <file>', 'the tdc.config file to use (default: the one in the current directory)')
    .option('--stage <name>', 'compile only this stage')
    .option('--name <name>', 'base name of the generated TypeScript module (default: from the config file name)')
    .option('--workgroup-size <n>', 'pin the row kernels\' threads per workgroup (default: chosen by the runtime per adapter: 8 on lavapipe, 128 on hardware GPUs)')
    .option('--shape <name=dims...>', 'pin input shapes, e.g. student/layer4/output=Nx512x7x7 (letters are symbols; name=N:int for an integer input)')
    .option('--like <io.safetensors>', 'take input ranks and sizes from a sample io_dict (batch dim kept symbolic)')
    .option('--no-glue', 'skip the TypeScript glue (no ts-morph)')
    .option('--explain', 'print the kernel plan: kernels, what each fuses, bytes moved')
    .option('--watch', 'recompile when a config, spec file or sample io_dict changes; keep the last good output on errors')
    .option('--check', 'write nothing; exit 1 and list the files that differ when the output is stale (for CI)')
    .option('--json', 'print the result as JSON: per config its files, kernels and diagnostics')
    .action(async (config: string | undefined, opts: Record<string, unknown>) => {
      const { compileCommand } = await import('./compile.js');
      exitCode = await compileCommand(config, Object.assign({}, program.opts(), opts) as never);
    });

  program
    .command('tune')
    .description("measure each kernel of a config's plan on this GPU at its candidate workgroup sizes (and subgroup variants); cache the fastest for the runtime")
    .argument('<config>', 'config file (compiled in memory as `tdc compile` compiles it with the same options)')
    .option('--stage <name>', 'tune only this stage')
    .option('--workgroup-size <n>', 'as tdc compile --workgroup-size (it changes the plan)')
    .option('--shape <name=dims...>', 'as tdc compile --shape')
    .option('--like <io.safetensors>', 'as tdc compile --like; its shapes also give the sizes measured at')
    .option('--size <name=n...>', 'value of a plan symbol to measure at, e.g. N=128 C=1000 (what --like does not give)')
    .option('-o, --out <file>', 'tuning cache to update (default: TDC_TUNING_CACHE, else $XDG_CACHE_HOME/tdc/tuning.json, else ~/.cache/tdc/tuning.json)')
    .option('--budget <seconds>', 'time for the whole tuning; kernels not reached keep their defaults (default 120)')
    .option('--runs <n>', 'timed runs per candidate, median (default 5)')
    .option('--candidates <sizes>', 'workgroup sizes to try, comma-separated (default 4,8,16,32,64,128,256; each kept where the kernel and device take it)')
    .action(async (config: string, opts: Record<string, unknown>) => {
      const { tuneCommand } = await import('./tune.js');
      exitCode = await tuneCommand(config, Object.assign({}, program.opts(), opts) as never);
    });

  program
    .command('schema')
    .description('print the JSON Schema of torchdistill configs (every registered loss and its kwargs; --spec losses too)')
    .option('-o, --out <file>', 'write it to a file instead')
    .action(async (opts: { out?: string }) => {
      const { schemaCommand } = await import('./schema.js');
      exitCode = await schemaCommand({ ...program.opts(), ...opts });
    });

  program
    .command('doctor')
    .description('check what the GPU path needs: Node, the webgpu (Dawn) package, the adapter, its limits and features')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { doctorCommand } = await import('./doctor.js');
      exitCode = await doctorCommand({ ...program.opts(), ...opts });
    });

  // an empty option value (`--grads-out ""`, `-o ""`, `--stage ""`) names nothing: a usage error for every option
  // and command alike (it used to be ignored, taken as the cwd, or an ENOENT depending on the option)
  program.hook('preAction', async (_root, cmd) => {
    const empty = [cmd, program].flatMap((c) =>
      c.options.filter((o) => {
        const v = c.getOptionValue(o.attributeName()) as unknown;
        return v === '' || (Array.isArray(v) && v.includes(''));
      }),
    );
    if (!empty.length) return;
    const { diag } = await import('../diagnostics/index.js');
    const { usageError } = await import('./output.js');
    const ds = empty.map((o) => diag('error', 'TDC902', `${o.long ?? o.short}: the value is empty`, undefined, { hint: 'give a file, name or number, or leave the option out' }));
    await usageError(cmd.name(), ds, {});
    throw new CommanderError(ExitCode.usage, 'tdc.emptyValue', 'empty option value');
  });

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    // `tdc help chek`: commander prints the whole help on stderr with no word about the name; report it as the
    // unknown command it is, with commander's did-you-mean
    if (argv[0] === 'help' && argv[1] !== undefined && !argv[1].startsWith('-') && !program.commands.some((c) => c.name() === argv[1]))
      argv = argv.slice(1);
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    // commander already printed the message (unknown command/option, missing or invalid argument)
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    const { reportInternalError } = await import('./output.js');
    return reportInternalError(e);
  }
}

/** Options a command cannot run without, checked after commander's unknown-option check (a misspelt option is
 *  reported as unknown, with its did-you-mean, rather than as the required one missing). */
function requireOptions(cmd: Command, names: string[]): void {
  for (const name of names) {
    const option = cmd.options.find((o) => o.attributeName() === name);
    if (option && cmd.getOptionValue(name) === undefined)
      cmd.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
  }
}
