#!/usr/bin/env python3
"""Torch's values for spec programs whose results are non-finite where a rewrite of tdc's (or the GPU driver's
finite-math folding) used to change them: test/fixtures/nonfinite-rewrites/{io.safetensors, expected.json}, read by
test/nonfinite-gpu.test.ts, which runs each `return <expr>` as a term of weight WEIGHT on the CPU and the GPU and
compares the loss and every gradient element with torch (NaN, +inf and -inf exactly; finite values to 1e-4
relative).

- a constant factor out of a sum: Σ s / 0 is NaN where s has both signs, (Σ s) / 0 is ±inf (schedule/algebra.ts);
- x - x and x + (-x): drivers fold them to 0, and a division by that 0 to 0 (codegen/wgsl/emitter.ts);
- a scalar power ±0.5: torch computes sqrt / rsqrt (NaN for -inf, -0 and -inf for -0), not C's pow;
- controls that stay finite, so the fixes cost the ordinary programs nothing.

    /usr/bin/python3 scripts/gen-nonfinite-rewrites.py      # rewrites test/fixtures/nonfinite-rewrites/
"""
import json
import math
import os
import sys

import torch

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
]


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
        cases.append({'expr': expr, 'loss': encode(loss.item()), 'grads': grads})
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump({'torch_version': torch.__version__, 'dtype': 'float32', 'weight': WEIGHT, 'cases': cases}, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
