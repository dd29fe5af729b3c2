// Training stages: `train` itself, or every `train.stageN` key in file order (torchdistill's
// MultiStagesDistillationBox reads each key starting with 'stage'). Per stage: the box kind, the hooked paths of
// each side, which sides train, and the criterion.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import { keyString, type ConfigNode, type MapEntry } from '../load/config-node.js';
import type { HookSet, StageIR } from '../ir.js';
import { R } from './codes.js';
import { LEGACY, MODERN, type SideInfo, type StageContext } from './context.js';
import type { TermReader } from './reads.js';
import { resolveCriterion } from './criterion.js';
import { isLegacyCriterion, translateLegacyCriterion } from './legacy.js';
import { describeNode, entryOf, isNullNode } from './nodes.js';

export function findStages(root: ConfigNode | null, file: string, diags: Diagnostic[]): MapEntry[] {
  const fileStart: Span = { file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } };
  if (!root || root.kind !== 'map') {
    diags.push(diag('error', R.STRUCTURE, `the config must be a mapping with a 'train' section, got ${root ? describeNode(root) : 'an empty file'}`, root?.span ?? fileStart));
    return [];
  }
  const train = entryOf(root, 'train');
  if (!train) {
    diags.push(diag('error', R.STRUCTURE, `the config has no 'train' section, so there is no criterion to compile`, fileStart));
    return [];
  }
  if (train.value.kind !== 'map') {
    diags.push(diag('error', R.STRUCTURE, `'train' must be a mapping, got ${describeNode(train.value)}`, train.value.span));
    return [];
  }
  const stages = train.value.entries.filter((e) => keyString(e)?.startsWith('stage'));
  return stages.length > 0 ? stages : [train];
}

function hookList(n: ConfigNode | undefined, where: string, diags: Diagnostic[]): string[] {
  if (isNullNode(n)) return [];
  if (n!.kind !== 'seq') {
    diags.push(diag('error', R.TYPE, `${where} must be a list of module paths, got ${describeNode(n)}`, n!.span));
    return [];
  }
  const out: string[] = [];
  for (const item of n!.items) {
    if (item.kind === 'scalar' && typeof item.value === 'string') out.push(item.value);
    else diags.push(diag('error', R.TYPE, `${where} entries must be module path strings, got ${describeNode(item)}`, item.span));
  }
  return out;
}

function sideOf(stage: ConfigNode, section: string, stageName: string, diags: Diagnostic[]): { hooks: HookSet; info: SideInfo; node?: ConfigNode } {
  const e = entryOf(stage, section);
  const info: SideInfo = { section, hookNodes: {} };
  const hooks: HookSet = { input: [], output: [] };
  if (!e) return { hooks, info };
  info.sectionSpan = e.key.span;
  if (isNullNode(e.value)) return { hooks, info };
  if (e.value.kind !== 'map') {
    diags.push(diag('error', R.STRUCTURE, `${section} of stage '${stageName}' must be a mapping, got ${describeNode(e.value)}`, e.value.span));
    return { hooks, info };
  }
  const fh = entryOf(e.value, 'forward_hook');
  if (fh && !isNullNode(fh.value)) {
    info.forwardHookSpan = fh.key.span;
    if (fh.value.kind !== 'map') {
      diags.push(diag('error', R.TYPE, `${section}.forward_hook must be a mapping {input: [...], output: [...]}, got ${describeNode(fh.value)}`, fh.value.span));
    } else {
      for (const io of ['input', 'output'] as const) {
        const l = entryOf(fh.value, io);
        if (l) info.hookNodes[io] = l.value;
        hooks[io] = hookList(l?.value, `${section}.forward_hook.${io}`, diags);
      }
    }
  }
  return { hooks, info, node: e.value };
}

function requiresGrad(n: ConfigNode | undefined): boolean | undefined {
  const v = entryOf(n, 'requires_grad')?.value;
  return v && v.kind === 'scalar' && typeof v.value === 'boolean' ? v.value : undefined;
}

export interface StageOptions {
  /** Lists what a term reads (instantiate's termReads, wired by src/compiler/driver). */
  termReads: TermReader;
  /** Called once per legacy criterion (the resolver emits the file-level note once). */
  onLegacy?: (typeSpan: Span) => void;
}

export function resolveStage(entry: MapEntry, diags: Diagnostic[], opts: StageOptions): StageIR | undefined {
  const name = keyString(entry) ?? 'train';
  const stage = entry.value;
  if (stage.kind !== 'map') {
    diags.push(diag('error', R.STRUCTURE, `stage '${name}' must be a mapping, got ${describeNode(stage)}`, stage.span));
    return undefined;
  }
  const hasModel = entryOf(stage, 'model') !== undefined;
  const hasPair = entryOf(stage, 'teacher') !== undefined || entryOf(stage, 'student') !== undefined;
  const box: StageIR['box'] = hasModel && !hasPair ? 'training' : 'distillation';

  const student = sideOf(stage, box === 'training' ? 'model' : 'student', name, diags);
  const teacher = box === 'training' ? undefined : sideOf(stage, 'teacher', name, diags);

  const critEntry = entryOf(stage, 'criterion');
  const legacy = critEntry !== undefined && isLegacyCriterion(critEntry.value);
  const ctx: StageContext = {
    name,
    box,
    hooks: { student: student.hooks, teacher: teacher?.hooks ?? null },
    sides: { student: student.info, teacher: teacher?.info ?? null },
    span: entry.key.span,
    vocab: legacy ? LEGACY : MODERN,
    diags,
    termReads: opts.termReads,
  };
  const ir: StageIR = {
    name,
    schema: legacy ? 'legacy' : 'modern',
    box,
    hooks: ctx.hooks,
    trainable: { student: requiresGrad(student.node) !== false, teacher: teacher !== undefined && requiresGrad(teacher.node) !== false },
    criterionKey: '',
    terms: [],
    span: entry.key.span,
  };
  if (!critEntry || isNullNode(critEntry.value)) {
    diags.push(diag('error', R.NO_CRITERION, `stage '${name}' has no criterion`, critEntry?.key.span ?? entry.key.span));
    return ir;
  }
  let modernEntry = critEntry;
  if (legacy) {
    const typeEntry = entryOf(critEntry.value, 'type');
    if (typeEntry) opts.onLegacy?.(typeEntry.key.span);
    modernEntry = translateLegacyCriterion(critEntry, diags);
  }
  const c = resolveCriterion(ctx, modernEntry);
  if (c) {
    ir.criterionKey = c.criterionKey;
    if (c.criterionKwargs) ir.criterionKwargs = c.criterionKwargs;
    ir.terms = c.terms;
    if (c.modelTerm) ir.modelTerm = c.modelTerm;
  }
  return ir;
}
