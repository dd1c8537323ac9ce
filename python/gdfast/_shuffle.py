"""The epoch shuffle shared by every data loop (fit_linear, minimize).

Epoch ``e`` (0-based) with seed ``s`` (an integer in [0, 2**64)) visits row
``pi(r)`` at position ``r``, where ``pi`` is a keyed pseudorandom permutation
of ``range(n)`` that can be evaluated at any position on its own: a Feistel
network on an ``a x b`` grid (Black and Rogaway's generalized Feistel cipher)
with ``GD_PERM_ROUNDS = 4`` rounds, cycle-walked into ``[0, n)``::

    a = max(ceil(sqrt(n)), 16),  b = max(ceil(n / a), 16)
    z_j = splitmix64(s * 0x9E3779B97F4A7C15 + (e + 1) * 0xBF58476D1CE4E5B9
                     + (j + 1) * 0x94D049BB133111EB  mod 2**64)       j < 4
    key_j = z_j mod 2**32,  mul_j = (z_j >> 32) | 1
    grid(L, R):  4 rounds of  f = ((((R ^ key_j) * mul_j) mod 2**32) * side) >> 32
                              L, R = R, (L + f) mod side
                 (side = L's range: a, b, a, ...), then x = L * b + R
    pi(r) = grid(r // b, r % b), applied again to x while x >= n

The C core makes the order a few rows ahead of its loops (no sort, no
scratch memory; ``gd_perm`` in ``src/gdcore/gdlinear.h``); this NumPy twin
makes it with vectorised uint64 arithmetic. Neither needs generator state or
depends on the thread count or on how many epochs ran.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
ROUNDS = 4
MIN_SIDE = 16
_U32 = np.uint64(0xFFFFFFFF)
_SH32 = np.uint64(32)


def splitmix64_finalizer(z):
    """SplitMix64's output function on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


def grid_shape(n):
    """The Feistel grid (a, b) for n rows: a * b >= n, both at least MIN_SIDE."""
    a = max(math.isqrt(n - 1) + 1 if n > 0 else 0, MIN_SIDE)  # ceil(sqrt(n))
    b = max(-(-n // a), MIN_SIDE)
    return a, b


def round_keys(seed, epoch):
    """The rounds' (key, mul) pairs of ``epoch``: two uint64 arrays of 32-bit values."""
    base = (int(seed) * _GOLDEN + (int(epoch) + 1) * _MIX1) & _MASK
    # uint64 array arithmetic wraps modulo 2**64 silently, as the C code does
    z = np.uint64(base) + np.arange(1, ROUNDS + 1, dtype=np.uint64) * np.uint64(_MIX2)
    z = splitmix64_finalizer(z)
    return z & _U32, (z >> _SH32) | np.uint64(1)


def _grid(x, a, b, key, mul):
    """grid(x // b, x % b) for a uint64 array x of cells."""
    side, other = np.uint64(a), np.uint64(b)
    L, R = x // other, x % other
    for j in range(ROUNDS):
        f = ((((R ^ key[j]) * mul[j]) & _U32) * side) >> _SH32
        L, R = R, L + f
        R = np.where(R >= side, R - side, R)
        side, other = other, side
    return L * np.uint64(b) + R


def epoch_order(n, seed, epoch):
    """The row order (int64 indices, a permutation of range(n)) of ``epoch``."""
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    a, b = grid_shape(n)
    key, mul = round_keys(seed, epoch)
    x = _grid(np.arange(n, dtype=np.uint64), a, b, key, mul)
    walk = np.flatnonzero(x >= np.uint64(n))
    while walk.size:
        x[walk] = _grid(x[walk], a, b, key, mul)
        walk = walk[x[walk] >= np.uint64(n)]
    return x.astype(np.int64)


def resolve_seed(seed):
    """A seed in [0, 2**64): the given one, or fresh OS entropy for None.

    Raises TypeError for a non-integer and ValueError for one out of range.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy) & _MASK
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None or an int, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= _MASK:
        raise ValueError(f"Invalid seed: {seed!r} (must be in [0, 2**64))")
    return seed
