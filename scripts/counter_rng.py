"""The counter-based input generator shared with test/helpers/counter-rng.ts (keep the two identical).

Element i of the tensor at position `slot` of a recipe, under `seed`, is a pure function of (seed, slot, i): a 32-bit
integer hash of a counter (only wrapping 32-bit multiplies, xors and shifts), so numpy and JavaScript produce the
same bits. A standard-normal-like value is the Irwin–Hall sum of four 24-bit uniforms, centred and scaled to unit
variance: (u0 + u1 + u2 + u3) · 2^-24 − 2, times sqrt(3). Every step is an IEEE basic operation (no exp/log/sin,
whose last bits differ between libms), and the float64 value is rounded to float32 once, at the end.

Kinds (a recipe entry is {name, shape, kind, scale, offset} or {name, shape, kind: 'class', classes}):
  normal: offset + scale·z          relu: max(0, offset + scale·z)          abs: offset + scale·|z|
  near:   src + scale·z, src the (float32) values of the earlier recipe entry named by `of` (same shape)
  class:  (h0 % classes) as int64, h0 the first hash word of the element
"""
import numpy as np

M32 = np.uint64(0xFFFFFFFF)
SQRT3 = 3.0 ** 0.5  # correctly rounded in both languages (IEEE sqrt), same as Math.sqrt(3)


def _mix(x):
    """lowbias32-style finaliser on uint32 arrays (xorshift-multiply, constants from the hash prospector)."""
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x = (x.astype(np.uint64) * np.uint64(0x21F0AAAD) & M32).astype(np.uint32)
    x ^= x >> np.uint32(15)
    x = (x.astype(np.uint64) * np.uint64(0x735A2D97) & M32).astype(np.uint32)
    x ^= x >> np.uint32(15)
    return x


def stream_key(seed, slot):
    k = _mix(np.array([(seed * 0x9E3779B9 + 0x7F4A7C15) & 0xFFFFFFFF], dtype=np.uint64))
    k = _mix(np.array([(int(k[0]) ^ ((slot + 1) * 0x85EBCA6B)) & 0xFFFFFFFF], dtype=np.uint64))
    return int(k[0])


def words(seed, slot, n, j):
    """Hash word j (0..3) of elements 0..n-1."""
    key = stream_key(seed, slot)
    c = np.arange(n, dtype=np.uint64) * np.uint64(4) + np.uint64(j)
    return _mix((c * np.uint64(0x9E3779B1) + np.uint64(key)) & M32)


def standard(seed, slot, n):
    s = np.zeros(n, dtype=np.float64)
    for j in range(4):
        s += (words(seed, slot, n, j) >> np.uint32(8)).astype(np.float64)  # exact: < 2^26
    return (s * 2.0 ** -24 - 2.0) * SQRT3


def generate(seed, slot, entry, earlier=None):
    """float32 values (as float64 array) or int64 labels, C order."""
    shape = entry['shape']
    n = int(np.prod(shape)) if shape else 1
    kind = entry['kind']
    if kind == 'class':
        return (words(seed, slot, n, 0).astype(np.int64) % entry['classes']).reshape(shape)
    z = standard(seed, slot, n)
    scale, offset = entry.get('scale', 1.0), entry.get('offset', 0.0)
    if kind == 'normal':
        v = offset + scale * z
    elif kind == 'relu':
        v = np.maximum(0.0, offset + scale * z)
    elif kind == 'abs':
        v = offset + scale * np.abs(z)
    elif kind == 'near':
        v = earlier[entry['of']].reshape(-1) + scale * z
    else:
        raise ValueError(f'unknown kind {kind}')
    return v.astype(np.float32).astype(np.float64).reshape(shape)


def generate_all(seed, recipe):
    out = {}
    for slot, e in enumerate(recipe):
        out[e['name']] = generate(seed, slot, e, out)
    return out
