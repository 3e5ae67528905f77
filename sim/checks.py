"""One validity check of the model: what was expected, what was observed, pass or fail.

Analytic checks (``sim.validate``) compare a mechanism with a formula or an invariant; pattern
checks (``sim.patterns``) compare the model with a published pattern (docs/ODD.md, "Purpose
and patterns"). ``run.py validate`` runs both and writes them to one report; the tests run
the same checks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Check:
    """The outcome of one check.

    Attributes:
        name: short identifier, e.g. ``"coverage.formula"`` or ``"pattern.3.response_rate"``.
        kind: ``"analytic"`` or ``"pattern"``.
        title: one line for people.
        expected: what should be seen, in words with the figure (e.g. "1 - (1 - a v)^n").
        observed: the observed value (a mean), or None when not applicable.
        ci: 95 % confidence interval of ``observed`` (low, high), or None.
        passed: whether the check passed.
        detail: how it was measured (replications, test used, p-value...).
        figure: path of a figure relative to the report's folder, or None.
        source: where the expectation comes from (a formula, docs/sources.md figure, a paper).
    """

    name: str
    kind: str
    title: str
    expected: str
    observed: float | None
    ci: tuple[float, float] | None
    passed: bool
    detail: str = ""
    figure: str | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
