"""Random streams derived from one integer seed.

Two kinds of randomness, both fully determined by the run's seed:

* ``Streams.generator(name)``: an independent ``numpy.random.Generator`` per named purpose
  (building the world, drawing schedules, ...). Turning one submodel on or off never shifts
  the draws of another, because each draws from its own stream.
* ``Streams.uniform(name, *keys)``: counter-based uniforms keyed by who, what and when
  (e.g. camera, person and minute). The same event gets the same number in every run with the
  same seed, whatever else happened, so comparisons between policies are paired (common random
  numbers) down to the single decision.
"""

from __future__ import annotations

import math
import zlib

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK63 = (1 << 63) - 1
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_UNIT = 1.0 / (1 << 53)


@numba.njit(cache=True, inline="always")
def mix(x):
    """SplitMix64 finaliser of one uint64 (wrapping arithmetic; every operand a uint64, so
    that nothing is promoted to a float)."""
    x = x + _GOLDEN
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


@numba.njit(cache=True, inline="always")
def to_unit(h):
    """The top 53 bits of a hash as a uniform in [0, 1)."""
    return np.float64(h >> _S11) * _UNIT


@numba.njit(cache=True, inline="always")
def draw2(base, a, b):
    """The keyed uniform of two keys from a stream's ``base``: what
    ``Streams.uniform(name, a, b)`` gives, for compiled loops."""
    return to_unit(mix(mix(base ^ np.uint64(a)) ^ np.uint64(b)))


@numba.njit(cache=True, inline="always")
def draw3(base, a, b, c):
    """The keyed uniform of three keys from a stream's ``base``: what
    ``Streams.uniform(name, a, b, c)`` gives, for compiled loops."""
    return to_unit(mix(mix(mix(base ^ np.uint64(a)) ^ np.uint64(b)) ^ np.uint64(c)))


@numba.njit(cache=True)
def _hash_chain(base, keys):
    """One finaliser round per key (row of ``keys``), from ``base``; a uniform per column."""
    out = np.empty(keys.shape[1])
    for i in range(keys.shape[1]):
        h = base
        for k in range(keys.shape[0]):
            h = mix(h ^ keys[k, i])
        out[i] = to_unit(h)
    return out


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (independent of Python's hash seed)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """All randomness of one run.

    Args:
        seed: the run's integer seed.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed) & _MASK63
        self._generators: dict[str, np.random.Generator] = {}
        self._bases: dict[str, np.uint64] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator for one named purpose (created on first use, then reused)."""
        gen = self._generators.get(name)
        if gen is None:
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))
            gen = self._generators[name] = np.random.Generator(np.random.PCG64(seq))
        return gen

    def base(self, name: str) -> np.uint64:
        """The hash a stream's keyed draws start from (for compiled loops that draw keyed
        uniforms themselves, with ``mix`` and ``to_unit``)."""
        h = self._bases.get(name)
        if h is None:
            h = _base(np.uint64(self.seed), np.uint64(stream_key(name)))
            h = self._bases[name] = np.uint64(h)  # numba returns a Python int
        return h

    def uniform(self, name: str, *keys: np.ndarray | int) -> np.ndarray:
        """Uniforms in [0, 1), one per element of the broadcast keys, keyed by the stream name.

        Args:
            name: the decision the numbers are for (e.g. ``"camera.detect"``).
            keys: integer arrays (or scalars) that identify the event, e.g. camera, person,
                minute; all broadcast together.
        """
        arrays = [np.asarray(k) for k in keys]
        shape = np.broadcast_shapes((1,), *(a.shape for a in arrays))  # scalars: (1,)
        stacked = np.empty((len(arrays), math.prod(shape)), np.uint64)
        for row, a in zip(stacked, arrays, strict=True):  # a hash chain: one round per key
            row.reshape(shape)[...] = a  # broadcast and cast (wrapping) as it is written
        return _hash_chain(self.base(name), stacked).reshape(shape)


@numba.njit(cache=True)
def _base(seed, key):
    return mix(mix(seed) ^ key)


def poisson_from_uniform(u: float, mean: float) -> int:
    """The Poisson(mean) quantile of a uniform u: a keyed Poisson draw by inversion."""
    if mean <= 0:
        return 0
    k_max = int(mean + 12 * mean**0.5 + 30)
    k = np.arange(k_max + 1)
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    return int(min(np.searchsorted(cdf, u, side="right"), k_max))


def derive_seed(root: int, replicate: int) -> int:
    """The seed of one replicate (63 bits, from numpy's SeedSequence)."""
    state = np.random.SeedSequence([int(root), int(replicate)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 32 | int(state[1])) & ((1 << 63) - 1))
