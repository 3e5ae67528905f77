"""The policy comparison (issue 18): rules that bind in a designed run, Community Requests'
reminders, posts that lead to police work, public requests, and the attention loop. Paired
comparisons use the same seed: every decision is a keyed draw, so two settings differ only
where the setting acts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model.model import NeighbourhoodModel
from sim.model.police import gini
from sim.model.requests import VOLUNTARY
from sim.scenario.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]

# A world wider than a portal disc (half-mile radius, 805 m) and than an RFA's largest
# (0.5 sq mi, 642 m), where police always ask for the portal's area and a too-long window, and
# ask again and again about each incident; protests every day.
BINDING = {
    "world.blocks_x": 20,
    "world.blocks_y": 12,
    "world.gateways": 16,
    "time.days": 1.5,
    "population.pedestrians": 3000,
    "population.offender_fraction": 0.1,
    "incidents.victim_reporting": 1.0,
    "police.request_probability": 1.0,
    "police.extra_requests": 2.0,
    "police.request_area_sq_mi": np.pi * 0.5**2,
    "police.request_window_hours": 14.0,
    "police.request_spread": 0.0,
    "police.request_delay_hours": 3.0,
    "protest.per_30_days": 30.0,
    "legal.demand_probability": 0.0,
}


def run(overrides: dict, seed: int = 1) -> NeighbourhoodModel:
    model = NeighbourhoodModel(Scenario().replace(overrides), rng=seed)
    model.metrics_ = model.run()
    return model


def test_portal_radius_and_rfa_area_select_different_owners_and_rules_hold():
    portal = run({**BINDING, "requests.regime": "portal"})
    rfa = run({**BINDING, "requests.regime": "rfa"})
    pm, rm = portal.metrics_, rfa.metrics_
    # the same incidents, asked about from the same places: the RFA's smaller disc asks a
    # strict subset of the owners the portal's half-mile radius asks
    assert pm["incidents.total"] == rm["incidents.total"] > 5
    assert np.all(portal.platform.asked >= rfa.platform.asked)
    assert pm["requests.owners_asked"] > rm["requests.owners_asked"] > 0
    assert pm["requests.recipients"] > 1.2 * rm["requests.recipients"]
    assert pm["footage.clips_shared"] >= rm["footage.clips_shared"]
    # the rules hold: windows and areas within the caps, at most two per incident, no protests
    for model in (portal, rfa):
        rules = model.platform.rules
        voluntary = [r for r in model.police.issued if r.kind == VOLUNTARY]
        assert voluntary
        for r in voluntary:
            assert rules.min_window_minutes / 60 - 1e-9 <= r.window_hours
            assert r.window_hours <= rules.max_window_hours + 1e-9
            assert rules.min_area_sq_mi - 1e-12 <= r.area_sq_mi <= rules.max_area_sq_mi + 1e-12
        per_incident = np.bincount([r.incident for r in voluntary if r.incident >= 0])
        if rules.max_per_incident:
            assert per_incident.max() <= rules.max_per_incident
        else:
            assert per_incident.max() > 2  # the portal has no cap
        protest = sum(r.protest >= 0 for r in voluntary)
        assert (protest > 0) == rules.allow_protest
    assert rfa.police.refused["per-incident cap"] > 0 and rfa.police.refused["protest"] > 0
    # every request asked for the portal's area: the RFA re-issued each at its cap
    assert {round(r.area_sq_mi, 6) for r in rfa.police.issued if r.kind == VOLUNTARY} == {0.5}


# Requests early in the run, reminders (24 h, 72 h) within it.
REMINDED = {
    **BINDING,
    "time.days": 4.0,
    "protest.per_30_days": 0.0,
    "police.request_area_sq_mi": 0.3,
    "police.request_window_hours": 6.0,
    "privacy.e2ee": 0.0,
    "privacy.subscription": 1.0,
    "requests.opt_out": 0.0,
}


def _shares(model) -> set:
    return {
        (h.request.incident, h.request.t0, int(c))
        for h in model.police.handovers
        if h.request.kind == VOLUNTARY
        for c in h.cameras
    }


def test_community_reminders_raise_responses_paired():
    base = {**REMINDED, "requests.regime": "community"}
    none = run({**base, "requests.reminder_effect": 0.0}, seed=3)
    some = run({**base, "requests.reminder_effect": 1.0}, seed=3)
    rfa = run({**REMINDED, "requests.regime": "rfa"}, seed=3)
    n, s, r = none.metrics_, some.metrics_, rfa.metrics_
    assert s["requests.reminders"] > 0 and r["requests.reminders"] == 0
    assert s["requests.community"] == s["requests.voluntary"] > 0 and r["requests.community"] == 0
    # reminders that do nothing: community asks and obtains exactly what the RFA does
    assert _shares(none) == _shares(rfa)
    # reminders add responses to those of the first notice, never remove any
    assert _shares(none) < _shares(some)
    assert s["footage.clips_shared"] > n["footage.clips_shared"]
    assert s["requests.response_rate"] > n["requests.response_rate"]
    # a response after a reminder reaches police when the reminder is sent, not before
    later = [h for h in some.police.handovers if h.minute > h.request.issued]
    assert later and all((h.minute - h.request.issued) % 60 == 0 for h in later)


# Posts are the only way to footage: no incident becomes known, many posts, a biased public.
POSTS_ONLY = {
    "world.blocks_x": 10,
    "world.blocks_y": 6,
    "time.days": 2.0,
    "incidents.victim_reporting": 0.0,
    "police.patrol_discovery": 0.0,
    "police.allocation": "uniform",
    "police.request_probability": 1.0,
    "police.request_delay_hours": 2.0,
    "reporting.base_rate": 0.0005,
    "reporting.bias_spread": 0.0,
    "requests.share_probability": 0.3,
    "police.post_investigation_probability": 0.2,
    "police.request_area_sq_mi": 0.005,  # a few doors: footage far from covering everyone
    "police.request_window_hours": 0.5,
    "police.request_spread": 0.0,
    "requests.regime": "portal",
}


def _bystanders(overrides: dict, seeds=(1, 2, 3)) -> np.ndarray:
    out = np.zeros(3)
    for seed in seeds:
        m = run({**POSTS_ONLY, **overrides}, seed).metrics_
        out += [m["footage.bystanders.majority"], m["footage.bystanders.minority"], 0]
        out[2] += m["requests.from_posts"]
        assert m["incidents.known_to_police"] == 0
    return out


def test_bias_raises_minority_bystanders_through_posts_paired():
    low = _bystanders({"reporting.bias": 1.0})
    high = _bystanders({"reporting.bias": 4.0})
    assert low[2] > 0 and high[2] > low[2]  # more posts, more investigations and requests
    assert high[1] > 1.2 * low[1]  # more minority bystanders
    assert high[1] / high[:2].sum() > low[1] / low[:2].sum()  # and a larger minority share
    # without investigations from posts, the bias reaches no footage at all
    off = _bystanders({"reporting.bias": 4.0, "police.post_investigation_probability": 0.0})
    assert off.sum() == 0


# Many posts a day, three zones in a row; police presence encourages posting.
LOOP = {
    "time.days": 16.0,
    "population.pedestrians": 2000,
    "reporting.base_rate": 0.003,
    "reporting.bias": 1.0,
    "feed.posts_feedback": False,
    "feed.alerts_feedback": False,
    "police.zones_x": 3,
    "police.zones_y": 1,
    "police.attention_memory_days": 3.0,
    "police.attention_prior": 5.0,
    "reporting.police_presence": 1.0,
}


def _daily_gini(overrides: dict, seed: int = 5) -> np.ndarray:
    model = run({**LOOP, **overrides}, seed)
    return np.array([gini(a) for a in model.police._attention_days])


def test_attention_runs_away_under_posts_with_feedback_only_when_posts_are_received():
    posts = _daily_gini({"police.allocation": "posts"})
    debiased = _daily_gini({"police.allocation": "debiased"})
    first, last = slice(1, 4), slice(-4, None)
    # under posts, attention concentrates over time ...
    assert posts[last].mean() > 1.5 * posts[first].mean()
    assert posts[last].mean() > 0.15
    # ... and far more than when each post is weighted by what presence added to it
    assert posts[last].mean() > 2 * debiased[last].mean()
    # with no feedback, the same posts give much less concentration
    no_loop = _daily_gini({"police.allocation": "posts", "reporting.police_presence": 0.0})
    assert posts[last].mean() > 1.5 * no_loop[last].mean()
    # an agency that receives no posts cannot follow them: attention stays even
    for switch in ("police.partnered", "police.forwarding"):
        alone = _daily_gini({"police.allocation": "posts", switch: False})
        assert alone.max() == pytest.approx(0.0, abs=1e-12)


# Public requests: few posts, so that a request read in the feed is not lost among them.
PUBLIC = {
    **BINDING,
    "time.days": 2.0,
    "protest.per_30_days": 0.0,
    "police.request_area_sq_mi": 0.3,
    "police.request_window_hours": 6.0,
    "police.request_spread": 0.3,
    "reporting.base_rate": 1e-6,
    "feed.alerts_feedback": False,
    "feed.fear_per_request": 0.02,  # read like a post
    "requests.regime": "rfa",
}


def test_public_requests_are_read_in_the_feed_and_may_change_sharing_and_asking():
    public = run(PUBLIC).metrics_
    private = run({**PUBLIC, "requests.public": False}).metrics_
    assert public["requests.public_posts"] == public["requests.voluntary"] > 0
    assert private["requests.public_posts"] == 0
    # the same requests; read in the feed, they raise app users' fear
    assert public["requests.voluntary"] == private["requests.voluntary"]
    assert (
        public["feed.mean_fear"] > private["feed.mean_fear"] > 0 or private["feed.mean_fear"] == 0
    )
    assert public["feed.mean_fear"] > 0
    # owners asked publicly may share less (or more): a parameter, paired
    wary = run({**PUBLIC, "requests.public_share_multiplier": 0.3})
    assert wary.metrics_["footage.clips_shared"] < public["footage.clips_shared"]
    assert wary.metrics_["requests.recipients"] == public["requests.recipients"]
    # ... and a private request is not affected by it
    assert (
        run({**PUBLIC, "requests.public": False, "requests.public_share_multiplier": 0.3}).metrics_[
            "footage.clips_shared"
        ]
        == private["footage.clips_shared"]
    )
    # publicity may deter requests about minor incidents: only burglaries are asked about
    deterred = run({**PUBLIC, "police.public_deterrence": 1.0})
    assert deterred.metrics_["requests.deterred"] > 0
    assert deterred.metrics_["requests.voluntary"] < public["requests.voluntary"]
    kinds = deterred.incidents.log().kind
    asked = {r.incident for r in deterred.police.issued if r.kind == VOLUNTARY}
    assert all(kinds[i] == 2 for i in asked)  # burglary
    assert (
        run({**PUBLIC, "requests.public": False, "police.public_deterrence": 1.0}).metrics_[
            "requests.deterred"
        ]
        == 0
    )


def test_quick_request_rules_study_separates_portal_and_rfa():
    """The shipped study's design and seeds on a tiny but binding world (wider than a
    portal disc, a few days): portal - rfa, paired, excludes 0 in owner-requests, clips and
    bystanders."""
    from sim.runs.experiment import load_experiment
    from sim.runs.policy_figure import paired_ci

    exp = load_experiment(ROOT / "experiments" / "request_rules.toml")
    tiny = {
        "world.blocks_x": 20,
        "world.blocks_y": 12,
        "world.gateways": 16,
        "population.pedestrians": 3500,
        "population.offender_fraction": 0.1,
        "time.days": 3.0,
        "incidents.victim_reporting": 0.8,  # more known incidents, each investigated
        "police.request_probability": 1.0,
    }
    points = {
        p["requests.regime"]: i
        for i, p in enumerate(exp.points)
        if p["requests.opt_out"] == 0.0 and p["reporting.bias"] == 1.0
    }
    keys = ("requests.recipients", "footage.clips_shared", "footage.bystanders.majority")
    diffs = {k: [] for k in keys}
    for r in range(5):
        out = {}
        for regime in ("portal", "rfa"):
            i = points[regime]
            model = NeighbourhoodModel(exp.scenario(i).replace(tiny), rng=exp.run_seed(i, r))
            out[regime] = model.run()
        for k in keys:
            diffs[k].append(out["portal"][k] - out["rfa"][k])
    for k in keys:
        mean, low, high = paired_ci(np.array(diffs[k]))
        assert low > 0, (k, mean, low, high)


def test_opt_out_scales_voluntary_clips_and_leaves_legal_outcomes():
    """Opting out is a keyed draw per home: owners who opt out at 0.5 are a random half, so the
    clips shared are a subset of those at 0, about half of them; legal demands ignore it."""
    base = {
        **REMINDED,
        "requests.regime": "portal",
        "requests.share_probability": 0.3,
        "legal.demand_probability": 0.5,
    }
    full = run({**base, "requests.opt_out": 0.0}, seed=2)
    half = run({**base, "requests.opt_out": 0.5}, seed=2)
    kept, every = _shares(half), _shares(full)
    assert kept <= every and len(every) > 100
    ratio = len(kept) / len(every)
    assert abs(ratio - 0.5) < 4 * np.sqrt(0.25 / len(every)), ratio
    for key in ("requests.legal", "footage.legal_clips", "footage.legal_content_fraction"):
        assert half.metrics_[key] == full.metrics_[key], key
    assert full.metrics_["requests.legal"] > 0


def test_policy_figure_pairs_regimes_by_replicate(tmp_path):
    """sim.runs.policy_figure on a synthetic sweep: differences are taken replicate by replicate
    (a constant paired offset has a zero-width interval however noisy the levels), and the
    figure and tables are written."""
    import pandas as pd

    from sim.runs.policy_figure import main, paired_table, replications_needed

    rng = np.random.default_rng(0)
    rows = []
    for bias in (1.0, 3.0):
        for r in range(4):
            level = rng.normal(100, 30)
            for regime, offset in (("rfa", 0.0), ("portal", 10.0), ("none", -50.0)):
                rows.append(
                    {
                        "run_id": f"{regime}-{bias:g}-{r}",
                        "point": len(rows) // 4,
                        "param:requests.regime": regime,
                        "param:requests.opt_out": 0.0,
                        "param:reporting.bias": bias,
                        "replicate": r,
                        "status": "ok",
                        "footage.clips_shared": level + offset,
                        "footage.incidents_with_footage_fraction": 0.5,
                        "footage.bystanders.majority": 2 * level + offset,
                        "footage.bystanders.minority": level + bias * offset,
                        "requests.from_posts": bias,
                        "footage.clips_from_posts": bias,
                    }
                )
    (tmp_path / "runs").mkdir()
    df = pd.DataFrame(rows)
    df.to_parquet(tmp_path / "runs" / "chunk.parquet")
    table = paired_table(df, ["footage.clips_shared"])
    portal = table[(table["regime"] == "portal")]
    assert np.allclose(portal["diff"], 10.0) and np.allclose(portal["high"] - portal["low"], 0)
    assert main([str(tmp_path)]) == 0
    for name in ("policy.png", "policy_pairs.csv", "policy_pairs.md"):
        assert (tmp_path / "policy" / name).stat().st_size > 0
    assert "reporting.bias 3 - 1" in (tmp_path / "policy" / "policy_pairs.md").read_text()
    assert main([str(tmp_path / "nowhere")]) == 2
    assert replications_needed(sd=10.0, effect=10.0) == 9  # (2.80 x 1)^2 + 1, rounded up


EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_files_load(path):
    """Every shipped experiment is valid (its base, factors and overrides) and states in its
    header what it asks."""
    from sim.runs.experiment import load_experiment

    exp = load_experiment(path)
    assert exp.points and exp.replications >= 1
    assert path.read_text(encoding="utf-8").startswith("#")


def test_attention_settles_at_the_urn_fixed_point():
    """Ensign et al. 2018's urn, in this model's terms: with the zones' posting rates R_z
    measured under even attention, expected daily counts R_z m_z(A) (m_z = 1 + e (Z A_z - 1)),
    decayed counts C_z = X_z / (1 - d) and attention (C_z + prior) / sum, the fixed point of
    that map is where attention settles under posts allocation (e = 0.5: an interior point,
    further from even than without the loop)."""
    e, days = 0.5, 30.0
    kv = {**LOOP, "time.days": days, "reporting.police_presence": e}
    even = run({**kv, "police.allocation": "uniform"}, seed=5)
    Z = even.zones.count
    R = np.bincount(even.home_zone[even.reporting.log().poster], minlength=Z) / days
    d = 0.5 ** (1 / kv["police.attention_memory_days"])

    def fixed_point(effect: float) -> np.ndarray:
        A = np.full(Z, 1 / Z)
        for _ in range(500):
            C = R * np.maximum(0, 1 + effect * (Z * A - 1)) / (1 - d)
            A = (C + kv["police.attention_prior"]) / (C + kv["police.attention_prior"]).sum()
        return A

    posts = run({**kv, "police.allocation": "posts"}, seed=5)
    observed = np.mean(posts.police._attention_days[10:], axis=0)
    assert np.abs(observed - fixed_point(e)).max() < 0.04
    assert np.abs(observed - fixed_point(0.0)).max() > 0.06  # the loop moved it
