// `tdc run`: one stage's criterion on concrete tensors (safetensors, golden/ naming), instantiated with their
// shapes and evaluated by the float64 CPU executor: loss, each sub-term, the model term and the gradients.
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { shapeToString } from '../graph/dims.js';
import { execute, InputBindingError, type HostTensor } from '../runtime/cpu/executor.js';
import { toHost, type SafeTensor } from '../runtime/safetensors.js';
import { instantiateStage } from './instantiate/index.js';
import type { StageIR } from './ir.js';

export interface CpuRunResult {
  loss: number;
  /** Each sub-term: its weight and unweighted value. */
  terms: Record<string, { weight: number; value: number }>;
  /** The model term (WeightedSumLoss model_term), when present: Σ model losses (number weight) or Σ weight·loss (dict). */
  modelTerm?: { weight: number | Record<string, number>; value: number };
  /** d loss / d input for every trainable input the loss reaches. */
  grads: Map<string, HostTensor>;
}

export function runStageOnCpu(stage: StageIR, tensors: Map<string, SafeTensor>): { result?: CpuRunResult; diagnostics: Diagnostic[] } {
  const host = new Map<string, HostTensor>();
  for (const [name, t] of tensors) host.set(name, toHost(t));
  const modelLossKeys = [...host.keys()].filter((n) => n.startsWith('model_loss/')).map((n) => n.slice('model_loss/'.length));
  const inst = instantiateStage(
    stage,
    (name) => {
      const t = host.get(name);
      return t ? { shape: t.shape, dtype: t.dtype } : undefined;
    },
    { modelLossKeys },
  );
  const diagnostics = [...inst.diagnostics];
  const g = inst.graph;
  if (!g) return { diagnostics };
  try {
    const r = execute(g, host);
    const terms: CpuRunResult['terms'] = {};
    for (const t of g.terms) terms[t.name] = { weight: t.weight, value: r.terms[t.name]! };
    const result: CpuRunResult = { loss: r.loss, terms, grads: r.grads };
    if (g.modelTerm) result.modelTerm = { weight: g.modelTerm.weight, value: r.values[g.modelTerm.node]!.data[0]! };
    return { result, diagnostics };
  } catch (e) {
    if (e instanceof InputBindingError) {
      const node = g.inputs.find((i) => i.name === e.tensor);
      const expected = node ? shapeToString(g.nodes[node.node]!.shape) : undefined;
      diagnostics.push(diag('error', 'TDC520', e.message, stage.span, expected ? { hint: `'${e.tensor}' must have shape ${expected}` } : undefined));
    } else {
      diagnostics.push(diag('error', 'TDC521', `the CPU executor failed: ${(e as Error).message}`, stage.span));
    }
    return { diagnostics };
  }
}
