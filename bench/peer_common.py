"""Shared by the peer scripts: the spec-built torch model (costcalc.crosscheck.model) and its input.

Every peer counts this same model, built from the same spec, as a whole process of its own.
"""
import sys

from costcalc.counting.graph import build_graph
from costcalc.crosscheck.model import build_model, example_input


def model_and_input():
    """(model, example input, input shape without batch) of the spec named on the command line."""
    graph = build_graph(sys.argv[1])
    return build_model(graph), example_input(graph), tuple(graph.spec.input)


def report(tool: str, figure: str, value: int, params: int | None = None):
    extra = f", params {params:,}" if params is not None else ""
    print(f"{tool}: {figure} {value:,}{extra}")
