#!/usr/bin/env python3
"""Differential fuzzing of tdc's torch losses against PyTorch 1.13 (float64): case generator. Not part of CI.

For every torch loss tdc implements (src/losses-spec/torch/*.tdl) it draws random but legal constructor options
(reduction, the legacy size_average/reduce flags, weight, pos_weight, ignore_index incl. every target ignored,
label_smoothing, probability targets, margin, p, eps, swap, log_input, full, beta, delta, log_target, ...) and random
shapes (unbatched, size-1 dims, C not a multiple of 4, extra spatial dims, scaled and saturated values), computes the
loss and the gradient of every float input with torch in float64 and writes the case in the golden format through
gen-golden-regress.py's edge_case (a spec.tdl calling low_loss("<Loss>", kwargs) on the student's output tuple;
reduction 'none' results are reduced by sum(flatten(out) * (arange + 1)) on both sides so every element counts).
A case whose torch loss is not finite is dropped (counted), except "every target ignored", which is guarded as in
gen-golden-regress.py.

It also writes refusal cases (expected.json `expect_error`): a keyword torch's constructor does not accept, a value
torch rejects (torch raised while building or calling the loss), and torch keywords tdc's signature lacks. tdc must
answer those with an error diagnostic, never a number.

    /usr/bin/python3 scripts/fuzz-torch-losses.py --seed 1 --cases 40 [--losses CrossEntropyLoss,NLLLoss] [--out DIR]
    node scripts/fuzz-torch-losses.mjs [--out DIR] [--gpu]      # runs them through tdc (CPU 1e-9; GPU golden tolerances)

Deterministic for (seed, loss, case number): case `regress__fz_<Loss>_<i>` of seed S is the same on every run.
"""
import argparse
import importlib.util
import inspect
import json
import math
import os
import random
import re
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('gen_golden_regress', os.path.join(HERE, 'gen-golden-regress.py'))
ggr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ggr)

TORCH_SPECS = os.path.join(HERE, '..', 'src', 'losses-spec', 'torch')
WEIGHTED = ('sum(flatten(out) * (float(arange(numel(out))) + 1))',
            lambda out, xs, t: (out.flatten() * (torch.arange(out.numel(), dtype=torch.float64) + 1)).sum())


def tdc_params(loss):
    """The keyword names of tdc's `low <loss>(...)` signature."""
    text = open(os.path.join(TORCH_SPECS, loss + '.tdl')).read()
    m = re.search(r'low\s+' + loss + r'\s*\(([^)]*)\)', text, re.S)
    return [p.split(':')[0].strip() for p in m.group(1).split(',') if p.strip()]


class Draw:
    """Random choices for one case (a python Random for options, a torch Generator for tensors)."""

    def __init__(self, key):
        self.r = random.Random(key)
        self.g = torch.Generator().manual_seed(self.r.getrandbits(62))

    def pick(self, *xs):
        return self.r.choice(xs)

    def coin(self, p=0.5):
        return self.r.random() < p

    def randn(self, *shape, scale=1.0):
        return torch.randn(tuple(shape), generator=self.g, dtype=torch.float64) * scale

    def rand(self, *shape):
        return torch.rand(tuple(shape), generator=self.g, dtype=torch.float64)

    def randint(self, lo, hi, shape):
        return torch.randint(lo, hi, shape, generator=self.g)

    def scale(self):
        return self.pick(1.0, 1.0, 1.0, 0.01, 3.0, 10.0, 1e-4, 1e4)

    def classes(self):
        return self.pick(1, 2, 3, 5, 7, 8, 13)

    def batch(self):
        return self.pick(1, 2, 3, 4, 6)

    def reduction(self, kw, legacy=True, extra=()):
        """Sets reduction, or (sometimes) the legacy flags torch maps onto one."""
        if legacy and self.coin(0.2):
            sa, rd = self.pick(True, False, None), self.pick(True, False, None)
            if sa is not None:
                kw['size_average'] = sa
            if rd is not None:
                kw['reduce'] = rd
            if self.coin(0.3):
                kw['reduction'] = self.pick('none', 'mean', 'sum')  # ignored by torch when a legacy flag is set
            return
        kw['reduction'] = self.pick('none', 'mean', 'sum', *extra)

    def elementwise_shape(self):
        return self.pick((), (5,), (3, 4), (2, 3, 5), (1, 7), (4, 1, 2), (2, 1, 3, 3))

    def weight(self, c, positive=True):
        w = self.rand(c) * 2 + (0.05 if positive else 0.0)
        if self.coin(0.2):
            w[self.r.randrange(c)] = 0.0
        return w


def tensor_yaml(t):
    return ggr.tensor_tag(t.tolist())


# ---- one generator per loss: returns (kwargs_torch, xs, targets, n_args) -------------------------------------------

def gen_class_targets(d, kw, loss):
    """CrossEntropyLoss / NLLLoss / NLLLoss2d inputs."""
    c = d.classes()
    n = d.batch()
    spatial = () if loss != 'NLLLoss2d' else d.pick((2, 3), (1, 1), (3, 2))
    if loss != 'NLLLoss2d' and d.coin(0.3):
        spatial = d.pick((2,), (3, 2), (1, 2, 2))
    unbatched = loss != 'NLLLoss2d' and not spatial and d.coin(0.15)
    shape = (c,) if unbatched else (n, c) + spatial
    tshape = () if unbatched else (n,) + spatial
    x = d.randn(*shape, scale=d.pick(1.0, 3.0, 0.1, 20.0))
    if loss != 'CrossEntropyLoss':
        x = torch.log_softmax(x, 0 if unbatched else 1) if d.coin(0.8) else x
    if d.coin(0.4):
        kw['weight'] = d.weight(c)
    ii = d.pick(-100, -100, 255, -1, d.r.randrange(c))
    if d.coin(0.6):
        kw['ignore_index'] = ii
    ii = kw.get('ignore_index', -100)
    d.reduction(kw)
    if loss == 'CrossEntropyLoss' and d.coin(0.5):
        kw['label_smoothing'] = d.pick(0.0, 0.1, 0.5, 1.0, 0.05)
    if loss == 'CrossEntropyLoss' and d.coin(0.25):
        # class probabilities, the logits' shape
        p = torch.softmax(d.randn(*shape), 0 if unbatched else 1)
        return ([x, p], None, 2) if d.coin(0.5) else ([x], p, 1)
    t = d.randint(0, c, tshape)
    if d.coin(0.4) and t.numel():
        mask = d.rand(*tshape) < d.pick(0.3, 1.0)  # 1.0: every target ignored
        t = torch.where(mask, torch.full_like(t, ii), t)
    return [x], t, 1


def gen_bce(d, kw, loss):
    shape = d.pick((5,), (3, 4), (2, 3, 5), (1, 7), (4, 1), (2, 3, 2, 2), ())
    z = d.randn(*shape, scale=d.pick(1.0, 4.0, 30.0))
    if loss == 'BCELoss':
        x = z.sigmoid()
        if d.coin(0.3) and x.numel():
            flat = x.view(-1)
            flat[d.r.randrange(flat.numel())] = d.pick(0.0, 1.0)
    else:
        x = z
    t = d.rand(*shape) if d.coin(0.5) else (d.rand(*shape) > 0.5).double()
    if d.coin(0.08):
        t = t.round().to(torch.int64)  # torch refuses integer/bool targets here
        return [x], t, 1
    last = shape[-1] if shape else 1
    if d.coin(0.4):
        # (2,) + shape: a weight that would enlarge the input, which torch's in-place mul_ refuses
        wshape = d.pick(shape, (last,), (1,), (2,) + shape) if shape else d.pick((), (1,))
        kw['weight'] = d.rand(*wshape) * 2
    if loss == 'BCEWithLogitsLoss' and d.coin(0.5):
        kw['pos_weight'] = d.rand(last) * 3 if shape else d.rand(1) * 3
    d.reduction(kw)
    return ([x, t], None, 2) if d.coin(0.4) else ([x], t, 1)


def gen_regression(d, kw, loss):
    shape = d.elementwise_shape()
    s = d.scale()
    x = d.randn(*shape, scale=s)
    t = d.randn(*shape, scale=s)
    if d.coin(0.3) and x.numel():
        t.view(-1)[0] = x.view(-1)[0]  # a tie
    if d.coin(0.15):
        # a target of another shape: torch warns and broadcasts (a leading dim, a 1, or a trailing mismatch it refuses)
        t = d.randn(*d.pick((2,) + shape, tuple(1 if i == 0 else k for i, k in enumerate(shape)), shape[:-1] + (3,) if shape else (2,)), scale=s)
    if d.coin(0.1):
        t = t.round().long()  # integer targets: torch promotes or refuses, per loss
        return [x], t, 1
    if loss == 'SmoothL1Loss' and d.coin(0.6):
        kw['beta'] = d.pick(0.0, 0.5, 1.0, 2.0, 1e-3)
    if loss == 'HuberLoss' and d.coin(0.6):
        kw['delta'] = d.pick(0.5, 1.0, 2.0, 1e-3, 10.0)
    d.reduction(kw, legacy=loss != 'HuberLoss')
    return ([x, t], None, 2) if d.coin(0.5) else ([x], t, 1)


def gen_kldiv(d, kw, loss):
    shape = d.pick((3, 5), (2, 7), (4, 3, 2), (1, 4), (6,))
    x = torch.log_softmax(d.randn(*shape, scale=d.pick(1.0, 3.0)), -1)
    lt = d.coin(0.4)
    if lt:
        kw['log_target'] = True
        t = torch.log_softmax(d.randn(*shape), -1)
    else:
        if d.coin(0.2):
            kw['log_target'] = False
        t = torch.softmax(d.randn(*shape), -1)
        if d.coin(0.3):
            t = torch.where(d.rand(*shape) < 0.3, torch.zeros_like(t), t)  # zero targets: xlogy 0
    d.reduction(kw, extra=('batchmean', 'batchmean'))
    if d.coin(0.08):
        return [x], (t > 0.2).to(torch.int64), 1  # torch: "kl_div: Integral inputs not supported"
    return ([x, t], None, 2) if d.coin(0.4) else ([x], t, 1)


def gen_poisson(d, kw, loss):
    shape = d.elementwise_shape()
    li = d.coin(0.6)
    if not li or d.coin(0.3):
        kw['log_input'] = li
    x = d.randn(*shape) if li else d.rand(*shape) * 3 + d.pick(0.01, 0.0, 1.0)
    t = d.randint(0, 6, shape).double() if d.coin(0.6) else d.rand(*shape) * 4
    if d.coin(0.08):
        t = t.round().to(torch.int64)
        if d.coin(0.3):
            kw['full'] = True
        d.reduction(kw)
        return [x], t, 1
    if d.coin(0.5):
        kw['full'] = d.coin()
    if d.coin(0.3):
        kw['eps'] = d.pick(1e-8, 1e-3, 0.5)
    d.reduction(kw)
    return ([x, t], None, 2) if d.coin(0.3) else ([x], t, 1)


def gen_gaussian(d, kw, loss):
    shape = d.pick((4, 3), (5,), (2, 3, 4), (3, 1), (1, 6))
    x = d.randn(*shape)
    t = d.randn(*shape)
    vshape = d.pick(shape, shape[:-1] + (1,), shape[:-1]) if len(shape) > 1 else d.pick(shape, (1,), ())
    if d.coin(0.1):
        vshape = d.pick((1,) + shape[1:], (1,) * len(shape), shape[-1:], shape + (1,))  # torch: var is of incorrect size
    v = d.rand(*vshape) * 2 + 1e-3
    if d.coin(0.3) and v.numel():
        v.view(-1)[0] = d.pick(1e-9, 0.0, 1e-7)  # below eps: clamped under no_grad
    if d.coin(0.5):
        kw['full'] = d.coin()
    if d.coin(0.4):
        kw['eps'] = d.pick(1e-6, 1e-3, 0.1)
    d.reduction(kw, legacy=False)
    return [x, t, v], None, 3


def gen_pm1(d, kw, loss):
    """HingeEmbeddingLoss / SoftMarginLoss: target of +-1."""
    shape = d.elementwise_shape()
    x = d.randn(*shape, scale=d.scale())
    t = torch.where(d.rand(*shape) < 0.5, -1.0, 1.0).double()
    if loss == 'SoftMarginLoss' and d.coin(0.2):
        t = t.long()
    if loss == 'HingeEmbeddingLoss':
        if d.coin(0.6):
            kw['margin'] = d.pick(0.0, 0.5, 1.0, 2.0, -0.5)
        if d.coin(0.3) and x.numel():
            x.view(-1)[0] = kw.get('margin', 1.0)  # a tie
        if d.coin(0.3):
            t = t.long()
    d.reduction(kw)
    return [x], t, 1


def gen_margin_ranking(d, kw, loss):
    shape = d.pick((5,), (1,), (3,), (), (2, 3))
    a = d.randn(*shape)
    b = d.randn(*shape)
    t = torch.where(d.rand(*shape) < 0.5, -1.0, 1.0).double()
    if d.coin(0.6):
        kw['margin'] = d.pick(0.0, 0.3, 1.0, -0.2)
    d.reduction(kw)
    return [a, b], t, 2


def gen_cosine(d, kw, loss):
    unbatched = d.coin(0.2)
    # no D = 1: cos is then +-1 but for EPSILON, and its gradient (~1e-12) the difference of two near-equal terms,
    # rounding noise that any other evaluation order changes by more than 1e-9 of it
    n, dim = d.batch(), d.pick(2, 3, 5, 8)
    shape = (dim,) if unbatched else (n, dim)
    a, b = d.randn(*shape), d.randn(*shape)
    # (b = k * a, cos = +-1, is left out: 1 - cos is rounding noise there, different for any summation order)
    t = torch.where(d.rand(*(() if unbatched else (n,))) < 0.5, -1, 1)
    if d.coin(0.6):
        kw['margin'] = d.pick(0.0, 0.5, -0.5, 0.9)
    d.reduction(kw)
    return [a, b], t, 2


def gen_multilabel_margin(d, kw, loss):
    unbatched = d.coin(0.2)
    n, c = d.batch(), d.classes()
    x = d.randn(*((c,) if unbatched else (n, c)))
    rows = []
    for _ in range(1 if unbatched else n):
        k = d.r.randrange(0, c + 1)
        labels = d.r.sample(range(c), k)
        row = labels + [-1] * (c - k)
        if k < c and d.coin(0.3):  # garbage after the terminator
            for j in range(k + 1, c):
                row[j] = d.r.randrange(-1, c)
        rows.append(row)
    t = torch.tensor(rows[0] if unbatched else rows)
    d.reduction(kw)
    return [x], t, 1


def gen_multilabel_soft(d, kw, loss):
    n, c = d.batch(), d.classes()
    unbatched = d.coin(0.15)
    shape = (c,) if unbatched else (n, c)
    x = d.randn(*shape, scale=d.pick(1.0, 5.0))
    t = (d.rand(*shape) > 0.5).double() if d.coin(0.7) else d.rand(*shape)
    if d.coin(0.08):
        t = t.round().to(torch.int64)
    if d.coin(0.4):
        kw['weight'] = d.weight(c)
    d.reduction(kw)
    return [x], t, 1


def gen_multi_margin(d, kw, loss):
    n, c = d.batch(), d.classes()
    unbatched = d.coin(0.2)
    x = d.randn(*((c,) if unbatched else (n, c)))
    t = d.randint(0, c, () if unbatched else (n,))
    if d.coin(0.5):
        kw['p'] = d.pick(1, 2)
    if d.coin(0.5):
        kw['margin'] = d.pick(0.0, 0.5, 1.0, 2.5)
    if d.coin(0.4):
        kw['weight'] = d.weight(c)
    d.reduction(kw)
    return [x], t, 1


def gen_triplet(d, kw, loss):
    unbatched = d.coin(0.2)
    # no D = 1: the anchor's gradient is then sign(a - p) - sign(a - n), 1 - 1 in rounding noise (1e-16 vs torch's 0)
    n, dim = d.batch(), d.pick(2, 3, 5, 8)
    shape = (dim,) if unbatched else (n, dim)
    a, p, q = d.randn(*shape), d.randn(*shape), d.randn(*shape)
    if d.coin(0.6):
        kw['margin'] = d.pick(0.0, 0.5, 1.0, 3.0)
    if d.coin(0.5):
        kw['swap'] = d.coin()
    if loss == 'TripletMarginLoss':
        if d.coin(0.6):
            kw['p'] = d.pick(1.0, 2.0, 3.0, 1.5, 0.5)
        if d.coin(0.4):
            kw['eps'] = d.pick(1e-6, 0.0, 0.1, 1e-3)
    d.reduction(kw, legacy=loss == 'TripletMarginLoss')
    return [a, p, q], None, 3


GENERATORS = {
    'CrossEntropyLoss': gen_class_targets, 'NLLLoss': gen_class_targets, 'NLLLoss2d': gen_class_targets,
    'BCELoss': gen_bce, 'BCEWithLogitsLoss': gen_bce,
    'MSELoss': gen_regression, 'L1Loss': gen_regression, 'SmoothL1Loss': gen_regression, 'HuberLoss': gen_regression,
    'KLDivLoss': gen_kldiv, 'PoissonNLLLoss': gen_poisson, 'GaussianNLLLoss': gen_gaussian,
    'HingeEmbeddingLoss': gen_pm1, 'SoftMarginLoss': gen_pm1, 'MarginRankingLoss': gen_margin_ranking,
    'CosineEmbeddingLoss': gen_cosine, 'MultiLabelMarginLoss': gen_multilabel_margin,
    'MultiLabelSoftMarginLoss': gen_multilabel_soft, 'MultiMarginLoss': gen_multi_margin,
    'TripletMarginLoss': gen_triplet, 'TripletMarginWithDistanceLoss': gen_triplet,
}


def yaml_kwargs(kw):
    return {k: (tensor_yaml(v) if torch.is_tensor(v) else v) for k, v in kw.items()}


def torch_eval(cls, kw, xs, targets, n_args):
    xs = [x.detach().clone().requires_grad_() for x in xs]
    n_args = len(xs) if n_args is None else n_args
    return cls(**kw)(*(xs[:n_args] + ([targets] if targets is not None else [])))


def write_refusal(case, loss, kw_yaml, xs, targets, n_args, why):
    """A case tdc must refuse: the spec and tensors of an ordinary case, no expected numbers."""
    d = os.path.join(ggr.ROOT, case)
    os.makedirs(d)
    name = 'Edge_' + case[len('regress__'):].replace('__', '_')
    with open(os.path.join(d, 'config.yaml'), 'w') as f:
        f.write(ggr.config_yaml(case, name, kw_yaml, False))
    n = len(xs) if n_args is None else n_args
    call = ', '.join([f'o[{i}]' for i in range(n)] + (['targets'] if targets is not None else []) + [f'o[{i}]' for i in range(n, len(xs))])
    with open(os.path.join(d, 'spec.tdl'), 'w') as f:
        f.write(ggr.EDGE_SPEC.format(name=name, key=loss, args=call, result='out'))
    tensors = {f'student/./output/{i}': x for i, x in enumerate(xs)}
    if targets is not None:
        tensors['targets'] = targets
    ggr.write_safetensors(os.path.join(d, 'tensors.safetensors'), tensors)
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump({'case': case, 'expect_error': why, 'stage': 'train', 'trainable': {'student': True, 'teacher': False}}, f, indent=1)
    return {'case': case, 'kind': 'refusal', 'losses': [loss], 'why': why}


def one_case(seed, loss, i, stats):
    case = f'regress__fz_{loss}_{i}'
    d = Draw(f'{seed}:{loss}:{i}')
    cls = getattr(torch.nn, loss)
    kw = {}
    xs, targets, n_args = GENERATORS[loss](d, kw, loss)
    # float32-representable inputs: the GPU runs on these very values (a sigmoid of 30 is 1 - 1e-13 in float64 and 1
    # in float32, where BCELoss's log clamps; that is the input's rounding, not tdc's)
    xs = [x.float().double() for x in xs]
    if targets is not None and targets.is_floating_point():
        targets = targets.float().double()
    # refusal probes: a keyword torch does not take, a torch keyword tdc's signature lacks
    torch_params = [p for p in inspect.signature(cls.__init__).parameters if p != 'self']
    if d.coin(0.05):
        kw2 = dict(kw, bogus_option=1.0)
        return write_refusal(case, loss, yaml_kwargs(kw2), xs, targets, n_args, 'unknown keyword bogus_option')
    if d.coin(0.08):
        # a value torch rejects (checked below: torch must raise)
        bad = [('reduction', 'avg')] + ([('reduction', 'batchmean')] if loss != 'KLDivLoss' else [])
        bad += {'CrossEntropyLoss': [('label_smoothing', 1.5), ('label_smoothing', -0.1)], 'MultiMarginLoss': [('p', 3)],
                'GaussianNLLLoss': [('eps', -1.0)]}.get(loss, [])
        k, v = d.pick(*bad)
        kw = {kk: vv for kk, vv in kw.items() if kk not in ('size_average', 'reduce')}
        kw[k] = v
    if loss == 'GaussianNLLLoss' and d.coin(0.05):
        xs[2].view(-1)[0] = -0.5  # torch: "var has negative entry/entries"
    try:
        out = torch_eval(cls, kw, xs, targets, n_args)
        if out.requires_grad:
            out.sum().backward()  # training needs it: a backward torch raises in (an int target's dtype) is a refusal
    except Exception as e:  # torch refuses these options or shapes: tdc must too
        stats['torch_error'] += 1
        return write_refusal(case, loss, yaml_kwargs(kw), xs, targets, n_args, f'torch: {str(e).splitlines()[0][:200]}')
    result = WEIGHTED if out.dim() > 0 else ('out', None)
    probe = out if result[1] is None else result[1](out, xs, targets)
    notes = f'fuzz seed {seed}: torch.nn.{loss}(**{kw})'
    # rounding noise: a loss or gradient that is 0 but for cancellation (cos = 1, equal distances) differs between
    # any two summation orders by more than the 1e-9 relative tolerance; such a case says nothing
    tiny = 0 < abs(probe.item()) < 1e-10
    if not tiny and torch.isfinite(probe) and out.requires_grad:
        leaves = [x.detach().clone().requires_grad_() for x in xs]
        o2 = cls(**kw)(*(leaves[:len(xs) if n_args is None else n_args] + ([targets] if targets is not None else [])))
        (o2 if result[1] is None else result[1](o2, leaves, targets)).backward()
        tiny = any(x.grad is not None and 0 < x.grad.abs().max().item() < 1e-12 for x in leaves)
    if tiny:
        stats['noise'] += 1
        return None
    if not torch.isfinite(probe):
        ii = kw.get('ignore_index', -100)
        if targets is not None and targets.dtype == torch.int64 and (targets != ii).sum() == 0 and result[1] is None:
            result = ggr.none_kept(ii)
            probe = result[1](out, xs, targets)
        if not torch.isfinite(probe):
            stats['nonfinite'] += 1
            return None
    stats['ok'] += 1
    entry = ggr.edge_case(case, cls, kw, yaml_kwargs(kw), xs, targets, notes=notes, n_args=n_args, result=result)
    # golden/README.md's float32 probe: the same torch code on the inputs cast to float32. Where it is off by more
    # than a tenth of the GPU's loss tolerance the case is ill-conditioned in float32 (a saturated softmax's
    # log(1 + 1e-9)): the runner then skips its GPU comparison, as no float32 implementation can meet it
    f32 = lambda v: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
    try:
        o32 = cls(**{k: f32(v) for k, v in kw.items()})(*([f32(x) for x in xs[:len(xs) if n_args is None else n_args]] + ([f32(targets)] if targets is not None else [])))
        p32 = (o32 if result[1] is None else result[1](o32.double(), [x.double() for x in xs], targets)).item()
        rel = abs(p32 - probe.item()) / max(abs(probe.item()), 1e-300)
    except Exception:  # noqa: BLE001 (the guard's where() on mixed dtypes): no probe
        rel = None
    path = os.path.join(ggr.ROOT, case, 'expected.json')
    e = json.load(open(path))
    e['f32_probe'] = {'loss_rel_err': rel}
    json.dump(e, open(path, 'w'), indent=1)
    return entry


def ctc_fuzz_case(seed, i, stats):
    """CTCLoss through gen-golden-regress.py's ctc_case (its StudentCTCLoss spec: tuple output, label targets)."""
    case = f'regress__fz_CTCLoss_{i}'
    d = Draw(f'{seed}:CTCLoss:{i}')
    n, c, s = d.pick(1, 2, 3, 4), d.pick(2, 3, 5, 8), d.pick(1, 2, 4, 6)
    zi = d.coin(0.3)
    tl = [d.r.randrange(0, s + 1) for _ in range(n)]
    # feasible input lengths (2 * tl + 1 steps always suffice) unless zero_infinity may zero an infeasible one
    # no input length 0: torch 1.13's CPU kernel reads log_alpha[-1] there, the previous sample's memory (pytorch
    # issues 88047 / 89208, fixed by PR 123193 in 2.3); tdc gives the fixed value (0 for an empty target, else inf)
    il = [min(d.r.randrange(max(tl[b] if zi else 2 * tl[b] + 1, 1), 2 * s + 4), 2 * s + 3) for b in range(n)]
    t = max(il) + d.pick(0, 0, 2)
    unbatched = n == 1 and d.coin(0.5)
    try:
        return ggr.ctc_case(case, t, n, c, s, il, tl, blank=d.pick(0, c - 1, d.r.randrange(c)), reduction=d.pick('none', 'mean', 'sum'),
                            zero_infinity=zi, concat=d.coin(0.3) and not unbatched, logits=d.coin(0.3), unbatched=unbatched,
                            repeats=s >= 2 and d.coin(0.3), notes=f'fuzz seed {seed}')
    except (AssertionError, RuntimeError):  # an infeasible alignment without zero_infinity, or a draw torch refuses
        shutil.rmtree(os.path.join(ggr.ROOT, case), ignore_errors=True)
        stats['nonfinite'] += 1
        return None


def missing_keyword_cases(stats):
    """torch keywords tdc's signature lacks (each must be refused, not ignored) and tdc keywords torch lacks."""
    out = []
    for loss in sorted(GENERATORS):
        torch_params = [p for p in inspect.signature(getattr(torch.nn, loss).__init__).parameters if p != 'self']
        mine = tdc_params(loss)
        for p in torch_params:
            if p not in mine:
                stats['torch_only_keywords'].append(f'{loss}.{p}')
        for p in mine:
            if p not in torch_params:
                stats['tdc_only_keywords'].append(f'{loss}.{p}')
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--cases', type=int, default=20)
    ap.add_argument('--losses', default=','.join(sorted(GENERATORS) + ['CTCLoss']))
    ap.add_argument('--out', default='/tmp/tdc-fuzz-torch')
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    ggr.ROOT = a.out
    if os.path.isdir(a.out):
        shutil.rmtree(a.out)
    os.makedirs(a.out)
    stats = {'ok': 0, 'noise': 0, 'nonfinite': 0, 'torch_error': 0, 'torch_only_keywords': [], 'tdc_only_keywords': []}
    cases = []
    missing_keyword_cases(stats)
    for loss in a.losses.split(','):
        for i in range(a.cases):
            c = ctc_fuzz_case(a.seed, i, stats) if loss == 'CTCLoss' else one_case(a.seed, loss, i, stats)
            if c:
                c.setdefault('kind', 'value')
                cases.append(c)
    with open(os.path.join(a.out, 'index.json'), 'w') as f:
        json.dump({'generator': 'scripts/fuzz-torch-losses.py', 'seed': a.seed, 'n_cases': len(cases), 'cases': cases, 'stats': stats}, f, indent=1)
    print(json.dumps(stats))
    print(f'{len(cases)} cases in {a.out}')


if __name__ == '__main__':
    main()
