// The packages as a user gets them: `npm pack` of tdc-compiler and tdc-runtime, installed from the tarballs into a
// fresh directory outside the repository (test/consumer/ holds its sources). There:
// - `npx tdc compile` the KD example and the AT sample (with --like);
// - the consumer (main.ts importing the generated glue, api.ts importing tdc-compiler) type-checks under
//   `tsc --strict` with moduleResolution node16 and bundler, skipLibCheck false, no `types` entry;
// - it runs under Node (tdc-runtime/node) and matches torchdistill's float64 numbers (golden/) at the GPU tolerances;
// - `esbuild --bundle --platform=browser` of browser.ts (no --external) succeeds, and the page in headless Chromium
//   (Debian's /usr/bin/chromium, WebGPU on SwiftShader) gives the same loss and gradients, and rejects a
//   teacher/student batch mismatch, a target ≥ C and a target of -1 (host arrays) and a target ≥ C in a GPUBuffer
//   (checked on the device) with a GpuInputError naming the tensor and no loss; without navigator.gpu it
//   reports the runtime's typed NoWebGpuError;
// - a consumer that installs only tdc-runtime gets no compiler dependency (`npm ls --all`).
// Tarballs are packed with --ignore-scripts from the dist/ that `npm test` has just built (prepack would rebuild it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { GOLDEN, ROOT } from './helpers/cli.js';
import { gradExcess, relErr } from './helpers/golden.js';

const LOSS_RTOL = 1e-5; // float32 GPU vs float64 oracle (as test/golden-gpu)
const GRAD_RTOL = 1e-4;
const CHROMIUM = process.env['TDC_CHROMIUM'] ?? '/usr/bin/chromium';
const KD_CASE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34'; // examples/kd/io.safetensors holds its inputs
const AT_CASE = 'sample__ilsvrc2012__at__resnet18_from_resnet34';
const CRD_CASE = 'sample__ilsvrc2012__crd__resnet18_from_resnet50'; // stateful: memory banks kept on the device

const work = mkdtempSync(join(tmpdir(), 'tdc-consumer-'));
const packs = join(work, 'packs');
const app = join(work, 'app');
const runtimeOnly = join(work, 'runtime-only');

/** npm without the npm_* variables `npm test` exports (they would redirect a nested install). */
function npm(args: string[], cwd: string, timeoutMs = 300_000): SpawnSyncReturns<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.is(r.status, 0, `${what} exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const expected = (id: string) => JSON.parse(readFileSync(join(GOLDEN, id, 'expected.json'), 'utf8')) as { loss: number; terms: Record<string, { value: number }> };
/** A golden case's float64 tensor by its full name (grad/…, state_out/…). */
const goldenTensor = (id: string, name: string): Float64Array => {
  const buf = readFileSync(join(GOLDEN, id, 'tensors.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const e = header[name]!;
  assert.is(e.dtype, 'F64');
  const bytes = buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
  return new Float64Array(Uint8Array.from(bytes).buffer);
};
const goldenGrad = (id: string, input: string): Float64Array => goldenTensor(id, `grad/${input}`);

type CrdStep = { loss: number; crd: number; grad: number[]; state: Record<'params' | 'memory_v1' | 'memory_v2', number[]> };

/** A CRD step through the glue (test/consumer/crd.ts) against the oracle, its updated state (readState) included. */
function checkCrd(r: CrdStep, where: string) {
  const want = expected(CRD_CASE);
  assert.ok(relErr(r.loss, want.loss) <= LOSS_RTOL, `${where}: CRD loss ${r.loss} vs oracle ${want.loss}`);
  assert.ok(relErr(r.crd, want.terms['crd']!.value) <= LOSS_RTOL, `${where}: crd term ${r.crd} vs ${want.terms['crd']!.value}`);
  assert.ok(gradExcess(r.grad, goldenGrad(CRD_CASE, 'student/normalizer/output'), GRAD_RTOL, GRAD_RTOL) <= 1, `${where}: CRD student normalizer gradient`);
  for (const k of ['params', 'memory_v1', 'memory_v2'] as const)
    assert.ok(gradExcess(r.state[k], goldenTensor(CRD_CASE, `state_out/crd/${k}`), GRAD_RTOL, GRAD_RTOL) <= 1, `${where}: CRD state ${k} after the step (readState)`);
}

function checkKd(r: { loss: number; kd: number; grad: number[] }, where: string) {
  const want = expected(KD_CASE);
  assert.ok(relErr(r.loss, want.loss) <= LOSS_RTOL, `${where}: KD loss ${r.loss} vs oracle ${want.loss}`);
  assert.ok(relErr(r.kd, want.terms['kd']!.value) <= LOSS_RTOL, `${where}: kd term ${r.kd} vs ${want.terms['kd']!.value}`);
  const g = goldenGrad(KD_CASE, 'student/./output');
  assert.is(r.grad.length, g.length);
  const excess = gradExcess(r.grad, g, GRAD_RTOL, GRAD_RTOL);
  assert.ok(excess <= 1, `${where}: student gradient off by ${excess.toFixed(2)}× the tolerance`);
}

test('npm pack: both tarballs hold their built entries and declarations', () => {
  mkdirSync(packs, { recursive: true });
  const out = ok(npm(['pack', '--ignore-scripts', '--workspaces', '--include-workspace-root', '--pack-destination', packs, '--json'], ROOT), 'npm pack');
  const manifests = JSON.parse(out) as { name: string; filename: string; files: { path: string }[] }[];
  const files = new Map(manifests.map((m) => [m.name, m.files.map((f) => f.path)]));
  assert.equal([...files.keys()].sort(), ['tdc-compiler', 'tdc-runtime']);
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/tfjs/index.js', 'package.json'])
    assert.ok(files.get('tdc-runtime')!.includes(f), `tdc-runtime has ${f}`);
  for (const f of ['bin/tdc.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js'])
    assert.ok(files.get('tdc-compiler')!.includes(f), `tdc-compiler has ${f}`);
  assert.not.ok(files.get('tdc-compiler')!.some((f) => f.startsWith('dist/test/') || f.startsWith('src/runtime/')), 'no tests or runtime copy in tdc-compiler');
  assert.ok(files.get('tdc-compiler')!.some((f) => f.startsWith('src/losses-spec/')), 'the loss specs ship');
});

test('install both tarballs in a fresh directory; npx tdc compile the KD example and the AT and CRD samples', () => {
  mkdirSync(app, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'test', 'consumer'))) copyFileSync(join(ROOT, 'test', 'consumer', f), join(app, f));
  const typesNode = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@types/node'];
  ok(
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(packs, 'tdc-runtime-0.1.0.tgz'), join(packs, 'tdc-compiler-0.1.0.tgz'), `@types/node@${typesNode}`], app),
    'npm install (tarballs)',
  );
  assert.ok(!existsSync(join(app, 'node_modules', 'tdc-compiler', 'node_modules', 'tdc-runtime')), 'one tdc-runtime, shared by the compiler and the app');
  ok(run('npx', ['--no-install', 'tdc', 'compile', join(ROOT, 'examples', 'kd', 'config.yaml'), '-o', 'out/kd'], app), 'npx tdc compile (KD)');
  const at = join(GOLDEN, AT_CASE);
  ok(run('npx', ['--no-install', 'tdc', 'compile', join(at, 'config.yaml'), '-o', 'out/at', '--like', join(at, 'tensors.safetensors')], app), 'npx tdc compile (AT)');
  const crd = join(GOLDEN, CRD_CASE);
  ok(run('npx', ['--no-install', 'tdc', 'compile', join(crd, 'config.yaml'), '-o', 'out/crd', '--like', join(crd, 'tensors.safetensors')], app), 'npx tdc compile (CRD)');
  const glue = readFileSync(join(app, 'out', 'kd', 'config.ts'), 'utf8');
  const imports = [...glue.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
  assert.equal(imports, ['tdc-runtime'], 'the glue imports only tdc-runtime');
});

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

test('the consumer type-checks under tsc --strict (node16 and bundler, skipLibCheck false, no types entry)', () => {
  for (const cfg of ['tsconfig.json', 'tsconfig.bundler.json']) {
    const json = JSON.parse(readFileSync(join(app, cfg), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.is(json.compilerOptions['strict'], true);
    assert.is(json.compilerOptions['skipLibCheck'], false);
    assert.is(json.compilerOptions['types'], undefined, `${cfg} has no types entry`);
    // node16 emits build/ (run next); bundler only checks
    ok(run(process.execPath, [TSC, '-p', cfg], app), `tsc -p ${cfg}`);
  }
});

test('under Node the consumer gives the oracle loss (1e-5) and gradients for KD and AT, and for CRD its updated banks', () => {
  const r = run(
    process.execPath,
    ['build/main.js', join(ROOT, 'examples', 'kd', 'io.safetensors'), join(GOLDEN, AT_CASE, 'tensors.safetensors'), join(GOLDEN, CRD_CASE, 'tensors.safetensors')],
    app,
    180_000,
  );
  const line = ok(r, 'node build/main.js').trim().split('\n').pop()!;
  const got = JSON.parse(line) as {
    device: string;
    kd: { loss: number; kd: number; grad: number[] };
    at: { loss: number; ce: number; at_loss: number; grad: number[] };
    crd: CrdStep;
  };
  checkKd(got.kd, 'node');
  const want = expected(AT_CASE);
  assert.ok(relErr(got.at.loss, want.loss) <= LOSS_RTOL, `AT loss ${got.at.loss} vs oracle ${want.loss}`);
  assert.ok(relErr(got.at.at_loss, want.terms['at_loss']!.value) <= LOSS_RTOL, `at_loss term ${got.at.at_loss}`);
  assert.ok(gradExcess(got.at.grad, goldenGrad(AT_CASE, 'student/layer3/output'), GRAD_RTOL, GRAD_RTOL) <= 1, 'AT student layer3 gradient');
  checkCrd(got.crd, 'node');
});

test("tdc-runtime's default entry in Node: GpuRuntime.open() is a typed NoWebGpuError pointing at tdc-runtime/node", () => {
  const script = "import('tdc-runtime').then((m) => m.GpuRuntime.open()).then(() => console.log('opened'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, hint: e.hint, runtimeError: e instanceof Error })))";
  const out = JSON.parse(ok(run(process.execPath, ['--input-type=module', '-e', script], app), 'node -e').trim()) as { name: string; code: string; hint: string };
  assert.is(out.name, 'NoWebGpuError');
  assert.is(out.code, 'TDC520');
  assert.match(out.hint, /tdc-runtime\/node/);
});

const ESBUILD = join(ROOT, 'node_modules', 'esbuild', 'bin', 'esbuild');

test('esbuild --bundle --platform=browser of the consumer succeeds with no --external, without the Node entry', () => {
  copyFileSync(join(ROOT, 'examples', 'kd', 'io.safetensors'), join(app, 'kd-io.safetensors'));
  copyFileSync(join(GOLDEN, CRD_CASE, 'tensors.safetensors'), join(app, 'crd-io.safetensors'));
  ok(run(ESBUILD, ['browser.ts', '--bundle', '--platform=browser', '--format=esm', '--outfile=bundle.js', '--log-level=warning'], app), 'esbuild');
  const js = readFileSync(join(app, 'bundle.js'), 'utf8');
  for (const re of [/TDC_WEBGPU_BACKEND/, /import\(['"]webgpu['"]\)/, /['"]node:[a-z_/]+['"]/])
    assert.not.match(js, re, `nothing of tdc-runtime/node or Node built-ins in the bundle (${re})`);
});

/** Serves `dir` on 127.0.0.1 (a secure context, as WebGPU needs). */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = createServer((req, res) => {
    const path = join(dir, new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!path.startsWith(dir) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html` };
}

test('headless Chromium (WebGPU on SwiftShader): the bundled page matches the oracle; without WebGPU a typed error', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh does)`);
  const { chromium } = await import('playwright-core');
  const { server, url } = await serve(app);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-vulkan=swiftshader',
      '--use-webgpu-adapter=swiftshader',
      '--disable-gpu-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const resultOf = async (hideWebGpu: boolean): Promise<Record<string, unknown>> => {
      const context = await browser.newContext(); // a fresh profile each
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      if (hideWebGpu) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
      await page.goto(url);
      await page.waitForFunction(() => (window as { tdcResult?: unknown }).tdcResult !== undefined, null, { timeout: 120_000 });
      const r = (await page.evaluate(() => (window as { tdcResult?: unknown }).tdcResult)) as Record<string, unknown>;
      await context.close();
      assert.equal(errors, [], 'no uncaught page errors');
      return r;
    };
    const r = await resultOf(false);
    assert.ok(r['ok'], `the page failed: ${JSON.stringify(r)}`);
    console.log(`  chromium: ${String(r['device'])}, loss ${String(r['loss'])}`);
    checkKd(r as unknown as { loss: number; kd: number; grad: number[] }, 'chromium');
    checkCrd(r['crd'] as CrdStep, 'chromium');
    // the runtime's validation in the browser: each bad input is a typed error naming the tensor, with no loss
    const rejections = r['rejections'] as { case: string; loss?: number; error?: string; code?: string; message?: string }[];
    assert.equal(
      rejections.map((x) => x.case),
      ['teacher batch 5, student batch 7', 'target 5000', 'target -1', 'target 5000 in a GPUBuffer'],
    );
    const names: RegExp[][] = [
      [/'teacher\/\.\/output' dim 0 is 5, but N = 7 \(from 'student\/\.\/output' dim 0\)/],
      [/'targets' element 0 is 5000/],
      [/'targets' element 0 is -1/],
      [/'targets' element 0 is 5000: a class index must lie in \[0, 37\).*; the results of this run were discarded/],
    ];
    rejections.forEach((x, i) => {
      assert.is(x.loss, undefined, `${x.case}: no loss (got ${x.loss})`);
      assert.is(x.error, 'GpuInputError', `${x.case}: ${x.error} ${x.message}`);
      assert.is(x.code, 'TDC524');
      for (const p of names[i]!) assert.match(x.message!, p, `${x.case}: ${x.message}`);
    });
    const none = await resultOf(true);
    assert.is(none['ok'], false);
    assert.is(none['error'], 'NoWebGpuError');
    assert.is(none['code'], 'TDC520');
  } finally {
    await browser.close();
    server.close();
  }
});

test('a consumer installing only tdc-runtime gets no compiler dependency (npm ls --all)', () => {
  mkdirSync(runtimeOnly, { recursive: true });
  writeFileSync(join(runtimeOnly, 'package.json'), JSON.stringify({ name: 'runtime-only', private: true, type: 'module' }));
  ok(npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(packs, 'tdc-runtime-0.1.0.tgz')], runtimeOnly), 'npm install (runtime only)');
  const tree = JSON.parse(ok(npm(['ls', '--all', '--json'], runtimeOnly), 'npm ls')) as { dependencies?: Record<string, Dep> };
  type Dep = { version?: string; dependencies?: Record<string, Dep> };
  const installed = new Set<string>();
  const unmet = new Set<string>();
  const walk = (deps: Record<string, Dep> | undefined) => {
    for (const [name, d] of Object.entries(deps ?? {})) {
      (d.version === undefined ? unmet : installed).add(name); // an entry without a version: an unmet optional peer
      walk(d.dependencies);
    }
  };
  walk(tree.dependencies);
  assert.equal([...installed].sort(), ['@webgpu/types', 'tdc-runtime'], 'tdc-runtime brings only @webgpu/types');
  // the optional peers (Dawn for tdc-runtime/node, tfjs for tdc-runtime/tfjs) stay uninstalled
  const peers = JSON.parse(readFileSync(join(ROOT, 'src', 'runtime', 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
  assert.equal([...unmet].sort(), Object.keys(peers.peerDependencies ?? {}).sort(), 'the optional peers (webgpu, tfjs) are not installed');
  assert.ok(unmet.has('webgpu'), 'Dawn (webgpu) is an optional peer, not installed');
  for (const name of ['ts-morph', 'chevrotain', 'yaml', 'typescript']) assert.not.ok(existsSync(join(runtimeOnly, 'node_modules', name)), name);
});

test.after(() => {
  if (process.env['TDC_KEEP_CONSUMER'] === '1') console.log(`  kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

test.run();
