# PyTorch eager, one CPU thread: the bench --losses suite's losses at the same shapes, forward + backward
# (student-side inputs require grad; the teacher is a constant), median ms over interleaved-style rounds.
# Written from torchdistill's loss semantics (research/torchdistill-losses.md); torch only, no torchdistill.
#   python3 bench/torch_losses.py <loss> <batch> <rounds> <round_ms> [<inputs json>]   → prints the median ms
#   python3 bench/torch_losses.py --serve <loss> <batch> [<inputs json>]   → one step per `step` line on stdin, each
#     answered with its time in ms and the loss (the bench interleaves these with tdc's and tfjs's rounds)
# The losses written on named inputs (NAMED: KR, CRD, SSKD, VID) take their inputs from the bench: the json
# gives every input's shape and dtype as the tdc plan has them (name → {shape, dtype, hi?, positive?}) and the
# inputs tdc differentiates ("grads"), so both sides compute the same gradients at the same shapes.
#   python3 bench/torch_losses.py --check-golden <golden dir>   → each NAMED loss on its golden case (float64)
import json
import struct
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
C = 1000


def randn(*shape, grad=False):
    return torch.randn(*shape, requires_grad=grad)


def ce_targets(b):
    return torch.randint(0, C, (b,))


def kd_loss(zs, zt, y, T, alpha):
    soft = F.kl_div(F.log_softmax(zs / T, 1), F.softmax(zt / T, 1), reduction='batchmean')
    if not alpha:
        return soft
    return alpha * F.cross_entropy(zs, y) + (1 - alpha) * T * T * soft


def stage(k, b, e=1):
    s = 56 // 2 ** (k - 1)
    return (b, 64 * 2 ** (k - 1) * e, s, s)


def at_map(f):
    return F.normalize(f.pow(2).mean(1).view(f.size(0), -1))


def case(name, b):
    if name == 'kd':
        zs, zt, y = randn(b, C, grad=True), randn(b, C), ce_targets(b)
        return [zs], lambda: kd_loss(zs, zt, y, 1.0, 0.5)
    if name == 'at':
        zs, y = randn(b, C, grad=True), ce_targets(b)
        s3, s4 = randn(*stage(3, b), grad=True), randn(*stage(4, b), grad=True)
        t3, t4 = randn(*stage(3, b)), randn(*stage(4, b))
        return [zs, s3, s4], lambda: F.cross_entropy(zs, y) + 1000.0 * (
            (at_map(s3) - at_map(t3)).pow(2).mean() + (at_map(s4) - at_map(t4)).pow(2).mean())
    if name == 'mse':
        s, t = randn(b, 64, 56, 56, grad=True), randn(b, 64, 56, 56)
        return [s], lambda: F.mse_loss(s, t, reduction='sum')
    if name == 'pkt':
        s, t = randn(b, 512, grad=True), randn(b, 2048)
        eps = 1e-7

        def pkt():
            def p(x):
                x = x / (x.norm(dim=1, keepdim=True) + eps)
                S = (x @ x.t() + 1) / 2
                return S / S.sum(1, keepdim=True)
            ps, pt = p(s), p(t)
            return 30000.0 * (pt * torch.log((pt + eps) / (ps + eps))).mean()
        return [s], pkt
    if name == 'dist':
        zs, zt, y = randn(b, C, grad=True), randn(b, C), ce_targets(b)

        def pearson(a, c):
            a = a - a.mean(1, keepdim=True)
            c = c - c.mean(1, keepdim=True)
            return F.cosine_similarity(a, c, dim=1, eps=1e-8)

        def dist():
            ys, yt = F.softmax(zs, 1), F.softmax(zt, 1)
            inter = 1 - pearson(ys, yt).mean()
            intra = 1 - pearson(ys.t(), yt.t()).mean()
            return F.cross_entropy(zs, y) + 2.0 * (inter + intra)
        return [zs], dist
    if name == 'srd':
        zs, zt, y = randn(b, C, grad=True), randn(b, C), ce_targets(b)
        fs, ft = randn(b, 512, grad=True), randn(b, 512)

        def srd():
            feat = torch.log((fs - ft).abs().pow(4.0).sum())  # the config's exponent: 4.0
            kl = F.kl_div(F.log_softmax(zs, 1), F.softmax(zt, 1), reduction='batchmean')
            return F.cross_entropy(zs, y) + 2 * feat + kl
        return [zs, fs], srd
    if name == 'rkd':
        zs, zt, y = randn(b, C, grad=True), randn(b, C), ce_targets(b)
        s, t = randn(*stage(4, b), grad=True), randn(*stage(4, b))

        def pdist(e):
            sq = e.pow(2).sum(1)
            d = (sq.unsqueeze(0) + sq.unsqueeze(1) - 2 * e @ e.t()).clamp(min=1e-12).sqrt().clone()
            d[range(len(e)), range(len(e))] = 0
            return d

        def angle(e):
            v = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)
            return torch.bmm(v, v.transpose(1, 2)).view(-1)

        def rkd():
            es, et = s.flatten(1), t.flatten(1)
            with torch.no_grad():
                dt = pdist(et)
                dt = dt / dt[dt > 0].mean()
                at = angle(et)
            ds = pdist(es)
            ds = ds / ds[ds > 0].mean()
            # KDLoss with alpha 1.0 (the config's): CE + 0 · KL
            return kd_loss(zs, zt, y, 1.0, 1.0) + F.smooth_l1_loss(ds, dt) + 2.0 * F.smooth_l1_loss(angle(es), at)
        return [zs, s], rkd
    if name == 'fsp':
        pairs = []
        for k in range(1, 5):
            shp = stage(k, b)
            pairs.append((randn(*shp, grad=True), randn(*shp, grad=True), randn(*shp), randn(*shp)))

        def fsp_matrix(a, c):
            return torch.bmm(a.flatten(2), c.flatten(2).transpose(1, 2)) / (a.size(2) * a.size(3))

        def fsp():
            total = 0
            for s1, s2, t1, t2 in pairs:
                total = total + (fsp_matrix(s1, s2) - fsp_matrix(t1, t2)).norm(dim=1).sum()
            return total / b
        return [x for p in pairs for x in p[:2]], fsp
    if name == 'spkd':
        zs, y = randn(b, C, grad=True), ce_targets(b)
        s, t = randn(*stage(4, b), grad=True), randn(*stage(4, b))

        def g(x):
            x = x.flatten(1)
            return F.normalize(x @ x.t(), 1)

        return [zs, s], lambda: F.cross_entropy(zs, y) + (g(t) - g(s)).norm().pow(2) / (b * b)
    raise SystemExit(f'unknown loss {name}')


# ---- losses on named inputs (golden/ naming: student/<module>/<io>, teacher/…, targets, state_in/…) ----------

def mse(a, c):
    return (a - c).pow(2).mean()


def hcl(y, t, sizes=(4, 2, 1)):
    # HierarchicalContextLoss: MSE plus halving weights for each pooled size below the map's height
    loss, wt, tot = mse(y, t), 1.0, 1.0
    for k in sizes:
        if k >= y.size(2):
            continue
        wt /= 2.0
        loss = loss + wt * mse(F.adaptive_avg_pool2d(y, k), F.adaptive_avg_pool2d(t, k))
        tot += wt
    return loss / tot


def kr(T):
    pairs = [(4, 'teacher/layer1.-1.relu/input'), (3, 'teacher/layer2.-1.relu/input'), (2, 'teacher/layer3.-1.relu/input'),
             (1, 'teacher/layer4.-1.relu/input'), (0, 'teacher/avgpool/output')]
    loss = F.cross_entropy(T['student/./output'], T['targets'])
    for i, t in pairs:
        loss = loss + hcl(T[f'student/abf_modules.{i}/output/0'], T[t])
    return loss


def nce(x, m_pn, eps):
    b = x.size(0)
    pos = torch.log(x[:, 0] / (x[:, 0] + m_pn + eps))
    neg = torch.log(m_pn / (x[:, 1:] + m_pn + eps))
    return -(pos.sum() + neg.sum()) / b


def crd(T, num_samples, update=True):
    # KD (T 4, α 0.5, weight 2) + 0.8 · CRD with its memory update (the state tdc writes back, when its plan has it)
    zs, zt, y = T['student/./output'], T['teacher/./output'], T['targets']
    s, t = T['student/normalizer/output'], T['teacher/normalizer/output']
    pos, idx = T['student/empty/input/pos_idx'], T['student/empty/input/contrast_idx']
    params, m1, m2 = T['state_in/crd/params'], T['state_in/crd/memory_v1'], T['state_in/crd/memory_v2']
    k, temp, z1, z2, mom = (float(v) for v in params)
    b, d = s.shape
    w1 = m1[idx].detach()
    w2 = m2[idx].detach()
    out_t = torch.exp(torch.bmm(w1, t.unsqueeze(2)).squeeze(2) / temp)
    out_s = torch.exp(torch.bmm(w2, s.unsqueeze(2)).squeeze(2) / temp)
    if z1 < 0:
        z1 = out_s.mean().item() * m1.size(0)
    if z2 < 0:
        z2 = out_t.mean().item() * m2.size(0)
    out_s, out_t = out_s / z1, out_t / z2
    if update:
        with torch.no_grad():
            m1.index_copy_(0, pos, F.normalize(mom * m1[pos] + (1 - mom) * s, dim=1, eps=0))
            m2.index_copy_(0, pos, F.normalize(mom * m2[pos] + (1 - mom) * t, dim=1, eps=0))
    m_pn = k / num_samples
    return 2.0 * kd_loss(zs, zt, y, 4.0, 0.5) + 0.8 * (nce(out_s, m_pn, 1e-7) + nce(out_t, m_pn, 1e-7))


def kl_bm(log_q, p):
    return F.kl_div(log_q, p, reduction='batchmean')


def kept_rows(scores, targets, ratio):
    # SSKD's selection: rows whose target ranks first, plus int(ratio · wrong) of the others by rank, ascending
    order = torch.argsort(scores, dim=1, descending=True)
    ranks = torch.argmax(torch.eq(order, targets.unsqueeze(1)).long(), dim=1)
    keep = torch.argsort(ranks)
    wrong = torch.nonzero(ranks, as_tuple=True)[0].numel()
    correct = ranks.numel() - wrong
    return torch.sort(keep[:correct + int(wrong * ratio)])[0]


def cosmat(ss, normal, aug):
    return F.cosine_similarity(ss[aug].unsqueeze(2), ss[normal].t().unsqueeze(0), dim=1, eps=1e-8)


def sskd(T):
    # SSKDLoss stage 2: Tk = Tf = 4, Ts = 0.5, ss_ratio 0.75, tf_ratio 1.0, weights [1, 0.9, 10, 2.7]
    zs, zt, y = T['student/model.fc/output'], T['teacher/model.fc/output'], T['targets']
    ss_s, ss_t = T['student/ss_module/output'], T['teacher/ss_module/output']
    tk, ts, tf = 4.0, 0.5, 4.0
    rows = torch.arange(zs.size(0))
    normal, aug = rows % 4 == 0, rows % 4 != 0
    ce = F.cross_entropy(zs[normal], y)
    kl = kl_bm(F.log_softmax(zs[normal] / tk, 1), F.softmax(zt[normal] / tk, 1)) * tk * tk
    p_aug = F.softmax(zt[aug] / tf, 1)
    idx_tf = kept_rows(p_aug, y.repeat_interleave(3), 1.0)
    cs = cosmat(ss_s, normal, aug)
    ct = cosmat(ss_t, normal, aug).detach()
    idx_ss = kept_rows(ct, torch.arange(y.numel()).repeat_interleave(3), 0.75)
    ss = kl_bm(F.log_softmax(cs[idx_ss] / ts, 1), F.softmax(ct[idx_ss] / ts, 1)) * ts * ts
    tfl = kl_bm(F.log_softmax(zs[aug] / tf, 1)[idx_tf], p_aug[idx_tf]) * tf * tf
    return 1.0 * ce + 0.9 * kl + 10.0 * ss + 2.7 * tfl


def vid(T):
    # KD (T 1, α 1: CE + 0 · KL) + Σ pairs mean(0.5 · ((μ − t)² / v + log v))
    loss = kd_loss(T['student/./output'], T['teacher/./output'], T['targets'], 1.0, 1.0)
    for i in range(1, 5):
        mu, v = T[f'student/regressor_dict.regressor{i}/output/0'], T[f'student/regressor_dict.regressor{i}/output/1']
        loss = loss + (0.5 * ((mu - T[f'teacher/layer{i}/output']).pow(2) / v + torch.log(v))).mean()
    return loss


# the bench's CRD bank has 100 000 rows (losses-suite.ts), its num_samples patched with it; the golden case's 50
NAMED = {'kr': kr, 'crd': lambda T: crd(T, T['state_in/crd/memory_v1'].size(0)), 'sskd': sskd, 'vid': vid}
GOLDEN = {
    'kr': 'sample__ilsvrc2012__kr__resnet18_from_resnet34',
    'crd': 'sample__ilsvrc2012__crd__resnet18_from_resnet50',
    'sskd': 'sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2',
    'vid': 'sample__ilsvrc2012__vid__resnet18_from_resnet50',
}


def named_inputs(spec):
    # seeded inputs as the bench makes them: floats N(0, 1) (|·| + 0.1 where positive), ids in [0, hi),
    # CRD params [K = 2048, T, Z1 = Z2 = -1 (first call), momentum], banks uniform in ±1/sqrt(d/3)
    T = {}
    for name, d in spec['inputs'].items():
        shape = d['shape']
        if d['dtype'] == 'int':
            T[name] = torch.randint(0, d.get('hi', 1000), shape)
        elif name.startswith('state_in/') and name.endswith('/params'):
            T[name] = torch.tensor([2048.0, 0.07, -1.0, -1.0, 0.5])
        elif name.startswith('state_in/'):
            s = 1 / (shape[1] / 3) ** 0.5
            T[name] = torch.rand(*shape) * 2 * s - s
        else:
            x = torch.randn(*shape)
            T[name] = x.abs() + 0.1 if d.get('positive') else x
    for name in spec['grads']:
        T[name].requires_grad_(True)
    return [T[n] for n in spec['grads']], T


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        lo, hi = h['data_offsets']
        dt = {'F64': torch.float64, 'I64': torch.int64}[h['dtype']]
        buf = bytearray(raw[8 + n + lo:8 + n + hi])
        out[name] = torch.frombuffer(buf, dtype=dt).reshape(h['shape']) if hi > lo else torch.zeros(h['shape'], dtype=dt)
    return out


def check_golden(root):
    # each named loss on its golden case in float64: the loss and every gradient against torchdistill's
    worst = 0.0
    for name, case in GOLDEN.items():
        expected = json.load(open(f'{root}/{case}/expected.json'))
        T = read_safetensors(f'{root}/{case}/tensors.safetensors')
        for g in expected['grads']:
            T[g[len('grad/'):]].requires_grad_(True)
        loss = crd(T, 50) if name == 'crd' else NAMED[name](T)  # the golden case's num_samples: 50
        rel = abs(loss.item() - expected['loss']) / abs(expected['loss'])
        line = f'{name:5s} loss {loss.item():.12g} golden {expected["loss"]:.12g} rel {rel:.1e}'
        loss.backward()
        gerr = max(((T[g[5:]].grad - T[g]).abs().max() / T[g].abs().max().clamp(min=1e-300)).item() for g in expected['grads'])
        line += f'; grads max err / max |grad| {gerr:.1e}'
        rel = max(rel, gerr)
        if name == 'crd':
            for key in ('memory_v1', 'memory_v2'):
                e = (T[f'state_in/crd/{key}'] - T[f'state_out/crd/{key}']).abs().max().item()
                line += f'; {key} update err {e:.1e}'
                rel = max(rel, e)
        print(line)
        worst = max(worst, rel)
    return 0 if worst < 1e-9 else 1


def make_step(name, b, spec_json):
    """One forward + backward of a loss (its loss value returned); its inputs made once."""
    if name in NAMED:
        spec = json.loads(spec_json)
        leaves, T = named_inputs(spec)
        if name == 'crd':  # the bank update only where tdc's plan has it (bench --losses --state)
            fn = lambda: crd(T, T['state_in/crd/memory_v1'].size(0), spec.get('state', True))  # noqa: E731
        else:
            fn = lambda: NAMED[name](T)  # noqa: E731
    else:
        leaves, fn = case(name, b)

    def step():
        for x in leaves:
            x.grad = None
        loss = fn()
        loss.backward()
        return loss.item()

    return step


def serve(step):
    """The bench's side of interleaved timing: after one warm-up step prints `ready`, then for each `step` line
    on stdin runs one step and prints its own time in ms and the loss; stops at `quit` or end of input."""
    step()
    print('ready', flush=True)
    for line in sys.stdin:
        if line.strip() != 'step':
            break
        t0 = time.perf_counter()
        loss = step()
        print(f'{(time.perf_counter() - t0) * 1000} {loss}', flush=True)


def main():
    if sys.argv[1] == '--check-golden':
        torch.set_default_dtype(torch.float64)
        raise SystemExit(check_golden(sys.argv[2]))
    if sys.argv[1] == '--serve':
        name, b = sys.argv[2], int(sys.argv[3])
        serve(make_step(name, b, sys.argv[4] if len(sys.argv) > 4 else '{}'))
        return
    name, b, rounds, round_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    step = make_step(name, b, sys.argv[5] if len(sys.argv) > 5 else '{}')
    step()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
            if (time.perf_counter() - start) * 1000 >= round_ms:
                break
    times.sort()
    n = len(times)
    print(times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2)


if __name__ == '__main__':
    main()
