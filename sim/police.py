"""Police: a partner agency that receives posts, stops people, and allocates attention.

The area is divided into ``police.zones_x`` x ``police.zones_y`` zones. Attention ``A_z``
(summing to 1) is re-allocated every day in proportion to a decayed count per zone plus a
prior ``police.attention_prior``; what is counted is set by ``police.allocation``:

* ``posts``: posts made in the zone, the predictive-policing feedback pattern in which
  attention follows reports (and reports follow biased reporters);
* ``incidents``: incidents known to police (reported by victims, or discovered by patrols,
  which discover more where attention is high: the runaway loop of Ensign et al. 2018);
* ``debiased``: posts, each weighted by 1 / k_g of its subject's group, undoing the
  average reporting bias;
* ``uniform``: equal attention everywhere.

With forwarding on (and a partnership), each post in the area reaches officers, who respond by
stopping the person posted with probability ``min(1, response x Z x A_z)`` (Z zones: average
attention gives the base probability). Stops are counted by group and by whether the person
was an offender. Patrols discover an unreported incident with probability
``min(1, patrol_discovery x Z x A_z)``.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.rng import Streams
from sim.scenario import Scenario


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal; (n-1)/n: all in one)."""
    x = np.sort(np.asarray(x, float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


class Zones:
    """A grid of rectangular zones over the area's bounding box."""

    def __init__(self, xy: np.ndarray, nx: int, ny: int) -> None:
        self.lo = xy.min(axis=0)
        self.size = np.maximum(xy.max(axis=0) - self.lo, 1e-9)
        self.nx, self.ny = nx, ny

    @property
    def count(self) -> int:
        return self.nx * self.ny

    def of(self, xy: np.ndarray) -> np.ndarray:
        f = (xy - self.lo) / self.size
        i = np.clip((f[:, 0] * self.nx).astype(np.int64), 0, self.nx - 1)
        j = np.clip((f[:, 1] * self.ny).astype(np.int64), 0, self.ny - 1)
        return i * self.ny + j


class PoliceAgency(mesa.Agent):
    """The local police agency (a Mesa agent: it decides where to look and whom to stop)."""

    def __init__(
        self,
        model: mesa.Model,
        zones: Zones,
        group_bias: np.ndarray,
        params: Scenario,
        streams: Streams,
    ) -> None:
        super().__init__(model)
        self.zones = zones
        Z = zones.count
        self.streams = streams
        self.partnered = params["police.partnered"]
        self.forwarding = params["police.forwarding"]
        self.response = params["police.response_probability"]
        self.allocation = params["police.allocation"]
        self.discovery = params["police.patrol_discovery"]
        self.prior = params["police.attention_prior"]
        self.daily_decay = 0.5 ** (1 / params["police.attention_memory_days"])
        self.inverse_bias = 1 / np.maximum(group_bias, 1e-9)
        self.attention = np.full(Z, 1 / Z)
        self._counts = np.zeros(Z)
        self._today = np.zeros(Z)
        self._attention_days: list[np.ndarray] = []
        self.posts_forwarded = 0
        self.incidents_known = 0
        self._stops: list[tuple[np.ndarray, ...]] = []

    @property
    def receives_posts(self) -> bool:
        return bool(self.partnered and self.forwarding)

    def _boost(self, zone: np.ndarray) -> np.ndarray:
        return self.zones.count * self.attention[zone]

    def on_posts(
        self,
        now: int,
        zone: np.ndarray,
        poster: np.ndarray,
        person: np.ndarray,
        person_group: np.ndarray,
    ) -> int:
        """Posts made this minute: count them for attention; respond to forwarded ones.
        Returns the number of stops."""
        if self.allocation == "posts":
            self._today += np.bincount(zone, minlength=self.zones.count)
        elif self.allocation == "debiased":
            self._today += np.bincount(
                zone, weights=self.inverse_bias[person_group[person]], minlength=self.zones.count
            )
        if not self.receives_posts:
            return 0
        self.posts_forwarded += len(zone)
        p = np.minimum(1.0, self.response * self._boost(zone))
        stop = self.streams.uniform("police.respond", poster, person, now) < p
        if np.any(stop):
            self._stops.append((np.full(int(stop.sum()), now, np.int64), person[stop], zone[stop]))
        return int(stop.sum())

    def on_incidents(
        self, now: int, zone: np.ndarray, person: np.ndarray, reported: np.ndarray
    ) -> np.ndarray:
        """Incidents this minute: which become known (reported, or found by patrols)."""
        u = self.streams.uniform("police.discover", person, now)
        found = u < np.minimum(1.0, self.discovery * self._boost(zone))
        known = reported | found
        self.incidents_known += int(known.sum())
        if self.allocation == "incidents":
            self._today += np.bincount(zone[known], minlength=self.zones.count)
        return known

    def step(self) -> None:
        """Once a day: re-allocate attention from the decayed counts."""
        self._attention_days.append(self.attention.copy())
        self._counts = self._counts * self.daily_decay + self._today
        self._today = np.zeros(self.zones.count)
        if self.allocation == "uniform":
            return
        w = self._counts + self.prior
        self.attention = w / w.sum()

    def stops(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(minute, person, zone) of every stop."""
        if not self._stops:
            z = np.zeros(0, np.int64)
            return z, z, z
        return tuple(np.concatenate(c) for c in zip(*self._stops, strict=True))

    def attention_gini(self) -> float:
        """Gini of the attention across zones, averaged over the days so far."""
        days = [*self._attention_days, self.attention]
        return gini(np.mean(days, axis=0))
