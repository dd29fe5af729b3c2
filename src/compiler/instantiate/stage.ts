// instantiateStage: a stage's criterion (its high-level loss, normally WeightedSumLoss, with the sub-terms and
// model term of the IR) → a differentiated tensor graph. The high-level spec's body does the summing; every
// sub-term call is recorded as a GraphTerm (its unweighted value).
import { DiagnosticError, diag, type Diagnostic, type Span } from '../../diagnostics/diagnostic.js';
import { differentiate } from '../../graph/autodiff.js';
import { GRAPH_LIMITS, GraphBuilder, GraphLimitError } from '../../graph/builder.js';
import { dimAssumptions, dimToString, shapeToString } from '../../graph/dims.js';
import type { Dim, Graph, GraphTerm } from '../../graph/types.js';
import { getFunc2ExtractModelOutput, getHighLevelLoss, getLossWrapper, getLowLevelLoss, getMidLevelLoss, scopeOf, type RegisteredLoss } from '../../registry/registry.js';
import type { StageIR, TermIR } from '../ir.js';
import { C } from './codes.js';
import { fail, newContext, warn, type EvalContext, type InputInfo } from './context.js';
import { Interpreter } from './interpreter.js';
import { termLoss, type LossValue } from './losses.js';
import { constant, materialize, op, shapeOf, toNode } from './tensors.js';
import { fromKw, kindName, NONE, num, type Value } from './values.js';

export interface InstantiateOptions {
  /** Model-loss keys present in the run (`model_loss/<key>` inputs), for extract_model_loss_dict. */
  modelLossKeys?: string[];
  /** A stateful loss's buffer the inputs do not give takes the shape its spec declares (`state("memory_v1", [M, d])`):
   *  `tdc compile`, where the state is no io_dict tensor a user pins. Default: a missing state tensor is an error. */
  declaredStateShapes?: boolean;
}

export function instantiateStage(stage: StageIR, inputs: InputInfo, opts: InstantiateOptions = {}): { graph?: Graph; diagnostics: Diagnostic[] } {
  const b = new GraphBuilder({ limits: GRAPH_LIMITS });
  // Dims the shape rules assume equal (a symbol broadcast against a size): recorded for the runtime to check.
  const assumed = new Map<string, [Dim, Dim]>();
  dimAssumptions.sink = (x, y) => void assumed.set([dimToString(x), dimToString(y)].sort().join('='), [x, y]);
  try {
    const r = instantiate(stage, inputs, opts, b);
    if (r.graph && assumed.size) r.graph.equalDims = [...assumed.values()];
    return r;
  } finally {
    delete dimAssumptions.sink;
  }
}

function instantiate(stage: StageIR, inputs: InputInfo, opts: InstantiateOptions, b: GraphBuilder): { graph?: Graph; diagnostics: Diagnostic[] } {
  const ctx = newContext('graph', { builder: b, inputs, trainable: stage.trainable, modelLossKeys: opts.modelLossKeys ?? [], ...(opts.declaredStateShapes ? { declaredStateShapes: true } : {}) });
  const diagnostics: Diagnostic[] = [];
  try {
    if (stage.modelTerm) ctx.modelLossKeys = modelLossKeys(ctx, stage);
    const high = getHighLevelLoss(stage.criterionKey);
    if (!high) fail(ctx, C.loss, `unknown high-level loss '${stage.criterionKey}'`, stage.span);

    const terms: GraphTerm[] = [];
    let termFailed = false;
    const subTerms = new Map<string, Value>();
    for (const t of stage.terms) {
      const entries = new Map<string, Value>([
        ['criterion', recordedTerm(ctx, t, terms, diagnostics, () => (termFailed = true))],
        ['criterion_wrapper', NONE],
        ['weight', num(t.weight)],
      ]);
      subTerms.set(t.name, { t: 'map', entries });
    }
    // Like torchdistill's get_high_level_loss: the criterion's kwargs as the config gives them (with the spec's
    // defaults); sub_terms and model_term only where the loss declares them (a custom high loss may not).
    const kwargs = new Map<string, Value>(Object.entries(stage.criterionKwargs ?? {}).map(([k, v]) => [k, fromKw(v)]));
    const declares = (name: string): boolean => high.decl.params.some((p) => p.name === name);
    if (declares('sub_terms')) kwargs.set('sub_terms', { t: 'map', entries: subTerms });
    if (declares('model_term')) kwargs.set('model_term', stage.modelTerm ? { t: 'map', entries: new Map([['weight', fromKw(stage.modelTerm.weight)]]) } : NONE);

    ctx.configSpan = stage.span;
    const result = new Interpreter(ctx, scopeOf(high)).runLoss(high.decl, kwargs, [], undefined);
    if (termFailed) return { diagnostics: [...diagnostics, ...ctx.diagnostics] };
    const highReturn = returnedIn(ctx, high);
    const loss = scalarNode(ctx, result, `the criterion '${stage.criterionKey}'`, highReturn ?? stage.span, highReturn !== undefined);

    let modelTerm: Graph['modelTerm'];
    if (stage.modelTerm && ctx.modelLossKeys.length) {
      ctx.configSpan = stage.modelTerm.span;
      ctx.curSpan = stage.modelTerm.span;
      const w = stage.modelTerm.weight;
      if (typeof w === 'number' && w !== 0) {
        const node = ctx.modelLossKeys.map((k) => materialize(ctx, { kind: 'model_loss', key: k })).reduce((p, q) => op(ctx, 'binary', [p, q], { fn: 'add' }));
        modelTerm = { node, weight: w };
      } else if (w !== null && typeof w === 'object' && !Array.isArray(w)) {
        const weights: Record<string, number> = {};
        const parts = ctx.modelLossKeys.map((k) => {
          const wk = (w as Record<string, unknown>)[k];
          weights[k] = typeof wk === 'number' ? wk : 0;
          return op(ctx, 'binary', [constant(ctx, weights[k]!), materialize(ctx, { kind: 'model_loss', key: k })], { fn: 'mul' });
        });
        modelTerm = { node: parts.reduce((p, q) => op(ctx, 'binary', [p, q], { fn: 'add' })), weight: weights };
      }
    }
    const g = differentiate(b.finish({ loss, terms, ...(modelTerm ? { modelTerm } : {}) }));
    if (ctx.stateOut.length) g.stateOut = ctx.stateOut;
    if (ctx.stateInit.length) g.stateInit = ctx.stateInit;
    if (ctx.warnings.length) g.warnings = ctx.warnings;
    return { graph: g, diagnostics: [...diagnostics, ...ctx.diagnostics] };
  } catch (e) {
    if (e instanceof DiagnosticError) return { diagnostics: [...diagnostics, ...ctx.diagnostics, e.diagnostic] };
    if (e instanceof GraphLimitError) return { diagnostics: [...diagnostics, ...ctx.diagnostics, diag('error', C.limit, e.message, stage.span)] };
    return { diagnostics: [...diagnostics, ...ctx.diagnostics, internalError(e, stage.span)] };
  }
}

/** The sub-term as the high-level body sees it: calling it builds the term once and records it. */
function recordedTerm(ctx: EvalContext, t: TermIR, terms: GraphTerm[], diagnostics: Diagnostic[], onFail: () => void): LossValue {
  let built: Value | undefined;
  return {
    t: 'loss',
    name: t.name,
    arity: 0,
    call: (args) => {
      if (built) return built;
      const saved = { configSpan: ctx.configSpan, termName: ctx.termName, frames: ctx.frames };
      ctx.configSpan = t.span;
      ctx.termName = t.name;
      ctx.frames = [];
      try {
        const v = termLoss(ctx, t).call(args, t.criterion.span); // the term's loss is the top of its call chain, called from its config key
        const at = returnedIn(ctx, outerLoss(t));
        const node = scalarNode(ctx, v, `sub-term '${t.name}' (${t.criterion.key})`, at ?? t.span, at !== undefined);
        terms.push({ name: t.name, weight: t.weight, node });
        built = { t: 'tensor', id: node };
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw e;
        diagnostics.push(e.diagnostic);
        onFail();
        built = { t: 'tensor', id: constant(ctx, 0) };
      } finally {
        ctx.configSpan = saved.configSpan;
        if (saved.termName === undefined) delete ctx.termName;
        else ctx.termName = saved.termName;
        ctx.frames = saved.frames;
      }
      return built;
    },
  };
}

/** The registry entry whose body gives a term's value: its wrapper's, else its loss's. */
function outerLoss(t: TermIR): RegisteredLoss | undefined {
  if (t.wrapper) return getLossWrapper(t.wrapper.key);
  return t.criterion.level === 'low' ? getLowLevelLoss(t.criterion.key) : getMidLevelLoss(t.criterion.key);
}

/** The `return` of a user's spec that gave the value just computed: where a value that is no loss is reported (the
 *  config term stays related). For a built-in loss the config term is what the user wrote, so it is undefined. */
function returnedIn(ctx: EvalContext, loss: RegisteredLoss | undefined): Span | undefined {
  return loss && !loss.builtin ? ctx.returnedAt : undefined;
}

/** `span`: the config term, or (inSpec) the `return` of the user's spec that gave `v`. */
function scalarNode(ctx: EvalContext, v: Value, what: string, span: Span, inSpec = false): number {
  if (v.t === 'none') fail(ctx, C.notScalar, `${what} returned none`, span);
  if (v.t !== 'tensor' && v.t !== 'ref' && v.t !== 'num' && v.t !== 'bool' && v.t !== 'dim')
    fail(ctx, C.notScalar, `${what} returned ${kindName(v)}, not a loss`, span);
  const id = toNode(ctx, v);
  const shape = shapeOf(ctx, id)!;
  const why =
    'torchdistill adds the weighted terms into the total loss and its training loop calls loss.backward(), which torch ' +
    'refuses for a non-scalar ("RuntimeError: grad can be implicitly created only for scalar outputs")';
  if (shape.length !== 0)
    fail(ctx, C.notScalar, `${what} returns a tensor of shape ${shapeToString(shape)}, but a loss term must be a scalar`, span, {
      hint: inSpec ? `${why}; reduce it, e.g. with sum(...) or mean(...)` : `reduction 'none' keeps one value per element; ${why}; use 'mean' or 'sum'`,
    });
  return id;
}

/** The model-loss keys of a stage with a model term: the extract function's, or the run's. */
function modelLossKeys(ctx: EvalContext, stage: StageIR): string[] {
  const mt = stage.modelTerm!;
  const reg = getFunc2ExtractModelOutput(mt.func2extract);
  if (!reg) fail(ctx, C.loss, `unknown func2extract_model_loss '${mt.func2extract}'`, mt.span);
  ctx.configSpan = mt.span;
  const v = new Interpreter(ctx, scopeOf(reg)).runLoss(reg.decl, new Map(), [], mt.span);
  if (v.t !== 'list' || v.items.some((x) => x.t !== 'str'))
    fail(ctx, C.modelLoss, `${mt.func2extract} must return a list of model-loss keys, got ${kindName(v)}`, reg.decl.nameSpan);
  const keys = v.items.map((x) => (x as { v: string }).v);
  const w = mt.weight;
  if (keys.length === 0 && w !== null && w !== 0)
    warn(ctx, C.modelLoss, `model_term has weight ${JSON.stringify(w)} but ${mt.func2extract} finds no model losses (no 'model_loss/<key>' inputs); the model term adds nothing`, mt.span);
  if (w !== null && typeof w === 'object' && !Array.isArray(w))
    for (const k of keys)
      if (!(k in w))
        fail(ctx, C.modelLoss, `model_term.weight has no entry for the model loss '${k}' (torchdistill raises KeyError)`, mt.span, {
          hint: `weights given for: ${Object.keys(w).join(', ') || 'none'}`,
        });
  return keys;
}

export function internalError(e: unknown, span?: Span): Diagnostic {
  return diag('error', C.internal, `internal error during instantiation: ${(e as Error)?.message ?? String(e)}`, span);
}
