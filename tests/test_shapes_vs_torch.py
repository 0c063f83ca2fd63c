"""Shape inference equals PyTorch's, over a grid of conv and pool settings."""
import itertools

import pytest

import torch  # required by the test extra: a missing torch fails, never skips
nn = torch.nn

from costcalc import ops  # noqa: E402
from costcalc.ops.args import validate_args  # noqa: E402
from costcalc.ops.base import ShapeError  # noqa: E402


def ours(kind, args, shape):
    k = ops.get(kind)
    a = validate_args(kind, k.args, args, lambda key: None)
    return k.shape(a, [shape]), k, a


def theirs(module, shape):
    with torch.no_grad():
        return tuple(module(torch.zeros((1,) + shape)).shape[1:])


SIZES = [1, 2, 5, 7, 8, 13]
CONV = list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2], [1, 2]))


@pytest.mark.parametrize("k,s,p,d,g", CONV)
def test_conv_grid(k, s, p, d, g):
    for h, w in [(7, 7), (8, 13), (13, 5)]:
        shape = (4, h, w)
        args = {"out": 6, "kernel": k, "stride": s, "pad": p, "dilation": d, "groups": g}
        module = nn.Conv2d(4, 6, k, stride=s, padding=p, dilation=d, groups=g)
        try:
            expect = theirs(module, shape)
        except RuntimeError:
            with pytest.raises(ShapeError):
                ours("conv", args, shape)
            continue
        got, kind, a = ours("conv", args, shape)
        assert got == expect, (args, shape)
        # params equal numel; MACs equal out elements * (cin/g)*k*k
        cost = kind.cost(a, [shape], got)
        assert cost.params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("k,d", [(3, 1), (3, 2), (4, 1), (5, 3)])
def test_conv_same(k, d):
    shape = (3, 9, 10)
    got, _, _ = ours("conv", {"out": 5, "kernel": k, "pad": "same", "dilation": d}, shape)
    assert got == theirs(nn.Conv2d(3, 5, k, padding="same", dilation=d), shape)


POOL = list(itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [False, True]))


@pytest.mark.parametrize("kind,k,s,p,ceil", [("maxpool", *x) for x in POOL] + [("avgpool", *x) for x in POOL])
def test_pool_grid(kind, k, s, p, ceil):
    for size in SIZES:
        shape = (2, size, size + 1)
        args = {"kernel": k, "stride": s, "pad": p, "ceil": ceil}
        cls = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        try:
            expect = theirs(cls(k, s, p, ceil_mode=ceil), shape)
            if 0 in expect:
                raise RuntimeError("empty output")
        except RuntimeError:
            with pytest.raises(ShapeError):
                got, _, _ = ours(kind, args, shape)
                if 0 in got:
                    raise ShapeError("zero")
            continue
        got, _, _ = ours(kind, args, shape)
        assert got == expect, (kind, args, shape)


@pytest.mark.parametrize("out", [1, 2, 3, 5, (2, 4)])
def test_adaptive_avgpool(out):
    shape = (3, 7, 10)
    arg = list(out) if isinstance(out, tuple) else out
    got, kind, a = ours("adaptive_avgpool", {"out": arg}, shape)
    assert got == theirs(nn.AdaptiveAvgPool2d(out), shape)


def test_adaptive_window_element_ops_are_window_sums():
    # 7 -> 3: windows [0,3) [2,5) [4,7) have 3 elements each; 10 -> 5: windows of 2
    _, kind, a = ours("adaptive_avgpool", {"out": [3, 5]}, (3, 7, 10))
    assert kind.cost(a, [(3, 7, 10)], (3, 3, 5)).elementops == 3 * (3 + 3 + 3) * (2 * 5)


@pytest.mark.parametrize("k,d,p", [(3, 2, 1), (3, 2, 2), (2, 3, 1), (2, 3, 2), (4, 2, 2)])
def test_maxpool_pad_limit_uses_the_undilated_kernel(k, d, p):
    shape = (1, 9, 9)
    args = {"kernel": k, "stride": 1, "pad": p, "dilation": d}
    try:
        expect = theirs(nn.MaxPool2d(k, 1, p, d), shape)
    except RuntimeError:  # "pad should be smaller than or equal to half of kernel size"
        with pytest.raises(ShapeError):
            ours("maxpool", args, shape)
        return
    assert ours("maxpool", args, shape)[0] == expect


# -- issue 15's kinds: shapes and params against real torch modules and ops --------------------

def ours_on(kind, args, *shapes):
    """Shape and cost of ``kind`` on Shape inputs (with layouts), as the graph gives them."""
    from costcalc.ops.base import Shape

    k = ops.get(kind)
    a = validate_args(kind, k.args, args, lambda key: None)
    inputs = [s if isinstance(s, Shape) else Shape(s) for s in shapes]
    out = k.shape(a, inputs)
    return tuple(out), k.cost(a, inputs, out)


def run(fn, *shapes):
    with torch.no_grad():
        return tuple(fn(*[torch.zeros((2,) + s) for s in shapes]).shape[1:])


@pytest.mark.parametrize("kind,module", [
    ("hardswish", nn.Hardswish()), ("hardsigmoid", nn.Hardsigmoid()), ("silu", nn.SiLU()),
    ("gelu", nn.GELU()), ("stochastic_depth", nn.Identity())])  # StochasticDepth: eval identity
@pytest.mark.parametrize("shape", [(5,), (3, 4, 7), (2, 3, 5, 6)])
def test_activations_keep_the_shape_and_cost_one_op_per_element(kind, module, shape):
    got, cost = ours_on(kind, {}, shape)
    assert got == run(module, shape)
    n = 1
    for d in shape:
        n *= d
    assert cost.params == 0 and cost.macs == 0
    assert cost.elementops == (0 if kind == "stochastic_depth" else n)


def test_gelu_tanh_is_accepted_and_anything_else_refused():
    assert ours_on("gelu", {"approximate": "tanh"}, (4, 3, 3))[0] == run(nn.GELU("tanh"), (4, 3, 3))
    from costcalc.errors import CostcalcError

    with pytest.raises(CostcalcError, match="'approximate' must be one of 'none', 'tanh'"):
        ours_on("gelu", {"approximate": "erf"}, (4, 3, 3))


@pytest.mark.parametrize("x,y", [((6, 5, 7), (6, 1, 1)), ((6, 5, 7), (6, 5, 7)),
                                 ((1, 5, 7), (6, 5, 1)), ((4, 9), (1, 9)), ((3,), (1,))])
def test_mul_broadcasts_as_torch(x, y):
    got, cost = ours_on("mul", {}, x, y)
    assert got == run(torch.mul, x, y)
    n = 1
    for d in got:
        n *= d
    assert cost.elementops == n and cost.macs == 0 and cost.params == 0


@pytest.mark.parametrize("x,y", [((6, 5, 7), (3, 1, 1)), ((6, 5, 7), (6,)), ((4, 9), (4, 3))])
def test_mul_refuses_what_does_not_broadcast_per_sample(x, y):
    with pytest.raises(ShapeError, match="mul needs two shapes of one rank"):
        ours_on("mul", {}, x, y)


@pytest.mark.parametrize("shape,layout,axis", [
    ((8, 5, 6), None, "C"), ((8, 5, 6), None, 0), ((7, 12), ("T", "D"), "D"),
    ((7, 12), ("T", "D"), -1), ((3, 7, 12), ("H", "T", "Dh"), "T")])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_over_one_axis_equals_torch_layernorm_there(shape, layout, axis, affine):
    from costcalc.ops.base import Shape

    s = Shape(shape, layout)
    k = s.axis(axis)
    module = nn.LayerNorm(shape[k], elementwise_affine=affine)
    # torch normalises the last dims: move the axis last (ConvNeXt's LayerNorm2d permutes so)
    real = run(lambda x: module(x.movedim(k + 1, -1)).movedim(-1, k + 1), shape)
    got, cost = ours_on("layernorm", {"axis": axis, "affine": affine}, s)
    assert got == real == shape
    assert cost.params == sum(p.numel() for p in module.parameters())  # 2 * shape[k] or 0
    n = 1
    for d in shape:
        n *= d
    assert cost.elementops == n * (5 if affine else 4)


def test_layernorm_and_layer_scale_refuse_an_axis_the_input_lacks():
    for kind in ("layernorm", "layer_scale"):
        with pytest.raises(ShapeError, match="the input has no axis 'D'"):
            ours_on(kind, {"axis": "D"}, (8, 5, 6))


@pytest.mark.parametrize("shape,axis", [((8, 5, 6), "C"), ((8, 5, 6), 0), ((7, 12), -1)])
def test_layer_scale_has_one_param_per_index_of_its_axis(shape, axis):
    from costcalc.ops.base import Shape

    s = Shape(shape)
    k = s.axis(axis)
    gamma = nn.Parameter(torch.ones([shape[k] if i == k else 1 for i in range(len(shape))]))
    got, cost = ours_on("layer_scale", {"axis": axis}, s)
    assert got == run(lambda x: gamma * x, shape)  # ConvNeXt: layer_scale (C, 1, 1) * x
    assert cost.params == gamma.numel() == shape[k]


@pytest.mark.parametrize("c,g", [(8, 2), (12, 3), (6, 6), (5, 1)])
def test_channel_shuffle_equals_torch(c, g):
    got, cost = ours_on("channel_shuffle", {"groups": g}, (c, 3, 4))
    assert got == run(nn.ChannelShuffle(g), (c, 3, 4))
    assert cost == type(cost)()


def test_channel_shuffle_groups_must_divide_the_channels():
    with pytest.raises(RuntimeError):  # torch refuses too
        run(nn.ChannelShuffle(3), (8, 3, 4))
    with pytest.raises(ShapeError, match="groups 3 must divide the input channels 8"):
        ours_on("channel_shuffle", {"groups": 3}, (8, 3, 4))


@pytest.mark.parametrize("before,after,stride", [(4, 4, 2), (0, 3, 1), (2, 0, 3), (8, 8, 2)])
@pytest.mark.parametrize("hw", [(8, 8), (7, 5), (1, 2)])
def test_pad_channels_equals_resnet_option_a(before, after, stride, hw):
    shape = (6,) + hw
    real = run(lambda x: nn.functional.pad(x[:, :, ::stride, ::stride],
                                           (0, 0, 0, 0, before, after), "constant", 0), shape)
    got, cost = ours_on("pad_channels", {"before": before, "after": after, "stride": stride}, shape)
    assert got == real
    assert cost == type(cost)()
