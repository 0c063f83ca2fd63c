"""Property tests: on random small graphs the analytic counts equal the real model's, exactly.

For every layer: MACs == fvcore (where fvcore counts MACs) == FlopCounterMode / 2, params ==
sum of numel, output shape == the real forward's; fvcore's batchnorm and adaptive-pool figures
equal the fvcore convention's. The graphs mix convolutions with groups, dilation, stride,
rectangular kernels and pad 'same' (which fvcore skips), pools in both ceil modes, batchnorm, concat branches, residual adds,
adaptive pooling and a linear head.
"""
import pytest

import torch  # noqa: E402,F401  (required by the test extra: a missing torch fails, never skips)
import fvcore  # noqa: E402,F401

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from costcalc.errors import CostcalcError  # noqa: E402
from costcalc.counting.conventions import get as convention  # noqa: E402
from costcalc.counting.graph import build_graph  # noqa: E402
from costcalc.counting.results import analyze  # noqa: E402
from costcalc.crosscheck import check_model, measure  # noqa: E402

FVCORE = convention("fvcore")

pair = st.tuples(st.integers(1, 3), st.integers(1, 3))


def _shape(spec):
    """The current output shape, or reject the example if the spec has become invalid."""
    if not spec["layers"]:
        return tuple(spec["input"])
    try:
        g = build_graph(spec)
    except CostcalcError:
        assume(False)
    return g.shapes[g.output]


@st.composite
def conv(draw, cin):
    groups = draw(st.sampled_from([g for g in range(1, cin + 1) if cin % g == 0]))
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    same = draw(st.integers(0, 4)) == 0  # pad 'same' (stride 1), sometimes
    return {"conv": {"out": groups * draw(st.integers(1, 3)), "kernel": list(kernel),
                     "stride": [1, 1] if same else list(draw(pair)),
                     "pad": "same" if same else draw(st.integers(0, 2)),
                     "dilation": draw(st.integers(1, 2)), "groups": groups, "bias": draw(st.booleans())}}


@st.composite
def pool(draw):
    k = draw(st.integers(1, 3))
    args = {"kernel": k, "stride": list(draw(pair)), "pad": draw(st.integers(0, k // 2)),
            "ceil": draw(st.booleans())}
    if draw(st.booleans()):
        return {"maxpool": args}
    return {"avgpool": {**args, "count_include_pad": draw(st.booleans())}}


@st.composite
def small_spec(draw):
    spec = {"name": "random", "input": [draw(st.integers(1, 6)), draw(st.integers(5, 14)),
                                        draw(st.integers(5, 14))], "layers": []}
    layers = spec["layers"]
    for i in range(draw(st.integers(1, 5))):
        cin = _shape(spec)[0]
        step = draw(st.sampled_from(["conv", "pool", "batchnorm", "concat", "add"]))
        prev = layers[-1]["name"] if layers else "input"
        if step == "conv":
            layers.append({"name": f"c{i}", **draw(conv(cin))})
        elif step == "pool":
            layers.append({"name": f"p{i}", **draw(pool())})
        elif step == "batchnorm":
            layers.append({"name": f"bn{i}", "batchnorm": {"affine": draw(st.booleans())}})
        elif step == "concat":  # two branches from the same input, joined on channels
            layers.append({"name": f"x{i}", "conv": {"out": draw(st.integers(1, 4)), "kernel": 1},
                           "from": prev})
            layers.append({"name": f"y{i}", "conv": {"out": draw(st.integers(1, 4)), "kernel": 3,
                                                     "pad": 1}, "from": prev})
            layers.append({"name": f"cat{i}", "concat": [f"x{i}", f"y{i}"]})
        else:  # a residual: 3x3 conv keeping the shape, added to its input
            layers.append({"name": f"r{i}", "conv": {"out": cin, "kernel": 3, "pad": 1}, "from": prev})
            layers.append({"name": f"relu{i}", "relu": None})
            layers.append({"name": f"add{i}", "add": [prev, f"relu{i}"]})
        _shape(spec)
    head = draw(st.sampled_from(["adaptive", "global", "none"]))
    if head == "adaptive":
        layers.append({"name": "aap", "adaptive_avgpool": {"out": list(draw(pair))}})
    elif head == "global":
        layers.append({"name": "gap", "global_avgpool": None})
    layers.append({"name": "flat", "flatten": None})
    layers.append({"name": "fc", "linear": {"out": draw(st.integers(1, 10)), "bias": draw(st.booleans())}})
    _shape(spec)
    return spec


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(spec=small_spec(), batch=st.integers(1, 2))
def test_random_graphs_agree_exactly(spec, batch):
    graph = build_graph(spec)
    m = measure(graph, batch)
    for node in graph.nodes:
        cost, got = graph.costs[node.path], m.layers[node.path]
        assert got.flopcounter == 2 * cost.macs * batch, node.path
        expected = FVCORE.layer_figure(node.kind.name, node.args, graph.in_shapes(node),
                                       graph.shapes[node.path], cost, node.path in graph.dead)
        assert got.fvcore == expected * batch, node.path
        if node.kind.name == "linear" or node.kind.name == "conv" and node.args["pad"] != "same":
            assert got.fvcore == cost.macs * batch, node.path  # fvcore: 1 per multiply-add
        assert got.numel == got.fvcore_params == cost.params, node.path
        assert got.shape == (batch,) + graph.shapes[node.path], node.path
    assert m.flopcounter_total == 2 * batch * sum(c.macs for c in graph.costs.values())
    assert m.numel_total == sum(c.params for c in graph.costs.values())
    for convention in ("macs", "flops", "fvcore"):
        assert check_model(analyze(graph, convention=convention, batch=batch), m).ok
