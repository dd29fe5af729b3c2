# PyTorch eager, one CPU thread: the bench --losses suite's losses at the same shapes, forward + backward
# (student-side inputs require grad; the teacher is a constant), median ms over interleaved-style rounds.
# Written from torchdistill's loss semantics (research/torchdistill-losses.md); torch only, no torchdistill.
#   python3 bench/torch_losses.py <loss> <batch> <rounds> <round_ms>   → prints the median ms
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
            feat = torch.log((fs - ft).abs().pow(1.0).sum())
            kl = F.kl_div(F.log_softmax(zs, 1), F.softmax(zt, 1), reduction='batchmean')
            return F.cross_entropy(zs, y) + 2 * feat + kl
        return [zs, fs], srd
    if name == 'rkd':
        zs, zt = randn(b, C, grad=True), randn(b, C)
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
            return kd_loss(zs, zt, None, 1.0, 0) + F.smooth_l1_loss(ds, dt) + 2.0 * F.smooth_l1_loss(angle(es), at)
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


def main():
    name, b, rounds, round_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    leaves, fn = case(name, b)

    def step():
        for x in leaves:
            x.grad = None
        loss = fn()
        loss.backward()
        loss.item()

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
