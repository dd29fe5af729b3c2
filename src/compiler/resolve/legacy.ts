// The legacy (pre-v1.0) criterion schema, translated into the modern shape the resolver checks:
//   type → key, params → kwargs, factor → weight, GeneralizedCustomLoss → WeightedSumLoss;
//   a sub-term's sibling `params: {input, target}` → criterion_wrapper SimpleLossWrapper;
//   org_term {criterion, factor} → a sub-term 'org_term' on the root outputs ('.'), added after the others
//     (legacy added it last); a factor mapping (segmentation {out, aux}) → DictLossWrapper with those weights;
//   factor-only org_term → model_term.weight, func2extract_org_loss → func2extract_model_loss
//     (extract_org_loss_dict → extract_model_loss_dict);
//   KDLoss4Transformer (removed in v1.0) → KDLoss on '.' (see the note it emits);
//   renamed parameters: CCKDLoss kernel_params {key, ...} → kernel_config {type, ...},
//   HierarchicalContextLoss kernel_sizes → output_sizes, pair `factor` → `weight` (at/feature/fsp pairs).
// Synthetic nodes carry the span of the legacy node they stand for, so diagnostics point into the file.
import { diag, type Diagnostic, type Span } from '../../diagnostics/index.js';
import { getMidLevelLoss, scopeOf } from '../../registry/registry.js';
import { keyString, type ConfigNode, type MapEntry, type MapNode } from '../load/config-node.js';
import { R } from './codes.js';
import { entryOf, isNullNode, scalarString, synthEntry, synthFromPlain, synthMap, synthScalar } from './nodes.js';
import { didYouMeanText, suggestName } from './suggest.js';

export function isLegacyCriterion(n: ConfigNode): boolean {
  return n.kind === 'map' && entryOf(n, 'type') !== undefined && entryOf(n, 'key') === undefined;
}

/** Legacy extractors that apply the org criterion to the model outputs (the org_term becomes a sub-term). */
const ORG_CRITERION_EXTRACTORS = new Set(['extract_simple_org_loss', 'extract_simple_org_loss_dict']);
/** Legacy extractors of the model's own losses, by their modern name. */
const MODEL_LOSS_EXTRACTORS: Record<string, string> = { extract_org_loss_dict: 'extract_model_loss_dict' };

function warnUnread(n: ConfigNode, known: readonly string[], what: string, diags: Diagnostic[]): void {
  if (n.kind !== 'map') return;
  for (const e of n.entries) {
    const k = keyString(e);
    if (k === undefined || known.includes(k)) continue;
    const s = suggestName(k, known);
    diags.push(
      diag('warning', R.IGNORED_KEY, `${what} has a key '${k}' that torchdistill never read (it read ${known.map((x) => `'${x}'`).join(', ')})`, e.key.span, s ? { hint: didYouMeanText(s) } : undefined),
    );
  }
}

/** `{type, params}` → `{key, kwargs}`, with v1.0 parameter renames. */
function translateLossConfig(e: MapEntry, what: string, diags: Diagnostic[], keyOverride?: { key: string; span: Span }): MapEntry {
  const c = e.value;
  if (c.kind !== 'map') return e;
  warnUnread(c, ['type', 'params'], what, diags);
  const out: MapEntry[] = [];
  const typeE = entryOf(c, 'type');
  const type = scalarString(typeE?.value);
  if (typeE) out.push({ key: synthScalar('key', typeE.key.span), value: keyOverride ? synthScalar(keyOverride.key, keyOverride.span) : typeE.value });
  const paramsE = entryOf(c, 'params');
  if (paramsE) {
    let params = paramsE.value;
    if (type === 'CCKDLoss' && params.kind === 'map') params = renameCckdKernel(params, diags);
    if (type === 'HierarchicalContextLoss' && params.kind === 'map') params = renameParam(params, 'kernel_sizes', 'output_sizes', type, diags);
    if (params.kind === 'map') params = renamePairFactors(type, params, diags);
    out.push({ key: synthScalar('kwargs', paramsE.key.span), value: params });
  }
  return { key: e.key, value: synthMap(out, c.span) };
}

/** A parameter v1.0 renamed (legacy HierarchicalContextLoss kernel_sizes: the adaptive-pool output sizes). */
function renameParam(params: MapNode, from: string, to: string, loss: string, diags: Diagnostic[]): MapNode {
  const e = entryOf(params, from);
  if (!e || entryOf(params, to)) return params;
  diags.push(diag('note', R.LEGACY, `legacy ${loss} '${from}' is v1.0's '${to}'; mapped`, e.key.span));
  return synthMap(
    params.entries.map((x) => (x === e ? { key: synthScalar(to, e.key.span), value: e.value } : x)),
    params.span,
  );
}

/** Legacy CCKDLoss took kernel_params {key: gaussian|bilinear, gamma, max_p}; v1.0 reads kernel_config {type, ...}. */
function renameCckdKernel(params: MapNode, diags: Diagnostic[]): MapNode {
  const kp = entryOf(params, 'kernel_params');
  if (!kp || entryOf(params, 'kernel_config')) return params;
  diags.push(diag('note', R.LEGACY, `legacy CCKDLoss 'kernel_params' (with 'key') is v1.0's 'kernel_config' (with 'type'); mapped`, kp.key.span));
  let value = kp.value;
  if (value.kind === 'map' && entryOf(value, 'key') && !entryOf(value, 'type')) {
    value = synthMap(
      value.entries.map((x) => (keyString(x) === 'key' ? { key: synthScalar('type', x.key.span), value: x.value } : x)),
      value.span,
    );
  }
  return synthMap(
    params.entries.map((x) => (x === kp ? { key: synthScalar('kernel_config', kp.key.span), value } : x)),
    params.span,
  );
}

/** Legacy pair configs (at_pairs, feature_pairs, fsp_pairs) weighted each pair with `factor`; v1.0 reads `weight`. */
function renamePairFactors(type: string | undefined, params: MapNode, diags: Diagnostic[]): MapNode {
  const reg = type !== undefined ? getMidLevelLoss(type) : undefined;
  if (!reg) return params;
  const scope = scopeOf(reg);
  const pairParams = new Set(
    reg.decl.params
      .filter((p) => {
        const t = p.type.kind === 'optional' ? p.type.inner : p.type;
        if (t.kind !== 'map' || t.value.kind !== 'named') return false;
        const fields = scope.structs.get(t.value.name)?.fields.map((f) => f.name) ?? [];
        return fields.includes('weight') && !fields.includes('factor');
      })
      .map((p) => p.name),
  );
  let renamed: Span | undefined;
  const entries = params.entries.map((e) => {
    const k = keyString(e);
    if (k === undefined || !pairParams.has(k) || e.value.kind !== 'map') return e;
    const pairs = e.value.entries.map((pe) => {
      const pv = pe.value;
      const f = entryOf(pv, 'factor');
      if (!f || entryOf(pv, 'weight') || pv.kind !== 'map') return pe;
      renamed ??= f.key.span;
      return { key: pe.key, value: synthMap(pv.entries.map((x) => (x === f ? { key: synthScalar('weight', f.key.span), value: f.value } : x)), pv.span) };
    });
    return { key: e.key, value: synthMap(pairs, e.value.span) };
  });
  if (!renamed) return params;
  diags.push(diag('note', R.LEGACY, `legacy ${reg.key} pairs are weighted by 'factor'; v1.0 reads 'weight': mapped`, renamed));
  return synthMap(entries, params.span);
}

function translateSubTerm(e: MapEntry, diags: Diagnostic[]): MapEntry {
  const name = keyString(e) ?? '?';
  const v = e.value;
  if (v.kind !== 'map') return e;
  warnUnread(v, ['criterion', 'params', 'factor'], `sub-term '${name}'`, diags);
  const out: MapEntry[] = [];
  const critE = entryOf(v, 'criterion');
  if (critE) out.push(translateLossConfig(critE, `sub-term '${name}': criterion`, diags));
  const paramsE = entryOf(v, 'params');
  if (paramsE && !isNullNode(paramsE.value)) {
    const span = paramsE.key.span;
    out.push(
      synthEntry(
        'criterion_wrapper',
        synthMap([synthEntry('key', synthScalar('SimpleLossWrapper', span), span), { key: synthScalar('kwargs', span), value: paramsE.value }], paramsE.value.span),
        span,
      ),
    );
  }
  const factorE = entryOf(v, 'factor');
  if (factorE) out.push({ key: synthScalar('weight', factorE.key.span), value: factorE.value });
  return { key: e.key, value: synthMap(out, v.span) };
}

const ROOT_OUTPUT = { is_from_teacher: false, module_path: '.', io: 'output' };
const PATH_PARAMS: [string, string][] = [
  ['student_module_path', '.'],
  ['student_module_io', 'output'],
  ['teacher_module_path', '.'],
  ['teacher_module_io', 'output'],
];

/** org_term with a criterion: the loss of the root outputs, legacy's `org_criterion(student_out[, teacher_out], targets)`. */
function translateOrgCriterion(orgE: MapEntry, critE: MapEntry, factorE: MapEntry, extractor: string | undefined, diags: Diagnostic[]): MapEntry | undefined {
  const crit = critE.value;
  const typeE = entryOf(crit, 'type');
  const type = scalarString(typeE?.value);
  const at = typeE?.value.span ?? critE.key.span;
  let keyOverride: { key: string; span: Span } | undefined;
  if (type === 'KDLoss4Transformer') {
    keyOverride = { key: 'KDLoss', span: at };
    diags.push(
      diag(
        'note',
        R.LEGACY,
        "legacy KDLoss4Transformer no longer exists; mapped to KDLoss on the root outputs ('.'), the model outputs it was called with: it took the KL of their .logits, and its hard term was the model's own loss (outputs.loss), which for these single-label classification heads is the CE of the logits and labels that KDLoss computes",
        at,
      ),
    );
  }
  const translated = translateLossConfig(critE, 'org_term criterion', diags, keyOverride);
  const reg = getMidLevelLoss(keyOverride?.key ?? type ?? '');
  const entries: MapEntry[] = [];
  let weight: ConfigNode = factorE.value;
  if (reg?.level === 'low') {
    entries.push(translated);
    const isDict = factorE.value.kind === 'map';
    const kwargs = isDict
      ? synthMap([synthEntry('input', synthFromPlain(ROOT_OUTPUT, at), at), { key: synthScalar('weights', factorE.key.span), value: factorE.value }], at)
      : (synthFromPlain({ input: ROOT_OUTPUT, target: { uses_label: true } }, at) as MapNode);
    if (!isDict && extractor === 'extract_simple_org_loss_dict') {
      diags.push(
        diag('warning', R.LEGACY, `extract_simple_org_loss_dict applies the org criterion to every entry of a dict output, whose keys tdc cannot know; mapped to one loss of the root output`, at, {
          hint: `give the factor per key (e.g. {out: 1.0, aux: 0.5}) to map it onto DictLossWrapper`,
        }),
      );
    }
    if (isDict) weight = synthScalar(1, factorE.value.span);
    entries.push(synthEntry('criterion_wrapper', synthMap([synthEntry('key', synthScalar(isDict ? 'DictLossWrapper' : 'SimpleLossWrapper', at), at), synthEntry('kwargs', kwargs, at)], at), at));
  } else if (reg?.level === 'mid' && translated.value.kind === 'map') {
    // Legacy mid-level org criteria received the root outputs directly: read '.'/output on both sides.
    const names = new Set(reg.decl.params.map((p) => p.name));
    const kwE = entryOf(translated.value, 'kwargs');
    if (kwE && kwE.value.kind === 'map') {
      const extra = PATH_PARAMS.filter(([p]) => names.has(p) && !entryOf(kwE.value, p)).map(([p, v]) => synthEntry(p, synthScalar(v, at), at));
      const kwargs = synthMap([...kwE.value.entries, ...extra], kwE.value.span);
      entries.push({ key: translated.key, value: synthMap(translated.value.entries.map((x) => (x === kwE ? { key: kwE.key, value: kwargs } : x)), translated.value.span) });
    } else entries.push(translated);
  } else entries.push(translated);
  entries.push({ key: synthScalar('weight', factorE.key.span), value: weight });
  return { key: synthScalar('org_term', orgE.key.span), value: synthMap(entries, orgE.value.span) };
}

export function translateLegacyCriterion(critEntry: MapEntry, diags: Diagnostic[]): MapEntry {
  const c = critEntry.value as MapNode;
  warnUnread(c, ['type', 'org_term', 'sub_terms', 'func2extract_org_loss'], 'the legacy criterion', diags);
  const typeE = entryOf(c, 'type')!;
  const out: MapEntry[] = [];
  const typeValue = scalarString(typeE.value) === 'GeneralizedCustomLoss' ? synthScalar('WeightedSumLoss', typeE.value.span) : typeE.value;
  out.push({ key: synthScalar('key', typeE.key.span), value: typeValue });

  const kwargs: MapEntry[] = [];
  const subs: MapEntry[] = [];
  const stE = entryOf(c, 'sub_terms');
  if (stE && stE.value.kind === 'map') for (const e of stE.value.entries) subs.push(translateSubTerm(e, diags));

  const f2eE = entryOf(c, 'func2extract_org_loss');
  const extractor = scalarString(f2eE?.value);
  const modelExtractor = extractor !== undefined && !ORG_CRITERION_EXTRACTORS.has(extractor);
  const orgE = entryOf(c, 'org_term');
  if (orgE && orgE.value.kind === 'map') {
    const org = orgE.value;
    warnUnread(org, ['criterion', 'factor'], 'org_term', diags);
    const factorE = entryOf(org, 'factor');
    const critE = entryOf(org, 'criterion');
    const hasCrit = critE !== undefined && !isNullNode(critE.value);
    const factorZero = factorE !== undefined && factorE.value.kind === 'scalar' && factorE.value.value === 0;
    if (!factorE || isNullNode(factorE.value)) {
      if (hasCrit) diags.push(diag('warning', R.LEGACY, `org_term has no factor, so legacy torchdistill never applied its criterion`, critE.key.span));
    } else if (factorZero) {
      // legacy: a zero factor drops the org term entirely
    } else if (hasCrit && !modelExtractor) {
      const t = translateOrgCriterion(orgE, critE, factorE, extractor, diags);
      if (t) subs.push(t);
    } else if (modelExtractor) {
      if (hasCrit) {
        diags.push(diag('warning', R.LEGACY, `func2extract_org_loss '${extractor}' returns the model's own losses and ignores the org_term criterion`, critE.key.span));
      }
      kwargs.push(synthEntry('model_term', synthMap([{ key: synthScalar('weight', factorE.key.span), value: factorE.value }], org.span), orgE.key.span));
      const mapped = MODEL_LOSS_EXTRACTORS[extractor!] ?? extractor!;
      out.push({ key: synthScalar('func2extract_model_loss', f2eE!.key.span), value: synthScalar(mapped, f2eE!.value.span) });
    } else {
      diags.push(
        diag('warning', R.LEGACY, `org_term has a factor but no criterion, and no func2extract_org_loss returns model losses: legacy torchdistill added nothing for it`, factorE.key.span),
      );
    }
  }

  const subsSpan = stE?.value.span ?? c.span;
  if (stE && !isNullNode(stE.value) && stE.value.kind !== 'map') kwargs.push({ key: synthScalar('sub_terms', stE.key.span), value: stE.value });
  else kwargs.push(synthEntry('sub_terms', synthMap(subs, subsSpan), stE?.key.span ?? typeE.key.span));
  out.push(synthEntry('kwargs', synthMap(kwargs, c.span), typeE.key.span));
  return { key: critEntry.key, value: synthMap(out, c.span) };
}
