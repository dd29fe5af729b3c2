// A stage's `criterion` (modern schema, or legacy already translated to it) → terms and model_term of the IR.
// Mirrors torchdistill: get_high_level_loss → WeightedSumLoss(sub_terms, model_term); each sub-term is
// get_mid_level_loss(criterion, criterion_wrapper) with a mandatory weight.
import { diag, type Span } from '../../diagnostics/index.js';
import { wrapperBindings } from './bindings.js';
import { getFunc2ExtractModelOutput, getHighLevelLoss, getLossWrapper, getMidLevelLoss, registryKeys, type RegisteredLoss } from '../../registry/registry.js';
import { keyString, type ConfigNode, type MapEntry } from '../load/config-node.js';
import type { LossInstance, StageIR, TermIR, WrapperInstance } from '../ir.js';
import { R } from './codes.js';
import type { StageContext } from './context.js';
import { checkTermReads } from './hooks.js';
import { validateKwargs } from './kwargs.js';
import { numberLikeStringHint } from './check-value.js';
import { describeNode, entryOf, isNullNode } from './nodes.js';
import { computeReads } from './reads.js';
import { didYouMeanText, suggestName } from './suggest.js';

export type CriterionIR = Pick<StageIR, 'criterionKey' | 'criterionKwargs' | 'terms' | 'modelTerm'>;

function warnIgnoredKeys(ctx: StageContext, node: ConfigNode, known: readonly string[], what: string): void {
  if (node.kind !== 'map') return;
  for (const e of node.entries) {
    const k = keyString(e);
    if (k === undefined || known.includes(k)) continue;
    const s = suggestName(k, known);
    ctx.diags.push(
      diag('warning', R.IGNORED_KEY, `${what} has a key '${k}' that torchdistill never reads (it reads ${known.map((x) => `'${x}'`).join(', ')})`, e.key.span, s ? { hint: didYouMeanText(s) } : undefined),
    );
  }
}

/** `key:` of a criterion / wrapper mapping, reported when missing or not a string. */
function keyOf(ctx: StageContext, node: ConfigNode, holder: Span, what: string): { key: string; span: Span } | undefined {
  const v = ctx.vocab;
  const e = entryOf(node, 'key');
  if (!e) {
    ctx.diags.push(diag('error', R.NO_KEY, `${what} has no '${v.key}' (torchdistill: KeyError '${v.key}')`, holder));
    return undefined;
  }
  if (e.value.kind !== 'scalar' || typeof e.value.value !== 'string') {
    ctx.diags.push(diag('error', R.TYPE, `${what}: '${v.key}' must be a string naming a registered loss, got ${describeNode(e.value)}`, e.value.span));
    return undefined;
  }
  return { key: e.value.value, span: e.value.span };
}

export function resolveCriterion(ctx: StageContext, critEntry: MapEntry): CriterionIR | undefined {
  const v = ctx.vocab;
  const crit = critEntry.value;
  if (crit.kind !== 'map') {
    ctx.diags.push(diag('error', R.STRUCTURE, `criterion must be a mapping with '${v.key}' and '${v.kwargs}', got ${describeNode(crit)}`, crit.span));
    return undefined;
  }
  const k = keyOf(ctx, crit, critEntry.key.span, 'criterion');
  if (!k) return undefined;
  const high = getHighLevelLoss(k.key);
  if (!high) {
    const other = getMidLevelLoss(k.key) ?? getLossWrapper(k.key);
    const s = suggestName(k.key, registryKeys('high'));
    const hint = other
      ? `'${k.key}' is ${other.level === 'wrapper' ? 'a loss wrapper' : `a ${other.level}-level loss`}; a stage criterion is a high-level loss such as WeightedSumLoss, with '${k.key}' in its sub_terms`
      : s
        ? didYouMeanText(s)
        : `high-level losses: ${registryKeys('high').join(', ')}`;
    ctx.diags.push(diag('error', R.UNKNOWN_HIGH, `unknown high-level loss '${k.key}' (torchdistill: KeyError in get_high_level_loss)`, k.span, { hint }));
    return undefined;
  }
  if (!v.legacy) warnIgnoredKeys(ctx, crit, ['key', 'args', 'kwargs', 'func2extract_model_loss'], 'the criterion');

  const kwargsEntry = entryOf(crit, 'kwargs');
  const kwargsNode = kwargsEntry?.value;
  if (kwargsNode && !isNullNode(kwargsNode) && kwargsNode.kind !== 'map') {
    ctx.diags.push(diag('error', R.TYPE, `${high.key}: '${v.kwargs}' must be a mapping, got ${describeNode(kwargsNode)}`, kwargsNode.span));
    return undefined;
  }
  const handled = new Set(high.decl.params.map((p) => p.name).filter((n) => n === 'sub_terms' || n === 'model_term'));
  const own = validateKwargs(high, kwargsNode, kwargsEntry?.key.span ?? k.span, ctx.diags, { skip: handled });

  const terms: TermIR[] = [];
  const subEntry = handled.has('sub_terms') ? entryOf(kwargsNode, 'sub_terms') : undefined;
  if (subEntry && !isNullNode(subEntry.value)) {
    if (subEntry.value.kind !== 'map') {
      ctx.diags.push(diag('error', R.TYPE, `${high.key}: 'sub_terms' must be a mapping of term names to {criterion, criterion_wrapper, ${v.weight}}, got ${describeNode(subEntry.value)}`, subEntry.value.span));
    } else {
      for (const e of subEntry.value.entries) {
        const t = resolveSubTerm(ctx, e);
        if (t) terms.push(t);
      }
    }
  }

  const result: CriterionIR = { criterionKey: high.key, terms };
  if (Object.keys(own.kwargs).length) result.criterionKwargs = own.kwargs;
  const mtEntry = handled.has('model_term') ? entryOf(kwargsNode, 'model_term') : undefined;
  const mt = mtEntry ? resolveModelTerm(ctx, mtEntry) : undefined;
  const f2e = resolveFunc2Extract(ctx, crit, mt !== undefined);
  if (mt) result.modelTerm = { weight: mt.weight, func2extract: f2e, span: mt.span };
  return result;
}

function resolveFunc2Extract(ctx: StageContext, crit: ConfigNode, used: boolean): string {
  const e = entryOf(crit, 'func2extract_model_loss');
  if (!e || isNullNode(e.value)) return 'extract_model_loss_dict';
  if (e.value.kind !== 'scalar' || typeof e.value.value !== 'string') {
    ctx.diags.push(diag('error', R.TYPE, `func2extract_model_loss must be the name of a registered function, got ${describeNode(e.value)}`, e.value.span));
    return 'extract_model_loss_dict';
  }
  const name = e.value.value;
  if (!getFunc2ExtractModelOutput(name)) {
    const s = suggestName(name, registryKeys('extract'));
    ctx.diags.push(
      diag(
        'warning',
        R.UNKNOWN_EXTRACT,
        `func2extract_model_loss '${name}' is not registered, so tdc cannot check it (torchdistill itself registers only extract_model_loss_dict; a training script registers the others)${used ? '' : '; unused here: there is no model_term weight'}`,
        e.value.span,
        { hint: s && s !== name ? didYouMeanText(s) : `tdc treats the model-loss dict it returns as an input; register a spec for it with registerFunc2ExtractModelOutput to check it` },
      ),
    );
  }
  return name;
}

function resolveModelTerm(ctx: StageContext, e: MapEntry): { weight: number | Record<string, number>; span: Span } | undefined {
  const v = ctx.vocab;
  const n = e.value;
  if (isNullNode(n)) return undefined;
  if (n.kind !== 'map') {
    ctx.diags.push(diag('error', R.TYPE, `model_term must be a mapping {${v.weight}: ...}, got ${describeNode(n)} (torchdistill calls model_term.get('weight'))`, n.span));
    return undefined;
  }
  if (!v.legacy) warnIgnoredKeys(ctx, n, ['weight'], 'model_term');
  const w = entryOf(n, 'weight');
  if (!w || isNullNode(w.value)) return undefined;
  const wn = w.value;
  if (wn.kind === 'scalar' && typeof wn.value === 'number') {
    return wn.value === 0 ? undefined : { weight: wn.value, span: wn.span };
  }
  if (wn.kind === 'map') {
    const rec: Record<string, number> = {};
    let ok = true;
    for (const x of wn.entries) {
      const k = keyString(x) ?? '?';
      if (x.value.kind === 'scalar' && typeof x.value.value === 'number') rec[k] = x.value.value;
      else {
        ok = false;
        ctx.diags.push(diag('error', R.TYPE, `model_term ${v.weight} '${k}' must be a number, got ${describeNode(x.value)}`, x.value.span));
      }
    }
    return ok ? { weight: rec, span: wn.span } : undefined;
  }
  ctx.diags.push(diag('error', R.TYPE, `model_term ${v.weight} must be a number or a mapping of model-loss keys to numbers, got ${describeNode(wn)}`, wn.span));
  return undefined;
}

function resolveSubTerm(ctx: StageContext, e: MapEntry): TermIR | undefined {
  const v = ctx.vocab;
  const name = keyString(e) ?? '?';
  const node = e.value;
  const what = `sub-term '${name}'`;
  if (node.kind !== 'map') {
    ctx.diags.push(diag('error', R.STRUCTURE, `${what} must be a mapping with criterion and ${v.weight}, got ${describeNode(node)}`, node.span));
    return undefined;
  }
  const known = ['criterion', 'criterion_wrapper', 'weight'];
  if (!v.legacy) warnIgnoredKeys(ctx, node, known, what);

  const critEntry = entryOf(node, 'criterion');
  let loss: { inst: LossInstance; reg: RegisteredLoss; ok: boolean } | undefined;
  if (!critEntry) ctx.diags.push(diag('error', R.NO_KEY, `${what} has no 'criterion' (torchdistill: KeyError 'criterion')`, e.key.span));
  else loss = resolveLoss(ctx, critEntry, what);

  const wrapEntry = entryOf(node, 'criterion_wrapper');
  let wrapper: { inst: WrapperInstance; ok: boolean } | undefined;
  let wrapperFailed = false;
  if (wrapEntry && !isNullNode(wrapEntry.value) && !(wrapEntry.value.kind === 'map' && wrapEntry.value.entries.length === 0)) {
    wrapper = resolveWrapper(ctx, wrapEntry, what);
    wrapperFailed = wrapper === undefined;
  }

  const weight = resolveWeight(ctx, node, e, what);

  if (loss && !wrapper && !wrapperFailed && loss.reg.level === 'low') {
    ctx.diags.push(
      diag('error', R.LOW_WITHOUT_WRAPPER, `${what}: '${loss.inst.key}' is a torch (low-level) loss and has no criterion_wrapper; torchdistill would call it as ${loss.inst.key}(student_io_dict, teacher_io_dict, targets)`, loss.inst.span, {
        hint: `add criterion_wrapper: {key: 'SimpleLossWrapper', kwargs: {input: {is_from_teacher: False, module_path: '.', io: 'output'}, target: {uses_label: True}}}`,
      }),
    );
    loss.ok = false;
  }
  if (loss && wrapper && loss.reg.level === 'mid') {
    ctx.diags.push(
      diag('error', R.WRAPPED_MID, `${what}: '${wrapper.inst.key}' wraps the mid-level loss '${loss.inst.key}', but a wrapper calls its loss as loss(input, target) with tensors; mid-level losses take the io_dicts`, wrapper.inst.span, {
        hint: `remove criterion_wrapper: '${loss.inst.key}' reads its tensors itself`,
      }),
    );
    wrapper.ok = false;
  }
  if (!loss || weight === undefined) return undefined;

  const term: TermIR = { name, weight, criterion: loss.inst, reads: [], span: e.key.span };
  if (wrapper) {
    term.wrapper = wrapper.inst;
    if (wrapper.ok) term.bindings = wrapperBindings(wrapper.inst);
  }
  if (loss.ok && !wrapperFailed && (!wrapper || wrapper.ok)) {
    term.reads = computeReads(term, ctx.diags, ctx.termReads);
    checkTermReads(ctx, term);
  }
  return term;
}

function resolveWeight(ctx: StageContext, node: ConfigNode, e: MapEntry, what: string): number | undefined {
  const v = ctx.vocab;
  const w = entryOf(node, 'weight');
  if (!w) {
    const close = node.kind === 'map' ? node.entries.map((x) => keyString(x) ?? '').find((k) => k !== 'weight' && suggestName(k, [v.weight]) !== undefined) : undefined;
    ctx.diags.push(
      diag('error', R.NO_WEIGHT, `${what} has no '${v.weight}' (torchdistill: KeyError '${v.weight}'); every sub-term needs one`, e.key.span, {
        hint: close ? `'${close}' is not read: did you mean '${v.weight}'?` : `add ${v.weight}: 1.0`,
      }),
    );
    return undefined;
  }
  const n = w.value;
  if (n.kind === 'scalar' && typeof n.value === 'number') return n.value;
  const hint = numberLikeStringHint(n);
  ctx.diags.push(diag('error', R.TYPE, `${what}: '${v.weight}' must be a number, got ${describeNode(n)}`, n.span, hint ? { hint } : undefined));
  return undefined;
}

function resolveLoss(ctx: StageContext, critEntry: MapEntry, what: string): { inst: LossInstance; reg: RegisteredLoss; ok: boolean } | undefined {
  const v = ctx.vocab;
  const c = critEntry.value;
  if (c.kind !== 'map') {
    ctx.diags.push(diag('error', R.STRUCTURE, `${what}: criterion must be a mapping {${v.key}, ${v.kwargs}}, got ${describeNode(c)}`, c.span));
    return undefined;
  }
  const k = keyOf(ctx, c, critEntry.key.span, `${what}: criterion`);
  if (!k) return undefined;
  const reg = getMidLevelLoss(k.key);
  if (!reg) {
    const s = suggestName(k.key, [...registryKeys('mid'), ...registryKeys('low')]);
    const other = getHighLevelLoss(k.key) ?? getLossWrapper(k.key);
    const hint = other
      ? `'${k.key}' is ${other.level === 'wrapper' ? 'a loss wrapper: it goes under criterion_wrapper' : 'a high-level loss: it can only be a stage criterion'}`
      : s
        ? didYouMeanText(s)
        : undefined;
    ctx.diags.push(diag('error', R.UNKNOWN_LOSS, `${what}: unknown loss '${k.key}' (neither a mid-level loss nor a torch loss; torchdistill raises ValueError)`, k.span, hint ? { hint } : undefined));
    return undefined;
  }
  if (!v.legacy) warnIgnoredKeys(ctx, c, ['key', 'kwargs'], `${what}: criterion`);
  const inst: LossInstance = { key: reg.key, level: reg.level === 'low' ? 'low' : 'mid', kwargs: {}, kwargNodes: {}, span: k.span };
  const kwE = entryOf(c, 'kwargs');
  if (!kwE) {
    ctx.diags.push(
      diag('error', R.NO_KWARGS, `${what}: criterion '${reg.key}' has no '${v.kwargs}' (torchdistill reads crit_cfg['${v.kwargs}']: KeyError)`, k.span, {
        hint: `add ${v.kwargs}: {} when every parameter keeps its default`,
      }),
    );
    return { inst, reg, ok: false };
  }
  if (isNullNode(kwE.value)) {
    ctx.diags.push(
      diag('error', R.NO_KWARGS, `${what}: criterion '${reg.key}' has an empty '${v.kwargs}:', which YAML reads as None; torchdistill's ${reg.key}(**None) raises TypeError`, kwE.key.span, {
        hint: `write ${v.kwargs}: {}`,
      }),
    );
    return { inst, reg, ok: false };
  }
  if (kwE.value.kind !== 'map') {
    ctx.diags.push(diag('error', R.TYPE, `${what}: '${v.kwargs}' of '${reg.key}' must be a mapping, got ${describeNode(kwE.value)}`, kwE.value.span));
    return { inst, reg, ok: false };
  }
  const r = validateKwargs(reg, kwE.value, kwE.key.span, ctx.diags);
  inst.kwargs = r.kwargs;
  inst.kwargNodes = r.kwargNodes;
  return { inst, reg, ok: r.ok };
}

function resolveWrapper(ctx: StageContext, e: MapEntry, what: string): { inst: WrapperInstance; ok: boolean } | undefined {
  const v = ctx.vocab;
  const n = e.value;
  if (n.kind !== 'map') {
    ctx.diags.push(diag('error', R.STRUCTURE, `${what}: criterion_wrapper must be a mapping {key, kwargs}, got ${describeNode(n)}`, n.span));
    return undefined;
  }
  const k = keyOf(ctx, n, e.key.span, `${what}: criterion_wrapper`);
  if (!k) return undefined;
  const reg = getLossWrapper(k.key);
  if (!reg) {
    const s = suggestName(k.key, registryKeys('wrapper'));
    ctx.diags.push(
      diag('error', R.UNKNOWN_WRAPPER, `${what}: unknown loss wrapper '${k.key}' (torchdistill: KeyError in get_loss_wrapper)`, k.span, {
        hint: s ? didYouMeanText(s) : `loss wrappers: ${registryKeys('wrapper').join(', ')}`,
      }),
    );
    return undefined;
  }
  if (!v.legacy) warnIgnoredKeys(ctx, n, ['key', 'args', 'kwargs'], `${what}: criterion_wrapper`);
  const kwE = entryOf(n, 'kwargs');
  if (kwE && !isNullNode(kwE.value) && kwE.value.kind !== 'map') {
    ctx.diags.push(diag('error', R.TYPE, `${what}: kwargs of '${reg.key}' must be a mapping, got ${describeNode(kwE.value)}`, kwE.value.span));
    return undefined;
  }
  const r = validateKwargs(reg, kwE?.value, kwE?.key.span ?? k.span, ctx.diags);
  return { inst: { key: reg.key, kwargs: r.kwargs, kwargNodes: r.kwargNodes, span: k.span }, ok: r.ok };
}
