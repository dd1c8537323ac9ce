"""The epoch shuffle shared by every data loop (fit_linear, minimize).

For epoch ``e`` (0-based) and seed ``s`` (an integer in [0, 2**64)), sample
``i`` gets the key

    key_i = splitmix64_finalizer(s * 0x9E3779B97F4A7C15 + (e + 1) * 0xBF58476D1CE4E5B9
                                 + i * 0x94D049BB133111EB  mod 2**64) >> 32

(a uint32), and the epoch visits the samples in the order of a stable sort of
the keys. Every key depends only on (seed, epoch, i), so the order needs no
generator state, is the same in C and in NumPy, and does not depend on the
thread count. The C core implements the same function for fit_linear.
"""
from __future__ import annotations

import numbers

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def splitmix64_finalizer(z):
    """SplitMix64's output function on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


def epoch_keys(n, seed, epoch):
    """The uint32 sort keys of samples 0..n-1 in ``epoch``."""
    base = (int(seed) * _GOLDEN + (int(epoch) + 1) * _MIX1) & _MASK
    # uint64 array arithmetic wraps modulo 2**64 silently, as the C code does
    z = np.uint64(base) + np.arange(n, dtype=np.uint64) * np.uint64(_MIX2)
    return (splitmix64_finalizer(z) >> np.uint64(32)).astype(np.uint32)


def epoch_order(n, seed, epoch):
    """The sample order (int64 indices, a permutation of range(n)) of ``epoch``."""
    return np.argsort(epoch_keys(n, seed, epoch), kind="stable").astype(np.int64, copy=False)


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
