// yaml's composed nodes → our ConfigNode tree, with the semantics of PyYAML's FullLoader plus torchdistill's
// tags: aliases yield the anchored node itself, merge keys are flattened, scalars are typed as YAML 1.1,
// `!join` is evaluated, and so are `!import_call`/`!import_get` of pure tensor constructors and dtypes
// (tensor-constant.ts); other tags stay inert. The expanded size and depth (through aliases) are bounded,
// so a later recursive walk by any stage is safe.
import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { diag, DiagnosticError, posAt, type Diagnostic, type Related, type Severity, type Span } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import type { ConfigNode, MapEntry, MapNode, ScalarNode, ScalarValue, SeqNode } from './config-node.js';
import { LoadCode } from './codes.js';
import { pyStr } from './py-str.js';
import {
  constructBool,
  constructFloat,
  constructInt,
  describePy,
  resolvePlain11,
  resolvePlain12,
  samePyValue,
  versionHint,
  type PyValue,
} from './pyyaml-scalar.js';
import { KIND_NAME, TORCHDISTILL_TAGS, YAML_TAG_PREFIX } from './torchdistill-tags.js';
import { evaluateTag } from './tensor-constant.js';

export interface TreeLimits {
  maxDepth: number;
  maxExpandedNodes: number;
  maxJoinLength: number;
}

export interface SourceText {
  file: string;
  text: string;
  lineStarts: number[];
}

type Range = readonly [number, number, number?];

interface AnchorDef {
  /** null while the anchored collection is still being built (an alias to it then is recursive). */
  node: ConfigNode | null;
  span: Span;
}

/** Build the tree of one document's contents (null contents → null scalar at `emptyAt`). */
export function buildTree(contents: unknown, src: SourceText, limits: TreeLimits, out: Diagnostic[], emptyAt = 0): ConfigNode {
  return new TreeBuilder(src, limits, out).node(contents, false, emptyAt);
}

class TreeBuilder {
  private readonly anchors = new Map<string, AnchorDef>();
  /** Nodes reachable from a node with every alias expanded (the node itself included). */
  private readonly expanded = new Map<ConfigNode, number>();
  /** Nesting height with aliases expanded (a scalar is 1). */
  private readonly height = new Map<ConfigNode, number>();
  private readonly mergeKeys = new WeakSet<ConfigNode>();
  /** Exact value of ints beyond 2^53, for str() in `!join`. */
  private readonly bigInts = new WeakMap<ScalarNode, bigint>();

  constructor(
    private readonly src: SourceText,
    private readonly limits: TreeLimits,
    private readonly out: Diagnostic[],
  ) {}

  node(y: unknown, atKey: boolean, emptyAt: number): ConfigNode {
    if (y === null || y === undefined) return this.nullScalar(this.span([emptyAt, emptyAt]));
    if (isAlias(y)) return this.alias(y);
    if (isScalar(y)) return this.withAnchor(y, () => this.scalar(y, atKey));
    if (isMap(y)) return this.withAnchor(y, () => this.collection(y, this.map(y)));
    if (isSeq(y)) return this.withAnchor(y, () => this.collection(y, this.seq(y)));
    if (isPair(y)) return this.pairMap(y);
    throw new Error(`unexpected YAML node ${Object.prototype.toString.call(y)}`);
  }

  // ---- anchors and aliases

  private withAnchor(y: Scalar | YAMLMap | YAMLSeq, build: () => ConfigNode): ConfigNode {
    const name = y.anchor;
    if (!name) return build();
    const span = this.span(y.range);
    this.checkAnchorName(name, '&', span);
    const prev = this.anchors.get(name);
    if (prev) {
      this.report('error', LoadCode.badAnchor, `anchor '&${name}' is defined twice (PyYAML rejects duplicate anchors)`, span, {
        related: [{ message: 'first defined here', span: prev.span }],
      });
    }
    const def: AnchorDef = { node: null, span };
    this.anchors.set(name, def);
    const node = build();
    def.node = node;
    return node;
  }

  private alias(y: Alias): ConfigNode {
    const span = this.span(y.range);
    if (!this.checkAnchorName(y.source, '*', span)) return this.nullScalar(span);
    const def = this.anchors.get(y.source);
    if (!def) {
      this.report('error', LoadCode.badAnchor, `alias '*${y.source}' refers to no anchor defined before it`, span);
      return this.nullScalar(span);
    }
    if (def.node === null) {
      this.report('error', LoadCode.recursiveAlias, `alias '*${y.source}' is inside the node its anchor marks (a recursive structure)`, span, {
        related: [{ message: `anchor '&${y.source}'`, span: def.span }],
      });
      return this.nullScalar(span);
    }
    return def.node;
  }

  /** yaml accepts any non-space name; PyYAML's scanner reads only [0-9A-Za-z_-] (so `*x:` is alias x and a colon). */
  private checkAnchorName(name: string, sigil: '&' | '*', span: Span): boolean {
    if (/^[0-9A-Za-z_-]+$/.test(name)) return true;
    this.report('error', LoadCode.badAnchor, `'${sigil}${name}': PyYAML allows only letters, digits, '-' and '_' in anchor names`, span, {
      hint: /^[0-9A-Za-z_-]+[?:,\]}%@`]/.test(name) ? `put a space after '${sigil}${/^[0-9A-Za-z_-]+/.exec(name)![0]}'` : undefined,
    });
    return false;
  }

  // ---- scalars

  private scalar(y: Scalar, atKey: boolean): ConfigNode {
    const span = this.span(y.range);
    const raw = this.src.text.slice(span.start.offset, span.end.offset);
    const text = typeof y.source === 'string' ? y.source : String(y.value ?? '');
    const tag = y.tag;
    let node: ScalarNode;
    if (tag === undefined && y.type === 'PLAIN') node = this.plain(text, raw, span, atKey);
    else if (tag === undefined || tag === '!') node = this.scalarNode(text, raw, span);
    else if (tag.startsWith(YAML_TAG_PREFIX)) node = this.standardScalar(tag, text, raw, span);
    else {
      node = this.scalarNode(text, raw, span);
      this.checkTag(tag, 'scalar', span);
      node.tag = tag;
    }
    return this.account(node, 1, 1);
  }

  /** A plain scalar, typed by PyYAML's resolver; warns where YAML 1.2 reads it differently. */
  private plain(text: string, raw: string, span: Span, atKey: boolean): ScalarNode {
    const py = resolvePlain11(text);
    switch (py.type) {
      case 'timestamp':
        this.report('warning', LoadCode.timestamp, `'${text}' is a timestamp to PyYAML (a Python datetime); tdc keeps it as a string`, span, {
          hint: `quote it ('${text}') to make it a string for both`,
        });
        return this.scalarNode(text, raw, span);
      case 'merge': {
        const node = this.scalarNode(text, raw, span);
        if (atKey) this.mergeKeys.add(node);
        else this.report('error', LoadCode.badScalar, `'<<' is a merge key; PyYAML cannot construct it as a value`, span, { hint: `quote it ('<<') for a string` });
        return node;
      }
      case 'value':
        if (!atKey) this.report('error', LoadCode.badScalar, `'=' is the YAML 1.1 value key; PyYAML cannot construct it as a value`, span, { hint: `quote it ('=') for a string` });
        return this.scalarNode(text, raw, span);
      case 'error':
        this.report('error', LoadCode.badScalar, py.message, span);
        return this.scalarNode(text, raw, span);
    }
    const y12 = resolvePlain12(text);
    if (!samePyValue(py, y12)) {
      this.report(
        'warning',
        LoadCode.yamlVersion,
        `PyYAML (YAML 1.1, as torchdistill loads it) reads '${text}' as ${describePy(py)}; a YAML 1.2 parser reads ${describePy(y12)}`,
        span,
        { hint: versionHint(text, py, y12) },
      );
    }
    return this.fromPy(py, raw, span);
  }

  /** `!!str`, `!!int`, … on a scalar: constructed as PyYAML does; unsupported standard tags stay inert. */
  private standardScalar(tag: string, text: string, raw: string, span: Span): ScalarNode {
    const name = tag.slice(YAML_TAG_PREFIX.length);
    let v: PyValue | { type: 'error'; message: string } | undefined;
    switch (name) {
      case 'str':
        v = { type: 'str', value: text };
        break;
      case 'null':
        v = { type: 'null' };
        break;
      case 'bool':
        v = constructBool(text);
        break;
      case 'int':
        v = constructInt(text);
        break;
      case 'float':
        v = constructFloat(text);
        break;
      case 'seq':
      case 'map':
        this.report('error', LoadCode.tagNodeKind, `tag !!${name} needs ${KIND_NAME[name]}, found a scalar`, span);
        return this.scalarNode(text, raw, span);
    }
    if (v === undefined) {
      this.report('warning', LoadCode.unknownTag, `tag !!${name} is not supported by tdc; the value is kept as the string '${text}'`, span);
      const node = this.scalarNode(text, raw, span);
      node.tag = tag;
      return node;
    }
    if (v.type === 'error') {
      this.report('error', LoadCode.badScalar, v.message, span);
      return this.scalarNode(text, raw, span);
    }
    return this.fromPy(v, raw, span);
  }

  private fromPy(v: PyValue, raw: string, span: Span): ScalarNode {
    switch (v.type) {
      case 'null':
        return this.scalarNode(null, raw, span);
      case 'bool':
      case 'str':
        return this.scalarNode(v.value, raw, span);
      case 'float': {
        const node = this.scalarNode(v.value, raw, span);
        node.numberKind = 'float';
        return node;
      }
      case 'int': {
        const n = Number(v.value);
        const node = this.scalarNode(n, raw, span);
        node.numberKind = 'int';
        if (!Number.isSafeInteger(n)) {
          this.bigInts.set(node, v.value);
          this.report('warning', LoadCode.intPrecision, `the int ${v.value} is beyond 2^53; tdc holds it as ${n}`, span);
        }
        return node;
      }
    }
  }

  // ---- collections

  private seq(y: YAMLSeq): SeqNode {
    const span = this.span(y.range);
    const items = y.items.map((it) => this.node(it, false, span.end.offset));
    return { kind: 'seq', span, items };
  }

  /** A single-pair mapping inside a flow sequence: `[a: 1]`. */
  private pairMap(p: Pair): ConfigNode {
    const k = this.node(p.key, true, this.rangeOf(p.value)?.[0] ?? 0);
    const v = this.node(p.value, false, k.span.end.offset);
    const span = this.spanOf(k.span, v.span);
    return this.finishCollection({ kind: 'map', span, entries: this.flatten([{ key: k, value: v }], []) }, undefined);
  }

  private map(y: YAMLMap): MapNode {
    const span = this.span(y.range);
    const explicit: MapEntry[] = [];
    const merges: { value: ConfigNode; keySpan: Span }[] = [];
    for (const item of y.items) {
      const key = this.node(item.key, true, this.rangeOf(item.value)?.[0] ?? span.start.offset);
      const value = this.node(item.value, false, key.span.end.offset);
      if (this.mergeKeys.has(key)) merges.push({ value, keySpan: key.span });
      else {
        if ((key.kind === 'map' || key.kind === 'seq') && key.tag === undefined) {
          this.report('error', LoadCode.unhashableKey, `${KIND_NAME[key.kind]} cannot be a mapping key (PyYAML: found unhashable key)`, key.span);
        }
        explicit.push({ key, value });
      }
    }
    return { kind: 'map', span, entries: this.flatten(explicit, merges) };
  }

  /** PyYAML's flatten_mapping + dict insertion: merged pairs first (earlier merge sources win among
   *  themselves), explicit pairs override; a repeated key keeps its first key node and position, and its
   *  last value. */
  private flatten(explicit: MapEntry[], merges: { value: ConfigNode; keySpan: Span }[]): MapEntry[] {
    const merged: MapEntry[] = [];
    for (const { value, keySpan } of merges) {
      if (value.kind === 'map') merged.push(...value.entries);
      else if (value.kind === 'seq') {
        const sources: MapEntry[][] = [];
        for (const it of value.items) {
          if (it.kind === 'map') sources.push(it.entries);
          else this.report('error', LoadCode.badMerge, `a merge key's list must hold mappings, found ${KIND_NAME[it.kind]}`, it.span);
        }
        for (const s of sources.reverse()) merged.push(...s);
      } else {
        this.report('error', LoadCode.badMerge, `a merge key ('<<') needs a mapping or a list of mappings, found ${KIND_NAME[value.kind]}`, value.span, {
          related: [{ message: 'merge key', span: keySpan }],
        });
      }
    }
    const firstExplicit = new Map<unknown, MapEntry>();
    for (const e of explicit) {
      const id = keyIdentity(e.key);
      const first = firstExplicit.get(id);
      if (first) {
        this.report('warning', LoadCode.duplicateKey, `duplicate key '${e.key.kind === 'scalar' ? pyStr(e.key) : '?'}': PyYAML keeps the last value`, e.key.span, {
          related: [{ message: 'first defined here', span: first.key.span }],
        });
      } else firstExplicit.set(id, e);
    }
    if (merged.length === 0 && firstExplicit.size === explicit.length) return explicit;
    const out: MapEntry[] = [];
    const at = new Map<unknown, number>();
    for (const e of [...merged, ...explicit]) {
      const id = keyIdentity(e.key);
      const i = at.get(id);
      if (i === undefined) {
        at.set(id, out.length);
        out.push(e);
      } else out[i] = { key: out[i]!.key, value: e.value }; // a dict keeps its first key object
    }
    return out;
  }

  /** Tags on a collection: `!join` is evaluated, torchdistill tags kept, standard tags checked. */
  private collection(y: YAMLMap | YAMLSeq, node: MapNode | SeqNode): ConfigNode {
    const tag = y.tag;
    if (tag === '!join') return this.join(node);
    if (tag === undefined || tag === '!') return this.finishCollection(node, undefined);
    if (tag.startsWith(YAML_TAG_PREFIX)) {
      const name = tag.slice(YAML_TAG_PREFIX.length);
      if ((name === 'seq' || name === 'map') && name === node.kind) return this.finishCollection(node, undefined);
      if (name === 'seq' || name === 'map' || name === 'str' || name === 'int' || name === 'float' || name === 'bool' || name === 'null') {
        const want = name === 'seq' || name === 'map' ? KIND_NAME[name] : 'a scalar';
        this.report('error', LoadCode.tagNodeKind, `tag !!${name} needs ${want}, found ${KIND_NAME[node.kind]}`, node.span);
        return this.finishCollection(node, undefined);
      }
      this.report('warning', LoadCode.unknownTag, `tag !!${name} is not supported by tdc; the ${node.kind === 'map' ? 'mapping' : 'sequence'} is kept as is`, node.span);
      return this.finishCollection(node, tag);
    }
    this.checkTag(tag, node.kind, node.span);
    if ((tag === '!import_call' || tag === '!import_get') && node.kind === 'map') this.evaluate(node, tag);
    return this.finishCollection(node, tag);
  }

  /** Pure tensor constructors and dtypes become constants (never executed); other keys stay inert with a reason. */
  private evaluate(node: MapNode, tag: '!import_call' | '!import_get'): void {
    const r = evaluateTag(node, tag);
    if ('ok' in r) node.evaluated = r.ok;
    else if ('inert' in r) node.inert = r.inert;
    else {
      // torchdistill evaluates every tag when it loads the file: torch would raise here
      node.inert = r.error;
      this.report('error', LoadCode.badConstant, `${tag} ${r.error}`, (r.at ?? node).span, r.at ? { related: [{ message: `in this ${tag}`, span: node.span }] } : undefined);
    }
  }

  /** `''.join(str(x) for x in seq)`; the result is an untagged string scalar. */
  private join(node: MapNode | SeqNode): ConfigNode {
    if (node.kind !== 'seq') {
      this.report('error', LoadCode.tagNodeKind, `!join needs a sequence, found ${KIND_NAME[node.kind]}`, node.span);
      return this.finishCollection(node, '!join');
    }
    const parts: string[] = [];
    let length = 0;
    let ok = true;
    for (const it of node.items) {
      if (it.kind !== 'scalar' || it.tag !== undefined) {
        const what = it.kind !== 'scalar' ? KIND_NAME[it.kind] : `a ${it.tag} value`;
        this.report('error', LoadCode.badJoin, `!join items must be scalars; found ${what}, which tdc cannot turn into a string`, it.span, {
          related: it.span.start.offset === node.span.start.offset ? undefined : [{ message: 'in this !join', span: node.span }],
        });
        ok = false;
        continue;
      }
      const s = pyStr(it, this.bigInts.get(it));
      length += s.length;
      if (length > this.limits.maxJoinLength) {
        throw new DiagnosticError(diag('error', LoadCode.tooBig, `!join result longer than ${this.limits.maxJoinLength} characters`, node.span));
      }
      parts.push(s);
    }
    if (!ok) return this.finishCollection(node, '!join');
    const raw = this.src.text.slice(node.span.start.offset, node.span.end.offset);
    return this.account(this.scalarNode(parts.join(''), raw, node.span), 1, 1);
  }

  /** Warn about an unknown tag; error when a torchdistill tag sits on the wrong kind of node. */
  private checkTag(tag: string, kind: ConfigNode['kind'], span: Span): void {
    const want = TORCHDISTILL_TAGS.get(tag);
    if (want === undefined) {
      const hint = didYouMean(tag, TORCHDISTILL_TAGS.keys());
      this.report('warning', LoadCode.unknownTag, `unknown tag '${tag}': torchdistill registers no constructor for it (PyYAML would reject it); kept as is`, span, hint ? { hint } : undefined);
    } else if (want !== kind) {
      this.report('error', LoadCode.tagNodeKind, `${tag} needs ${KIND_NAME[want]}, found ${KIND_NAME[kind]}`, span);
    }
  }

  private finishCollection(node: MapNode | SeqNode, tag: string | undefined): ConfigNode {
    if (tag !== undefined) node.tag = tag;
    let size = 1;
    let h = 0;
    const add = (n: ConfigNode): void => {
      size += this.expanded.get(n) ?? 1;
      h = Math.max(h, this.height.get(n) ?? 1);
    };
    if (node.kind === 'seq') node.items.forEach(add);
    else
      for (const e of node.entries) {
        add(e.key);
        add(e.value);
      }
    return this.account(node, size, h + 1);
  }

  /** Record a node's expanded size and height; over a limit, abandon the whole load. */
  private account<N extends ConfigNode>(node: N, size: number, h: number): N {
    if (size > this.limits.maxExpandedNodes) {
      throw new DiagnosticError(
        diag('error', LoadCode.tooBig, `this node expands to more than ${this.limits.maxExpandedNodes} nodes when its aliases are followed`, node.span, {
          hint: 'aliases nested inside aliased nodes multiply (a "billion laughs" document)',
        }),
      );
    }
    if (h > this.limits.maxDepth) {
      throw new DiagnosticError(diag('error', LoadCode.tooDeep, `nesting deeper than ${this.limits.maxDepth} levels (counting through aliases)`, node.span));
    }
    this.expanded.set(node, size);
    this.height.set(node, h);
    return node;
  }

  // ---- helpers

  private scalarNode(value: ScalarValue, source: string, span: Span): ScalarNode {
    return { kind: 'scalar', span, value, source };
  }

  private nullScalar(span: Span): ScalarNode {
    return this.account(this.scalarNode(null, '', span), 1, 1);
  }

  private rangeOf(y: unknown): Range | undefined {
    const r = (y as { range?: Range | null } | null | undefined)?.range;
    return r ?? undefined;
  }

  private span(range: Range | null | undefined): Span {
    const start = range?.[0] ?? 0;
    const end = range?.[1] ?? start;
    return { file: this.src.file, start: posAt(this.src.lineStarts, start), end: posAt(this.src.lineStarts, Math.max(start, end)) };
  }

  private spanOf(a: Span, b: Span): Span {
    return { file: a.file, start: a.start, end: b.end.offset >= a.end.offset ? b.end : a.end };
  }

  private report(severity: Severity, code: string, message: string, span: Span, extra?: { hint?: string; related?: Related[] }): void {
    this.out.push(diag(severity, code, message, span, extra));
  }
}

/** Python dict-key equality for constructed keys: True == 1 == 1.0; tagged or collection keys by identity. */
function keyIdentity(k: ConfigNode): unknown {
  if (k.kind !== 'scalar' || k.tag !== undefined) return k;
  const v = k.value;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return `n:${v ? 1 : 0}`;
  if (typeof v === 'number') return `n:${v}`;
  return `s:${v}`;
}
