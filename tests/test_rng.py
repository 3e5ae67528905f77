"""Keyed random numbers: the compiled hash chain equals SplitMix64 written with Python
integers, draws are uniform and independent of everything but their keys, and the posting
pre-check draws the same numbers as the stream it stands for."""

import numpy as np
import pytest
from scipy import stats

from sim.engine.rng import Streams, stream_key
from sim.model.incidents import _attempts
from sim.model.reporting import _below_bound

MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """SplitMix64's finaliser with Python integers (the reference)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _reference(seed: int, name: str, *keys: int) -> float:
    h = _mix(_mix(seed & ((1 << 63) - 1)) ^ stream_key(name))
    for k in keys:
        h = _mix(h ^ (k & MASK))
    return (h >> 11) / (1 << 53)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**62 + 7])
def test_uniform_equals_splitmix64_with_python_integers(seed):
    rng = np.random.default_rng(seed % 1000)
    a = rng.integers(-3, 10**9, 50)
    b = rng.integers(0, 2**40, 50)
    got = Streams(seed).uniform("camera.detect", a, b, 17)
    want = [
        _reference(seed, "camera.detect", int(x), int(y), 17) for x, y in zip(a, b, strict=True)
    ]
    np.testing.assert_array_equal(got, want)
    assert Streams(seed).uniform("x", 5).shape == (1,)  # a scalar key gives one number
    assert Streams(seed).uniform("x", np.arange(6)[:, None], np.arange(4)).shape == (6, 4)


def test_uniforms_are_uniform_and_depend_only_on_keys_and_stream():
    s = Streams(3)
    u = s.uniform("post", np.arange(20000), 5, 9)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(u[100:200], s.uniform("post", np.arange(100, 200), 5, 9))
    assert not np.array_equal(u[:100], s.uniform("detect", np.arange(100), 5, 9))
    assert not np.array_equal(u[:100], Streams(4).uniform("post", np.arange(100), 5, 9))


def test_posting_precheck_draws_the_post_stream_and_keeps_exactly_those_below_the_bound():
    s = Streams(8)
    rng = np.random.default_rng(0)
    n, homes = 5000, 300
    home = rng.integers(0, homes, n)
    person = rng.integers(0, 10**6, n)
    t_in = rng.integers(0, 10**5, n)
    bias_max, fear = rng.uniform(0.5, 3, homes), rng.exponential(1.0, homes)
    args = (s.base("post"), 0.05, bias_max, fear, 0.7, 2.0)
    keep, u = _below_bound(home, person, t_in, *args, 1.0)
    expected_u = s.uniform("post", home, person, t_in)
    bound = 0.05 * bias_max[home] * (1 + 0.7 * fear[home]) * 2.0
    np.testing.assert_array_equal(keep, np.flatnonzero(expected_u < bound))
    np.testing.assert_array_equal(u, expected_u[keep])
    assert 0 < len(keep) < n
    # window passes are sifted the same way, with the direct rate
    keep, u = _below_bound(home, person, t_in, *args, 0.2)
    np.testing.assert_array_equal(keep, np.flatnonzero(expected_u < bound * 0.2))
    np.testing.assert_array_equal(u, expected_u[keep])
    assert 0 < len(keep) < (expected_u < bound).sum()


def test_attempts_are_the_offenders_keyed_draws_below_each_kinds_probability():
    s = Streams(3)
    rng = np.random.default_rng(1)
    person = rng.integers(0, 1000, 4000).astype(np.int32)
    offender = rng.random(1000) < 0.3
    depart = np.sort(rng.integers(0, 3 * 1440, len(person)))
    p = np.zeros((3, 24))
    p[0], p[2, :12], p[2, 12:] = 0.2, 0.6, 0.1  # by kind and hour of the day
    who, kind = _attempts(person, depart, offender, p, s.base("incident.attempt"))
    u = s.uniform("incident.attempt", person[:, None], depart[:, None], np.arange(3)[None, :])
    hour = (depart % 1440) // 60
    below = u < p[:, hour].T
    expected_who, expected_kind = np.nonzero(offender[person][:, None] & below)
    np.testing.assert_array_equal(who, expected_who)
    np.testing.assert_array_equal(kind, expected_kind)
    assert set(kind.tolist()) == {0, 2}
    morning = hour[who[kind == 2]] < 12
    assert morning.sum() > 3 * (~morning).sum()  # the hour's probability was used (6:1)
