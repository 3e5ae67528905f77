"""One validity check of the model: what was expected, what was observed, pass or fail.

Analytic checks (``sim.validation.validate``) compare a mechanism with a formula or an invariant;
pattern
checks (``sim.validation.patterns``) compare the model with a published pattern (docs/ODD.md,
"Purpose
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
        label: for pattern checks, what the pattern is: input, fitted or emergent
            (``sim.validation.patterns.LABELS``); empty for analytic checks.
        events: for pattern checks, the events the statistic rests on (the fewest of the
            seed sets), or None.
        min_events: the events needed before the check can pass, or None.
        measured: False when too few events were seen to decide: the check is then reported
            "not measured" and does not pass.
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
    label: str = ""
    events: int | None = None
    min_events: int | None = None
    measured: bool = True

    @property
    def result(self) -> str:
        """The result: "pass", "FAIL" or "not measured" (too few events seen to decide)."""
        if not self.measured:
            return "not measured"
        return "pass" if self.passed else "FAIL"

    def to_dict(self) -> dict:
        return asdict(self)
