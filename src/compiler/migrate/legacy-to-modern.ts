// `tdc migrate`: a legacy-schema (pre-v1.0) criterion rewritten to the modern schema in the YAML document itself
// (yaml's Document API), so comments, anchors, aliases, tags and key order survive. The rules are those the
// resolver applies when it reads a legacy file (resolve/legacy.ts), and the test suite checks that every shipped
// legacy config migrates to a file that resolves to the same criterion IR:
//   type → key, params → kwargs, factor → weight, GeneralizedCustomLoss → WeightedSumLoss;
//   a sub-term's `params: {input, target}` → criterion_wrapper {key: SimpleLossWrapper, kwargs: …};
//   org_term {criterion, factor} → a sub-term 'org_term' on the root outputs, last (DictLossWrapper for a factor
//   mapping); factor-only org_term with a model-loss extractor → model_term.weight, func2extract_org_loss →
//   func2extract_model_loss; org terms legacy never applied are removed (reported);
//   KDLoss4Transformer → KDLoss; CCKDLoss kernel_params {key} → kernel_config {type}; HCL kernel_sizes →
//   output_sizes; pair `factor` → `weight`.
// The document is parsed with the failsafe schema: scalars keep their source text (`3.0e-5` stays `3.0e-5`).
import { Document, isAlias, isMap, isScalar, isSeq, Pair, parseDocument, Scalar, visit, YAMLMap, type Node } from 'yaml';
import { getMidLevelLoss, scopeOf } from '../../registry/registry.js';

export interface MigrateResult {
  /** The migrated text (the input when nothing changed). */
  text: string;
  changed: boolean;
  /** What was done or dropped, one line each (criterion path first). */
  notes: string[];
  /** Parse errors: nothing was migrated. */
  errors: string[];
}

const ORG_CRITERION_EXTRACTORS = new Set(['extract_simple_org_loss', 'extract_simple_org_loss_dict']);
const MODEL_LOSS_EXTRACTORS: Record<string, string> = { extract_org_loss_dict: 'extract_model_loss_dict' };
const ROOT_OUTPUT = { module_path: '.', io: 'output' };
const PATH_PARAMS: [string, string][] = [
  ['student_module_path', '.'],
  ['student_module_io', 'output'],
  ['teacher_module_path', '.'],
  ['teacher_module_io', 'output'],
];

export function migrateLegacyText(text: string): MigrateResult {
  const doc = parseDocument(text, { schema: 'failsafe', keepSourceTokens: false, uniqueKeys: false }); // duplicate keys: the loader's TDC111 (tdc migrate refuses them), not yaml's quadratic check
  if (doc.errors.length) return { text, changed: false, notes: [], errors: doc.errors.map((e) => e.message) };
  const blankLines = blankLinesOnEmptyValues(doc);
  const m = new Migrator(doc);
  m.walk(doc.contents, []);
  if (!m.changed) return { text, changed: false, notes: m.notes, errors: [] };
  keepBlankLines(doc, blankLines);
  // flow collections as the file writes them: `[a, b]` or `[ a, b ]`
  const padded = (text.match(/[[{] \S/g) ?? []).length > (text.match(/[[{][^\s\]}]/g) ?? []).length;
  let out = doc.toString({ lineWidth: 0, flowCollectionPadding: padded });
  const trailing = /\n*$/.exec(text)![0];
  out = out.replace(/\n*$/, '') + trailing;
  return { text: out, changed: out !== text, notes: m.notes, errors: [] };
}

/**
 * The empty values (`sub_terms:` with nothing after it) that hold the blank lines after them: yaml's parser gives
 * a blank line that follows an empty value to that value (spaceBefore), not to the next key, so a migration that
 * replaces or drops the value would drop the line too.
 */
function blankLinesOnEmptyValues(doc: Document): Scalar[] {
  const out: Scalar[] = [];
  visit(doc, {
    Scalar(_, n) {
      if (n.spaceBefore && n.range && n.range[0] === n.range[1]) out.push(n);
    },
  });
  return out;
}

/** Each of `held` (blankLinesOnEmptyValues) that the migration removed gives its blank line to the node that follows
 *  it in the source, so the file keeps its layout (a criterion ending in `sub_terms:` kept the blank line after it). */
function keepBlankLines(doc: Document, held: readonly Scalar[]): void {
  if (!held.length) return;
  const left = new Set<unknown>();
  const placed: (Node & { range?: [number, number, number] | null })[] = [];
  visit(doc, (_, n) => {
    left.add(n);
    if (isScalar(n) || isMap(n) || isSeq(n)) placed.push(n as Node);
  });
  for (const h of held) {
    if (left.has(h)) continue;
    const at = h.range![0];
    let next: (typeof placed)[number] | undefined;
    for (const n of placed) if (n.range && n.range[0] > at && (!next || n.range[0] < next.range![0])) next = n;
    if (next) next.spaceBefore = true;
  }
}

class Migrator {
  changed = false;
  readonly notes: string[] = [];
  private readonly seen = new Set<unknown>();

  constructor(private readonly doc: Document) {}

  /** Find stage criteria (`criterion:` mappings with `type` and no `key`) anywhere outside other criteria. */
  walk(n: unknown, path: string[]): void {
    if (!n || this.seen.has(n)) return;
    this.seen.add(n);
    if (isMap(n)) {
      for (const p of n.items) {
        const k = keyOf(p);
        const v = this.deref(p.value);
        if (k === 'criterion' && isMap(v) && get(v, 'type') !== undefined && get(v, 'key') === undefined) {
          this.criterion(v, [...path, 'criterion'].join('.'));
          continue;
        }
        this.walk(p.value, [...path, k ?? '?']);
      }
    } else if (isSeq(n)) n.items.forEach((x, i) => this.walk(x, [...path, String(i)]));
  }

  private deref(n: unknown): unknown {
    return isAlias(n) ? n.resolve(this.doc) : n;
  }

  private str(n: unknown): string | undefined {
    const v = this.deref(n);
    return isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
  }

  private note(s: string): void {
    this.notes.push(s);
  }

  private criterion(c: YAMLMap, where: string): void {
    this.changed = true;
    const typeP = pair(c, 'type')!;
    const isGeneralized = this.str(typeP.value) === 'GeneralizedCustomLoss';
    renameKey(typeP, 'key');
    if (isGeneralized && isScalar(typeP.value)) typeP.value.value = 'WeightedSumLoss';

    const stP = pair(c, 'sub_terms');
    const subs = stP && isMap(this.deref(stP.value)) ? (this.deref(stP.value) as YAMLMap) : undefined;
    if (subs) for (const p of subs.items) this.subTerm(p, `${where}.sub_terms.${keyOf(p)}`);

    const f2eP = pair(c, 'func2extract_org_loss');
    const extractor = f2eP ? this.str(f2eP.value) : undefined;
    const modelExtractor = extractor !== undefined && !ORG_CRITERION_EXTRACTORS.has(extractor);
    const orgP = pair(c, 'org_term');
    let modelTerm: YAMLMap | undefined;
    let orgSub: Pair | undefined;
    let keepExtractor = false;
    if (orgP) {
      const org = this.deref(orgP.value);
      if (isMap(org)) {
        const factorP = pair(org, 'factor');
        const critP = pair(org, 'criterion');
        const hasCrit = critP !== undefined && !isNull(this.deref(critP.value));
        const factor = factorP ? this.str(factorP.value) : undefined;
        if (!factorP || isNull(this.deref(factorP.value))) {
          this.note(`${where}.org_term: no factor, so legacy torchdistill never applied it: removed`);
        } else if (factor !== undefined && Number(factor) === 0 && /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/.test(factor)) {
          this.note(`${where}.org_term: factor 0, legacy torchdistill dropped it: removed`);
        } else if (hasCrit && !modelExtractor) {
          orgSub = this.orgCriterion(orgP, critP, factorP, `${where}.org_term`);
        } else if (modelExtractor) {
          if (hasCrit) this.note(`${where}.org_term: '${extractor}' returns the model's own losses and ignores the org criterion: criterion removed`);
          modelTerm = new YAMLMap();
          modelTerm.items.push(new Pair(new Scalar('weight'), factorP.value));
          keepExtractor = true;
        } else {
          this.note(`${where}.org_term: a factor but no criterion and no model-loss extractor: legacy torchdistill added nothing; removed`);
        }
      }
    }
    if (f2eP) {
      if (keepExtractor) {
        renameKey(f2eP, 'func2extract_model_loss');
        const mapped = MODEL_LOSS_EXTRACTORS[extractor!];
        if (mapped && isScalar(f2eP.value)) f2eP.value.value = mapped;
      } else {
        this.note(`${where}.func2extract_org_loss: '${extractor}' applied the org criterion, now a sub-term: removed`);
      }
    }

    // kwargs: {model_term?, sub_terms}, where sub_terms stood (after `key`)
    const kwargs = new YAMLMap();
    if (modelTerm) kwargs.items.push(new Pair(new Scalar('model_term'), modelTerm));
    let subsNode: unknown = stP?.value;
    if (orgSub) {
      const target = subs ?? new YAMLMap();
      target.items.push(orgSub);
      subsNode = subs ? stP!.value : target;
    }
    const subsPair = stP ?? new Pair(new Scalar('sub_terms'), subsNode ?? new YAMLMap());
    if (stP && orgSub && !subs) stP.value = subsNode as Node;
    if (!stP) subsPair.value = (subsNode ?? new YAMLMap()) as Node;
    kwargs.items.push(subsPair);
    const kwPair = new Pair(new Scalar('kwargs'), kwargs);
    // rebuild the criterion's entries in order: key, kwargs (at sub_terms' place), func2extract_model_loss, the rest
    const items: Pair[] = [];
    let placed = false;
    for (const p of c.items as Pair[]) {
      const k = keyOf(p);
      if (p === orgP || p === stP || (k === 'func2extract_org_loss' && !keepExtractor)) {
        if (p === stP && !placed) {
          items.push(kwPair);
          placed = true;
        }
        continue;
      }
      items.push(p);
      if (p === typeP && !stP) {
        items.push(kwPair);
        placed = true;
      }
    }
    if (!placed) items.splice(1, 0, kwPair);
    c.items = items;
  }

  /** `{criterion: {type, params}, params?, factor}` → `{criterion: {key, kwargs}, criterion_wrapper?, weight}`. */
  private subTerm(p: Pair, where: string): void {
    const v = this.deref(p.value);
    if (!isMap(v) || this.seen.has(v)) return;
    this.seen.add(v);
    const critP = pair(v, 'criterion');
    if (critP) this.lossConfig(critP, `${where}.criterion`);
    const paramsP = pair(v, 'params');
    if (paramsP && !isNull(this.deref(paramsP.value))) {
      const wrapper = new YAMLMap();
      wrapper.items.push(new Pair(new Scalar('key'), quoted('SimpleLossWrapper')), new Pair(new Scalar('kwargs'), paramsP.value));
      renameKey(paramsP, 'criterion_wrapper');
      paramsP.value = wrapper;
    }
    const factorP = pair(v, 'factor');
    if (factorP) renameKey(factorP, 'weight');
  }

  /** `{type, params}` → `{key, kwargs}` with v1.0's parameter renames. */
  private lossConfig(p: Pair, where: string, keyOverride?: string): void {
    const c = this.deref(p.value);
    if (!isMap(c) || this.seen.has(c)) return;
    this.seen.add(c);
    const typeP = pair(c, 'type');
    const type = typeP ? this.str(typeP.value) : undefined;
    if (typeP) {
      renameKey(typeP, 'key');
      if (keyOverride) typeP.value = quoted(keyOverride);
    }
    const paramsP = pair(c, 'params');
    if (!paramsP) return;
    renameKey(paramsP, 'kwargs');
    const params = this.deref(paramsP.value);
    if (!isMap(params) || this.seen.has(params)) return;
    this.seen.add(params);
    if (type === 'CCKDLoss') {
      const kp = pair(params, 'kernel_params');
      if (kp && !pair(params, 'kernel_config')) {
        renameKey(kp, 'kernel_config');
        const kv = this.deref(kp.value);
        if (isMap(kv)) {
          const kk = pair(kv, 'key');
          if (kk && !pair(kv, 'type')) renameKey(kk, 'type');
        }
        this.note(`${where}: CCKDLoss kernel_params → kernel_config (key → type)`);
      }
    }
    if (type === 'HierarchicalContextLoss') {
      const ks = pair(params, 'kernel_sizes');
      if (ks && !pair(params, 'output_sizes')) {
        renameKey(ks, 'output_sizes');
        this.note(`${where}: HierarchicalContextLoss kernel_sizes → output_sizes`);
      }
    }
    this.pairFactors(type, params, where);
  }

  private pairFactors(type: string | undefined, params: YAMLMap, where: string): void {
    const reg = type !== undefined ? getMidLevelLoss(type) : undefined;
    if (!reg) return;
    const scope = scopeOf(reg);
    const pairParams = reg.decl.params
      .filter((p) => {
        const t = p.type.kind === 'optional' ? p.type.inner : p.type;
        if (t.kind !== 'map' || t.value.kind !== 'named') return false;
        const fields = scope.structs.get(t.value.name)?.fields.map((f) => f.name) ?? [];
        return fields.includes('weight') && !fields.includes('factor');
      })
      .map((p) => p.name);
    for (const name of pairParams) {
      const pp = this.deref(pair(params, name)?.value);
      if (!isMap(pp)) continue;
      for (const e of pp.items) {
        const ev = this.deref(e.value);
        if (!isMap(ev) || this.seen.has(ev)) continue;
        this.seen.add(ev);
        const f = pair(ev, 'factor');
        if (f && !pair(ev, 'weight')) {
          renameKey(f, 'weight');
          this.note(`${where}.kwargs.${name}.${keyOf(e)}: factor → weight`);
        }
      }
    }
  }

  /** org_term with a criterion → sub-term 'org_term' reading the root outputs. */
  private orgCriterion(orgP: Pair, critP: Pair, factorP: Pair, where: string): Pair {
    const crit = this.deref(critP.value);
    const type = isMap(crit) ? this.str(pair(crit, 'type')?.value) : undefined;
    const override = type === 'KDLoss4Transformer' ? 'KDLoss' : undefined;
    if (override) this.note(`${where}: KDLoss4Transformer (removed in v1.0) → KDLoss on the root outputs ('.')`);
    this.lossConfig(critP, `${where}.criterion`, override);
    const reg = getMidLevelLoss(override ?? type ?? '');
    const sub = new YAMLMap();
    sub.items.push(critP);
    let weight: unknown = factorP.value;
    const factor = this.deref(factorP.value);
    if (reg?.level === 'low') {
      const isDict = isMap(factor);
      const kwargs = mapOf([
        ['input', rootOutput()],
        isDict ? ['weights', factorP.value] : ['target', mapOf([['uses_label', new Scalar('True')]])],
      ]);
      if (isDict) weight = new Scalar('1.0');
      const wrapper = new YAMLMap();
      wrapper.items.push(new Pair(new Scalar('key'), quoted(isDict ? 'DictLossWrapper' : 'SimpleLossWrapper')), new Pair(new Scalar('kwargs'), kwargs));
      sub.items.push(new Pair(new Scalar('criterion_wrapper'), wrapper));
    } else if (reg?.level === 'mid' && isMap(crit)) {
      const names = new Set(reg.decl.params.map((p) => p.name));
      const kw = this.deref(pair(crit, 'kwargs')?.value);
      if (isMap(kw)) for (const [p, v] of PATH_PARAMS) if (names.has(p) && !pair(kw, p)) kw.items.push(new Pair(new Scalar(p), quoted(v)));
    }
    sub.items.push(new Pair(new Scalar('weight'), weight));
    const key = new Scalar('org_term');
    if (isScalar(orgP.key)) key.commentBefore = orgP.key.commentBefore;
    return new Pair(key, sub);
  }
}

function keyOf(p: Pair): string | undefined {
  return isScalar(p.key) && typeof p.key.value === 'string' ? p.key.value : undefined;
}

function pair(m: unknown, key: string): Pair | undefined {
  return isMap(m) ? (m.items as Pair[]).find((p) => keyOf(p) === key) : undefined;
}

function get(m: YAMLMap, key: string): unknown {
  return pair(m, key)?.value;
}

function isNull(n: unknown): boolean {
  return n === null || n === undefined || (isScalar(n) && (n.value === null || n.value === '' || n.value === '~' || n.value === 'null' || n.value === 'Null' || n.value === 'NULL'));
}

/** Rename a key in place (its node keeps comments, anchor and quoting style). */
function renameKey(p: Pair, to: string): void {
  if (isScalar(p.key)) p.key.value = to;
  else p.key = new Scalar(to);
}

function quoted(s: string): Scalar {
  const n = new Scalar(s);
  n.type = 'QUOTE_SINGLE';
  return n;
}

/** `{is_from_teacher: False, module_path: '.', io: 'output'}` as the shipped configs write it. */
function rootOutput(): YAMLMap {
  return mapOf([
    ['is_from_teacher', new Scalar('False')],
    ['module_path', quoted(ROOT_OUTPUT.module_path)],
    ['io', quoted(ROOT_OUTPUT.io)],
  ]);
}

function mapOf(entries: [string, unknown][]): YAMLMap {
  const m = new YAMLMap();
  for (const [k, v] of entries) m.items.push(new Pair(new Scalar(k), v));
  return m;
}
