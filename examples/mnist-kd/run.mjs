// `npm run example:mnist -- [flags]`: builds tdc, compiles the example's two configs with `tdc compile` (the glue a
// user would generate), type-checks and builds the example, then runs it. Build output goes to stderr, so that
// with --json the result is the last line on stdout.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const tdc = join(repo, 'bin', 'tdc.js');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const quiet = { cwd: repo, stdio: ['ignore', 2, 2] };

function run(cmd, args, opts = quiet) {
  const r = spawnSync(cmd, args, opts);
  if (r.status !== 0) {
    process.stderr.write(`example:mnist: '${[cmd, ...args].join(' ')}' failed (${r.signal ?? `exit ${r.status}`})\n`);
    process.exit(r.status || 1);
  }
}

run('npm', ['run', '--silent', 'build']); // the runtime package, then the compiler
run(process.execPath, [tdc, 'compile', 'examples/mnist-kd/kd.yaml', '-o', 'examples/mnist-kd/out/kd']);
// ATLoss reads the conv2 feature maps: pinned rank 4, NCHW as torchdistill sees them (the bridge transposes tfjs's NHWC)
run(process.execPath, [
  tdc, 'compile', 'examples/mnist-kd/at.yaml', '-o', 'examples/mnist-kd/out/at',
  '--shape', 'student/conv2/output=NxAxHxW', '--shape', 'teacher/conv2/output=NxBxHxW',
]);
run(process.execPath, [tsc, '-p', 'examples/mnist-kd/tsconfig.json']);
run(process.execPath, [join(here, 'dist', 'main.js'), ...process.argv.slice(2)], { cwd: repo, stdio: 'inherit' });
