"""`costcalc verify`: build the real PyTorch model of a spec and check every layer's counts.

``runner`` (torch, fvcore) measures the model; ``check`` (pure) compares the measurement with
the analytic counts. Importing this package imports neither torch nor fvcore: ``measure`` does.
"""
from __future__ import annotations

from .. import conventions
from ..graph import Graph, build_graph
from ..results import analyze
from .check import ModelCheck, check_model, report_dict

#: fvcore runs only when float32 parameters + activations (at the batch) fit in this many bytes
DEFAULT_FVCORE_LIMIT = 1 << 30  # 1 GiB


def measure(graph: Graph, batch: int, fvcore_limit: int = DEFAULT_FVCORE_LIMIT):
    """The runner's Measurement of the graph's real model (imports torch and fvcore)."""
    from . import runner

    return runner.measure(graph, batch=batch, fvcore_limit=fvcore_limit)


def verify_graph(graph: Graph, *, convention: str = conventions.DEFAULT, batch: int | None = None,
                 fvcore_limit: int = DEFAULT_FVCORE_LIMIT, measurement=None) -> ModelCheck:
    """Verify one graph under one convention; pass ``measurement`` to reuse one across conventions."""
    result = analyze(graph, convention=convention, batch=batch)
    m = measurement or measure(graph, result.batch, fvcore_limit)
    if m.batch != result.batch:
        raise ValueError(f"measurement at batch {m.batch}, analysis at batch {result.batch}")
    return check_model(result, m)


def verify(sources, *, convention: str = conventions.DEFAULT, batch: int | None = None,
           fvcore_limit: int = DEFAULT_FVCORE_LIMIT) -> list[ModelCheck]:
    """Verify spec files (or mappings); every spec is built and checked before anything is returned."""
    conventions.get(convention)
    graphs = [build_graph(s) for s in sources]  # bad input fails before torch is imported
    return [verify_graph(g, convention=convention, batch=batch, fvcore_limit=fvcore_limit)
            for g in graphs]


__all__ = ["verify", "verify_graph", "measure", "check_model", "report_dict", "ModelCheck"]
