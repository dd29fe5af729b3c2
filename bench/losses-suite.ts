// The `--losses` suite: the real sample configs (configs/sample/ilsvrc2012/…) at ImageNet / ResNet shapes —
// what each config's hooks deliver for a ResNet-18 student and its teacher. One row per loss: the config, the
// stage, the batch size, and the shape of every tensor the criterion reads (dim 0 is the batch, symbolic in
// the compiled plan). Shapes are the issue-9 table's; CRD's memory bank is shrunk (the real 1 281 167 × 128
// bank is 655 MB, over WebGPU's 128 MiB binding limit).
import { join } from 'node:path';

export const CONFIG_ROOT = process.env['TDC_TORCHDISTILL_CONFIGS'] ?? join(process.env['TDC_SHARED'] ?? '/work/shared', 'torchdistill', 'configs');

export interface LossCase {
  /** Short name used on the command line (`--losses kd,at`). */
  id: string;
  /** Config path under configs/. */
  config: string;
  stage: string;
  batch: number;
  /** Shape of a hooked tensor (dim 0 = the batch `b`), undefined when the case does not know the name. */
  shape(name: string, b: number): number[] | undefined;
  /** Integer inputs: exclusive upper bound of their values. */
  intRange?(name: string): number;
  /** Float inputs that must be positive (VID's predicted variances): |N(0, 1)| + 0.1. */
  positive?(name: string): boolean;
  /** Text substitutions applied to the config before loading (CRD's bank size). */
  patch?: [RegExp, string][];
  /** Torch implementation name in bench/torch_losses.py (omitted: no torch side); kr, crd, sskd and vid read
   *  the plan's inputs (shapes, dtypes, which are differentiated) from the bench. */
  torch?: string;
}

const CLASSES = 1000;
const logits = (name: string, b: number): number[] | undefined => (/\/(\.|fc|model\.fc)\/output$/.test(name) ? [b, CLASSES] : undefined);
const targets = (name: string, b: number): number[] | undefined => (name === 'targets' ? [b] : undefined);

/** ResNet stage k (1..4) output: channels 64·2^(k-1)·expansion, spatial 56 / 2^(k-1). */
const stage = (k: number, b: number, expansion = 1): number[] => [b, 64 * 2 ** (k - 1) * expansion, 56 / 2 ** (k - 1), 56 / 2 ** (k - 1)];

const either = (...fs: ((name: string, b: number) => number[] | undefined)[]) => (name: string, b: number) => {
  for (const f of fs) {
    const s = f(name, b);
    if (s) return s;
  }
  return undefined;
};
const table = (t: Record<string, (b: number) => number[]>) => (name: string, b: number) => t[name]?.(b);

export const LOSS_CASES: LossCase[] = [
  { id: 'kd', config: 'sample/ilsvrc2012/kd/resnet18_from_resnet34.yaml', stage: 'train', batch: 128, shape: either(logits, targets), torch: 'kd' },
  {
    id: 'at',
    config: 'sample/ilsvrc2012/at/resnet18_from_resnet34.yaml',
    stage: 'train',
    batch: 64,
    shape: either(
      logits,
      targets,
      table({
        'student/layer3/output': (b) => stage(3, b),
        'student/layer4/output': (b) => stage(4, b),
        'teacher/layer3/output': (b) => stage(3, b),
        'teacher/layer4/output': (b) => stage(4, b),
      }),
    ),
    torch: 'at',
  },
  {
    id: 'fitnet',
    config: 'sample/ilsvrc2012/fitnet/resnet18_from_resnet152.yaml',
    stage: 'stage1',
    batch: 64,
    // The issue's shape (64 channels); ResNet-152's layer1 has 256, which at batch 64 exceeds the 128 MiB binding limit.
    shape: either(targets, table({ 'student/+convreg/output': (b) => [b, 64, 56, 56], 'teacher/layer1/output': (b) => [b, 64, 56, 56] })),
    torch: 'mse',
  },
  {
    id: 'pkt',
    config: 'sample/ilsvrc2012/pkt/resnet18_from_resnet152.yaml',
    stage: 'train',
    batch: 64,
    shape: either(targets, table({ 'student/fc/input': (b) => [b, 512], 'teacher/fc/input': (b) => [b, 2048] })),
    torch: 'pkt',
  },
  { id: 'dist', config: 'sample/ilsvrc2012/dist/resnet18_from_resnet34.yaml', stage: 'train', batch: 256, shape: either(logits, targets), torch: 'dist' },
  {
    id: 'srd',
    config: 'sample/ilsvrc2012/srd/resnet18_from_resnet34.yaml',
    stage: 'train',
    batch: 64,
    shape: either(logits, targets, table({ 'student/norm_layer/output': (b) => [b, 512], 'teacher/norm_layer/output': (b) => [b, 512] })),
    torch: 'srd',
  },
  {
    id: 'rkd',
    config: 'sample/ilsvrc2012/rkd/resnet18_from_resnet34.yaml',
    stage: 'train',
    batch: 32,
    shape: either(logits, targets, table({ 'student/layer4/output': (b) => stage(4, b), 'teacher/layer4/output': (b) => stage(4, b) })),
    torch: 'rkd',
  },
  {
    id: 'fsp',
    config: 'sample/ilsvrc2012/fsp/resnet18_from_resnet34.yaml',
    stage: 'stage1',
    batch: 32,
    shape: either(targets, (name, b) => {
      const m = /^(student|teacher)\/layer(\d)(\.1)?\/(input|output)$/.exec(name);
      return m ? stage(Number(m[2]), b) : undefined;
    }),
    torch: 'fsp',
  },
  {
    id: 'spkd',
    config: 'sample/ilsvrc2012/spkd/resnet18_from_resnet34.yaml',
    stage: 'train',
    batch: 64,
    shape: either(logits, targets, table({ 'student/layer4/output': (b) => stage(4, b), 'teacher/layer4/output': (b) => stage(4, b) })),
    torch: 'spkd',
  },
  {
    id: 'kr',
    config: 'sample/ilsvrc2012/kr/resnet18_from_resnet34.yaml',
    stage: 'train',
    batch: 32,
    shape: either(logits, targets, (name, b) => {
      const abf = /^student\/abf_modules\.(\d)\/output\/(0|1)$/.exec(name);
      if (abf) {
        const i = Number(abf[1]);
        const base = i === 0 ? [b, 512, 1, 1] : stage(5 - i, b);
        return abf[2] === '0' ? base : [b, 512, base[2]!, base[3]!];
      }
      const t = /^teacher\/layer(\d)\.-1\.relu\/input$/.exec(name);
      if (t) return stage(Number(t[1]), b);
      return name === 'teacher/avgpool/output' ? [b, 512, 1, 1] : undefined;
    }),
    torch: 'kr',
  },
  {
    id: 'crd',
    config: 'sample/ilsvrc2012/crd/resnet18_from_resnet50.yaml',
    stage: 'train',
    batch: 64,
    patch: [
      [/output_size: &num_samples 1281167/, 'output_size: &num_samples 100000'],
      [/num_negative_samples: &num_negative_samples 16384/, 'num_negative_samples: &num_negative_samples 2048'],
    ],
    shape: either(
      logits,
      targets,
      table({
        'student/normalizer/output': (b) => [b, 128],
        'teacher/normalizer/output': (b) => [b, 128],
        'student/empty/input/pos_idx': (b) => [b],
        'student/empty/input/contrast_idx': (b) => [b, 2049],
      }),
    ),
    intRange: (name) => (name === 'targets' ? CLASSES : 100000),
    torch: 'crd',
  },
  {
    id: 'sskd',
    config: 'sample/ilsvrc2012/sskd/resnet18_from_resnet34.yaml',
    stage: 'stage2',
    batch: 64,
    shape: (name, b) =>
      name === 'targets'
        ? [b]
        : /\/model\.fc\/output$/.test(name)
          ? [4 * b, CLASSES]
          : /\/ss_module\/output$/.test(name)
            ? [4 * b, 128]
            : undefined,
    torch: 'sskd',
  },
  {
    id: 'vid',
    config: 'sample/ilsvrc2012/vid/resnet18_from_resnet50.yaml',
    stage: 'train',
    batch: 32,
    positive: (name) => /\/output\/1$/.test(name),
    shape: either(logits, targets, (name, b) => {
      const r = /^student\/regressor_dict\.regressor(\d)\/output\/(0|1)$/.exec(name);
      if (r) {
        const s = stage(Number(r[1]), b, 4);
        return r[2] === '0' ? s : [1, s[1]!, 1, 1];
      }
      const t = /^teacher\/layer(\d)\/output$/.exec(name);
      return t ? stage(Number(t[1]), b, 4) : undefined;
    }),
    torch: 'vid',
  },
];

export const configPath = (c: LossCase): string => join(CONFIG_ROOT, c.config);
