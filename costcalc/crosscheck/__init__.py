"""`costcalc verify`: build the real PyTorch model of a spec and check every layer's counts.

``tools`` (torch, fvcore) measures the model; ``agreement`` (pure) compares the measurement with
the analytic counts. Importing this package imports neither torch nor fvcore: ``tools`` does.
"""
from __future__ import annotations

from costcalc.counting import conventions
from costcalc.counting.graph import Graph, build_graph
from costcalc.counting.results import analyze
from costcalc.crosscheck.agreement import ModelCheck, check_model, report_dict

from costcalc.crosscheck.tools import DEFAULT_FVCORE_LIMIT  # imports neither torch nor fvcore

def measure(graph: Graph, batch: int, fvcore_limit: int = DEFAULT_FVCORE_LIMIT):
    """The runner's Measurement of the graph's real model (imports torch and fvcore)."""
    from costcalc.crosscheck.tools import measure as run

    return run(graph, batch=batch, fvcore_limit=fvcore_limit)

def verify_graph(graph: Graph, *, convention: str = conventions.DEFAULT, batch: int | None = None,
                 fvcore_limit: int = DEFAULT_FVCORE_LIMIT, measurement=None) -> ModelCheck:
    """Verify one graph under one convention; pass ``measurement`` to reuse one across conventions."""
    result = analyze(graph, convention=convention, batch=batch)
    m = measurement or measure(graph, result.batch, fvcore_limit)
    if m.batch != result.batch:
        raise ValueError(f"measurement at batch {m.batch}, analysis at batch {result.batch}")
    return check_model(result, m)


def verify(sources, *, convention: str = conventions.DEFAULT, batch: int | None = None,
           fvcore_limit: int = DEFAULT_FVCORE_LIMIT, params: dict | None = None) -> list[ModelCheck]:
    """Verify spec files (or mappings); every spec is built and checked before anything is
    returned. ``params`` override the specs' top-level params."""
    conventions.get(convention)
    graphs = [build_graph(s, params) for s in sources]  # bad input fails before torch is imported
    return [verify_graph(g, convention=convention, batch=batch, fvcore_limit=fvcore_limit)
            for g in graphs]


def verify_train(sources, *, batch: int | None = None, params: dict | None = None) -> list:
    """`verify --train`: each spec's exact training step against forward + backward of its real
    model on the meta device (FlopCounterMode, saved_tensors_hooks)."""
    from costcalc import analyze as count
    from costcalc.crosscheck.backward_tools import measure_step
    from costcalc.crosscheck.train_agreement import check_step

    results = [count(s, set=params, batch=batch, train=True) for s in sources]  # bad input first
    return [check_step(r, measure_step(r.graph, r.batch)) for r in results]


__all__ = ["verify_train", "verify", "verify_graph", "measure", "check_model", "report_dict", "ModelCheck"]
