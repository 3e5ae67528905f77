"""Footage requests under the platform's rules: invariants that must hold for every seed, the
paired effect of opt-out and encryption, protests, and account takeovers."""

import numpy as np
import pytest
from scipy import stats

from sim.model import NeighbourhoodModel
from sim.replicate import run_replications
from sim.requests import LEGAL, VOLUNTARY, Platform, Request, Rules
from sim.scenario import Scenario

# A busy week: many offenders, every known incident investigated, frequent protests.
BUSY = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "time.days": 2.0,
    "population.pedestrians": 1200,
    "population.offender_fraction": 0.15,
    "cameras.adoption": 0.4,
    "incidents.victim_reporting": 1.0,
    "police.request_probability": 1.0,
    "police.extra_requests": 2.0,
    "police.request_window_hours": 10.0,
    "police.request_spread": 0.8,
    "police.request_delay_hours": 6.0,
    "requests.share_probability": 0.5,
    "legal.demand_probability": 0.5,
    "protest.per_30_days": 30.0,
}


def run(seed: int = 1, **kv) -> NeighbourhoodModel:
    model = NeighbourhoodModel(Scenario().replace({**BUSY, **kv}), rng=seed)
    model.metrics_ = model.run()
    return model


@pytest.fixture(scope="module", params=["portal", "rfa"])
def busy(request):
    return run(**{"requests.regime": request.param})


def test_nothing_outside_a_requests_window_or_area_is_handed_over(busy):
    xy = busy._camera_xy()
    assert busy.police.handovers, "the scenario must produce handovers"
    for h in busy.police.handovers:
        req, s = h.request, h.sightings
        assert np.all(s.t_out >= req.t0) and np.all(s.t_in <= req.t1)
        assert np.all(req.area.contains(xy[s.camera]))
        assert set(np.unique(s.camera)) == set(h.cameras.tolist())
        assert req.t1 <= req.issued  # nobody hands over footage of the future


def test_every_issued_request_follows_the_rules_and_refusals_are_counted(busy):
    rules = busy.platform.rules
    per_incident: dict[int, int] = {}
    for req in busy.police.issued:
        if req.kind != VOLUNTARY:
            continue
        before = per_incident.get(req.incident, 0) if req.incident >= 0 else 0
        assert rules.refusal(req.window_hours, req.area_sq_mi, before, req.protest >= 0) is None
        if req.incident >= 0:
            per_incident[req.incident] = before + 1
    m = busy.metrics_
    assert m["requests.refused"] == sum(busy.police.refused.values()) > 0
    assert "window too long" in busy.police.refused or "area too large" in busy.police.refused


def test_without_reissue_refused_requests_are_not_made_again():
    a = run(**{"requests.regime": "rfa"})
    b = run(**{"requests.regime": "rfa", "police.reissue": False})
    assert a.police.planned_voluntary == b.police.planned_voluntary > 0
    # without re-issue, every plan is either issued or refused
    mb = b.metrics_
    assert mb["requests.voluntary"] + mb["requests.refused"] == b.police.planned_voluntary
    # with it, every size refusal comes back as an issued request
    size = ("window too long", "window too short", "area too large", "area too small")
    resized = sum(a.police.refused.get(r, 0) for r in size)
    assert resized > 0
    ma = a.metrics_
    assert ma["requests.voluntary"] + ma["requests.refused"] == (
        a.police.planned_voluntary + resized
    )
    assert mb["requests.voluntary"] < ma["requests.voluntary"]


def test_rfa_allows_no_protest_requests_and_at_most_two_per_incident():
    model = run(**{"requests.regime": "rfa"})
    m = model.metrics_
    assert m["protest.count"] > 0
    assert m["requests.protest"] == 0
    assert model.police.refused.get("protest", 0) > 0
    counts = np.bincount(
        [r.incident for r in model.police.issued if r.kind == VOLUNTARY and r.incident >= 0]
    )
    assert counts.max() <= 2
    assert model.police.refused.get("per-incident cap", 0) > 0
    # the portal has neither limit
    portal = run(**{"requests.regime": "portal"})
    assert portal.metrics_["requests.protest"] > 0
    counts = np.bincount(
        [r.incident for r in portal.police.issued if r.kind == VOLUNTARY and r.incident >= 0]
    )
    assert counts.max() > 2


def test_protest_footage_exposes_participants_under_the_portal():
    m = run(
        **{
            "requests.regime": "portal",
            "protest.participants": 300,
            "protest.request_probability": 1.0,
        }
    ).metrics_
    assert m["privacy.protest_participants_exposed"] > 0


def test_regime_none_makes_no_voluntary_requests_but_legal_demands_go_on():
    m = run(**{"requests.regime": "none"}).metrics_
    assert m["requests.voluntary"] == 0 and m["footage.clips_shared"] == 0
    assert m["requests.refused"] == 0
    assert m["requests.legal"] > 0


LEGAL_KEYS = ("requests.legal", "footage.legal_clips", "footage.legal_content_fraction")


def test_full_opt_out_stops_voluntary_footage_and_leaves_legal_demands_unchanged():
    in_ = run(**{"requests.opt_out": 0.0}).metrics_
    out = run(**{"requests.opt_out": 1.0}).metrics_
    assert in_["footage.clips_shared"] > 0
    assert out["footage.clips_shared"] == 0 and out["requests.recipients"] == 0
    for key in LEGAL_KEYS:  # paired draws: identical under the same seed
        assert out[key] == in_[key], key


def test_opt_out_leaves_legal_outcomes_unchanged_in_distribution():
    def clips(opt_out: float) -> list[float]:
        params = Scenario().replace({**BUSY, "time.days": 1.5, "requests.opt_out": opt_out})
        return [m["footage.legal_clips"] for _, m, _ in run_replications(params, 8, 3)]

    a, b = clips(0.0), clips(1.0)
    assert sum(a) > 0
    assert stats.mannwhitneyu(a, b).pvalue > 0.05
    assert a == b  # and in fact replicate by replicate


def test_encryption_for_everyone_means_no_legal_content():
    m = run(**{"privacy.e2ee": 1.0}).metrics_
    assert m["requests.legal"] > 0
    assert m["footage.legal_clips"] == 0 and m["footage.legal_content_fraction"] == 0
    assert m["footage.clips_shared"] == 0  # encrypted video cannot be shared through requests


def test_zero_adoption_means_no_footage_of_any_kind():
    m = run(
        **{"cameras.adoption": 0.0, "privacy.compromise_per_year": 1.0, "privacy.two_factor": 0.0}
    ).metrics_
    for key in (
        "footage.clips_shared",
        "footage.legal_clips",
        "footage.bystanders.majority",
        "footage.bystanders.minority",
        "privacy.people_exposed_by_compromise",
        "privacy.protest_participants_exposed",
        "footage.sightings",
    ):
        assert m[key] == 0, key


def test_account_takeovers_expose_people_unless_encrypted():
    hijack = {"privacy.compromise_per_year": 1.0, "privacy.two_factor": 0.0}
    m = run(**hijack).metrics_
    assert m["privacy.accounts_compromised"] > 0
    assert m["privacy.people_exposed_by_compromise"] > 0
    m = run(**hijack, **{"privacy.e2ee": 1.0}).metrics_
    assert m["privacy.accounts_compromised"] > 0
    assert m["privacy.people_exposed_by_compromise"] == 0
    m = run(**{**hijack, "privacy.two_factor": 1.0, "privacy.two_factor_protection": 1.0}).metrics_
    assert m["privacy.accounts_compromised"] == 0


def test_rules_of_each_regime_and_overrides():
    def rules(**kv):
        return Rules.of(Scenario().replace(kv))

    rfa = rules(**{"requests.regime": "rfa"})
    assert (
        rfa.max_window_hours,
        rfa.min_window_minutes,
        rfa.max_area_sq_mi,
        rfa.min_area_sq_mi,
        rfa.max_per_incident,
        rfa.public,
        rfa.allow_protest,
    ) == (12, 15, 0.5, 0.025, 2, True, False)
    portal = rules(**{"requests.regime": "portal"})
    assert portal.max_area_sq_mi == pytest.approx(np.pi / 4) and portal.max_per_incident == 0
    assert not portal.public and portal.allow_protest
    assert not rules(**{"requests.regime": "none"}).voluntary
    custom = rules(
        **{
            "requests.regime": "rfa",
            "requests.max_window_hours": 2.0,
            "requests.allow_protest": True,
        }
    )
    assert custom.max_window_hours == 2.0 and custom.allow_protest and custom.public
    assert custom.refusal(3.0, 0.1, 0, False) == "window too long"
    assert custom.refusal(0.1, 0.1, 0, False) == "window too short"
    assert custom.refusal(1.0, 0.01, 0, False) == "area too small"
    assert custom.refusal(1.0, 0.6, 0, False) == "area too large"
    assert custom.refusal(1.0, 0.1, 2, False) == "per-incident cap"
    assert custom.refusal(1.0, 0.1, 0, False) is None
    assert custom.within(30.0, 5.0) == (2.0, 0.5)


def test_legal_compliance_falls_with_breadth():
    model = NeighbourhoodModel(
        Scenario().replace({**BUSY, "time.days": 0.1, "legal.compliance": 0.6})
    )
    platform: Platform = model.platform
    active = model.cameras.active

    def rate(area: float, hours: float) -> float:
        ok = [
            platform.legal(Request(i, LEGAL, i, -1, 0.0, 0.0, hours, area, 0, 60, 60), active)
            is not None
            for i in range(4000)
        ]
        return float(np.mean(ok))

    narrow = rate(0.1, 6.0)
    broad = rate(1.5, 24.0)  # breadth (1.5/0.5 - 1) + (24/12 - 1) = 3
    assert abs(narrow - 0.6) < 4 * np.sqrt(0.24 / 4000)
    expected = 0.6 / (1 + 0.5 * 3)
    assert abs(broad - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000)
