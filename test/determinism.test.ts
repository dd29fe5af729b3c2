// Determinism of the GPU path (lavapipe in CI). The same inputs give BIT-IDENTICAL loss, terms and gradients:
//   - on reruns with one runtime, and on a freshly opened runtime (same plan, same adapter);
//   - across processes: `tdc run --device gpu --json --grads-out` twice gives the same stdout and the same bytes.
// Across workgroup sizes the reduction order is NOT fixed by design: a workgroup's lanes reduce as a tree whose
// shape follows the workgroup size, so results may differ in the last bits (measured on lavapipe, sizes 8 / 24 /
// 64 / 256: < 1e-6 relative, a few float32 ulps). This test asserts bit-identity where it is promised and,
// across workgroup sizes, agreement within 1e-5 relative (loss, terms; gradients relative to their max |g|),
// printing which cases happen to agree bit for bit and the largest difference. No adapter: a failure with TDC_REQUIRE_GPU=1, else a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuRuntime } from 'tdc-runtime/node';
import { readSafetensors } from 'tdc-runtime';
import { isNoAdapterError, runStageOnGpu, type GpuRunResult } from '../src/compiler/run-gpu.js';
import { GOLDEN_DIR, loadGoldenStage } from './helpers/golden-stage.js';
import { ROOT, tdc } from './helpers/cli.js';

const REQUIRE = process.env['TDC_REQUIRE_GPU'] === '1';
const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string; losses: string[] }[] };
/** Every 12th golden case (≈ 18 of 212: KD, CE, AT, CRD, SSKD, FSP, … at small shapes). */
const CASES = index.cases.filter((_, i) => i % 12 === 0).map((c) => c.case);
const WORKGROUP_SIZES = [8, 24, 64, 256];
/** golden-gpu's float32 tolerance for loss and terms (measured across sizes: < 1e-6). */
const ACROSS_WG_RTOL = 1e-5;
/** Every 24th golden case for the workgroup sweep (4 sizes each). */
const WG_CASES = CASES.filter((_, i) => i % 2 === 0);

let rt: GpuRuntime | undefined;
let opened = false;
async function gpu(): Promise<GpuRuntime | undefined> {
  if (opened) return rt;
  opened = true;
  try {
    rt = await GpuRuntime.open();
  } catch (e) {
    if (!isNoAdapterError(e)) throw e;
    if (REQUIRE) throw new Error(`no WebGPU adapter (TDC_REQUIRE_GPU=1): ${(e as Error).message}`);
    console.log(`\n!!!!!!!! determinism SKIPPED — no WebGPU adapter: ${(e as Error).message}\n`);
  }
  return rt;
}

interface Case {
  id: string;
  run: (runtime: GpuRuntime, workgroupSize?: number) => Promise<GpuRunResult>;
}

function loadCase(id: string): Case | undefined {
  const e = JSON.parse(readFileSync(join(GOLDEN_DIR, id, 'expected.json'), 'utf8')) as { stage?: string };
  const { stage } = loadGoldenStage(join(GOLDEN_DIR, id), e.stage ?? 'train');
  if (!stage) return undefined;
  const tensors = readSafetensors(new Uint8Array(readFileSync(join(GOLDEN_DIR, id, 'tensors.safetensors')))).tensors;
  return {
    id,
    run: async (runtime, workgroupSize) => {
      const r = await runStageOnGpu(stage, tensors, { file: id, runtime, ...(workgroupSize ? { workgroupSize } : {}) });
      if (!r.result) throw new Error(`${id}: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
      return r.result;
    },
  };
}

/** Every float of a result as its bit pattern: loss, terms (in order), model term, gradients (in order), state. */
function bits(r: GpuRunResult): string {
  const parts: ArrayLike<number>[] = [[r.loss], ...Object.values(r.terms).map((t) => [t.value]), ...(r.modelTerm ? [[r.modelTerm.value]] : [])];
  for (const [, g] of r.grads) parts.push(g.data);
  for (const [, s] of r.state ?? []) parts.push(s.data);
  return parts.map((p) => Buffer.from(new Uint32Array(Float32Array.from(p).buffer)).toString('hex')).join('|');
}

/** Largest difference between two results: scalars relative, each gradient relative to its max |g|. */
function maxRelDiff(a: GpuRunResult, b: GpuRunResult): number {
  const rel = (x: number, y: number): number => (x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(y), 1e-30));
  let m = rel(a.loss, b.loss);
  for (const [k, t] of Object.entries(a.terms)) m = Math.max(m, rel(t.value, b.terms[k]!.value));
  for (const [k, g] of a.grads) {
    const h = b.grads.get(k)!.data;
    let d = 0;
    let s = 0;
    for (let i = 0; i < h.length; i++) {
      d = Math.max(d, Math.abs(g.data[i]! - h[i]!));
      s = Math.max(s, Math.abs(h[i]!));
    }
    m = Math.max(m, s === 0 ? d : d / s);
  }
  return m;
}

test(`GPU path: reruns and a fresh runtime give bit-identical results (${CASES.length} golden cases)`, async () => {
  const runtime = await gpu();
  if (!runtime) return;
  const differ: string[] = [];
  let n = 0;
  for (const id of CASES) {
    const c = loadCase(id);
    if (!c) continue;
    const first = bits(await c.run(runtime));
    const again = bits(await c.run(runtime));
    const fresh = await GpuRuntime.open();
    let other: string;
    try {
      other = bits(await c.run(fresh));
    } finally {
      fresh.destroy();
    }
    if (again !== first) differ.push(`${id}: rerun differs`);
    if (other !== first) differ.push(`${id}: fresh runtime differs`);
    n++;
  }
  assert.ok(n >= 10, `ran ${n} cases`);
  assert.equal(differ, []);
});

test('across workgroup sizes: within 1e-5 relative (the reduction tree follows the size; not bit-identical by design)', async () => {
  const runtime = await gpu();
  if (!runtime) return;
  const failures: string[] = [];
  let worst = 0;
  let bitIdentical = 0;
  let n = 0;
  let runtime2 = runtime;
  for (const id of WG_CASES) {
    const c = loadCase(id);
    if (!c) continue;
    const results = [];
    for (const wg of WORKGROUP_SIZES) {
      try {
        results.push(await c.run(runtime2, wg));
      } catch (e) {
        failures.push(`${id} at workgroup size ${wg}: ${(e as Error).message}`);
        runtime2 = await GpuRuntime.open(); // a timed-out device is not reused
      }
    }
    if (results.length !== WORKGROUP_SIZES.length) continue;
    const ref = results[0]!;
    const same = results.every((r) => bits(r) === bits(ref));
    if (same) bitIdentical++;
    for (let i = 1; i < results.length; i++) {
      const d = maxRelDiff(results[i]!, ref);
      worst = Math.max(worst, d);
      if (d > ACROSS_WG_RTOL) failures.push(`${id}: workgroup ${WORKGROUP_SIZES[i]} vs ${WORKGROUP_SIZES[0]}: ${d.toExponential(2)}`);
    }
    n++;
  }
  console.log(`  across workgroup sizes ${WORKGROUP_SIZES.join('/')}: ${bitIdentical} of ${n} cases bit-identical; largest difference ${worst.toExponential(2)} relative`);
  assert.equal(failures, []);
});

test('across processes: tdc run --device gpu twice gives the same stdout and the same gradient bytes', async () => {
  const runtime = await gpu();
  if (!runtime) return;
  const dir = mkdtempSync(join(tmpdir(), 'tdc-determinism-'));
  try {
    const cfg = join(ROOT, 'examples', 'kd', 'config.yaml');
    const io = join(ROOT, 'examples', 'kd', 'io.safetensors');
    const runs = [1, 2].map((i) => {
      const out = join(dir, `g${i}.safetensors`);
      const r = tdc(['run', cfg, '--inputs', io, '--device', 'gpu', '--json', '--grads-out', out], { timeoutMs: 120_000 });
      assert.is(r.code, 0, r.stderr);
      return { stdout: r.stdout, grads: readFileSync(out) };
    });
    assert.is(runs[1]!.stdout, runs[0]!.stdout);
    assert.ok(runs[1]!.grads.equals(runs[0]!.grads), 'gradient files are byte-identical');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => rt?.destroy());

test.run();
