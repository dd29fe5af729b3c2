// What the resolve functions share while working on one training stage.
import type { Diagnostic, Span } from '../../diagnostics/index.js';
import type { ConfigNode } from '../load/config-node.js';
import type { HookSet, Side } from '../ir.js';
import type { TermReader } from './reads.js';

/** The words a message uses for the config's own keys: the legacy schema says type/params/factor. */
export interface Vocab {
  legacy: boolean;
  key: string;
  kwargs: string;
  weight: string;
}

export const MODERN: Vocab = { legacy: false, key: 'key', kwargs: 'kwargs', weight: 'weight' };
export const LEGACY: Vocab = { legacy: true, key: 'type', kwargs: 'params', weight: 'factor' };

export interface SideInfo {
  /** The config section the side comes from: 'student', 'teacher' or 'model' (TrainingBox). */
  section: string;
  /** The section's key in the YAML, when present. */
  sectionSpan?: Span;
  /** forward_hook.input / forward_hook.output list nodes, when present. */
  hookNodes: Partial<Record<'input' | 'output', ConfigNode>>;
  forwardHookSpan?: Span;
}

export interface StageContext {
  name: string;
  box: 'training' | 'distillation';
  hooks: { student: HookSet; teacher: HookSet | null };
  sides: { student: SideInfo; teacher: SideInfo | null };
  /** The stage's key (`train:` or `stageN:`), for stage-level messages. */
  span: Span;
  vocab: Vocab;
  diags: Diagnostic[];
  /** Lists what a term reads (passed in: resolve does not import instantiate). */
  termReads: TermReader;
}

export const sideSection = (ctx: StageContext, side: Side): string => (side === 'student' ? ctx.sides.student.section : 'teacher');
