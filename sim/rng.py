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

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK63 = (1 << 63) - 1
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = x + _GOLDEN  # a new array; the rest works in place
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


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
        self._bases: dict[str, np.ndarray] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator for one named purpose (created on first use, then reused)."""
        gen = self._generators.get(name)
        if gen is None:
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))
            gen = self._generators[name] = np.random.Generator(np.random.PCG64(seq))
        return gen

    def uniform(self, name: str, *keys: np.ndarray | int) -> np.ndarray:
        """Uniforms in [0, 1), one per element of the broadcast keys, keyed by the stream name.

        Args:
            name: the decision the numbers are for (e.g. ``"camera.detect"``).
            keys: integer arrays (or scalars) that identify the event, e.g. camera, person,
                minute; all broadcast together.
        """
        h = self._bases.get(name)
        if h is None:
            seed = np.array([self.seed], dtype=np.uint64)
            h = self._bases[name] = _mix(_mix(seed) ^ np.uint64(stream_key(name)))
        for k in keys:  # a hash chain: one finaliser round per key
            h = _mix(h ^ np.asarray(k).astype(np.uint64))
        return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def poisson_from_uniform(u: float, mean: float) -> int:
    """The Poisson(mean) quantile of a uniform u: a keyed Poisson draw by inversion."""
    if mean <= 0:
        return 0
    k_max = int(mean + 12 * mean**0.5 + 30)
    k = np.arange(k_max + 1)
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    return int(min(np.searchsorted(cdf, u, side="right"), k_max))
