"""Account security: accounts taken over by credential stuffing, and who that exposes.

Each day, each active camera's account is taken over with probability
``[1 - (1 - r) ** (1 / 365)] x (1 - protection)`` for accounts with two-factor authentication
(``privacy.two_factor`` of them) and without the factor for the others, where ``r`` is
``privacy.compromise_per_year`` and ``protection`` is ``privacy.two_factor_protection``. A
taken-over camera leaks to outsiders its stored video (subscribers, within retention) and its
live view from then on; end-to-end encryption protects both (the attacker's device is not
enrolled). The leaked sightings are kept (``leaked``): the privacy ledger (sim/model/ledger.py)
counts the people in them, once each, as exposed through the ``compromise`` path.
"""

from __future__ import annotations

import numpy as np

from sim.engine.rng import Streams
from sim.model.footage import FootageStore, Sightings
from sim.scenario.scenario import Scenario
from sim.scenario.schema import number, share
from sim.scenario.submodel import COUNT, Submodel, metric

# Sources cited only here (docs/sources.md expands them).
SRC_PRIVACY = "docs/sources.md: E2EE from 2021, hijacked accounts, stronger password defaults"

# fmt: off
PARAMS = (
    share("privacy.subscription", 0.5, "Share of camera owners with a cloud subscription (only "
        "they have stored video)."),
    number("privacy.retention_days", 60.0, "day", 0.01, 365, "How long the cloud keeps a "
        "subscriber's video.", "docs/sources.md: retention up to 60 days"),
    share("privacy.e2ee", 0.05, "Share of owners with end-to-end encryption on (no content for "
        "legal demands, no sharing through requests).", SRC_PRIVACY),
    share("privacy.two_factor", 0.9, "Share of accounts with two-factor authentication (on by "
        "default).", SRC_PRIVACY),
    number("privacy.compromise_per_year", 0.02, "per year", 0, 1, "Probability per year that an "
        "account without two-factor authentication is taken over (credential stuffing).",
        SRC_PRIVACY),
    share("privacy.two_factor_protection", 0.99, "Share of takeovers that two-factor "
        "authentication prevents.", SRC_PRIVACY),
)
# fmt: on


class AccountSecurity(Submodel):
    """Which accounts are compromised, and which people their cameras exposed."""

    name = "accounts"
    STATE = ("daily", "compromised")

    def __init__(
        self,
        n_homes: int,
        params: Scenario,
        streams: Streams,
        subscribed: np.ndarray,
        e2ee: np.ndarray,
    ) -> None:
        self.streams = streams
        homes = np.arange(n_homes)
        two_factor = streams.uniform("owner.two_factor", homes) < params["privacy.two_factor"]
        daily = 1 - (1 - params["privacy.compromise_per_year"]) ** (1 / 365)
        self.daily = daily * np.where(two_factor, 1 - params["privacy.two_factor_protection"], 1)
        self.retention = params["privacy.retention_days"] * 1440
        self.subscribed = subscribed
        self.e2ee = e2ee
        self.compromised = np.zeros(n_homes, bool)
        self.any_compromised = False  # until the first takeover, nothing leaks live
        self._leaks: list[tuple[np.ndarray, ...]] = []  # (camera, person, t_in, t_out)

    def daily_takeovers(
        self, day: int, now: int, has_camera: np.ndarray, camera_of_home, footage: FootageStore
    ) -> None:
        """Draw today's takeovers; leak the stored video of the newly compromised."""
        homes = np.flatnonzero(has_camera & ~self.compromised)
        hit = self.streams.uniform("account.takeover", homes, day) < self.daily[homes]
        new = homes[hit]
        if len(new) == 0:
            return
        self.compromised[new] = True
        self.any_compromised = True
        stored = new[self.subscribed[new] & ~self.e2ee[new]]
        if len(stored):
            past = footage.query(
                max(0, now - int(self.retention)), now, cameras=camera_of_home[stored]
            )
            self._leaks.append((past.camera, past.person, past.t_in, past.t_out))

    def live(self, camera_home: np.ndarray, sightings: Sightings) -> None:
        """New sightings on compromised cameras (of homes ``camera_home``) leak through the
        live view."""
        if not self.any_compromised:
            return
        leak = self.compromised[camera_home] & ~self.e2ee[camera_home]
        if np.any(leak):
            s = sightings
            self._leaks.append((s.camera[leak], s.person[leak], s.t_in[leak], s.t_out[leak]))

    def leaked(self) -> Sightings:
        """Every sighting leaked so far (a sighting leaked twice appears twice)."""
        if not self._leaks:
            empty = np.zeros(0, np.int64)
            return Sightings(empty, empty, empty, empty)
        return Sightings(
            *(np.concatenate(c).astype(np.int64) for c in zip(*self._leaks, strict=True))
        )

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("privacy.accounts_compromised", COUNT, "accounts", "Accounts taken over"),
        metric("privacy.people_exposed_by_compromise", COUNT, "people", "People in leaked video"),
    )

    def metrics(self, model) -> dict[str, float | int | None]:
        return {
            "privacy.accounts_compromised": int(self.compromised.sum()),
            "privacy.people_exposed_by_compromise": len(self.leaked().people()),
        }
