// Codegen snapshots, esbuild style: for a representative set of configs, the whole out/ of `tdc compile`
// (every WGSL kernel, manifest.json, the ts-morph glue) in one file per config under
// `---------- <path> ----------` headers. UPDATE_SNAPSHOTS=1 rewrites them; a snapshot with no test fails.
// Every generated kernel is also validated by Dawn's WGSL compiler (null backend: no GPU needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SHARED } from './helpers/cli.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { compileCriterion, sampleInputShapes } from '../src/compiler/compile.js';
import { readSafetensors } from 'tdc-runtime';
import { validateWgsl } from '../src/codegen/validate-wgsl.js';

const SNAP_DIR = join(ROOT, 'test', 'snapshots');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

interface SnapCase {
  name: string;
  /** Config path relative to ../shared (kept relative so the output is machine-independent). */
  config: string;
  /** Sample io_dict giving input ranks/sizes (batch kept symbolic); none: tdc's symbolic defaults. */
  like?: string;
  stage?: string;
  workgroupSize?: number;
}

const golden = (id: string): Pick<SnapCase, 'config' | 'like'> => ({ config: `golden/${id}/config.yaml`, like: `golden/${id}/tensors.safetensors` });

const CASES: SnapCase[] = [
  { name: 'kd-resnet18-from-resnet34', config: 'torchdistill/configs/sample/ilsvrc2012/kd/resnet18_from_resnet34.yaml' },
  { name: 'kd-resnet18-from-resnet34-wg256', config: 'torchdistill/configs/sample/ilsvrc2012/kd/resnet18_from_resnet34.yaml', workgroupSize: 256 },
  { name: 'ce-cifar10-resnet20', config: 'torchdistill/configs/sample/cifar10/ce/resnet20-final_run.yaml' },
  { name: 'kd-w-ls-logit-std', ...golden('sample__ilsvrc2012__kd_w_ls__resnet18_from_resnet34') },
  { name: 'seg-dict-wrapper-ignore-index', ...golden('sample__pascal_voc2012__ce__deeplabv3_resnet50') },
  { name: 'fitnet-mse-stage1', ...golden('sample__ilsvrc2012__fitnet__resnet18_from_resnet152__stage1'), stage: 'stage1' },
  { name: 'glue-model-term', config: 'torchdistill/configs/sample/glue/cola/ce/bert_base_uncased.yaml' },
  { name: 'ce-kd-weighted-sum', ...golden('edge__ce_kd_weighted_sum') },
  { name: 'kldiv-log-target', ...golden('edge__kldiv_log_target') },
  { name: 'smoothl1', ...golden('edge__smoothl1') },
];

function render(files: Map<string, string>): string {
  return [...files.keys()]
    .sort()
    .map((p) => `---------- ${p} ----------\n${files.get(p)!.endsWith('\n') ? files.get(p) : files.get(p) + '\n'}`)
    .join('');
}

async function compileCase(c: SnapCase): Promise<Map<string, string>> {
  const r = checkFile(join(SHARED, c.config));
  assert.ok(r.ir, `${c.name}: does not resolve`);
  const shapes = c.like ? sampleInputShapes(readSafetensors(new Uint8Array(readFileSync(join(SHARED, c.like)))).tensors) : undefined;
  const out = await compileCriterion(r.ir!, { configFile: c.config, moduleName: 'criterion', ...(c.workgroupSize !== undefined ? { workgroupSize: c.workgroupSize } : {}), shapes, stage: c.stage });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors, [], `${c.name}: ${errors.map((d) => d.message).join('; ')}`);
  return out.files!;
}

for (const c of CASES) {
  test(`snapshot ${c.name}`, async () => {
    const files = await compileCase(c);
    const text = render(files);
    const again = render(await compileCase(c));
    assert.is(again, text, 'two compiles of the same config differ');
    // each kernel as a pipeline at both of its workgroup size defaults (the manifest's overrides); a kernel's subgroup
    // variant (its second file) takes the same overrides; the kernels of plan variants binding more than the null
    // adapter's 8 storage buffers as modules (golden-gpu and plan-variants run such plans)
    type Kernel = { file: string; subgroups?: { file: string }; overrides: { name: string; default: { software: number; hardware: number } }[]; bindings: unknown[] };
    const manifest = JSON.parse(files.get('manifest.json')!) as { stages: { kernels: Kernel[]; variants?: { kernels: Kernel[] }[] }[] };
    const kernels = new Map(
      manifest.stages.flatMap((s) => [s, ...(s.variants ?? [])].flatMap((p) => p.kernels.flatMap((k) => [[k.file, k] as const, ...(k.subgroups ? [[k.subgroups.file, k] as const] : [])]))),
    );
    for (const [path, code] of files) {
      if (!path.endsWith('.wgsl')) continue;
      const kernel = kernels.get(path);
      assert.ok(kernel, `${path} is not in the manifest`);
      for (const adapter of ['software', 'hardware'] as const) {
        const constants = Object.fromEntries(kernel.overrides.map((o) => [o.name, o.default[adapter]]));
        const ds = await validateWgsl(code, { file: path, constants, pipeline: kernel.bindings.length - 1 <= 8 });
        assert.equal(ds.filter((d) => d.severity === 'error').map((d) => `${path}:${d.span?.start.line ?? 0}: ${d.message}`), [], `Dawn rejects ${path} (${adapter} default)`);
      }
    }
    const file = join(SNAP_DIR, `${c.name}.snap`);
    if (UPDATE || !existsSync(file)) {
      if (!UPDATE) assert.unreachable(`no snapshot ${file}; run with UPDATE_SNAPSHOTS=1 to accept`);
      mkdirSync(SNAP_DIR, { recursive: true });
      writeFileSync(file, text);
      return;
    }
    const want = readFileSync(file, 'utf8');
    if (want !== text) {
      const a = want.split('\n');
      const b = text.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      assert.unreachable(`${c.name}: output differs from ${file} at line ${i + 1}:\n- ${a[i]}\n+ ${b[i]}\n(UPDATE_SNAPSHOTS=1 accepts)`);
    }
  });
}

test('every snapshot file has a test', () => {
  const names = new Set(CASES.map((c) => `${c.name}.snap`));
  const orphans = existsSync(SNAP_DIR) ? readdirSync(SNAP_DIR).filter((f) => !names.has(f)) : [];
  assert.equal(orphans, [], `snapshots without a test: ${orphans.join(', ')}`);
});

test.run();
