"""Reading an accepted ensemble of parameter sets and drawing each replicate's set: what every
run layer needs for ``--ensemble PATH`` (``run.py run``, ``compare``, ``sweep``); building the
ensemble (rejection ABC) is ``sim.validation.ensemble``'s.

``load_ensemble`` reads and checks the Parquet table, ``draws`` gives replicate r the
parameters of one accepted set (a keyed permutation of the sets, the same for every arm:
common random numbers and common parameters), so a paired difference's interval over the
replicates holds both the simulation's and the parameters' uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sim.engine.rng import Streams
from sim.scenario.schema import BY_KEY, INT


class EnsembleError(ValueError):
    """A bad ensemble file or results folder (one line for the user)."""


def load_ensemble(path: str | Path) -> Any:
    """The ensemble's Parquet table, checked: readable, at least one set, ``param:<key>``
    columns naming scenario keys with numeric values. Raises EnsembleError (one line)."""
    path = Path(path)
    if not path.is_file():
        raise EnsembleError(f"--ensemble {path}: no such file")
    try:
        table = pq.read_table(path).to_pandas()
    except Exception as exc:  # any unreadable file: one line, not a traceback
        raise EnsembleError(
            f"--ensemble {path}: not a Parquet table ({type(exc).__name__})"
        ) from None
    cols = [c for c in table.columns if c.startswith("param:")]
    if not cols:
        raise EnsembleError(
            f"--ensemble {path}: no param:<key> columns (expected the table written by "
            "run.py ensemble, e.g. results/calibration/ensemble.parquet)"
        )
    unknown = [c[6:] for c in cols if c[6:] not in BY_KEY]
    if unknown:
        raise EnsembleError(f"--ensemble {path}: unknown scenario key(s) {', '.join(unknown)}")
    bad = [c for c in cols if table[c].dtype.kind not in "biuf"]
    if bad:
        raise EnsembleError(f"--ensemble {path}: column(s) {', '.join(bad)} must be numeric")
    table = table.dropna(subset=cols).reset_index(drop=True)
    if table.empty:
        raise EnsembleError(f"--ensemble {path}: no complete parameter set")
    return table


def draws(ensemble, replications: int, seed: int, skip: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The parameters of replicate r = 0..R-1: the sets of the ensemble in a permutation keyed
    by ``seed`` (every set once before any twice), the same for every arm of a comparison or
    point of a sweep. Keys in ``skip`` (a sweep's factors, explicit --set keys) are left to
    the scenario."""
    cols = [c for c in ensemble.columns if c.startswith("param:") and c[6:] not in skip]
    order = Streams(seed).generator("ensemble").permutation(len(ensemble))
    out = []
    for r in range(replications):
        row = ensemble.iloc[int(order[r % len(order)])]
        d: dict[str, Any] = {"ensemble.set": int(order[r % len(order)])}
        for c in cols:
            v = float(row[c])
            d[c[6:]] = round(v) if BY_KEY[c[6:]].kind == INT else v
        out.append(d)
    return out


def overrides(draw: Mapping[str, Any]) -> dict[str, Any]:
    """A draw's scenario keys (without its bookkeeping)."""
    return {k: v for k, v in draw.items() if k != "ensemble.set"}
