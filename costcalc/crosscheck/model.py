"""Build the real PyTorch model of a layer graph (imported only by verification code).

Submodules are named by the spec's scoped layer paths (``inception_3a/b2``), so fvcore's
``by_module`` and FlopCounterMode's per-module counts map one-to-one onto spec layers.
"""
from __future__ import annotations

import torch
from torch import nn

from costcalc.crosscheck.builders import build
from costcalc.spec.expand import INPUT


class Scope(nn.Module):
    """A block instance or repeat group: holds its layers' modules; never called itself."""



def _free_name(parent: nn.Module, part: str) -> str:
    """``part``, or ``part_`` (``part__`` ...) if taken: an nn.Module attribute or a renamed sibling."""
    while part in parent._modules or hasattr(parent, part):
        part += "_"
    return part


class SpecModel(nn.Module):
    """Runs the graph's nodes in order; submodules nest as the spec's scopes do."""

    def __init__(self, graph):
        super().__init__()
        # plain attributes first, so a layer named like one of them is renamed, not refused
        self._steps = []  # (path, module, input paths); modules are registered in the tree below
        self.outputs = tuple(graph.outputs)
        self.names: dict[str, str] = {}  # spec path (layer or scope) -> dotted submodule name
        for node in graph.nodes:
            module = build(node.kind.name, node.args, graph.in_shapes(node))
            parent, prefix = self, ""
            *scopes, leaf = node.path.split("/")
            for part in scopes:
                outer, prefix = prefix, f"{prefix}/{part}" if prefix else part
                if prefix not in self.names:
                    name = _free_name(parent, part)
                    parent.add_module(name, Scope())
                    self.names[prefix] = f"{self.names[outer]}.{name}" if outer else name
                parent = parent._modules[self.names[prefix].rpartition(".")[2]]
            name = _free_name(parent, leaf)
            parent.add_module(name, module)
            self.names[node.path] = f"{self.names[prefix]}.{name}" if prefix else name
            self._steps.append((node.path, module, tuple(node.inputs)))
        self.tie_weights(graph)

    def tie_weights(self, graph) -> None:
        """A linear tied to an embedding holds the embedding's table: one tensor, counted once."""
        modules = {path: module for path, module, _ in self._steps}
        for path, target in getattr(graph, "ties", {}).items():
            modules[path].weight = modules[target].weight

    def forward(self, x, return_all: bool = False):
        values = {INPUT: x}
        for path, module, inputs in self._steps:
            out = values[path] = module(*[_value(values, p) for p in inputs])
            if isinstance(out, tuple):  # several outputs: read as path.0, path.1 ...
                values.update((f"{path}.{i}", o) for i, o in enumerate(out))
        if return_all:
            return values
        outs = tuple(values[o] for o in self.outputs)
        return outs[0] if len(outs) == 1 else outs


def _value(values: dict, path: str):
    """The value of a path; ``split.1`` is item 1 of the split's output (under torch.fx's trace
    the output is one proxy, not a tuple: ``costcalc import`` traces this model)."""
    if path in values:
        return values[path]
    node, _, index = path.rpartition(".")
    return values[node][int(index)]


def build_model(graph, device: str = "cpu") -> SpecModel:
    """The eval-mode nn.Module of a graph; ``device="meta"`` allocates no weights."""
    with torch.device(device):
        model = SpecModel(graph)
    return model.eval()


def example_input(graph, batch: int = 1, device: str = "cpu"):
    return torch.zeros((batch,) + tuple(graph.spec.input), device=device)
