#!/usr/bin/env python3
"""Torch's values for spec programs whose results are non-finite where a rewrite of tdc's (or the GPU driver's
finite-math folding) used to change them: test/fixtures/nonfinite-rewrites/{io.safetensors, expected.json}, read by
test/nonfinite-gpu.test.ts, which runs each `return <expr>` as a term of weight WEIGHT on the CPU and the GPU and
compares the loss and every gradient element with torch (NaN, +inf and -inf exactly; finite values to 1e-4
relative).

- a constant factor out of a sum: Σ s / 0 is NaN where s has both signs, (Σ s) / 0 is ±inf (schedule/algebra.ts);
- x - x and x + (-x): drivers fold them to 0, and a division by that 0 to 0 (codegen/wgsl/emitter.ts);
- a scalar power ±0.5: torch computes sqrt / rsqrt (NaN for -inf, -0 and -inf for -0), not C's pow;
- max/min reductions: a NaN element makes amax/amin and adaptive_max_pool2d NaN (WGSL's max/min and
  subgroupMax/Min may drop it: the GPU gave a finite value, or -F32_MAX for an all-NaN row); all -inf gives -inf, not
  -F32_MAX (codegen/wgsl/row-kernel.ts, subgroup-combine.ts, emitter.ts);
- controls that stay finite, so the fixes cost the ordinary programs nothing.

    /usr/bin/python3 scripts/gen-nonfinite-rewrites.py      # rewrites test/fixtures/nonfinite-rewrites/
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_io_dict import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'nonfinite-rewrites')

INF = float('inf')
WEIGHT = 0.5  # the term's weight in the test's config

# (spec expression over s = student layer3 output, t = teacher layer3 output; the same in torch)
CASES = [
    ('sum(s / 0.0)', lambda s, t: (s / 0.0).sum()),
    ('sum(s / -0.0)', lambda s, t: (s / -0.0).sum()),
    ('sum(s * 1e400)', lambda s, t: (s * INF).sum()),
    ('sum(sum(s / 0.0, 1))', lambda s, t: (s / 0.0).sum(1).sum()),
    ('sum(s / (t - t))', lambda s, t: (s / (t - t)).sum()),
    ('sum(s / (t + -t))', lambda s, t: (s / (t + -t)).sum()),
    ('sum(s * (t - t))', lambda s, t: (s * (t - t)).sum()),
    ('sum(s * 0.0)', lambda s, t: (s * 0.0).sum()),
    # a scalar power ±0.5 is torch's sqrt / rsqrt, not C's pow (the CPU executor computed C's)
    ('(sum(s) * -1e400) ** 0.5', lambda s, t: (s.sum() * -INF) ** 0.5),
    ('1.0 / (sum(s * 0.0) * -1.0) ** 0.5', lambda s, t: 1.0 / (((s * 0.0).sum() * -1.0) ** 0.5)),
    ('(sum(s * 0.0) * -1.0) ** -0.5', lambda s, t: ((s * 0.0).sum() * -1.0) ** -0.5),
    ('sum(abs(s) ** 0.5 + abs(t) ** -0.5)', lambda s, t: (s.abs() ** 0.5 + t.abs() ** -0.5).sum()),
    ('sum(s / 2.5) + sum(sum(t, 1) * 3.0)', lambda s, t: (s / 2.5).sum() + (t.sum(1) * 3.0).sum()),
    # max/min reductions propagate NaN as torch's amax/amin (losses only: see LOSS_ONLY). log(s + 2.0) is NaN in
    # one element (row 2, s = -2.4), log(s) in rows 0 and 2 (row 1 stays finite)
    ('amax(log(s + 2.0))', lambda s, t: torch.log(s + 2.0).amax()),
    ('amin(log(s + 2.0))', lambda s, t: torch.log(s + 2.0).amin()),
    ('sum(amax(log(s + 2.0), 1))', lambda s, t: torch.log(s + 2.0).amax(1).sum()),
    ('sum(amin(log(s), 1))', lambda s, t: torch.log(s).amin(1).sum()),
    ('sum(amax(log(s), 0))', lambda s, t: torch.log(s).amax(0).sum()),
    # s * inf - inf: NaN where s >= 0 (row 1 is all NaN), -inf where s < 0; every element NaN after `* 0.0`
    ('amax(s * 1e400 - 1e400)', lambda s, t: (s * INF - INF).amax()),
    ('sum(amax(s * 1e400 - 1e400, 1))', lambda s, t: (s * INF - INF).amax(1).sum()),
    ('amin((s * 1e400 - 1e400) * 0.0)', lambda s, t: ((s * INF - INF) * 0.0).amin()),
    # a max/min next to a sum over the same rows (one row kernel)
    ('sum(amax(log(s + 2.0), 1) + sum(t, 1))', lambda s, t: (torch.log(s + 2.0).amax(1) + t.sum(1)).sum()),
    ('sum(amin(log(s), 1) * sum(t * t, 1))', lambda s, t: (torch.log(s).amin(1) * (t * t).sum(1)).sum()),
    # every element -inf (+inf): amax (amin) is -inf (+inf), not ∓F32_MAX
    ('amax((abs(s) + 1.0) * -1e400)', lambda s, t: ((s.abs() + 1.0) * -INF).amax()),
    ('amin((abs(s) + 1.0) * 1e400)', lambda s, t: ((s.abs() + 1.0) * INF).amin()),
    # an online softmax's running max keeps WGSL's max (the KD hot path): a NaN element makes its sum of exps NaN
    ('sum(log_softmax(log(s + 2.0), 1))', lambda s, t: F.log_softmax(torch.log(s + 2.0), 1).sum()),
    ('sum(logsumexp(s * 1e400 - 1e400, 1))', lambda s, t: torch.logsumexp(s * INF - INF, 1).sum()),
    # adaptive max pooling: a NaN cell makes its bin's max NaN (the whole plane: one bin; 2×2 bins over 3×4)
    ('sum(adaptive_max_pool2d(log(s + 2.0), 1))', lambda s, t: F.adaptive_max_pool2d(torch.log(s + 2.0)[None], 1).sum()),
    ('sum(adaptive_max_pool2d(log(s + 2.0), 2))', lambda s, t: F.adaptive_max_pool2d(torch.log(s + 2.0)[None], 2).sum()),
    ('sum(adaptive_max_pool2d((abs(s) + 1.0) * -1e400, 1))', lambda s, t: F.adaptive_max_pool2d(((s.abs() + 1.0) * -INF)[None], 1).sum()),
    # adaptive max pooling's backward: a bin holding NaN sends its gradient to its last NaN cell in row-major order
    # (torch's CPU kernel takes `val > max || isnan(val)`); a bin of all -inf to its first cell. log(s) is NaN in
    # three cells of row 0 and two of row 2
    ('sum(adaptive_max_pool2d(log(s), 1))', lambda s, t: F.adaptive_max_pool2d(torch.log(s)[None], 1).sum()),
    ('sum(adaptive_max_pool2d(log(s), 2))', lambda s, t: F.adaptive_max_pool2d(torch.log(s)[None], 2).sum()),
    ('sum(adaptive_max_pool2d(log(s) * t, [2, 3]))', lambda s, t: F.adaptive_max_pool2d((torch.log(s) * t)[None], (2, 3)).sum()),
    ('sum(adaptive_max_pool2d(t - 1e400, 2)) + sum(s)', lambda s, t: F.adaptive_max_pool2d((t - INF)[None], 2).sum() + s.sum()),
    # amax/amin backward (torch 1.13's scale_grad_by_count): the gradient is split evenly over the tied extreme
    # elements; t has ties (row 0's min, row 2's max, the whole tensor's max three times)
    ('sum(amax(t, 1) * sum(s, 1))', lambda s, t: (t.amax(1) * s.sum(1)).sum()),
    ('sum(amin(t, 1) * amax(s, 1))', lambda s, t: (t.amin(1) * s.amax(1)).sum()),
    ('amax(t) * amin(s) + amin(t * 2.0)', lambda s, t: t.amax() * s.amin() + (t * 2.0).amin()),
    ('sum(amax(t, 0) * sum(s, 0))', lambda s, t: (t.amax(0) * s.sum(0)).sum()),
    ('sum(amax(abs(s), 1))', lambda s, t: s.abs().amax(1).sum()),
    # a p = ±inf norm is torch's norm backward, not amax's: the NaN cells share the gradient with sign(NaN) = 0
    ('sum(vector_norm(t, 1e400, 1) * sum(s, 1))', lambda s, t: (torch.linalg.vector_norm(t, INF, 1) * s.sum(1)).sum()),
    ('sum(vector_norm(s - t, -1e400, 1))', lambda s, t: torch.linalg.vector_norm(s - t, -INF, 1).sum()),
    ('sum(vector_norm(log(s + 2.0), 1e400, 1))', lambda s, t: torch.linalg.vector_norm(torch.log(s + 2.0), INF, 1).sum()),
    ('vector_norm(log(s) * t, 1e400)', lambda s, t: torch.linalg.vector_norm(torch.log(s) * t, INF)),
    # a constant 0 divided by a run-time 0 is NaN (s[0, 3] is 0): drivers fold 0 / x to 0
    ('sum(0.0 / s)', lambda s, t: (0.0 / s).sum()),
    ('sum(t * (0.0 / s))', lambda s, t: (t * (0.0 / s)).sum()),
    ('sum(0.0 / (s * t) + t)', lambda s, t: (0.0 / (s * t) + t).sum()),
    ('sum(-0.0 / s)', lambda s, t: (-0.0 / s).sum()),
    ('sum(0.0 / (abs(s) + 1.0))', lambda s, t: (0.0 / (s.abs() + 1.0)).sum()),
    # and its sign is that of the quotient: 1 / (0 / x) is -inf for x < 0
    ('sum(1.0 / (0.0 / (s - 5.0)))', lambda s, t: (1.0 / (0.0 / (s - 5.0))).sum()),
    ('sum(1.0 / (-0.0 / (s - 5.0)))', lambda s, t: (1.0 / (-0.0 / (s - 5.0))).sum()),
    # a product with a constant ±0 has the sign of the product (lavapipe folds x * -0.0 and -2 * 0.0 to +0), so
    # 1 / it is -inf where torch's is, and exp of that 0
    ('sum(1.0 / ((abs(s) + 1.0) * -0.0))', lambda s, t: (1.0 / ((s.abs() + 1.0) * -0.0)).sum()),
    ('sum(exp(1.0 / ((abs(s) + 1.0) * -0.0)))', lambda s, t: torch.exp(1.0 / ((s.abs() + 1.0) * -0.0)).sum()),
    ('sum(exp(1.0 / ((abs(s) + 1.0) * -1.0 * 0.0)))', lambda s, t: torch.exp(1.0 / ((s.abs() + 1.0) * -1.0 * 0.0)).sum()),
    ('sum(exp(1.0 / ((abs(s) + 1.0) / -1e400)))', lambda s, t: torch.exp(1.0 / ((s.abs() + 1.0) / -INF)).sum()),
    ('amin(1.0 / (s * -0.0)) + amin(1.0 / (t * 0.0))', lambda s, t: (1.0 / (s * -0.0)).amin() + (1.0 / (t * 0.0)).amin()),
    # a factor of constants that overflows (underflows) in float32 stays inside its sum: k = [1.7e38, 3.4e38, inf, inf]
    # (q = 0) makes columns 2 and 3 (every column) NaN, where k · Σ (Σ / q) was ±inf and amin -inf. GPU only: the CPU
    # executor computes in float64, where k and q are finite and non-zero (see GPU_ONLY)
    ('amin(sum(s * (float(arange(4)) * 1.7e38 + 1.7e38), 0))', lambda s, t: (s * (torch.arange(4).float() * 1.7e38 + 1.7e38)).sum(0).amin()),
    ('amin(sum(s / ((float(arange(4)) + 1.0) * 1e-30 * 1e-20), 0))', lambda s, t: (s / ((torch.arange(4).float() + 1.0) * 1e-30 * 1e-20)).sum(0).amin()),
    # finite controls
    ('sum(adaptive_max_pool2d(s * t, 2))', lambda s, t: F.adaptive_max_pool2d((s * t)[None], 2).sum()),
    ('amax(s) + amin(t)', lambda s, t: s.amax() + t.amin()),
    ('sum(amax(s, 1) + sum(t, 1)) + sum(amin(s * t, 0))', lambda s, t: (s.amax(1) + t.sum(1)).sum() + (s * t).amin(0).sum()),
]

# Cases compared on the loss only: tdc's amax/amin backward sends the gradient to the first extreme element, where
# torch 1.13 splits it evenly over ties and gives NaN to every element when the result is NaN (a separate defect);
# max pooling's and softmax's with NaN inputs are not checked here either.
LOSS_ONLY = set()

# Cases the test runs on the GPU only: their float32 overflow (underflow) of constants is not one in the CPU
# executor's float64.
GPU_ONLY = {'amin(sum(s * (float(arange(4)) * 1.7e38 + 1.7e38), 0))', 'amin(sum(s / ((float(arange(4)) + 1.0) * 1e-30 * 1e-20), 0))'}


def encode(v):
    """A float as JSON: NaN and ±inf as the strings 'NaN', 'Infinity', '-Infinity'."""
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    return v


def main():
    # s: both signs and an exact 0 (0/0 is NaN, s/0 is ±inf); t: finite, every element distinct from 0
    s = torch.tensor([[-1.5, -0.9, -0.3, 0.0], [0.3, 0.9, 1.5, 2.1], [-2.4, 0.6, 1.2, -0.6]], dtype=torch.float32)
    t = torch.tensor([[-0.2, 0.5, 1.2, -0.2], [0.5, 1.2, -0.2, 0.5], [1.2, -0.2, 0.5, 1.2]], dtype=torch.float32)
    os.makedirs(ROOT, exist_ok=True)
    write_safetensors(os.path.join(ROOT, 'io.safetensors'), {'student/layer3/output': s, 'teacher/layer3/output': t})
    cases = []
    for expr, fn in CASES:
        sl = s.clone().requires_grad_()
        tl = t.clone().requires_grad_()
        loss = fn(sl, tl) * WEIGHT
        loss.backward()
        grads = {}
        for name, x in (('student/layer3/output', sl), ('teacher/layer3/output', tl)):
            g = x.grad if x.grad is not None else torch.zeros_like(x)
            grads[name] = [encode(v) for v in g.flatten().tolist()]
        case = {'expr': expr, 'loss': encode(loss.item()), 'grads': {} if expr in LOSS_ONLY else grads}
        if expr in GPU_ONLY:
            case['devices'] = ['gpu']
        cases.append(case)
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump({'torch_version': torch.__version__, 'dtype': 'float32', 'weight': WEIGHT, 'cases': cases}, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
