"""The core the Mesa baseline implements, as scenario overrides: no incidents, fear, windows,
adoption or protests. The array model with these overrides has the baseline's semantics.

(Kept apart from benchmarks/baseline.py, which imports Mesa, so that reading it costs nothing.)
"""

CORE: dict = {
    "population.offender_fraction": 0.0,
    "feed.posts_feedback": False,
    "feed.alerts_feedback": False,
    "reporting.direct_rate": 0.0,
    "adoption.spontaneous_per_year": 0.0,
    "adoption.word_of_mouth_per_year": 0.0,
    "adoption.churn_per_year": 0.0,
    "protest.per_30_days": 0.0,
}
