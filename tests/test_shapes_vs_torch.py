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
