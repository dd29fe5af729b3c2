"""Torch versions of torchdistill's 25 mid-level losses (float32 or float64, whatever the inputs are) and the
realistic-shape input recipes of scripts/stability-figures.py and scripts/gen-stability-fixtures.py.

The formulas are written from research/torchdistill-losses.md (torchdistill itself is not installed here); each one
is checked against torchdistill's own float64 values in ../shared/golden before it is trusted
(`verify_golden()`: every golden case with a mid-level term, the term recomputed from the case's tensors and
config, rel. 1e-9). They follow torchdistill's operation order (e.g. AffinityLoss materialises the HW×HW
matrices, CCKD's Gaussian kernel is the row-wise Taylor sum), so their float32 result is PyTorch float32's.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
GOLDEN = os.environ.get('TDC_GOLDEN_DIR', os.path.join(ROOT, '..', 'shared', 'golden'))

MID_LEVEL = ['ATLoss', 'AffinityLoss', 'AltActTransferLoss', 'AuxSSKDLoss', 'CCKDLoss', 'CRDLoss', 'ChSimLoss',
             'DISTLoss', 'DISTPlusLoss', 'FSPLoss', 'FTLoss', 'HierarchicalContextLoss', 'KDLoss', 'KTALoss',
             'LogitStdKDLoss', 'PADL2Loss', 'PKTLoss', 'RKDLoss', 'RegularizationLoss', 'SKDDirectionLoss',
             'SKDInstanceLoss', 'SPKDLoss', 'SRDLoss', 'SSKDLoss', 'VIDLoss']


# ----------------------------------------------------------------------------------------------- formulas
def io(x, side, path, io_name, idx=None):
    key = f'{side}/{path}/{io_name}'
    return x[key if idx is None else f'{key}/{idx}']


def kl_bm(logq, p, reduction='batchmean'):
    return F.kl_div(logq, p, reduction=reduction)


def kd(x, k, y):
    T = k['temperature']
    zs = io(x, 'student', k['student_module_path'], k['student_module_io'])
    zt = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])
    red = k.get('reduction', 'batchmean')
    soft = F.kl_div(F.log_softmax(zs / T, dim=1), F.softmax(zt / T, dim=1), reduction=red)
    alpha = k.get('alpha')
    if alpha is None or alpha == 0 or y is None:
        return soft
    beta = k.get('beta')
    beta = 1 - alpha if beta is None else beta
    ce_kw = {kk: v for kk, v in k.items() if kk == 'ignore_index'}
    ce = F.cross_entropy(zs, y, reduction='mean' if red == 'batchmean' else red, **ce_kw)
    return alpha * ce + beta * (T ** 2) * soft


def logit_std_kd(x, k, y):
    T, eps = k['temperature'], k.get('eps', 1e-7)

    def std(z):
        return (z - z.mean(dim=-1, keepdim=True)) / (eps + z.std(dim=-1, keepdim=True))
    zs = io(x, 'student', k['student_module_path'], k['student_module_io'])
    zt = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])
    red = k.get('reduction', 'batchmean')
    soft = F.kl_div(F.log_softmax(std(zs) / T, dim=1), F.softmax(std(zt) / T, dim=1), reduction=red)
    alpha = k.get('alpha')
    if alpha is None or alpha == 0 or y is None:
        return soft
    beta = k.get('beta')
    beta = 1 - alpha if beta is None else beta
    ce = F.cross_entropy(zs, y, reduction='mean' if red == 'batchmean' else red)
    return alpha * ce + beta * (T ** 2) * soft


def _fsp_matrix(a, b):
    h, w = min(a.shape[2], b.shape[2]), min(a.shape[3], b.shape[3])
    if a.shape[2] > h or a.shape[3] > w:
        a = F.adaptive_max_pool2d(a, (h, w))
    if b.shape[2] > h or b.shape[3] > w:
        b = F.adaptive_max_pool2d(b, (h, w))
    a, b = a.flatten(2), b.flatten(2)
    return torch.matmul(a, b.transpose(1, 2)) / a.shape[2]


def fsp(x, k, y):
    total, batch = 0, None
    for pair in k['fsp_pairs'].values():
        def side(s):
            f, g = pair[f'{s}_first'], pair[f'{s}_second']
            return io(x, s, f['path'], f['io']), io(x, s, g['path'], g['io'])
        sf, ss = side('student')
        tf, ts = side('teacher')
        if batch is None:
            batch = sf.shape[0]
        total = total + pair.get('weight', 1) * (_fsp_matrix(sf, ss) - _fsp_matrix(tf, ts)).norm(dim=1).sum()
    return total / batch


def at(x, k, y):
    mode = k.get('mode', 'code')
    total, batch = 0, None
    for pair in k['at_pairs'].values():
        s = io(x, 'student', pair['student']['path'], pair['student']['io'])
        t = io(x, 'teacher', pair['teacher']['path'], pair['teacher']['io'])
        w = pair.get('weight', 1)
        if batch is None:
            batch = s.shape[0]
        if mode == 'code':
            def att(f):
                return F.normalize(f.pow(2).mean(1).view(f.size(0), -1))
            total = total + w * (att(s) - att(t)).pow(2).mean()
        else:
            def att(f):
                return F.normalize(f.pow(2).sum(1).view(f.size(0), -1))
            total = total + w * (att(s) - att(t)).norm(dim=1).sum()
    return total if mode == 'code' else total / batch


def pkt(x, k, y):
    eps = k.get('eps', 1e-7)
    s = io(x, 'student', k['student_module_path'], k['student_module_io'])
    t = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])

    def sim(v):
        v = v / (torch.sqrt(torch.sum(v ** 2, dim=1, keepdim=True)) + eps)
        v = torch.where(torch.isnan(v), torch.zeros_like(v), v)
        m = (torch.mm(v, v.transpose(0, 1)) + 1.0) / 2.0
        return m / torch.sum(m, dim=1, keepdim=True)
    ps, pt = sim(s), sim(t)
    return torch.mean(pt * torch.log((pt + eps) / (ps + eps)))


def ft(x, k, y):
    p, red = k.get('p', 1), k.get('reduction', 'mean')
    par = x[f"teacher/{k.get('paraphraser_path', 'paraphraser')}/output"].flatten(1)
    tr = x[f"student/{k.get('translator_path', 'translator')}/output"].flatten(1)
    par = par / par.norm(dim=1).unsqueeze(1)
    tr = tr / tr.norm(dim=1).unsqueeze(1)
    if p == 1:
        return F.l1_loss(tr, par, reduction=red)
    v = torch.norm(tr - par, p, dim=1)
    return v.mean() if red == 'mean' else v.sum()


def dab(x, k, y):
    m = k['margin']
    total, batch = 0, None
    for pair in k['feature_pairs'].values():
        s = io(x, 'student', pair['student']['path'], pair['student']['io'])
        t = io(x, 'teacher', pair['teacher']['path'], pair['teacher']['io'])
        if batch is None:
            batch = s.shape[0]
        v = ((s + m).pow(2) * ((s > -m) & (t <= 0)).to(s.dtype) + (s - m).pow(2) * ((s <= m) & (t > 0)).to(s.dtype))
        total = total + pair.get('weight', 1) * v.abs().sum()
    return total / batch if k['reduction'] == 'mean' else total


def _pdist(e, eps=1e-12):
    sq = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * prod).clamp(min=eps).sqrt().clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd(x, k, y):
    red = k['reduction']
    s = io(x, 'student', k['student_output_path'], 'output').flatten(1)
    t = io(x, 'teacher', k['teacher_output_path'], 'output').flatten(1)
    loss = 0
    if k['dist_factor'] != 0:
        td = _pdist(t)
        td = td / td[td > 0].mean()
        sd = _pdist(s)
        sd = sd / sd[sd > 0].mean()
        loss = loss + k['dist_factor'] * F.smooth_l1_loss(sd, td, reduction=red)
    if k['angle_factor'] != 0:
        def angle(e):
            d = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)
            return torch.bmm(d, d.transpose(1, 2)).view(-1)
        loss = loss + k['angle_factor'] * F.smooth_l1_loss(angle(s), angle(t), reduction=red)
    return loss


def vid(x, k, y):
    total = 0
    for pair in k['feature_pairs'].values():
        sp, tp = pair['student'], pair['teacher']
        mu, var = io(x, 'student', sp['path'], sp['io'], 0), io(x, 'student', sp['path'], sp['io'], 1)
        t = io(x, 'teacher', tp['path'], tp['io'])
        total = total + pair.get('weight', 1) * (0.5 * ((mu - t) ** 2 / var + torch.log(var))).mean()
    return total


def cckd(x, k, y):
    s = x[f"student/{k['student_linear_path']}/output"]
    t = x[f"teacher/{k['teacher_linear_path']}/output"]
    kc = k['kernel_config']

    def cc(z):
        if kc['type'] == 'bilinear':
            return torch.matmul(z, torch.t(z))
        rows = []
        for i in range(z.shape[0]):
            right = torch.matmul(z[i], torch.t(z))
            row = 1
            for p in range(1, kc['max_p'] + 1):
                row = row + ((2 * kc['gamma']) ** p) / math.factorial(p) * (right ** p)
            row = row * math.exp(-2 * kc['gamma'])
            rows.append(row)
        return torch.stack(rows)
    loss = torch.dist(cc(s), cc(t), 2)
    return loss / (s.shape[0] ** 2) if k['reduction'] == 'batchmean' else loss


def spkd(x, k, y):
    def g(z):
        z = torch.flatten(z, 1)
        return F.normalize(torch.matmul(z, torch.t(z)), 1)
    s = io(x, 'student', k['student_output_path'], 'output')
    t = io(x, 'teacher', k['teacher_output_path'], 'output')
    loss = (torch.norm(g(t) - g(s)) ** 2).sum()
    return loss / (s.shape[0] ** 2) if k['reduction'] == 'batchmean' else loss


def crd(x, k, y, state):
    s = x[f"student/{k['student_norm_module_path']}/output"]
    t = x[f"teacher/{k['teacher_norm_module_path']}/output"]
    idx = x[f"student/{k['student_empty_module_path']}/input/contrast_idx"]
    params, mem1, mem2 = state['params'], state['memory_v1'], state['memory_v2']
    T = params[1].item()
    B, K1 = idx.shape
    d = mem1.shape[1]
    w1 = torch.index_select(mem1, 0, idx.view(-1)).detach().view(B, K1, d)
    out_t = torch.exp(torch.div(torch.bmm(w1, t.view(B, d, 1)), T))
    w2 = torch.index_select(mem2, 0, idx.view(-1)).detach().view(B, K1, d)
    out_s = torch.exp(torch.div(torch.bmm(w2, s.view(B, d, 1)), T))
    n_data = mem1.shape[0]
    z1 = params[2].item() if params[2].item() >= 0 else (out_s.mean() * n_data).item()
    z2 = params[3].item() if params[3].item() >= 0 else (out_t.mean() * n_data).item()
    out_s = torch.div(out_s, z1).contiguous()
    out_t = torch.div(out_t, z2).contiguous()
    eps, pn = k.get('eps', 1e-7), 1.0 / k['num_samples']

    def nce(v):
        bsz, m = v.shape[0], v.size(1) - 1
        pos = v.select(1, 0)
        log_d1 = torch.div(pos, pos.add(m * pn + eps)).log()
        neg = v.narrow(1, 1, m)
        log_d0 = torch.div(neg.clone().fill_(m * pn), neg.add(m * pn + eps)).log()
        return -(log_d1.sum(0) + log_d0.view(-1, 1).sum(0)) / bsz
    return (nce(out_s) + nce(out_t)).squeeze()


def _ss_cos(rep):
    b = rep.shape[0]
    normal = rep[torch.arange(b) % 4 == 0]
    aug = rep[torch.arange(b) % 4 != 0]
    normal = normal.unsqueeze(2).expand(-1, -1, 3 * normal.shape[0]).transpose(0, 2)
    aug = aug.unsqueeze(2).expand(-1, -1, 1 * normal.shape[2])
    return F.cosine_similarity(aug, normal, dim=1)


def aux_sskd(x, k, y):
    rep = x[f"teacher/{k.get('module_path', 'ss_module')}/{k.get('module_io', 'output')}"]
    cos = _ss_cos(rep)
    labels = torch.div(torch.arange(cos.shape[0]), 3, rounding_mode='floor')
    return F.cross_entropy(cos, labels, reduction=k.get('reduction', 'mean'))


def _keep(scores, targets, ratio):
    order = torch.argsort(scores, dim=1, descending=True)
    ranks = torch.argmax(torch.eq(order, targets.unsqueeze(1)).long(), dim=1)
    indices = torch.argsort(ranks)
    wrong = torch.nonzero(ranks, as_tuple=True)[0].numel()
    correct = ranks.shape[0] - wrong
    return torch.sort(indices[:correct + int(wrong * ratio)])[0]


def sskd(x, k, y):
    zs = x[f"student/{k['student_linear_module_path']}/{k.get('student_linear_module_io', 'output')}"]
    zt = x[f"teacher/{k['teacher_linear_module_path']}/{k.get('teacher_linear_module_io', 'output')}"]
    ss_s = x[f"student/{k['student_ss_module_path']}/{k.get('student_ss_module_io', 'output')}"]
    ss_t = x[f"teacher/{k['teacher_ss_module_path']}/{k.get('teacher_ss_module_io', 'output')}"]
    red = k.get('reduction', 'batchmean')
    w = k.get('loss_weights') or [1.0, 1.0, 1.0, 1.0]
    b = zs.shape[0]
    normal, aug = torch.arange(b) % 4 == 0, torch.arange(b) % 4 != 0
    Tk, Ts, Tf = k['kl_temp'], k['ss_temp'], k['tf_temp']
    ce = F.cross_entropy(zs[normal], y, reduction='mean' if red == 'batchmean' else red)
    kl = F.kl_div(F.log_softmax(zs[normal] / Tk, dim=1), F.softmax(zt[normal] / Tk, dim=1), reduction=red) * Tk * Tk
    aug_knowledge = F.softmax(zt[aug] / Tf, dim=1)
    aug_targets = y.unsqueeze(1).expand(-1, 3).contiguous().view(-1)
    idx_tf = _keep(aug_knowledge, aug_targets, k['tf_ratio'])
    s_cos, t_cos = _ss_cos(ss_s), _ss_cos(ss_t).detach()
    ss_targets = torch.div(torch.arange(s_cos.shape[0]), 3, rounding_mode='floor')
    idx_ss = _keep(t_cos, ss_targets, k['ss_ratio'])
    ss = F.kl_div(F.log_softmax(s_cos[idx_ss] / Ts, dim=1), F.softmax(t_cos[idx_ss] / Ts, dim=1), reduction=red) * Ts * Ts
    log_aug = F.log_softmax(zs[aug] / Tf, dim=1)
    tf = F.kl_div(log_aug[idx_tf], aug_knowledge[idx_tf], reduction=red) * Tf * Tf
    return w[0] * ce + w[1] * kl + w[2] * ss + w[3] * tf


def pad_l2(x, k, y):
    s = x[f"student/{k['student_embed_module_path']}/{k.get('student_embed_module_io', 'output')}"].flatten(1)
    t = x[f"teacher/{k['teacher_embed_module_path']}/{k.get('teacher_embed_module_io', 'output')}"].flatten(1)
    lv = x[f"student/{k.get('module_path', 'var_estimator')}/{k.get('module_io', 'output')}"]
    v = torch.mean((t - s) ** 2 / (k.get('eps', 1e-6) + torch.exp(lv)) + lv, dim=1)
    return v.mean() if k.get('reduction', 'mean') == 'mean' else v.sum()


def hcl(x, k, y):
    ys = io(x, 'student', k['student_module_path'], k['student_module_io'], 0)
    t = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])
    red = k.get('reduction', 'mean')
    sizes = k.get('output_sizes') or [4, 2, 1]
    loss, w, tot = F.mse_loss(ys, t, reduction=red), 1.0, 1.0
    for s in sizes:
        if s >= ys.shape[2]:
            continue
        w /= 2.0
        loss = loss + w * F.mse_loss(F.adaptive_avg_pool2d(ys, (s, s)), F.adaptive_avg_pool2d(t, (s, s)), reduction=red)
        tot += w
    return loss / tot


def regularization(x, k, y):
    side = 'teacher' if k.get('is_from_teacher', False) else 'student'
    return x[f"{side}/{k['module_path']}/{k.get('io_type', 'output')}"].norm(p=k.get('p', 1))


def kta(x, k, y):
    p, q, red = k.get('p', 1), k.get('q', 2), k.get('reduction', 'mean')
    kt = x[f"teacher/{k.get('knowledge_translator_path', 'paraphraser')}/output"].flatten(1)
    fa = x[f"student/{k.get('feature_adapter_path', 'feature_adapter')}/output"].flatten(1)
    kt = kt / kt.norm(p=q, dim=1).unsqueeze(1)
    fa = fa / fa.norm(p=q, dim=1).unsqueeze(1)
    if p == 1:
        return F.l1_loss(fa, kt, reduction=red)
    v = torch.norm(fa - kt, p, dim=1)
    return v.mean() if red == 'mean' else v.sum()


def affinity(x, k, y):
    s = x[f"student/{k['student_module_path']}/{k.get('student_module_io', 'output')}"].flatten(2)
    t = x[f"teacher/{k['teacher_module_path']}/{k.get('teacher_module_io', 'output')}"].flatten(2)
    b, c, hw = s.shape
    s = s / s.norm(p=2, dim=2).unsqueeze(-1)
    t = t / t.norm(p=2, dim=2).unsqueeze(-1)
    total = torch.zeros(b, dtype=s.dtype)
    for i in range(c):
        # torchdistill materialises the (b, hw, hw) matrices; one sample at a time here (same per-sample norms)
        per = []
        for n in range(b):
            si, ti = s[n:n + 1, i], t[n:n + 1, i]
            d = (torch.bmm(si.unsqueeze(2), si.unsqueeze(1)) - torch.bmm(ti.unsqueeze(2), ti.unsqueeze(1))) / hw
            per.append(d.norm(p=2, dim=(1, 2)))
        total = total + torch.cat(per)
    return total.mean() if k.get('reduction', 'mean') == 'mean' else total.sum()


def chsim(x, k, y):
    total = 0
    for pair in k['feature_pairs'].values():
        s = io(x, 'student', pair['student']['path'], pair['student']['io'])
        t = io(x, 'teacher', pair['teacher']['path'], pair['teacher']['io'])
        b, c = s.shape[:2]

        def emb(f):
            f = f.view(b, c, -1)
            return F.normalize(torch.bmm(f, f.permute(0, 2, 1)), dim=2)
        total = total + pair.get('weight', 1) * ((emb(s) - emb(t)) ** 2).sum() / (c * b * b)
    return total


def _cos(a, b, eps=1e-8):
    return F.cosine_similarity(a, b, dim=1, eps=eps)


def _pearson(a, b, eps=1e-8):
    return _cos(a - a.mean(1).unsqueeze(1), b - b.mean(1).unsqueeze(1), eps)


def _inter(a, b):
    return 1 - _pearson(a, b).mean()


def dist(x, k, y):
    tau = k.get('tau', 1.0)
    zs = io(x, 'student', k['student_module_path'], k['student_module_io'])
    zt = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])
    ys, yt = (zs / tau).softmax(dim=1), (zt / tau).softmax(dim=1)
    return k.get('beta', 1.0) * tau ** 2 * _inter(ys, yt) + k.get('gamma', 1.0) * tau ** 2 * _inter(ys.transpose(0, 1), yt.transpose(0, 1))


def dist_plus(x, k, y):
    tau, eps = k.get('tau', 1.0), k.get('eps', 1e-8)
    zs = io(x, 'student', k['student_logit_module_path'], k['student_logit_module_io'])
    zt = io(x, 'teacher', k['teacher_logit_module_path'], k['teacher_logit_module_io'])
    fs = io(x, 'student', k['student_feature_module_path'], k['student_feature_module_io'])
    ft_ = io(x, 'teacher', k['teacher_feature_module_path'], k['teacher_feature_module_io'])
    ys, yt = (zs / tau).softmax(dim=1), (zt / tau).softmax(dim=1)
    inter = tau ** 2 * _inter(ys, yt)
    intra = tau ** 2 * _inter(ys.transpose(0, 1), yt.transpose(0, 1))
    cs, ct = fs - fs.mean(1, keepdim=True), ft_ - ft_.mean(1, keepdim=True)
    chan = ((cs * ct).sum(1) / (torch.sqrt((cs ** 2).sum(1) * (ct ** 2).sum(1)) + eps)).mean()
    a_s, a_t = fs.sum(1).flatten(1), ft_.sum(1).flatten(1)
    spat = _inter(a_s.transpose(0, 1), a_t.transpose(0, 1))
    return k.get('beta', 1.0) * inter + k.get('gamma', 1.0) * intra + k.get('iota', 1.0) * chan + k.get('kappa', 1.0) * spat


def srd(x, k, y):
    fs = x[f"student/{k['student_feature_module_path']}/{k['student_feature_module_io']}"]
    ft_ = x[f"teacher/{k['teacher_feature_module_path']}/{k['teacher_feature_module_io']}"]
    zs = x[f"student/{k['student_linear_module_path']}/{k['student_linear_module_io']}"]
    zt = x[f"teacher/{k['teacher_linear_module_path']}/{k['teacher_linear_module_io']}"]
    T = k.get('temperature', 1.0)
    feat = torch.log(torch.sum(torch.abs(fs - ft_) ** k.get('exponent', 1.0)))
    kl = F.kl_div(F.log_softmax(zs / T, dim=1), F.softmax(zt / T, dim=1), reduction=k.get('reduction', 'batchmean'))
    return 2 * feat + kl


def skd_instance(x, k, y):
    T = k.get('temperature', 4.0)
    zs = io(x, 'student', k['student_module_path'], k['student_module_io'])
    zt = io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io'])
    return F.kl_div(F.log_softmax(zs / T, dim=1), F.softmax(zt / T, dim=1), reduction='batchmean')


def skd_direction(x, k, y):
    zs = F.normalize(io(x, 'student', k['student_module_path'], k['student_module_io']), dim=1)
    zt = F.normalize(io(x, 'teacher', k['teacher_module_path'], k['teacher_module_io']), dim=1)
    d = zs @ zs.t() - zt @ zt.t()
    b = d.shape[0]
    cov = torch.cov(d.t()) + k.get('tikhonov', 0.1) * torch.eye(b, dtype=d.dtype)
    inv = torch.cholesky_inverse(torch.linalg.cholesky(cov))
    m = ((d @ inv) * d).sum(1)
    return torch.sqrt(m).mean()


def mse_wrapped(x, k, y, wrapper):
    """torch.nn.MSELoss behind torchdistill's SimpleLossWrapper (input and target from the io_dict)."""
    def get(spec):
        side = 'teacher' if spec.get('is_from_teacher', False) else 'student'
        return x[f"{side}/{spec['module_path']}/{spec['io']}"]
    return F.mse_loss(get(wrapper['input']), get(wrapper['target']), reduction=k.get('reduction', 'mean'))


FORMULAS = {
    'KDLoss': kd, 'LogitStdKDLoss': logit_std_kd, 'FSPLoss': fsp, 'ATLoss': at, 'PKTLoss': pkt, 'FTLoss': ft,
    'AltActTransferLoss': dab, 'RKDLoss': rkd, 'VIDLoss': vid, 'CCKDLoss': cckd, 'SPKDLoss': spkd, 'CRDLoss': crd,
    'AuxSSKDLoss': aux_sskd, 'SSKDLoss': sskd, 'PADL2Loss': pad_l2, 'HierarchicalContextLoss': hcl,
    'RegularizationLoss': regularization, 'KTALoss': kta, 'AffinityLoss': affinity, 'ChSimLoss': chsim,
    'DISTLoss': dist, 'DISTPlusLoss': dist_plus, 'SRDLoss': srd, 'SKDInstanceLoss': skd_instance,
    'SKDDirectionLoss': skd_direction,
}
assert sorted(FORMULAS) == sorted(MID_LEVEL)
LOW_LEVEL = {'MSELoss': mse_wrapped}  # only behind SimpleLossWrapper (input and target from the io_dict)


def stage_criterion(config_path, stage=None):
    """{term: (loss key, kwargs, weight)} of the config's (single or given) stage."""
    with open(config_path) as f:
        train = yaml.safe_load(f)['train']
    st = train if 'criterion' in train else train[stage or sorted(train)[0]]
    return {name: (t['criterion']['key'], t['criterion'].get('kwargs') or {}, t.get('weight', 1), t.get('criterion_wrapper'))
            for name, t in st['criterion']['kwargs']['sub_terms'].items()}


def term_values(config_path, x, stage=None, only=None):
    """Every mid-level term of the stage's criterion on tensors x (a dict of torch tensors, golden names)."""
    y = x.get('targets')
    out = {}
    for name, (key, kw, _w, wrapper) in stage_criterion(config_path, stage).items():
        if only and name not in only:
            continue
        if key in LOW_LEVEL:
            if wrapper and wrapper['key'] == 'SimpleLossWrapper':
                out[name] = (key, LOW_LEVEL[key](x, kw, y, wrapper['kwargs']))
            continue
        if key not in FORMULAS:
            continue
        if key == 'CRDLoss':
            state = {b: x[f'state_in/{name}/{b}'] for b in ('params', 'memory_v1', 'memory_v2')}
            out[name] = (key, FORMULAS[key](x, kw, y, state))
        else:
            out[name] = (key, FORMULAS[key](x, kw, y))
    return out


# ---------------------------------------------------------------------------------------- golden check
def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        dt = {'F64': np.float64, 'F32': np.float32, 'I64': np.int64, 'I32': np.int32}[h['dtype']]
        a, b = h['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).reshape(h['shape']).copy())
    return out


def verify_golden(rtol=1e-9, verbose=False):
    """Every golden case with a mid-level term: the torch formula in float64 on the case's tensors against
    torchdistill's stored term value. Returns (checked, failures)."""
    with open(os.path.join(GOLDEN, 'index.json')) as f:
        index = json.load(f)
    checked, failures = [], []
    for c in index['cases']:
        if not any(l in FORMULAS or l in LOW_LEVEL for l in c['losses']):
            continue
        d = os.path.join(GOLDEN, c['case'])
        with open(os.path.join(d, 'expected.json')) as f:
            exp = json.load(f)
        x = read_safetensors(os.path.join(d, 'tensors.safetensors'))
        stage = exp['stage'] if exp['stage'] != 'train' else None
        for name, (key, v) in term_values(os.path.join(d, 'config.yaml'), x, stage).items():
            ref = exp['terms'][name]['value']
            err = abs(v.item() - ref) / max(abs(ref), 1e-300)
            checked.append((key, c['case'], name, err))
            if verbose:
                print(f'{key:24s} {c["case"]}/{name}: rel {err:.1e}')
            if not err <= rtol:
                failures.append(f'{key} {c["case"]}/{name}: torch {v.item()!r} vs golden {ref!r} (rel {err:.2e})')
    return checked, failures


if __name__ == '__main__':
    torch.set_num_threads(1)
    checked, failures = verify_golden(verbose=True)
    keys = sorted({k for k, *_ in checked})
    print(f'{len(checked)} golden terms checked, {len(set(keys) & set(MID_LEVEL))} mid-level losses (+ {", ".join(sorted(set(keys) - set(MID_LEVEL)))}): {", ".join(keys)}')
    missing = sorted(set(MID_LEVEL) - set(keys))
    print('not covered by a golden term:', missing or 'none')
    print('\n'.join(failures) or 'all within 1e-9')


# ------------------------------------------------------------------------------------ realistic recipes
# ResNet-18 (student) / ResNet-34 (teacher) stages at 224×224: channels × side; ResNet-50/152 widths ×4.
R18 = [(64, 56), (128, 28), (256, 14), (512, 7)]
R50 = [(256, 56), (512, 28), (1024, 14), (2048, 7)]
B = 32
CLASSES = 1000


def N(name, shape, scale=1.0, offset=0.0):
    """N(0, 1)-like: BN outputs, pre-activation sums, conv heads."""
    return {'name': name, 'shape': list(shape), 'kind': 'normal', 'scale': scale, 'offset': offset}


def R(name, shape, scale=1.0):
    """post-BN ReLU activations (half zeros)."""
    return {'name': name, 'shape': list(shape), 'kind': 'relu', 'scale': scale, 'offset': 0.0}


def A(name, shape, scale=1.0, offset=0.0):
    """non-negative pooled features (avgpool of ReLU maps)."""
    return {'name': name, 'shape': list(shape), 'kind': 'abs', 'scale': scale, 'offset': offset}


def NEAR(name, of, scale):
    return {'name': name, 'shape': None, 'kind': 'near', 'of': of, 'scale': scale}


def Y(name, shape, classes=CLASSES):
    return {'name': name, 'shape': list(shape), 'kind': 'class', 'classes': classes}


def LOGITS(side, b=B):
    return N(f'{side}/./output', (b, CLASSES), 2.0)


def fill_shapes(recipe):
    by = {}
    for e in recipe:
        if e['kind'] == 'near':
            e['shape'] = list(by[e['of']]['shape'])
        by[e['name']] = e
    return recipe


def _vid(stages):
    r = [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,))]
    for i, (c, h) in enumerate(stages, 1):
        r += [R(f'teacher/layer{i}/output', (B, c, h, h)),
              NEAR(f'student/regressor_dict.regressor{i}/output/0', f'teacher/layer{i}/output', 0.5),
              # Regressor4VID's variance softplus(θ) + 1e-5, initialised at init_pred_var = 5.0
              N(f'student/regressor_dict.regressor{i}/output/1', (1, c, 1, 1), 0.01, 5.0)]
    return r


def _kr():
    r = [LOGITS('student'), Y('targets', (B,))]
    for i, (c, h) in enumerate(R18, 1):
        r += [N(f'student/abf_modules.{5 - i}/output/0', (B, c, h, h)),
              N(f'student/abf_modules.{5 - i}/output/1', (B, 512, h, h)),
              NEAR(f'teacher/layer{i}.-1.relu/input', f'student/abf_modules.{5 - i}/output/0', 0.7)]
    r += [A('student/abf_modules.0/output/0', (B, 512, 1, 1)), N('student/abf_modules.0/output/1', (B, 512, 1, 1)),
          A('teacher/avgpool/output', (B, 512, 1, 1))]
    return r


def _fsp():
    r = [Y('targets', (B,))]
    for side in ('student', 'teacher'):
        for i, (c, h) in enumerate(R18, 1):
            first = 'layer1/input' if i == 1 else f'layer{i}.1/input'
            r += [R(f'{side}/{first}', (B, c, h, h)), R(f'{side}/layer{i}/output', (B, c, h, h))]
    return r


def _crd_post(x, seed, m_bank, d=128, k_neg=16384):
    """CRD's memory banks, unit-norm embeddings and contrast indices (figures only: Python's own RNG)."""
    g = torch.Generator().manual_seed(1000 + seed)
    for side in ('student', 'teacher'):
        v = torch.randn(B, d, generator=g, dtype=torch.float64)
        x[f'{side}/normalizer/output'] = (v / v.norm(dim=1, keepdim=True)).float().double()
    pos = torch.randint(0, m_bank, (B,), generator=g)
    neg = torch.randint(0, m_bank, (B, k_neg), generator=g)
    x['student/empty/input/pos_idx'] = pos
    x['student/empty/input/contrast_idx'] = torch.cat([pos.unsqueeze(1), neg], 1)
    s = 1.0 / math.sqrt(d / 3)
    x['state_in/crd/params'] = torch.tensor([float(k_neg), 0.07, -1.0, -1.0, 0.5], dtype=torch.float64)
    for bank in ('memory_v1', 'memory_v2'):
        x[f'state_in/crd/{bank}'] = (torch.rand(m_bank, d, generator=g, dtype=torch.float64) * 2 * s - s).float().double()


CRD_BANK = 65536  # memory-bank rows (ImageNet's 1 281 167 × 128 would be 656 MB per bank in float32)

# name → {case: golden case id (its config.yaml), stage, terms: {term: label}, recipe, [post], [config_subs]}
CASES = {
    'at': {'case': 'sample__ilsvrc2012__at__resnet18_from_resnet34', 'terms': {'at_loss': 'ATLoss (layer3+4)'},
           'recipe': [LOGITS('student'), Y('targets', (B,))] + [R(f'{s}/layer{i}/output', (B, *[R18[i - 1][0]], R18[i - 1][1], R18[i - 1][1])) for s in ('student', 'teacher') for i in (3, 4)]},
    'ktaad2': {'case': 'sample__coco2017__ktaad__lraspp_mobilenet_v3_large_from_deeplabv3_resnet50__stage2', 'stage': 'stage2',
               'terms': {'adapt': 'KTALoss (KTAAD, [8,10,60,60])', 'aff': 'AffinityLoss (KTAAD, [8,10,60,60])'},
               'recipe': [N('student/./output/out', (8, 21, 480, 480), 2.0), Y('targets', (8, 480, 480), 21),
                          R('student/feature_adapter/output', (8, 10, 60, 60)), N('student/affinity_adapter/output', (8, 10, 60, 60)),
                          N('teacher/paraphraser.encoder/output', (8, 10, 60, 60))]},
    'dab': {'case': 'sample__ilsvrc2012__dab__resnet18_from_resnet50__stage1', 'stage': 'stage1',
            'terms': {'dab': 'AltActTransferLoss (DAB, ResNet-50 widths)'},
            'recipe': [Y('targets', (B,))] + [e for i, (c, h) in enumerate(R50, 1) for e in (
                R(f'teacher/layer{i}/output', (B, c, h, h)), N(f'student/connector_dict.connector{i}/output', (B, c, h, h)))]},
    'dab_r34': {'case': 'sample__ilsvrc2012__dab__resnet18_from_resnet50__stage1', 'stage': 'stage1',
                'terms': {'dab': 'AltActTransferLoss (DAB, ResNet-34 widths)'},
                'recipe': [Y('targets', (B,))] + [e for i, (c, h) in enumerate(R18, 1) for e in (
                    R(f'teacher/layer{i}/output', (B, c, h, h)), N(f'student/connector_dict.connector{i}/output', (B, c, h, h)))]},
    'sskd1': {'case': 'sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage1', 'stage': 'stage1',
              'terms': {'aux_task': 'AuxSSKDLoss ([128,512])'},
              'recipe': [N('teacher/ss_module/output', (4 * B, 512)), Y('targets', (B,))]},
    'cckd': {'case': 'sample__ilsvrc2012__cckd__resnet18_from_resnet50', 'terms': {'cckd': 'CCKDLoss ([32,128], gaussian)'},
             'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,)),
                        N('student/linear/output', (B, 128), 0.1), N('teacher/linear/output', (B, 128), 0.1)]},
    'crd': {'case': 'sample__ilsvrc2012__crd__resnet18_from_resnet50', 'terms': {'crd': 'CRDLoss (d 128, 16384 neg.)'},
            'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,))],
            'post': lambda x, seed: _crd_post(x, seed, CRD_BANK),
            'config_subs': [('input_size: 16', 'input_size: 128'), ('output_size: 50', f'output_size: {CRD_BANK}'),
                            ('num_negative_samples: 10', 'num_negative_samples: 16384'), ('num_samples: 50', 'num_samples: 1281167')]},
    'ickd': {'case': 'sample__ilsvrc2012__ickd__resnet18_from_resnet34', 'terms': {'cs': 'ChSimLoss (ICKD, layer4)'},
             'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,)),
                        N('student/embed_dict.embed1/output', (B, 512, 7, 7)), R('teacher/layer4/output', (B, 512, 7, 7))]},
    'dist': {'case': 'sample__ilsvrc2012__dist__resnet18_from_resnet34', 'terms': {'dist': 'DISTLoss ([32,1000])'},
             'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,))]},
    'dist_plus': {'case': 'sample__ilsvrc2012__dist_plus__resnet18_from_resnet34', 'terms': {'dist': 'DISTPlusLoss (+ layer4)'},
                  'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,)),
                             R('student/layer4/output', (B, 512, 7, 7)), R('teacher/layer4/output', (B, 512, 7, 7))]},
    'fsp': {'case': 'sample__ilsvrc2012__fsp__resnet18_from_resnet34__stage1', 'stage': 'stage1',
            'terms': {'fsp': 'FSPLoss (4 pairs, layer1–4)'}, 'recipe': _fsp()},
    'ft': {'case': 'sample__ilsvrc2012__ft__resnet18_from_resnet34__stage2', 'stage': 'stage2',
           'terms': {'factor_transfer': 'FTLoss ([32,256,7,7])'},
           'recipe': [LOGITS('student'), Y('targets', (B,)), N('student/translator/output', (B, 256, 7, 7)),
                      N('teacher/paraphraser/output', (B, 256, 7, 7))]},
    'kr': {'case': 'sample__ilsvrc2012__kr__resnet18_from_resnet34',
           'terms': {lv: f'HierarchicalContextLoss (KR {lv})' for lv in ('layer1', 'layer2', 'layer3', 'layer4', 'avgpool')},
           'recipe': _kr()},
    'kd': {'case': 'sample__ilsvrc2012__kd__resnet18_from_resnet34', 'terms': {'kd': 'KDLoss ([32,1000])'},
           'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,))]},
    'kd_w_ls': {'case': 'sample__ilsvrc2012__kd_w_ls__resnet18_from_resnet34', 'terms': {'kd': 'LogitStdKDLoss ([32,1000])'},
                'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,))]},
    'pad': {'case': 'sample__ilsvrc2012__pad__resnet18_from_resnet34__stage2', 'stage': 'stage2',
            'terms': {'pad_l2': 'PADL2Loss ([32,512])'},
            'recipe': [LOGITS('student'), Y('targets', (B,)), A('student/student_model.avgpool/output', (B, 512, 1, 1)),
                       N('student/var_estimator/output', (B, 512), 0.3), A('teacher/avgpool/output', (B, 512, 1, 1))]},
    'pkt': {'case': 'sample__ilsvrc2012__pkt__resnet18_from_resnet152', 'terms': {'pkt': 'PKTLoss ([32,512] vs [32,2048])'},
            'recipe': [A('student/fc/input', (B, 512)), A('teacher/fc/input', (B, 2048)), Y('targets', (B,))]},
    'rkd': {'case': 'sample__ilsvrc2012__rkd__resnet18_from_resnet34', 'terms': {'rkd_da': 'RKDLoss (layer4, D = 25088)'},
            'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,)),
                       R('student/layer4/output', (B, 512, 7, 7)), R('teacher/layer4/output', (B, 512, 7, 7))]},
    'ktaad1': {'case': 'sample__coco2017__ktaad__lraspp_mobilenet_v3_large_from_deeplabv3_resnet50__stage1', 'stage': 'stage1',
               'terms': {'regularization': 'RegularizationLoss (L1, [4,10,60,60])'},
               'recipe': [N('teacher/teacher_model.classifier.-1/output', (4, 21, 60, 60), 2.0),
                          NEAR('teacher/paraphraser/output', 'teacher/teacher_model.classifier.-1/output', 0.5),
                          N('teacher/paraphraser.encoder/output', (4, 10, 60, 60)), Y('targets', (4, 60, 60), 21)]},
    'skd': {'case': 'sample__ilsvrc2012__skd__resnet18_from_resnet34',
            'terms': {'instance': 'SKDInstanceLoss ([32,1000])', 'direction': 'SKDDirectionLoss ([32,1000])'},
            'recipe': [LOGITS('student'), NEAR('teacher/./output', 'student/./output', 1.0), Y('targets', (B,))]},
    'spkd': {'case': 'sample__ilsvrc2012__spkd__resnet18_from_resnet34', 'terms': {'spkd': 'SPKDLoss (layer4)'},
             'recipe': [LOGITS('student'), Y('targets', (B,)), R('student/layer4/output', (B, 512, 7, 7)),
                        R('teacher/layer4/output', (B, 512, 7, 7))]},
    'srd': {'case': 'sample__ilsvrc2012__srd__resnet18_from_resnet34', 'terms': {'srd_loss': 'SRDLoss ([32,512], exponent 4)'},
            'recipe': [LOGITS('student'), LOGITS('teacher'), Y('targets', (B,)), N('teacher/norm_layer/output', (B, 512)),
                       NEAR('student/norm_layer/output', 'teacher/norm_layer/output', 0.5)]},
    'sskd2': {'case': 'sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2', 'stage': 'stage2',
              'terms': {'sskd': 'SSKDLoss ([128,1000], [128,512])'},
              'recipe': [N('student/model.fc/output', (4 * B, CLASSES), 2.0), N('student/ss_module/output', (4 * B, 512)),
                         NEAR('teacher/model.fc/output', 'student/model.fc/output', 1.0), N('teacher/ss_module/output', (4 * B, 512)),
                         Y('targets', (B,))]},
    'fitnet': {'case': 'sample__ilsvrc2012__fitnet__resnet18_from_resnet152__stage1', 'stage': 'stage1',
               'terms': {'layer1': 'MSELoss (FitNet hint, ResNet-152 layer1 [32,256,56,56], sum)'},
               'recipe': [R('teacher/layer1/output', (B, 256, 56, 56)), NEAR('student/+convreg/output', 'teacher/layer1/output', 0.5),
                          Y('targets', (B,))]},
    'vid': {'case': 'sample__ilsvrc2012__vid__resnet18_from_resnet50', 'terms': {'vid': 'VIDLoss (4 pairs, ResNet-34 widths)'},
            'recipe': _vid(R18)},
    'vid_r50': {'case': 'sample__ilsvrc2012__vid__resnet18_from_resnet50', 'terms': {'vid': "VIDLoss (4 pairs, the config's ResNet-50 widths)"},
                'recipe': _vid(R50)},
}
for _c in CASES.values():
    fill_shapes(_c['recipe'])
